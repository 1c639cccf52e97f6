//! libtorch side by side (feature `tch`): conversions between torchlet and `tch` tensors, and (re-exported
//! from each tutorial's module) the tutorials' models trained by libtorch itself, as the reference that the
//! parity tests and the examples' side-by-side runs compare torchlet against.
//!
//! ```
//! use torchlet_tutorials::libtorch::{from_tch, to_tch, TchLinear};
//! use torchlet::nn::Linear;
//! use torchlet_tutorials::regression::{AutodiffLinear, Regressor};
//! use torchlet::Tensor;
//!
//! let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]);
//! assert_eq!(from_tch::<f64>(&to_tch(&x)?)?.to_vec()?, x.to_vec()?);
//!
//! // The same layer trained by libtorch and by torchlet, from the same start.
//! let start = Linear::from_parameters(&Tensor::new([[0.5, -0.5]]), Some(&Tensor::new([0.1])))?;
//! let mut theirs = TchLinear::from_linear(&start, 0.01)?;
//! let mut ours = AutodiffLinear::new(Linear::from_parameters(start.weight(), start.bias())?, 0.01)?;
//! let y = Tensor::new([[1.0], [2.0]]);
//! for _ in 0..10 {
//!     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
//!     assert!((a - b).abs() <= 1e-12 * a.abs());
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```

use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;

/// An element type that both torchlet and libtorch have (`f32`, `f64`).
pub trait TchElement: Element + tch::kind::Element + Copy {}
impl TchElement for f32 {}
impl TchElement for f64 {}

pub(crate) fn tch_error(e: tch::TchError) -> Error {
    Error::invalid("libtorch", e.to_string())
}

/// A libtorch tensor with the same shape and values (no history).
pub fn to_tch<T: TchElement>(t: &Tensor<T>) -> Result<tch::Tensor> {
    let shape: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    tch::Tensor::f_from_slice(&t.to_vec()?).and_then(|x| x.f_reshape(&shape)).map_err(tch_error)
}

/// A torchlet tensor with the same shape and values as a libtorch one.
pub fn from_tch<T: TchElement>(t: &tch::Tensor) -> Result<Tensor<T>> {
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let flat = t.f_flatten(0, -1).map_err(tch_error)?;
    let values = Vec::<T>::try_from(&flat).map_err(tch_error)?;
    Tensor::from_vec(values, &shape)
}

pub use super::gradient_penalty::libtorch::TchCritic;
pub use super::hessian::libtorch::tch_hessian_vector_product;
pub use super::libtorch_cnn::TchCnn;
pub use super::libtorch_resnet::TchResNet;
pub use super::pinn::libtorch::TchPinn;
pub use super::regression::libtorch::{TchLinear, TchTensorLinear};
pub use super::tch_net::{TchLoss, TchNet};
