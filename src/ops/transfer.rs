//! `to(device)`: a copy onto another device, differentiable as torch's `ToCopyBackward0` (the gradient
//! travels back to the source's device).

use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::device::Device;
use crate::element::Element;
use crate::error::Result;
use crate::storage::Storage;
use crate::tensor::Tensor;
use smallvec::smallvec;

struct ToCopyBackward {
    source: Device,
}

impl<T: Element> BackwardOp<T> for ToCopyBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad.to(self.source)?)])
    }

    /// `to` is recorded when grad mode is on.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

impl<T: Element> Tensor<T> {
    /// This tensor on `device` (`tensor.to(device)`): the same handle when it is already there, else a
    /// contiguous copy there, whose gradient flows back to this tensor as in torch.
    ///
    /// ```
    /// use torchlet::{Device, Tensor};
    /// let x = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    /// let y = x.to(Device::Cpu)?; // already there: the same tensor
    /// y.square()?.sum()?.backward()?;
    /// assert_eq!(x.grad().unwrap().to_vec()?, vec![2.0, 4.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: Device) -> Result<Self> {
        let source = self.device();
        if device == source {
            return Ok(self.clone());
        }
        let storage = Storage::from_vec(self.to_vec()?, device)?;
        let out = Self::from_storage(storage, self.shape());
        Ok(record("ToCopyBackward0", out, &[self], |_| ToCopyBackward { source }))
    }
}
