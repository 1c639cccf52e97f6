//! Tensor operations, grouped by family. Each op's forward builds its result from storage primitives and
//! records, beside it, the backward that maps the output's gradient to its inputs' gradients.

mod binary;
mod index;
mod inplace;
mod inplace_update;
mod join;
mod linear;
mod matmul;
mod operators;
mod reduce;
mod select;
mod softmax;
mod transfer;
mod unary;
mod view;

use crate::element::Element;
use crate::error::Result;
use crate::storage::Storage;
use crate::tensor::Tensor;

pub use join::{cat, stack};
pub use select::where_;
pub use unary::GeluApproximate;

/// Runs `f` on the storages of `a` and `b`, taking the lock once when they share a buffer.
pub(crate) fn with_storages<T: Element, R>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl FnOnce(&Storage<T>, &Storage<T>) -> R,
) -> R {
    if a.shares_storage(b) {
        let s = a.read();
        f(&s, &s)
    } else {
        f(&a.read(), &b.read())
    }
}

/// [`with_storages`] for three tensors: each distinct buffer is locked once.
pub(crate) fn with_storages3<T: Element, R>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    c: &Tensor<T>,
    f: impl FnOnce(&Storage<T>, &Storage<T>, &Storage<T>) -> R,
) -> R {
    let ga = a.read();
    let gb = (!b.shares_storage(a)).then(|| b.read());
    let sb: &Storage<T> = gb.as_deref().unwrap_or(&ga);
    let gc = (!c.shares_storage(a) && !c.shares_storage(b)).then(|| c.read());
    let sc: &Storage<T> = match &gc {
        Some(g) => g,
        None if c.shares_storage(a) => &ga,
        None => sb,
    };
    f(&ga, sb, sc)
}

impl<T: Element> Tensor<T> {
    /// A contiguous copy with no history, whatever this tensor's layout.
    pub(crate) fn contiguous_copy(&self) -> Result<Self> {
        let storage = self.read().copy(self.layout())?;
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// This gradient summed down to `shape`, undoing a broadcast from `shape` to `self.shape()`.
    pub(crate) fn sum_to_shape(&self, shape: &[usize]) -> Result<Self> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        // Align `shape` to this rank with leading 1s; those dims and the stretched ones are summed.
        let mut aligned: crate::shape::Dims = smallvec::smallvec![1; self.rank() - shape.len()];
        aligned.extend_from_slice(shape);
        let storage = self.read().sum_to(self.layout(), &aligned)?;
        Ok(Tensor::from_storage(storage, shape))
    }
}
