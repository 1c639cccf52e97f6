//! The tutorials' models (shared/TUTORIALS.md), apart from the library's building blocks: each tutorial's
//! model written with hand-derived gradients, the same model with torchlet's `nn` + autograd, and (feature
//! `tch`) its libtorch twin, all behind one interface so that the examples and the parity tests train them
//! side by side.
//!
//! - [`regression`]: T1–T5, linear regression ([`regression::Regressor`]);
//! - [`classification`]: T6 binary and T7 multiclass classification ([`classification::Classifier`]);
//! - [`mlp`]: T8, a five-layer perceptron on a regression problem (a [`regression::Regressor`]);
//! - [`digits`]: T9, a feed-forward digit classifier on scikit-learn's digits or MNIST (a
//!   [`classification::Classifier`]);
//! - [`cnn`]: T10, lesson 5's convolutional network on the same data as images (a
//!   [`classification::Classifier`]);
//! - [`resnet`]: T10b, lesson 6's residual network with BatchNorm, trained with a one-cycle schedule (a
//!   [`resnet::OneCycleModel`]);
//! - [`hessian`]: T11a, Hessian-vector products of T8's training loss by double backward, by finite
//!   differences, and by hand (forward-over-reverse) for a two-layer tanh network;
//! - [`pinn`]: T11b, a physics-informed network trained through its second derivative in x (a
//!   [`pinn::Pinn`]);
//! - [`gradient_penalty`]: T11c, a critic trained with a gradient penalty (a [`gradient_penalty::Critic`]).

pub mod classification;
pub mod cnn;
pub mod digits;
pub mod gradient_penalty;
pub mod hessian;
mod layers;
#[cfg(feature = "tch")]
pub mod libtorch;
#[cfg(feature = "tch")]
mod libtorch_cnn;
#[cfg(feature = "tch")]
mod libtorch_resnet;
pub mod mlp;
pub mod pinn;
pub mod regression;
pub mod resnet;
#[cfg(feature = "tch")]
mod tch_net;

pub use layers::{softmax_rows, tch_default_linear, Activation, Dense, Layers};

use torchlet::data::{DataLoader, TensorDataset};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;

/// A tutorial's data, split into a training and a validation part.
///
/// ```
/// use torchlet_tutorials::Split;
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::new([[1.0], [2.0], [3.0], [4.0], [5.0]]);
/// let data = Split::head(&x, &Tensor::new([0.0, 1.0, 0.0, 1.0, 1.0]), 3)?;
/// let (mut train, mut valid) = data.loaders(2, 10, None)?;
/// assert_eq!((train.len(), valid.len()), (2, 1)); // batches of 2 and 1; one of 2
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Split<T: Element> {
    /// The training inputs.
    pub x_train: Tensor<T>,
    /// The training targets.
    pub y_train: Tensor<T>,
    /// The validation inputs.
    pub x_valid: Tensor<T>,
    /// The validation targets.
    pub y_valid: Tensor<T>,
}

impl<T: Element> Split<T> {
    /// The first `n_train` rows of `x` and `y` for training, the rest for validation, as the notebooks slice
    /// `X[:100]` and `X[100:]`.
    pub fn head(x: &Tensor<T>, y: &Tensor<T>, n_train: usize) -> Result<Self> {
        let n = x.shape().first().copied().unwrap_or(0);
        if y.shape().first() != Some(&n) || n_train == 0 || n_train >= n {
            return Err(Error::shape(
                "Split::head",
                format!("cannot take {n_train} training rows of x {:?} and y {:?}", x.shape(), y.shape()),
            ));
        }
        Ok(Split {
            x_train: x.narrow(0, 0, n_train)?,
            y_train: y.narrow(0, 0, n_train)?,
            x_valid: x.narrow(0, n_train, n - n_train)?,
            y_valid: y.narrow(0, n_train, n - n_train)?,
        })
    }

    /// The same data on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        Ok(Split {
            x_train: self.x_train.to(device)?,
            y_train: self.y_train.to(device)?,
            x_valid: self.x_valid.to(device)?,
            y_valid: self.y_valid.to(device)?,
        })
    }

    /// A loader over the training part in batches of `batch` (in order, or shuffled by a rng seeded with
    /// `shuffle_seed`) and one over the validation part in batches of `valid_batch`, in order. Loaders made
    /// with the same arguments give the same batches in the same order, so every model sees the same data.
    pub fn loaders(
        &self,
        batch: usize,
        valid_batch: usize,
        shuffle_seed: Option<u64>,
    ) -> Result<(DataLoader<T>, DataLoader<T>)> {
        let mut train = DataLoader::new(TensorDataset::new(vec![self.x_train.clone(), self.y_train.clone()])?, batch)?;
        if let Some(seed) = shuffle_seed {
            train = train.shuffle(true).seed(seed);
        }
        let valid = TensorDataset::new(vec![self.x_valid.clone(), self.y_valid.clone()])?;
        Ok((train, DataLoader::new(valid, valid_batch)?))
    }
}

/// One step of the torch loop on `loss`: `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()`;
/// returns the loss as a number.
pub(crate) fn sgd_step<T: Element>(optimizer: &mut torchlet::optim::SGD<T>, loss: &Tensor<T>) -> Result<T> {
    optimizer.zero_grad();
    loss.backward()?;
    optimizer.step()?;
    loss.item()
}

/// A copy of `linear` with parameters of its own.
pub(crate) fn copy_linear<T: Element>(linear: &torchlet::nn::Linear<T>) -> Result<torchlet::nn::Linear<T>> {
    torchlet::nn::Linear::from_parameters(linear.weight(), linear.bias())
}

/// A learning rate for a scratch model's update, checked as `SGD` checks it.
pub(crate) fn learning_rate<T: Element>(lr: f64) -> Result<T> {
    torchlet::optim::SgdConfig::new(lr).validate()?;
    Ok(T::from_f64_lossy(lr))
}
