//! Tensor operations, grouped by family. Each op's forward builds its result from storage primitives and
//! records, beside it, the backward that maps the output's gradient to its inputs' gradients.

mod binary;
mod compare;
mod conv;
mod index;
mod inplace;
mod inplace_update;
mod join;
mod labels;
mod linear;
mod matmul;
mod operators;
mod pool;
mod reduce;
mod select;
mod softmax;
mod transfer;
mod unary;
mod unary_graph;
mod view;
mod window;

use crate::element::Element;
use crate::error::Result;
use crate::storage::Storage;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::RwLockReadGuard;

pub(crate) use conv::convolution;
pub use conv::{conv1d, conv2d, Conv1dOptions, Conv2dOptions, ConvOptions, Padding, SpatialSize};
pub use join::{cat, stack};
pub(crate) use labels::class_indices;
pub use labels::AsLabels;
pub use pool::{
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool1d_with_indices, max_pool2d,
    max_pool2d_with_indices, AvgPool1dOptions, AvgPool2dOptions, AvgPoolOptions, MaxPool1dOptions, MaxPool2dOptions,
    MaxPoolOptions,
};
pub(crate) use pool::{avg_pool, max_pool, max_pool_values};
pub use select::where_;
pub use unary::GeluApproximate;

/// Runs `f` on the storages of `tensors`, each distinct buffer read-locked once (two views of one buffer get
/// the same guard: a second read lock on one thread can wait forever behind a queued writer).
#[inline]
pub(crate) fn with_storages<T: Element, R, const N: usize>(
    tensors: [&Tensor<T>; N],
    f: impl FnOnce([&Storage<T>; N]) -> R,
) -> R {
    locked(None, tensors, |_, sources| f(sources))
}

/// Runs `f` with `dst`'s storage locked for writing and the storages of `sources` for reading.
///
/// # Panics
/// When a source shares `dst`'s buffer: one lock cannot be held for writing and reading at once, so callers
/// copy such a source first. A panic here is a bug in torchlet, not a user error.
pub(crate) fn with_storage_mut<T: Element, R, const N: usize>(
    dst: &Tensor<T>,
    sources: [&Tensor<T>; N],
    f: impl FnOnce(&mut Storage<T>, [&Storage<T>; N]) -> R,
) -> R {
    assert!(
        !sources.iter().any(|s| s.shares_storage(dst)),
        "with_storage_mut: a source shares the destination's buffer and was not copied first"
    );
    locked(Some(dst), sources, |dst, sources| match dst {
        Some(dst) => f(dst, sources),
        None => unreachable!("the destination was locked for writing"),
    })
}

/// The one place that holds several storage locks at once. Every thread takes them in increasing address of
/// their buffers, so two threads that need the same buffers (`a.add_(&b)` on one, `b.add_(&a)` on the other)
/// never each hold a lock the other is waiting for.
fn locked<T: Element, R, const N: usize>(
    dst: Option<&Tensor<T>>,
    sources: [&Tensor<T>; N],
    f: impl FnOnce(Option<&mut Storage<T>>, [&Storage<T>; N]) -> R,
) -> R {
    let mut order: SmallVec<[(usize, &Tensor<T>, bool); 4]> =
        sources.iter().map(|t| (t.storage_address(), *t, false)).collect();
    order.extend(dst.map(|t| (t.storage_address(), t, true)));
    order.sort_by_key(|&(address, ..)| address);
    order.dedup_by_key(|&mut (address, ..)| address);
    let mut write = None;
    let mut reads: SmallVec<[(usize, RwLockReadGuard<'_, Storage<T>>); 4]> = SmallVec::new();
    for (address, tensor, for_writing) in order {
        if for_writing {
            write = Some(tensor.write());
        } else {
            reads.push((address, tensor.read()));
        }
    }
    let guard_of = |t: &Tensor<T>| -> &Storage<T> {
        let address = t.storage_address();
        match reads.iter().find(|(a, _)| *a == address) {
            Some((_, guard)) => guard,
            None => unreachable!("every source was locked for reading"),
        }
    };
    let sources = std::array::from_fn(|i| guard_of(sources[i]));
    f(write.as_deref_mut(), sources)
}

impl<T: Element> Tensor<T> {
    /// A contiguous copy with no history, whatever this tensor's layout.
    pub(crate) fn contiguous_copy(&self) -> Result<Self> {
        let storage = self.read().copy(self.layout())?;
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// This gradient summed down to `shape`, undoing a broadcast from `shape` to `self.shape()`. Recorded
    /// (as the sum it is) when a backward builds a graph; otherwise, with grad mode off, `record` hands the
    /// sum back as it is.
    pub(crate) fn sum_to_shape(&self, shape: &[usize]) -> Result<Self> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        // Align `shape` to this rank with leading 1s; those dims and the stretched ones are summed.
        let mut aligned: crate::shape::Dims = smallvec::smallvec![1; self.rank() - shape.len()];
        aligned.extend_from_slice(shape);
        let storage = self.read().sum_to(self.layout(), &aligned)?;
        let out = Tensor::from_storage(storage, shape);
        let input_shape = crate::shape::Dims::from_slice(self.shape());
        Ok(crate::autograd::record("SumBackward1", out, &[self], |_| reduce::SumBackward {
            input_shape,
            kept_shape: aligned,
        }))
    }
}
