//! Optimizers in the shape of `torch.optim`: [`SGD`] with torch's exact update rule.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::nn::{Linear, MSELoss, Module};
//! use torchlet::optim::{SgdConfig, SGD};
//! use torchlet::Tensor;
//!
//! let model = Linear::<f64>::new(1, 1, true, &mut StdRng::seed_from_u64(0));
//! let mut opt = SGD::with_config(model.parameters(), SgdConfig::new(0.1).momentum(0.5))?;
//! let (x, y) = (Tensor::new([[1.0], [2.0], [3.0]]), Tensor::new([[3.0], [5.0], [7.0]]));
//! for _ in 0..500 {
//!     opt.zero_grad();
//!     MSELoss::new().forward(&model.forward(&x)?, &y)?.backward()?;
//!     opt.step()?;
//! }
//! assert!((model.weight().item()? - 2.0).abs() < 1e-6 && (model.bias().unwrap().item()? - 1.0).abs() < 1e-6);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod sgd;
mod sgd_config;

pub use sgd::SGD;
pub use sgd_config::SgdConfig;
