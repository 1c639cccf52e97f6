//! Neural-network building blocks in the shape of `torch.nn`: the [`Module`] trait, [`Linear`], [`MSELoss`]
//! and parameter initialisation ([`init`]).
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::nn::{Linear, MSELoss, Module};
//! use torchlet::Tensor;
//!
//! let model = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
//! let x = Tensor::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0]]);
//! let y = Tensor::new([[56.0, 70.0], [81.0, 101.0]]);
//! let loss = MSELoss::new().forward(&model.forward(&x)?, &y)?;
//! loss.backward()?;
//! assert_eq!(model.weight().grad().unwrap().shape(), &[2, 3]);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod activation;
mod batch_norm;
mod container;
mod conv;
mod dropout;
mod embedding;
mod embedding_renorm;
mod group_norm;
mod hooks;
pub mod init;
mod layer_norm;
mod linear;
mod loss;
mod loss_classification;
mod loss_regression;
mod nll;
mod pool;
pub mod utils;

pub use crate::ops::GeluApproximate;
pub use activation::{Flatten, LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Tanh, Unflatten, GELU};
pub use batch_norm::{BatchNorm1d, BatchNorm2d, BatchNormOptions};
pub use container::{ModuleList, Sequential};
pub use conv::{Conv1d, Conv2d};
pub use dropout::{Dropout, Dropout2d};
pub use embedding::{Embedding, EmbeddingOptions};
pub use group_norm::GroupNorm;
pub use hooks::{ForwardHook, Hooked};
pub use layer_norm::{LayerNorm, LayerNormOptions};
pub use linear::Linear;
pub use loss::{MSELoss, Reduction};
pub use loss_classification::{BCELoss, BCEWithLogitsLoss, ClassTarget, CrossEntropyLoss, NLLLoss};
pub use loss_regression::{HuberLoss, L1Loss, SmoothL1Loss};
pub use pool::{AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d};

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

/// Functions without state, as `torch.nn.functional`.
///
/// ```
/// use torchlet::nn::{functional::mse_loss, Reduction};
/// use torchlet::Tensor;
/// let loss = mse_loss(&Tensor::new([1.0, 2.0]), &Tensor::new([0.0, 0.0]), Reduction::Mean)?;
/// assert_eq!(loss.item()?, 2.5);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub mod functional {
    pub use super::batch_norm::batch_norm;
    pub use super::embedding::embedding;
    pub use super::embedding_renorm::embedding_renorm_;
    pub use super::group_norm::group_norm;
    pub use super::layer_norm::layer_norm;
    pub use super::loss::mse_loss;
    pub use super::loss_classification::{
        binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss,
    };
    pub use super::loss_regression::{huber_loss, l1_loss, smooth_l1_loss};
    pub use crate::ops::{
        adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool1d_with_indices, max_pool2d,
        max_pool2d_with_indices, AvgPool1dOptions, AvgPool2dOptions, AvgPoolOptions, Conv1dOptions, Conv2dOptions,
        ConvOptions, MaxPool1dOptions, MaxPool2dOptions, MaxPoolOptions, Padding, SpatialSize,
    };
}

