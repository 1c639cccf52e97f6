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
//! ## From PyTorch
//!
//! The PyTorch tutorials translate almost line by line. `?` marks the calls that return a [`Result`]; each
//! error names the operation and the values involved (`matmul: shapes [3, 4] and [5, 2] cannot be
//! multiplied`), and the operators (`&a + &b`) panic with that same message.
//!
//! The README's table maps PyTorch's calls to torchlet's one by one (`torch.tensor`, `nn.Linear`,
//! `optim.SGD`, `DataLoader`, the losses, the schedulers, checkpoints, ...).
//!
//! A whole training loop, torch-style:
//!
//! ```
//! use torchlet::data::{DataLoader, TensorDataset};
//! use torchlet::nn::{Linear, MSELoss, Module};
//! use torchlet::optim::SGD;
//! use torchlet::Tensor;
//!
//! let x = Tensor::<f32>::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0], [87.0, 134.0, 58.0], [102.0, 43.0, 37.0]]);
//! let y = Tensor::new([[56.0, 70.0], [81.0, 101.0], [119.0, 133.0], [22.0, 37.0]]);
//! let mut loader = DataLoader::new(TensorDataset::new(vec![x, y])?, 2)?.shuffle(true).seed(42);
//! torchlet::manual_seed(0);
//! let model = Linear::new(3, 2);
//! let mut opt = SGD::new(model.parameters(), 1e-5)?;
//! let loss_fn = MSELoss::new();
//! for _epoch in 0..100 {
//!     for batch in loader.iter_pairs()? {
//!         let (xb, yb) = batch?;
//!         let loss = loss_fn.forward(&model.forward(&xb)?, &yb)?;
//!         opt.zero_grad();
//!         loss.backward()?;
//!         opt.step()?;
//!     }
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```
//!
//! An MLP classifier, the PyTorch way:
//!
//! ```
//! use torchlet::data::{load_digits, DataLoader, TensorDataset};
//! use torchlet::nn::{CrossEntropyLoss, Linear, Module, ReLU, Sequential};
//! use torchlet::optim::SGD;
//!
//! torchlet::manual_seed(0);
//! let digits = load_digits::<f32>()?; // 1 797 images of 8×8 pixels, a label tensor of the digits 0–9
//! let mut loader = DataLoader::new(TensorDataset::new(vec![digits.x, digits.y])?, 128)?.shuffle(true);
//! let model = Sequential::new().add(Linear::new(64, 32)).add(ReLU).add(Linear::new(32, 10));
//! let mut opt = SGD::new(model.parameters(), 0.5)?;
//! let loss_fn = CrossEntropyLoss::new();
//! for _epoch in 0..2 {
//!     for batch in loader.iter_pairs()? {
//!         let (xb, yb) = batch?;
//!         let loss = loss_fn.forward(&model.forward(&xb)?, &yb)?;
//!         opt.zero_grad();
//!         loss.backward()?;
//!         opt.step()?;
//!     }
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

pub mod autograd;
pub mod cpu;
pub mod cuda;
pub mod data;
pub mod device;
mod display;
pub mod element;
pub mod error;
pub mod io;
pub mod metrics;
pub mod nn;
mod ops;
pub mod optim;
pub mod prelude;
pub mod random;
mod shape;
mod storage;
mod sync;
pub mod tensor;

pub use autograd::{enable_grad, is_grad_enabled, no_grad, GradModeGuard};
pub use device::Device;
pub use element::{DType, Element};
pub use error::{Error, Result};
pub use ops::{cat, stack, where_, AsLabels, GeluApproximate};
pub use random::{initial_seed, manual_seed};
pub use tensor::{Tensor, TensorData};

/// The `rand` crate whose `Rng` the explicit-generator forms (`Tensor::randn_with`, `Linear::with_rng`, ...)
/// take: use `torchlet::rand` rather than a `rand` dependency of one's own, whose version may differ.
pub use rand;
