//! Reductions over all elements or along one dimension: sums, means, maxima and minima (with their
//! indices), variance, standard deviation and norms.

use super::select::where_;
use crate::autograd::{no_grad, record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{resolve_dim, Dims};
use crate::storage::{ReduceBackward, ReduceOp};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The gradient of a max or min: to the selected entries, `g · mask / count` (ties share it evenly for the
/// whole-tensor forms; the `dim` forms select one entry by index); and of the 2-norm, `g · x / norm`.
struct SelectBackward<T: Element> {
    /// The name of the recorded op (`MaxBackward1`, `MinBackward0`, ...), for errors.
    name: &'static str,
    mask: Saved<T>,
    kept_shape: Vec<usize>,
    /// For the 2-norm, its input and output: its mask `x / norm` is a function of `x`, which a second
    /// derivative must see (a max's mask is a constant).
    norm: Option<[Saved<T>; 2]>,
}

impl<T: Element> BackwardOp<T> for SelectBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let mask = self.mask.get(self.name)?;
        Ok(smallvec![Some(grad.reshape(&self.kept_shape)?.mul(mask)?)])
    }

    fn backward_graph(&self, ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        let Some([input, norm]) = &self.norm else {
            // The mask is a constant: the product is the recorded form.
            return Some(self.backward(grad, needs));
        };
        Some((|| {
            // torch's norm_backward: x · (g / norm), 0 where the norm is 0 (its division made safe first, so
            // no 0/0 reaches a higher derivative).
            let (x, norm) = (input.get(self.name)?, norm.output_in(self.name, ctx)?);
            let zero = Tensor::full_on(&[], T::zero(), x.device())?;
            let at_zero = norm.detach().eq(&zero)?;
            let safe = where_(&at_zero, &zero.add_scalar(T::one())?, &norm)?;
            let scaled = where_(&at_zero, &zero, &grad.div(&safe)?)?;
            Ok(smallvec![Some(x.mul(&scaled)?)])
        })())
    }
}

/// [`ReduceBackward::Spread`]: the output's gradient spread back over every reduced element (a sum's).
pub(super) struct SumBackward {
    pub(super) input_shape: Dims,
    /// The output's shape with the summed dims kept as 1, so it broadcasts against the input.
    pub(super) kept_shape: Dims,
}

impl<T: Element> BackwardOp<T> for SumBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad.reshape(&self.kept_shape)?.expand(&self.input_shape)?)])
    }

    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

impl<T: Element> Tensor<T> {
    /// `op` over all elements, as a 0-D tensor, recorded with the gradient the op table gives it.
    fn reduce_all(&self, op: ReduceOp) -> Result<Self> {
        let [grad_fn, _] = op.grad_fns();
        match op.backward() {
            ReduceBackward::Spread => self.spread(op, smallvec![1; self.rank()], &[], grad_fn),
            ReduceBackward::Select => self.extreme(op, grad_fn),
        }
    }

    /// `op` down to `kept_shape` (the reduced dims kept as 1), shaped `out_shape`, each reduced element getting
    /// the output's gradient.
    fn spread(&self, op: ReduceOp, kept_shape: Dims, out_shape: &[usize], name: &'static str) -> Result<Self> {
        let storage = self.read().reduce_to(self.layout(), &kept_shape, op)?;
        let out = Tensor::from_storage(storage, out_shape);
        let input_shape = Dims::from_slice(self.shape());
        Ok(record(name, out, &[self], |_| SumBackward { input_shape, kept_shape }))
    }

