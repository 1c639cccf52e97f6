//! What most programs import, in one line (`use torchlet::prelude::*;`): the tensor and its element and
//! device types, `manual_seed`, the traits whose methods a training loop calls (`Module::forward`, `Optimizer::step`,
//! `LRScheduler::step`), and the `nn`, `optim` and `data` types of a small model.
//!
//! ```
//! use torchlet::prelude::*;
//!
//! manual_seed(0);
//! let mut model = Sequential::new().add(Linear::<f32>::new(2, 8)).add(ReLU).add(Dropout::new(0.1)).add(Linear::new(8, 2));
//! let mut opt = Adam::new(model.parameters(), 1e-3)?;
//! let mut schedule = StepLR::new(&mut opt, 10, 0.5)?;
//! model.train();
//! let loss = F::cross_entropy(&model.forward(&Tensor::randn(&[4, 2]))?, &Tensor::new([0.0, 1.0, 1.0, 0.0]))?;
//! opt.zero_grad();
//! loss.backward()?;
//! opt.step()?;
//! schedule.step(&mut opt)?;
//! model.eval();
//! # Ok::<(), torchlet::Error>(())
//! ```

pub use crate::data::{DataLoader, TensorDataset};
pub use crate::nn::functional as F;
pub use crate::nn::{
    AdaptiveAvgPool2d, AvgPool2d, BCELoss, BCEWithLogitsLoss, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    CrossEntropyLoss, Dropout, Dropout2d, Embedding, Flatten, GroupNorm, LayerNorm, LeakyReLU, Linear, LogSoftmax,
    MSELoss, MaxPool2d, Module, ModuleList, NLLLoss, ReLU, Sequential, SiLU, Sigmoid, Softmax, Tanh, Unflatten, GELU,
};
pub use crate::optim::lr_scheduler::{CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR};
pub use crate::optim::{Adam, AdamW, Optimizer, RMSprop, SGD};
pub use crate::{
    cat, initial_seed, manual_seed, no_grad, stack, where_, AsLabels, DType, Device, Element, Error, GeluApproximate,
    Result, Tensor,
};
