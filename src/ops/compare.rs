//! Whole-tensor comparisons that answer with a `bool`: `allclose` and `equal`, as torch's. They read both
//! tensors to the host, so they are for checks and tests, not for a training loop's hot path.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// Whether every element of `self` is close to the one of `other` at its place, broadcasting the two as
    /// torch does (`torch.allclose(self, other, rtol, atol, equal_nan)`): `|self - other| ≤ atol + rtol·|other|`,
    /// an infinity is close only to the same infinity, and NaN only to NaN when `equal_nan`. torch's defaults
    /// are `rtol = 1e-5`, `atol = 1e-8`. No gradient; the tensors must be on one device.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let a = Tensor::new([1.0, 2.0, f64::INFINITY]);
    /// assert!(a.allclose(&Tensor::new([1.0 + 1e-9, 2.0, f64::INFINITY]), 1e-5, 1e-8, false)?);
    /// assert!(!a.allclose(&Tensor::new([1.1, 2.0, f64::INFINITY]), 1e-5, 1e-8, false)?);
    /// assert!(Tensor::new([[1.0, 1.0]]).allclose(&Tensor::scalar(1.0), 1e-5, 1e-8, false)?); // broadcast
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn allclose(&self, other: &Tensor<T>, rtol: f64, atol: f64, equal_nan: bool) -> Result<bool> {
        const OP: &str = "allclose";
        for (name, value) in [("rtol", rtol), ("atol", atol)] {
            if value.is_nan() || value < 0.0 {
                return Err(Error::invalid(OP, format!("{name} must be greater than or equal to zero, got {value}")));
            }
        }
        let (a, b) = self.host_pair(OP, other, true)?;
        Ok(a.iter().zip(&b).all(|(&a, &b)| {
            if a == b {
                return true; // equal values, equal infinities included
            }
            if a.is_nan() || b.is_nan() {
                return equal_nan && a.is_nan() && b.is_nan();
            }
            a.is_finite() && b.is_finite() && (a - b).abs() <= atol + rtol * b.abs()
        }))
    }

    /// Whether `self` and `other` have the same shape and the same elements (`torch.equal`): NaN equals
    /// nothing, `-0.0` equals `0.0`, and shapes that differ give `false`, never a broadcast. The tensors must
    /// be on one device.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// assert!(Tensor::new([1.0f32, -0.0]).equal(&Tensor::new([1.0, 0.0]))?);
    /// assert!(!Tensor::new([f32::NAN]).equal(&Tensor::new([f32::NAN]))?);
    /// assert!(!Tensor::new([[1.0f32]]).equal(&Tensor::new([1.0]))?);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn equal(&self, other: &Tensor<T>) -> Result<bool> {
        self.same_device("equal", other)?;
        if self.shape() != other.shape() {
            return Ok(false);
        }
        let (a, b) = self.host_pair("equal", other, false)?;
        Ok(a == b)
    }

    /// Both tensors' values as f64 on the host, broadcast to one shape when `broadcast` (else as they are);
    /// an error when they are on different devices or cannot be broadcast.
    fn host_pair(&self, op: &'static str, other: &Tensor<T>, broadcast: bool) -> Result<(Vec<f64>, Vec<f64>)> {
        self.same_device(op, other)?;
        let values = |t: &Tensor<T>| -> Result<Vec<f64>> {
            Ok(t.to_vec()?.into_iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect())
        };
        if !broadcast || self.shape() == other.shape() {
            return Ok((values(self)?, values(other)?));
        }
        let shape = broadcast_shapes(op, self.shape(), other.shape())?;
        Ok((values(&self.detach().expand(&shape)?)?, values(&other.detach().expand(&shape)?)?))
    }

    fn same_device(&self, op: &'static str, other: &Tensor<T>) -> Result<()> {
        if self.device() != other.device() {
            return Err(Error::DeviceMismatch { op, lhs: self.device(), rhs: other.device() });
        }
        Ok(())
    }
}