    /// The sum of all elements, as a 0-D tensor (`tensor.sum()`).
    pub fn sum(&self) -> Result<Self> {
        self.reduce_all(ReduceOp::Sum)
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
        let mut kept = Dims::from_slice(self.shape());
        kept[d] = 1;
        let mut out_shape = kept.clone();
        if !keepdim {
            out_shape.remove(d);
        }
        self.spread(ReduceOp::Sum, kept, &out_shape, ReduceOp::Sum.grad_fns()[1])
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

    /// `op` over `dim` with no history (`keepdim` keeps it as size 1).
    pub(crate) fn reduce_dim(&self, op: ReduceOp, dim: usize, keepdim: bool) -> Result<Self> {
        let mut kept = self.shape().to_vec();
        kept[dim] = 1;
        let storage = self.read().reduce_to(self.layout(), &kept, op)?;
        let out = Tensor::from_storage(storage, &kept);
        if keepdim {
            Ok(out)
        } else {
            out.squeeze_dim(dim as isize)
        }
    }

    fn check_not_empty(&self, op: &'static str) -> Result<()> {
        if self.numel() == 0 {
            return Err(Error::shape(
                op,
                format!("expected a non-empty tensor to reduce, got shape {:?}; specify a non-empty dim", self.shape()),
            ));
        }
        Ok(())
    }

    /// The whole-tensor max or min; its gradient is shared evenly among ties, as torch's.
    fn extreme(&self, op: ReduceOp, name: &'static str) -> Result<Self> {
        self.check_not_empty(name)?;
        let kept = vec![1; self.rank()];
        let storage = self.read().reduce_to(self.layout(), &kept, op)?;
        let value = Tensor::from_storage(storage, &[]);
        let mask = || -> Result<Tensor<T>> {
            no_grad(|| {
                let x = self.detach();
                // Ties, and NaN where the result is NaN.
                let hit = x.eq(&value)?.maximum(&x.ne(&x)?.mul(&value.ne(&value)?)?)?;
                hit.div(&hit.sum()?)
            })
        };
        if !self.requires_grad() || !crate::is_grad_enabled() {
            return Ok(value);
        }
        let mask = mask()?;
        Ok(record(name, value, &[self], |_| SelectBackward {
            name,
            mask: Saved::input(&mask),
            kept_shape: kept,
            norm: None,
        }))
    }

    /// The largest element, as a 0-D tensor (`tensor.max()`); NaN if any is NaN. Fails on an empty tensor.
    pub fn max(&self) -> Result<Self> {
        self.reduce_all(ReduceOp::Max)
    }

    /// The smallest element, as a 0-D tensor (`tensor.min()`); NaN if any is NaN. Fails on an empty tensor.
    pub fn min(&self) -> Result<Self> {
        self.reduce_all(ReduceOp::Min)
    }

    /// The maximum along `dim` and the index of its first occurrence (`torch.max(x, dim, keepdim)`); NaN
    /// counts as the maximum. Indices are whole numbers in the element type; the gradient goes to the
    /// indexed entry.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]);
    /// let (values, indices) = x.max_dim(1, false)?;
    /// assert_eq!((values.to_vec()?, indices.to_vec()?), (vec![3.0, 2.0], vec![1.0, 0.0]));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> Result<(Self, Self)> {
        self.extreme_dim(ReduceOp::Max, "max", dim, keepdim)
    }

    /// The minimum along `dim` and the index of its first occurrence (`torch.min(x, dim, keepdim)`).
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> Result<(Self, Self)> {
        self.extreme_dim(ReduceOp::Min, "min", dim, keepdim)
    }

    /// The index of the first maximum along `dim` (`torch.argmax(x, dim, keepdim)`), as whole numbers in
    /// the element type.
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Result<Self> {
        Ok(self.detach().extreme_dim(ReduceOp::Max, "argmax", dim, keepdim)?.1)
    }

    /// The index of the first minimum along `dim` (`torch.argmin(x, dim, keepdim)`).
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Result<Self> {
        Ok(self.detach().extreme_dim(ReduceOp::Min, "argmin", dim, keepdim)?.1)
    }

    fn extreme_dim(&self, op: ReduceOp, op_name: &'static str, dim: isize, keepdim: bool) -> Result<(Self, Self)> {
        let [_, name] = op.grad_fns();
        let d = resolve_dim(op_name, dim, self.shape())?;
        if self.rank() == 0 {
            return Ok((self.clone(), Tensor::full_on(&[], T::zero(), self.device())?));
        }
        let size = self.shape()[d];
        if size == 0 {
            return Err(Error::shape(
                op_name,
                format!("expected reduction dim {d} to have non-zero size, got shape {:?}", self.shape()),
            ));
        }
        let (values, indices, mask) = no_grad(|| -> Result<_> {
            let x = self.detach();
            let values = x.reduce_dim(op, d, true)?;
            // The first entry equal to the extreme (or NaN when the extreme is NaN): every other entry gets
            // index + size, so the minimum over the dim is the first hit.
            let hit = x.eq(&values)?.maximum(&x.ne(&x)?)?;
            let grid = x.index_grid(size, d, x.rank())?;
            let size_t = T::from_usize(size).unwrap_or_else(T::nan);
            let candidates = grid.add(&hit.rsub_scalar(T::one())?.mul_scalar(size_t)?)?;
            let indices = candidates.reduce_dim(ReduceOp::Min, d, true)?;
            let mask = grid.eq(&indices)?;
            Ok((values, indices, mask))
        })?;
        let mut out_shape = self.shape().to_vec();
        out_shape[d] = 1;
        let values = if self.requires_grad() && crate::is_grad_enabled() {
            record(name, values, &[self], |_| SelectBackward {
                name,
                mask: Saved::input(&mask),
                kept_shape: out_shape,
                norm: None,
            })
        } else {
            values
        };
        if keepdim {
            Ok((values, indices))
        } else {
            Ok((values.squeeze_dim(d as isize)?, indices.squeeze_dim(d as isize)?))
        }
    }

