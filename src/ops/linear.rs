//! `linear` (`x Wᵀ + b`, torch's addmm) as one op with one backward node: the same maths as composing
//! matmul, transpose and add, with a graph of one node instead of three, which is most of the cost of a
//! small model's step.

use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::smallvec;

struct LinearBackward<T: Element> {
    input: Saved<T>,
    weight: Saved<T>,
    has_bias: bool,
}

impl<T: Element> BackwardOp<T> for LinearBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // y = x Wᵀ + b  =>  dx = dy W, dW = dyᵀ x, db = Σ_batch dy
        let (x, w) = (self.input.get("AddmmBackward0")?, self.weight.get("AddmmBackward0")?);
        let dx = needs[0].then(|| grad.mm(w)).transpose()?;
        // dyᵀ x straight from dy's transposed layout: no view tensor needed.
        let dw = needs[1]
            .then(|| -> Result<Tensor<T>> {
                let product = super::with_storages([grad, x], |[g, x_store]| {
                    g.matmul(&grad.layout().transpose(0, 1), x_store, x.layout())
                })?;
                Ok(Tensor::from_storage(product, &[grad.shape()[1], x.shape()[1]]))
            })
            .transpose()?;
        let mut grads: Grads<T> = smallvec![dx, dw];
        if self.has_bias {
            grads.push(needs[2].then(|| grad.sum_dim(0, false)).transpose()?);
        }
        Ok(grads)
    }

    /// The same products as recorded ops: `dy W`, `dyᵀ x` and the batch sum.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let (x, w) = (self.input.get("AddmmBackward0")?, self.weight.get("AddmmBackward0")?);
            let mut grads: Grads<T> =
                smallvec![needs[0].then(|| grad.mm(w)).transpose()?, needs[1].then(|| grad.t()?.mm(x)).transpose()?,];
            if self.has_bias {
                grads.push(needs[2].then(|| grad.sum_dim(0, false)).transpose()?);
            }
            Ok(grads)
        })())
    }
}

impl<T: Element> Tensor<T> {
    /// `self Wᵀ + b` for an input `[*, in]` (any leading dims, or none), weight `[out, in]` and bias
    /// `[out]` (`torch.nn.functional.linear`), recorded as one op.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let x = Tensor::new([[1.0, 2.0]]);
    /// let (w, b) = (Tensor::new([[3.0, 4.0], [5.0, 6.0]]), Tensor::new([0.5, -0.5]));
    /// assert_eq!(x.linear(&w, Some(&b))?.to_vec()?, vec![11.5, 16.5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Result<Tensor<T>> {
        if self.rank() == 1 {
            return self.unsqueeze(0)?.linear(weight, bias)?.squeeze_dim(0);
        }
        let fits = match (self.shape().last(), weight.shape()) {
            (Some(i), [out, wi]) => i == wi && bias.is_none_or(|b| b.shape() == [*out]),
            _ => false,
        };
        if !fits {
            return Err(Error::shape(
                "linear",
                format!(
                    "input {:?}, weight {:?} and bias {:?} do not fit x Wᵀ + b",
                    self.shape(),
                    weight.shape(),
                    bias.map(Tensor::shape)
                ),
            ));
        }
        if self.rank() > 2 {
            // An input [*, in]: the leading dims make one batch dim, and come back in the output [*, out].
            let (lead, last) = self.shape().split_at(self.rank() - 1);
            let batch = crate::shape::checked_numel("linear", lead)?;
            let mut out_shape = lead.to_vec();
            out_shape.push(weight.shape()[0]);
            return self.reshape(&[batch, last[0]])?.linear(weight, bias)?.reshape(&out_shape);
        }
        let wt = weight.layout().transpose(0, 1);
        let shape = [self.shape()[0], weight.shape()[0]];
        crate::shape::checked_numel("linear", &shape)?;
        let storage = match bias {
            // The GEMM accumulates onto the broadcast bias, as torch's addmm: no second pass for the sum.
            Some(b) => super::with_storages([self, weight, b], |[x, w, bias]| {
                x.addmm(self.layout(), w, &wt, bias, &b.layout().broadcast_to(&shape))
            })?,
            None => super::with_storages([self, weight], |[x, w]| x.matmul(self.layout(), w, &wt))?,
        };
        let out = Tensor::from_storage(storage, &shape);
        let inputs: &[&Tensor<T>] = match bias {
            Some(b) => &[self, weight, b],
            None => &[self, weight],
        };
        Ok(record("AddmmBackward0", out, inputs, |_| LinearBackward {
            input: Saved::input(self),
            weight: Saved::input(weight),
            has_bias: bias.is_some(),
        }))
    }
}

struct AddmmBackward<T: Element> {
    mat1: Saved<T>,
    mat2: Saved<T>,
    input_shape: Vec<usize>,
}

impl<T: Element> BackwardOp<T> for AddmmBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // out = input + A B  =>  d input = Σ over the broadcast dims, dA = d out Bᵀ, dB = Aᵀ d out.
        let input = needs[0].then(|| grad.sum_to_shape(&self.input_shape)).transpose()?;
        let mat1 = needs[1].then(|| grad.mm(&self.mat2.get("AddmmBackward0")?.t()?)).transpose()?;
        let mat2 = needs[2].then(|| self.mat1.get("AddmmBackward0")?.t()?.mm(grad)).transpose()?;
        Ok(smallvec![input, mat1, mat2])
    }

    /// `sum_to_shape`, `mm` and `t` are recorded when grad mode is on: the same code builds the graph.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

impl<T: Element> Tensor<T> {
    /// `self + mat1 · mat2` (`torch.addmm(input, mat1, mat2)`), `self` broadcast to the product's shape
    /// `[m, n]` (a bias row `[n]`, a column `[m, 1]`, a scalar): the GEMM accumulates onto it in one pass.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let column = Tensor::new([[10.0], [20.0]]);
    /// let product = column.addmm(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]), &Tensor::new([[1.0], [1.0]]))?;
    /// assert_eq!(product.to_vec()?, vec![13.0, 27.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn addmm(&self, mat1: &Tensor<T>, mat2: &Tensor<T>) -> Result<Tensor<T>> {
        let (a, b) = (mat1.shape(), mat2.shape());
        if a.len() != 2 || b.len() != 2 || a[1] != b[0] {
            return Err(Error::shape("addmm", format!("shapes {a:?} and {b:?} cannot be multiplied")));
        }
        let shape = [a[0], b[1]];
        let broadcast = crate::shape::broadcast_shapes("addmm", self.shape(), &shape)?;
        if broadcast[..] != shape {
            return Err(Error::shape(
                "addmm",
                format!("input of shape {:?} does not broadcast to the product's shape {shape:?}", self.shape()),
            ));
        }
        crate::shape::checked_numel("addmm", &shape)?;
        let c = self.layout().broadcast_to(&shape);
        let storage = super::with_storages([mat1, mat2, self], |[x, y, bias]| {
            x.addmm(mat1.layout(), y, mat2.layout(), bias, &c)
        })?;
        let out = Tensor::from_storage(storage, &shape);
        Ok(record("AddmmBackward0", out, &[self, mat1, mat2], |_| AddmmBackward {
            mat1: Saved::input(mat1),
            mat2: Saved::input(mat2),
            input_shape: self.shape().to_vec(),
        }))
    }
}
