//! In-place updates (`add_`, `sub_`, `mul_`, `zero_`, `copy_`, ...), for optimizers and the tutorials'
//! `w -= lr * grad`. Each bumps the storage's version, so a backward that saved the old values fails loudly.

use super::binary::is_cpu_scalar;
use super::with_storage_mut;
use crate::autograd::is_grad_enabled;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::broadcast_shapes;
use crate::storage::{BinaryOp, UnaryOp};
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// Refuses in-place writes that autograd cannot follow: to a leaf that requires grad while grad mode
    /// is on (torch's rule), and to or from tensors that are part of a recorded graph.
    pub(super) fn check_inplace(&self, op: &'static str, src: Option<&Tensor<T>>) -> Result<()> {
        if !is_grad_enabled() {
            return Ok(());
        }
        if self.is_leaf() && self.requires_grad() {
            return Err(Error::autograd(
                op,
                format!(
                    "a leaf tensor of shape {:?} that requires grad is being used in an in-place operation; \
                     wrap the update in no_grad",
                    self.shape()
                ),
            ));
        }
        if self.requires_grad() || src.is_some_and(Tensor::requires_grad) {
            let shapes = match src {
                Some(src) => format!("destination {:?}, source {:?}", self.shape(), src.shape()),
                None => format!("tensor {:?}", self.shape()),
            };
            return Err(Error::autograd(
                op,
                format!(
                    "in-place operations on tensors that require grad are not recorded by torchlet ({shapes}); \
                     compute out of place, or wrap the update in no_grad"
                ),
            ));
        }
        Ok(())
    }

    /// Fails unless `src` broadcasts to exactly `self`'s shape (an in-place op cannot grow its destination).
    pub(super) fn check_fits(&self, op: &'static str, src: &Tensor<T>) -> Result<()> {
        let fits = broadcast_shapes(op, self.shape(), src.shape()).is_ok_and(|b| b.as_slice() == self.shape());
        if !fits {
            return Err(Error::shape(
                op,
                format!(
                    "source of shape {:?} cannot be broadcast to the destination's shape {:?}",
                    src.shape(),
                    self.shape()
                ),
            ));
        }
        Ok(())
    }

    /// `src` on this tensor's device when it is a 0-D CPU tensor, which torch takes as a scalar on any device
    /// (as the out-of-place binary ops do); any other source as it is, for the storage's device check.
    fn source_here(&self, src: &Tensor<T>) -> Result<Tensor<T>> {
        if src.device() != self.device() && is_cpu_scalar(src) {
            return src.to(self.device());
        }
        Ok(src.clone())
    }

    /// `self op= src` elementwise, `src` broadcast to `self`'s shape.
    fn assign_from(&self, op_name: &'static str, src: &Tensor<T>, op: Option<BinaryOp>) -> Result<&Self> {
        self.check_inplace(op_name, Some(src))?;
        self.check_fits(op_name, src)?;
        self.assign_untracked(&self.source_here(src)?, op)?;
        Ok(self)
    }

    /// The write itself, with no autograd checks: the source is copied first when it shares our storage.
    fn assign_untracked(&self, src: &Tensor<T>, op: Option<BinaryOp>) -> Result<()> {
        let src = if self.shares_storage(src) { src.contiguous_copy()? } else { src.clone() };
        let src_layout = src.layout().broadcast_to(self.shape());
        with_storage_mut(self, [&src], |dst, [s]| dst.assign(self.layout(), s, &src_layout, op))?;
        self.bump_version();
        Ok(())
    }

    /// `self += grad` for gradient accumulation, which runs inside backward with no checks to make.
    pub(crate) fn add_assign_untracked(&self, grad: &Tensor<T>) -> Result<()> {
        self.assign_untracked(grad, Some(BinaryOp::Add))
    }

    fn map_from(&self, op_name: &'static str, op: UnaryOp, c: T) -> Result<&Self> {
        self.check_inplace(op_name, None)?;
        self.write().map_inplace(self.layout(), op, c)?;
        self.bump_version();
        Ok(self)
    }

    /// `self += src` in place (`tensor.add_`).
    pub fn add_(&self, src: &Tensor<T>) -> Result<&Self> {
        self.assign_from("add_", src, Some(BinaryOp::Add))
    }

    /// `self += alpha * src` in place (`tensor.add_(src, alpha=alpha)`), the optimizers' update; the
    /// scaled source is never made a tensor.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let p = Tensor::new([1.0, 2.0]);
    /// p.add_scaled_(&Tensor::new([10.0, 20.0]), -0.1)?;
    /// assert_eq!(p.to_vec()?, vec![0.0, 0.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn add_scaled_(&self, src: &Tensor<T>, alpha: T) -> Result<&Self> {
        const OP: &str = "add_";
        self.check_inplace(OP, Some(src))?;
        self.check_fits(OP, src)?;
        // A source sharing our storage is read before it is written: copy it first, as `assign_untracked`.
        let src = if self.shares_storage(src) { src.contiguous_copy()? } else { self.source_here(src)? };
        let src_layout = src.layout().broadcast_to(self.shape());
        with_storage_mut(self, [&src], |dst, [s]| dst.add_scaled(self.layout(), s, &src_layout, alpha))?;
        self.bump_version();
        Ok(self)
    }

    /// `self -= src` in place (`tensor.sub_`).
    ///
    /// ```
    /// use torchlet::{no_grad, Tensor};
    /// let w = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    /// w.square()?.sum()?.backward()?;
    /// let grad = w.grad().unwrap();
    /// no_grad(|| w.sub_(&(&grad * 0.1)))?;
    /// assert_eq!(w.to_vec()?, vec![0.8, 1.6]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn sub_(&self, src: &Tensor<T>) -> Result<&Self> {
        self.assign_from("sub_", src, Some(BinaryOp::Sub))
    }

    /// `self *= src` in place (`tensor.mul_`).
    pub fn mul_(&self, src: &Tensor<T>) -> Result<&Self> {
        self.assign_from("mul_", src, Some(BinaryOp::Mul))
    }

    /// `self /= src` in place (`tensor.div_`).
    pub fn div_(&self, src: &Tensor<T>) -> Result<&Self> {
        self.assign_from("div_", src, Some(BinaryOp::Div))
    }

    /// Overwrites `self` with `src`, broadcast to `self`'s shape (`tensor.copy_`); as in torch, `src` may be
    /// on another device.
    pub fn copy_(&self, src: &Tensor<T>) -> Result<&Self> {
        const OP: &str = "copy_";
        if src.device() != self.device() {
            // Checked before the transfer, so a refused copy moves no data.
            self.check_inplace(OP, Some(src))?;
            self.check_fits(OP, src)?;
            return self.assign_from(OP, &src.to(self.device())?, None);
        }
        self.assign_from(OP, src, None)
    }

    /// `self *= c` in place (`tensor.mul_(c)`).
    pub fn mul_scalar_(&self, c: T) -> Result<&Self> {
        self.map_from("mul_", UnaryOp::Mul, c)
    }

    /// `self += c` in place (`tensor.add_(c)`).
    pub fn add_scalar_(&self, c: T) -> Result<&Self> {
        self.map_from("add_", UnaryOp::Add, c)
    }

    /// Sets every element to `value` (`tensor.fill_`).
    pub fn fill_(&self, value: T) -> Result<&Self> {
        self.map_from("fill_", UnaryOp::Fill, value)
    }

    /// Sets every element to zero (`tensor.zero_()`), e.g. `w.grad().unwrap().zero_()`.
    pub fn zero_(&self) -> Result<&Self> {
        self.fill_(T::zero())
    }
}