    /// The variance along `dim` (`torch.var(x, dim, correction=..., keepdim)`): `Σ(x - mean)² / (n -
    /// correction)`; torch's default correction is 1 (Bessel's), 0 gives the population variance.
    pub fn var_dim(&self, dim: isize, correction: usize, keepdim: bool) -> Result<Self> {
        let d = resolve_dim("var", dim, self.shape())?;
        let n = self.shape().get(d).copied().unwrap_or(1);
        let centered = self.sub(&self.mean_dim(dim, true)?)?;
        let dof = T::from_usize(n).unwrap_or_else(T::nan) - T::from_usize(correction).unwrap_or_else(T::nan);
        centered.square()?.sum_dim(d as isize, keepdim)?.div_scalar(dof.max(T::zero()))
    }

    /// The variance of all elements with `correction` (`torch.var(x, correction=...)`), a 0-D tensor.
    pub fn var(&self, correction: usize) -> Result<Self> {
        self.reshape(&[self.numel()])?.var_dim(0, correction, false)
    }

    /// The standard deviation along `dim`, the square root of [`Tensor::var_dim`] (`torch.std`); where it
    /// is 0 its gradient is 0, as torch's.
    pub fn std_dim(&self, dim: isize, correction: usize, keepdim: bool) -> Result<Self> {
        self.var_dim(dim, correction, keepdim)?.sqrt_zero_grad_at_zero()
    }

    /// The standard deviation of all elements with `correction` (`torch.std(x, correction=...)`).
    pub fn std(&self, correction: usize) -> Result<Self> {
        self.var(correction)?.sqrt_zero_grad_at_zero()
    }

    /// `√x` whose gradient is 0 where `x` is 0 (instead of 0 · ∞): the square root goes through 1 there.
    fn sqrt_zero_grad_at_zero(&self) -> Result<Self> {
        let zero = Tensor::full_on(&[], T::zero(), self.device())?;
        let at_zero = self.detach().eq(&zero)?;
        let safe = where_(&at_zero, &zero.add_scalar(T::one())?, self)?;
        where_(&at_zero, &zero, &safe.sqrt()?)
    }

    /// The vector p-norm of all elements (`torch.linalg.vector_norm(x, ord=p)`) for p = 1, 2 or ∞
    /// (`f64::INFINITY`). The gradient at 0 is 0, as torch's.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([3.0, -4.0]);
    /// assert_eq!((x.norm(1.0)?.item()?, x.norm(2.0)?.item()?, x.norm(f64::INFINITY)?.item()?), (7.0, 5.0, 4.0));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn norm(&self, p: f64) -> Result<Self> {
        if p == 1.0 {
            self.abs()?.sum()
        } else if p == 2.0 {
            // √(Σx²) with the gradient x / norm, and 0 where the norm is 0 (not the 0/0 of √ at 0).
            let norm = self.detach().square()?.sum()?.sqrt()?;
            if !self.requires_grad() || !crate::is_grad_enabled() {
                return Ok(norm);
            }
            let safe = where_(&norm.eq(&Tensor::full_on(&[], T::zero(), norm.device())?)?, &norm.ones_like()?, &norm)?;
            let scale = self.div(&safe)?.detach();
            let value = norm.clone();
            const NAME: &str = "LinalgVectorNormBackward0";
            Ok(record(NAME, value, &[self], |out| SelectBackward {
                name: NAME,
                mask: Saved::input(&scale),
                kept_shape: vec![1; self.rank()],
                norm: Some([Saved::input(self), Saved::output(out)]),
            }))
        } else if p == f64::INFINITY {
            self.abs()?.max()
        } else {
            Err(Error::invalid("norm", format!("ord {p} is not supported; use 1, 2 or infinity")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_mask_is_reported_under_the_op_that_saved_it() {
        for name in ["MaxBackward1", "MinBackward1", "MinBackward0", "LinalgVectorNormBackward0"] {
            let mask = Tensor::<f64>::new([1.0, 0.0]);
            let op = SelectBackward { name, mask: Saved::input(&mask), kept_shape: vec![2], norm: None };
            mask.bump_version();
            let Err(err) = op.backward(&Tensor::new([1.0, 1.0]), &[true]) else { panic!("{name}: no error") };
            assert!(err.to_string().starts_with(name), "{name}: {err}");
        }
    }
}
