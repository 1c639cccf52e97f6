//! # torchlet
//!
//! A small, fast, honest reverse-mode autodiff tensor library modelled on PyTorch.
//!
//! ```
//! use torchlet::{no_grad, Tensor};
//!
//! // y = X w_true, learn w by gradient descent (the T5 tutorial, way 2).
//! let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
//! let y = Tensor::new([[50.0], [110.0], [170.0]]);
//! let w = Tensor::zeros(&[2, 1]).requires_grad_(true)?;
//! for _ in 0..20_000 {
//!     let loss = (&y - &x.matmul(&w)?).square()?.mean()?;
//!     loss.backward()?;
//!     let grad = w.grad().unwrap();
//!     no_grad(|| w.sub_(&(&grad * 1e-2)))?;
//!     grad.zero_()?;
//! }
//! let w = w.to_vec()?;
//! assert!((w[0] - 10.0).abs() < 1e-3 && (w[1] - 20.0).abs() < 1e-3);
//! # Ok::<(), torchlet::Error>(())
//! ```
//!
//! | PyTorch | torchlet |
//! |---|---|
//! | `torch.tensor([[1., 2.]])` | `Tensor::new([[1.0, 2.0]])` |
//! | `torch.zeros(2, 3)` / `torch.randn(2, 3)` | `Tensor::zeros(&[2, 3])` / `Tensor::randn(&[2, 3], &mut rng)` |
//! | `w.requires_grad_(True)` | `w.requires_grad_(true)?` |
//! | `a + b`, `a * 2` | `&a + &b`, `&a * 2.0` (or `a.try_add(&b)?`) |
//! | `x @ w.t()` | `x.matmul(&w.t()?)?` |
//! | `loss.backward()` | `loss.backward()?` |
//! | `w.grad` / `w.grad.zero_()` | `w.grad()` / `w.grad().unwrap().zero_()?` |
//! | `with torch.no_grad():` | `no_grad(\|\| ...)` |
//! | `x.detach()` | `x.detach()` |
//! | `x.sum(dim=0, keepdim=True)` | `x.sum_dim(0, true)?` |

#![deny(unsafe_op_in_unsafe_fn)]

pub mod autograd;
pub mod cuda;
pub mod data;
pub mod device;
mod display;
pub mod element;
pub mod error;
#[cfg(feature = "tch")]
pub mod libtorch;
pub mod metrics;
pub mod nn;
mod ops;
pub mod optim;
pub mod regression;
mod shape;
mod storage;
pub mod tensor;

pub use autograd::{enable_grad, is_grad_enabled, no_grad, GradModeGuard};
pub use device::Device;
pub use element::Element;
pub use error::{Error, Result};
pub use tensor::{Tensor, TensorData};

/// The error for a CUDA device asked of a build without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub(crate) fn cuda_unavailable(ordinal: usize) -> Error {
    Error::Cuda(format!("device cuda:{ordinal} requested, but torchlet was built without the `cuda` feature"))
}
