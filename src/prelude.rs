//! What most programs import, in one line (`use torchlet::prelude::*;`): the tensor and its element and
//! device types, the traits whose methods a training loop calls (`Module::forward`, `Optimizer::step`,
//! `LRScheduler::step`), and the `nn`, `optim` and `data` types of a small model.
//!
//! ```
//! use torchlet::prelude::*;
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let model = Sequential::new().add(Linear::<f32>::new(2, 8, true, &mut rng)).add(ReLU).add(Linear::new(8, 1, true, &mut rng));
//! let mut opt = SGD::new(model.parameters(), 0.1)?;
//! let mut schedule = StepLR::new(&mut opt, 10, 0.5)?;
//! let loss = MSELoss::new().forward(&model.forward(&Tensor::ones(&[4, 2]))?, &Tensor::zeros(&[4, 1]))?;
//! opt.zero_grad();
//! loss.backward()?;
//! opt.step()?;
//! schedule.step(&mut opt)?;
//! # Ok::<(), torchlet::Error>(())
//! ```

pub use crate::data::{DataLoader, TensorDataset};
pub use crate::nn::functional as F;
pub use crate::nn::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Linear, MSELoss, Module, ModuleList, NLLLoss, ReLU,
    Sequential, Sigmoid, Tanh, GELU,
};
pub use crate::optim::lr_scheduler::{CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR};
pub use crate::optim::{Adam, AdamW, Optimizer, RMSprop, SGD};
pub use crate::{cat, no_grad, stack, where_, DType, Device, Element, Error, GeluApproximate, Result, Tensor};