/// A layer or model with parameters (`torch.nn.Module`).
///
/// Implementors provide `forward` and `named_parameters`; `parameters` and `zero_grad` follow from them.
/// Modules that behave differently in training (dropout) and containers, which pass the mode on to their
/// children as torch's `train()` does, also implement [`Module::set_training`]. Forward hooks
/// (`register_forward_hook`) live beside a module, not in it: wrap it in [`Hooked`], or register them on a
/// [`Sequential`]'s layers.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{Linear, Module};
/// use torchlet::{Result, Tensor};
///
/// /// Two stacked linear layers, to show a user-defined module.
/// struct TwoLayers {
///     first: Linear<f64>,
///     second: Linear<f64>,
/// }
///
/// impl Module<f64> for TwoLayers {
///     fn forward(&self, x: &Tensor<f64>) -> Result<Tensor<f64>> {
///         self.second.forward(&self.first.forward(x)?)
///     }
///     fn named_parameters(&self) -> Vec<(String, Tensor<f64>)> {
///         let prefixed = |prefix: &str, m: &Linear<f64>| {
///             m.named_parameters().into_iter().map(move |(n, t)| (format!("{prefix}.{n}"), t)).collect::<Vec<_>>()
///         };
///         [prefixed("first", &self.first), prefixed("second", &self.second)].concat()
///     }
///     fn set_training(&mut self, mode: bool) {
///         // Nothing here depends on the mode; pass it on, as torch's `train()` recursion does.
///         self.first.set_training(mode);
///         self.second.set_training(mode);
///     }
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model =
///     TwoLayers { first: Linear::with_rng(3, 4, true, &mut rng), second: Linear::with_rng(4, 1, true, &mut rng) };
/// assert_eq!(model.forward(&Tensor::zeros(&[5, 3]))?.shape(), &[5, 1]);
/// assert_eq!(model.parameters().len(), 4);
/// assert_eq!(model.named_parameters()[3].0, "second.bias");
/// model.eval();
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Module<T: Element> {
    /// The module's output for `input` (`module(input)`).
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[2.0]]), Some(&Tensor::new([1.0])))?;
    /// assert_eq!(model.forward(&Tensor::new([[3.0]]))?.to_vec()?, vec![7.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>>;

    /// The module's type name without its path or type parameters (torch's `module._get_name()`):
    /// `Linear` for a `torchlet::nn::Linear<f32>`. Containers name a failing layer by it.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module, ReLU};
    /// assert_eq!(Module::<f32>::type_name(&ReLU), "ReLU");
    /// assert_eq!(Linear::<f64>::new(2, 1).type_name(), "Linear");
    /// ```
    fn type_name(&self) -> &'static str {
        let full = std::any::type_name::<Self>();
        let path = full.split('<').next().unwrap_or(full);
        path.rsplit("::").next().unwrap_or(path)
    }

    /// The parameters with their names (`module.named_parameters()`), in a fixed order. The tensors are
    /// handles to the parameters themselves, so updating them in place updates the module.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[2.0]]), None)?;
    /// assert_eq!(model.named_parameters()[0].0, "weight");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    ///
    /// The default has none, right for a layer without parameters (an activation, dropout), as micrograd's
    /// `parameters()` defaults to an empty list.
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }

    /// The buffers with their names (`module.named_buffers()`): state that is saved and loaded with the
    /// parameters but not trained, such as a batch norm's running statistics. The default has none, right
    /// for every module without such state; containers pass on their children's under the same prefixes
    /// as their parameters. Like [`Module::named_parameters`], the tensors are handles to the buffers
    /// themselves, so loading a checkpoint writes into them in place.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[2.0]]), None)?;
    /// assert!(model.named_buffers().is_empty());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }

    /// The parameters (`module.parameters()`), in the order of [`Module::named_parameters`]; hand them to
    /// an optimizer.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::nn::{Linear, Module};
    /// let model = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    /// let shapes: Vec<Vec<usize>> = model.parameters().iter().map(|p| p.shape().to_vec()).collect();
    /// assert_eq!(shapes, [vec![2, 3], vec![2]]);
    /// ```
    fn parameters(&self) -> Vec<Tensor<T>> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// Clears every parameter's gradient (`module.zero_grad()`, which sets them to `None` by default).
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[2.0]]), None)?;
    /// model.forward(&Tensor::new([[3.0]]))?.sum()?.backward()?;
    /// assert!(model.weight().grad().is_some());
    /// model.zero_grad();
    /// assert!(model.weight().grad().is_none());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// Sets training mode on (`true`) or off (`module.train(mode)`): the one method [`Module::train`] and
    /// [`Module::eval`] call. The default does nothing, right for modules that compute the same either way;
    /// [`Dropout`] keeps the flag, and containers pass it on to their children.
    fn set_training(&mut self, _mode: bool) {}

    /// Switches to training mode (`module.train()`), i.e. `set_training(true)`.
    ///
    /// ```
    /// use torchlet::nn::{Dropout, Module, Sequential};
    /// let mut model = Sequential::<f32>::new().add(Dropout::new(0.5));
    /// model.eval();
    /// model.train();
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode (`module.eval()`), i.e. `set_training(false)`.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let mut model = Linear::from_parameters(&Tensor::new([[2.0]]), None)?;
    /// model.eval();
    /// assert_eq!(model.forward(&Tensor::new([[3.0]]))?.to_vec()?, vec![6.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn eval(&mut self) {
        self.set_training(false);
    }
}
