//! Matrix products with torch's 1-D/2-D rules; transposed operands are passed to the GEMM by strides.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::smallvec;

struct MmBackward<T: Element> {
    lhs: Saved<T>,
    rhs: Saved<T>,
}

impl<T: Element> BackwardOp<T> for MmBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // C = A B  =>  dA = dC Bᵀ, dB = Aᵀ dC; the transposes are stride swaps, not copies.
        let lhs = needs[0].then(|| grad.mm(&self.rhs.get("MmBackward0")?.t()?)).transpose()?;
        let rhs = needs[1].then(|| self.lhs.get("MmBackward0")?.t()?.mm(grad)).transpose()?;
        Ok(smallvec![lhs, rhs])
    }

    /// `mm` and `t` are recorded when grad mode is on: the same code builds the graph.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

impl<T: Element> Tensor<T> {
    /// The product of two 2-D tensors `[m, k] x [k, n] -> [m, n]` (`torch.mm`).
    pub fn mm(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let (a, b) = (self.shape(), rhs.shape());
        if a.len() != 2 || b.len() != 2 || a[1] != b[0] {
            return Err(Error::shape("matmul", format!("shapes {a:?} and {b:?} cannot be multiplied")));
        }
        crate::shape::checked_numel("matmul", &[a[0], b[1]])?;
        let storage = with_storages([self, rhs], |[x, y]| x.matmul(self.layout(), y, rhs.layout()))?;
        let out = Tensor::from_storage(storage, &[a[0], b[1]]);
        Ok(record("MmBackward0", out, &[self, rhs], |_| MmBackward { lhs: Saved::input(self), rhs: Saved::input(rhs) }))
    }

    /// The matrix product with torch's rules (`torch.matmul`): 1-D·1-D is a dot product (0-D result),
    /// 2-D·1-D a matrix–vector product, 1-D·2-D treats the vector as a row, 2-D·2-D is [`Tensor::mm`].
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let w = Tensor::new([[10.0], [20.0]]);
    /// assert_eq!(x.matmul(&w)?.to_vec()?, vec![50.0, 110.0, 170.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn matmul(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let mismatch =
            || Error::shape("matmul", format!("shapes {:?} and {:?} cannot be multiplied", self.shape(), rhs.shape()));
        match (self.rank(), rhs.rank()) {
            (1, 1) if self.numel() != rhs.numel() => Err(mismatch()),
            (1, 1) => self.unsqueeze(0)?.mm(&rhs.unsqueeze(1)?)?.reshape(&[]),
            (2, 1) if self.shape()[1] != rhs.numel() => Err(mismatch()),
            (2, 1) => self.mm(&rhs.unsqueeze(1)?)?.squeeze_dim(1),
            (1, 2) if self.numel() != rhs.shape()[0] => Err(mismatch()),
            (1, 2) => self.unsqueeze(0)?.mm(rhs)?.squeeze_dim(0),
            (2, 2) => self.mm(rhs),
            _ => Err(Error::shape(
                "matmul",
                format!("only 1-D and 2-D operands are supported, got shapes {:?} and {:?}", self.shape(), rhs.shape()),
            )),
        }
    }
}
