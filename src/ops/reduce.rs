//! Sums and means, over all elements or along one dimension.

use crate::autograd::{record, BackwardOp, Grads};
use crate::element::Element;
use crate::error::Result;
use crate::shape::resolve_dim;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The gradient of a sum is the output's gradient spread back over every summed element.
struct SumBackward {
    input_shape: Vec<usize>,
    /// The output's shape with the summed dims kept as 1, so it broadcasts against the input.
    kept_shape: Vec<usize>,
}

impl<T: Element> BackwardOp<T> for SumBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad.reshape(&self.kept_shape)?.expand(&self.input_shape)?)])
    }
}

impl<T: Element> Tensor<T> {
    fn sum_into(&self, kept_shape: Vec<usize>, out_shape: &[usize], name: &'static str) -> Result<Self> {
        let storage = self.read().sum_to(self.layout(), &kept_shape)?;
        let out = Tensor::from_storage(storage, out_shape);
        let input_shape = self.shape().to_vec();
        Ok(record(name, out, &[self], |_| SumBackward { input_shape, kept_shape }))
    }

    /// The sum of all elements, as a 0-D tensor (`tensor.sum()`).
    pub fn sum(&self) -> Result<Self> {
        self.sum_into(vec![1; self.rank()], &[], "SumBackward0")
    }

    /// The sum along `dim` (negative counts from the end), keeping it as size 1 when `keepdim`
    /// (`tensor.sum(dim, keepdim)`).
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.sum_dim(0, false)?.to_vec()?, vec![4.0, 6.0]);
    /// assert_eq!(x.sum_dim(-1, true)?.shape(), &[2, 1]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn sum_dim(&self, dim: isize, keepdim: bool) -> Result<Self> {
        let d = resolve_dim("sum", dim, self.shape())?;
        if self.rank() == 0 {
            return self.sum();
        }
        let mut kept = self.shape().to_vec();
        kept[d] = 1;
        let mut out_shape = kept.clone();
        if !keepdim {
            out_shape.remove(d);
        }
        self.sum_into(kept, &out_shape, "SumBackward1")
    }

    /// The mean of all elements, as a 0-D tensor (`tensor.mean()`); NaN for an empty tensor, as torch.
    pub fn mean(&self) -> Result<Self> {
        self.sum()?.div_scalar(T::from_usize(self.numel()).unwrap_or_else(T::nan))
    }

    /// The mean along `dim`, keeping it as size 1 when `keepdim` (`tensor.mean(dim, keepdim)`).
    pub fn mean_dim(&self, dim: isize, keepdim: bool) -> Result<Self> {
        let d = resolve_dim("mean", dim, self.shape())?;
        let n = self.shape().get(d).copied().unwrap_or(1);
        self.sum_dim(dim, keepdim)?.div_scalar(T::from_usize(n).unwrap_or_else(T::nan))
    }
}
