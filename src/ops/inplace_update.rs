//! The compound in-place updates that optimizers keep their state with: torch's `addcmul_`, `addcdiv_` and
//! `lerp_`. Each is one pass over the destination on the CPU, with no tensor made for the intermediate.

use super::with_storage_mut;
use crate::element::Element;
use crate::error::Result;
use crate::storage::AddcOp;
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// `self += value · t1 · t2` in place (`tensor.addcmul_(t1, t2, value=value)`), `t1` and `t2` broadcast
    /// to `self`'s shape. Each element is rounded as `value · t1`, then `· t2`, then the sum: torch's
    /// formula in its order (libtorch's vectorized CPU kernel may fuse the last multiply-add, a difference
    /// of an ulp at most).
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let v = Tensor::new([1.0, 2.0]);
    /// let g = Tensor::new([3.0, -4.0]);
    /// v.addcmul_(&g, &g, 0.5)?; // v += 0.5·g²
    /// assert_eq!(v.to_vec()?, vec![5.5, 10.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn addcmul_(&self, t1: &Tensor<T>, t2: &Tensor<T>, value: T) -> Result<&Self> {
        self.addc_("addcmul_", t1, t2, AddcOp::Mul, value)
    }

    /// `self += value · t1 / t2` in place (`tensor.addcdiv_(t1, t2, value=value)`), `t1` and `t2` broadcast
    /// to `self`'s shape. Each element is rounded as `value · t1`, then `/ t2`, then the sum, as torch's
    /// formula is written.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let p = Tensor::new([1.0, 1.0]);
    /// p.addcdiv_(&Tensor::new([2.0, 3.0]), &Tensor::new([4.0, 0.5]), -0.5)?; // p -= 0.5·m/d
    /// assert_eq!(p.to_vec()?, vec![0.75, -2.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn addcdiv_(&self, t1: &Tensor<T>, t2: &Tensor<T>, value: T) -> Result<&Self> {
        self.addc_("addcdiv_", t1, t2, AddcOp::Div, value)
    }

    /// `self = self + weight · (end − self)` in place (`tensor.lerp_(end, weight)` with a scalar weight),
    /// `end` broadcast to `self`'s shape. As torch's kernel, a weight of magnitude 0.5 or more computes
    /// `end − (end − self) · (1 − weight)` instead, which is exact at `weight = 1`; each operation is
    /// rounded on its own.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let m = Tensor::new([0.0, 10.0]);
    /// m.lerp_(&Tensor::new([1.0, 20.0]), 0.25)?;
    /// assert_eq!(m.to_vec()?, vec![0.25, 12.5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn lerp_(&self, end: &Tensor<T>, weight: T) -> Result<&Self> {
        const OP: &str = "lerp_";
        self.check_inplace(OP, Some(end))?;
        self.check_fits(OP, end)?;
        let end = self.own_source(end)?;
        let end_layout = end.layout().broadcast_to(self.shape());
        with_storage_mut(self, [&end], |dst, [e]| dst.lerp(self.layout(), e, &end_layout, weight))?;
        self.bump_version();
        Ok(self)
    }

    fn addc_(&self, op: &'static str, t1: &Tensor<T>, t2: &Tensor<T>, kind: AddcOp, value: T) -> Result<&Self> {
        self.check_inplace(op, Some(t1))?;
        self.check_inplace(op, Some(t2))?;
        self.check_fits(op, t1)?;
        self.check_fits(op, t2)?;
        let (t1, t2) = (self.own_source(t1)?, self.own_source(t2)?);
        let (l1, l2) = (t1.layout().broadcast_to(self.shape()), t2.layout().broadcast_to(self.shape()));
        // The locks in the one global order the other in-place ops take them in.
        with_storage_mut(self, [&t1, &t2], |dst, [s1, s2]| dst.addc(self.layout(), s1, &l1, s2, &l2, kind, value))?;
        self.bump_version();
        Ok(self)
    }

    /// `src`, or a copy of it when it shares `self`'s storage: a one-pass kernel would otherwise read
    /// elements it has already written.
    fn own_source(&self, src: &Tensor<T>) -> Result<Tensor<T>> {
        if self.shares_storage(src) {
            src.contiguous_copy()
        } else {
            Ok(src.clone())
        }
    }
}
