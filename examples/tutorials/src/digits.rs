//! T9, the feed-forward digit classifier of Jovian's lesson 4: `Linear(in, 32)` → ReLU → `Linear(32, 10)`
//! trained on the cross-entropy of the logits against the class indices, built twice: [`ManualFeedForward`]
//! with the backward pass written out and [`AutodiffFeedForward`] with `Linear`, `cross_entropy` and `SGD`.
//! Both are [`Classifier`]s; the targets are the digits as whole numbers in the element type.
//!
//! The data is scikit-learn's 8×8 digits ([`digits_data`], compiled into the crate) or, where the files are
//! at hand, MNIST itself ([`mnist_data`]).

use crate::classification::{argmax_accuracy, labels, Classifier};
use crate::{copy_linear, learning_rate, sgd_step, Layers, Split};
use rand::Rng;
use std::path::Path;
use torchlet::autograd::no_grad;
use torchlet::data::{load_digits, mnist, train_test_split};
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::{functional::cross_entropy, Linear, Module};
use torchlet::optim::SGD;
use torchlet::tensor::Tensor;

/// The training batch size (shuffled batches).
pub const BATCH: usize = 128;
/// The validation batch size.
pub const VALID_BATCH: usize = 256;
/// The hidden layer's width.
pub const HIDDEN: usize = 32;
/// The number of classes.
pub const CLASSES: usize = 10;
/// The tutorial's schedule: `fit(5, 0.5)`, then `fit(5, 0.1)`, each with a fresh `SGD`.
pub const SCHEDULE: [(usize, f64); 2] = [(5, 0.5), (5, 0.1)];

/// The tensors of `x` and labels `y` split with `train_test_split` into `(train, valid)`, `n_valid` rows for
/// validation, drawn from `seed`.
fn split(x: &Tensor<f32>, y: &Tensor<f32>, n_valid: usize, seed: u64) -> Result<Split<f32>> {
    let [(x_train, x_valid), (y_train, y_valid)] = train_test_split([x, y], n_valid, true, seed)?;
    Ok(Split { x_train, y_train, x_valid, y_valid })
}

/// scikit-learn's digits, `pixel / 16` in f32, split 1 497 / 300 by a permutation drawn from `seed` (MNIST's
/// ratio of 50 000 to 10 000); the targets are the digits as numbers.
///
/// ```
/// let data = torchlet_tutorials::digits::digits_data(0)?;
/// assert_eq!((data.x_train.shape(), data.y_valid.shape()), (&[1_497, 64][..], &[300][..]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn digits_data(seed: u64) -> Result<Split<f32>> {
    let digits = load_digits::<f32>()?;
    split(&digits.x, &digits.y, 300, seed)
}

/// MNIST's training set from the IDX files in `dir` ([`mnist::load_dir`]), split 50 000 / 10 000 by a
/// permutation drawn from `seed`, as the tutorial's `random_split(dataset, [50000, 10000])`.
pub fn mnist_data(dir: impl AsRef<Path>, seed: u64) -> Result<Split<f32>> {
    let data = mnist::load_dir::<f32>(dir)?;
    split(&data.train_images, &data.train_labels, 10_000, seed)
}

/// The two layers `Linear(inputs, 32)` and `Linear(32, 10)`, with torch's default initialisation from `rng`.
pub fn feed_forward_linears<T: Element, R: Rng + ?Sized>(inputs: usize, rng: &mut R) -> [Linear<T>; 2] {
    let hidden = Linear::with_rng(inputs, HIDDEN, true, rng);
    [hidden, Linear::with_rng(HIDDEN, CLASSES, true, rng)]
}

/// T9 from scratch, in torch's layout (`W1` `[32, in]`, `W2` `[10, 32]`): `Z1 = X W1ᵀ + b1`, `H = relu(Z1)`,
/// `Z2 = H W2ᵀ + b2`, and with `B` the batch size
/// `D2 = (softmax(Z2) - onehot(y))/B`, `gW2 = D2ᵀ H`, `gb2 = Σ D2`, `D1 = (D2 W2) ⊙ [Z1 > 0]`, `gW1 = D1ᵀ X`,
/// `gb1 = Σ D1`. No autograd graph is built.
#[derive(Debug, Clone)]
pub struct ManualFeedForward<T: Element> {
    parameters: [Tensor<T>; 4],
    lr: T,
}

impl<T: Element> ManualFeedForward<T> {
    /// A network over copies of the parameters of `hidden` and `output`, trained with learning rate `lr`.
    pub fn new(hidden: &Linear<T>, output: &Linear<T>, lr: f64) -> Result<Self> {
        let own = |t: Option<&Tensor<T>>| -> Result<Tensor<T>> {
            let t = t.ok_or_else(|| torchlet::Error::invalid("ManualFeedForward", "both layers need a bias"))?;
            t.detach().deep_clone()
        };
        let parameters =
            [own(Some(hidden.weight()))?, own(hidden.bias())?, own(Some(output.weight()))?, own(output.bias())?];
        Ok(ManualFeedForward { parameters, lr: learning_rate(lr)? })
    }

    /// A copy of the network with its parameters on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        let [w1, b1, w2, b2] = &self.parameters;
        let parameters = [w1.to(device)?, b1.to(device)?, w2.to(device)?, b2.to(device)?];
        Ok(ManualFeedForward { parameters, lr: self.lr })
    }

    /// `(Z1, H, Z2)`.
    fn forward(&self, x: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>, Tensor<T>)> {
        let [w1, b1, w2, b2] = &self.parameters;
        let z1 = x.matmul(&w1.t()?)?.add(b1)?;
        let h = z1.clamp_min(T::zero())?;
        let z2 = h.matmul(&w2.t()?)?.add(b2)?;
        Ok((z1, h, z2))
    }

    /// `(log softmax(Z2), cross-entropy)` against one-hot rows, written out: `Z2 - rowmax - log rowsum exp(…)`.
    fn log_softmax_loss(z2: &Tensor<T>, onehot: &Tensor<T>) -> Result<(Tensor<T>, T)> {
        let (row_max, _) = z2.max_dim(1, true)?;
        let shifted = z2.sub(&row_max)?;
        let log_p = shifted.sub(&shifted.exp()?.sum_dim(1, true)?.log()?)?;
        let batch = T::from_usize(z2.shape()[0]).unwrap_or_else(T::nan);
        let loss = log_p.mul(onehot)?.sum()?.neg()?.div_scalar(batch)?.item()?;
        Ok((log_p, loss))
    }
}

impl<T: Element> Layers<T> for ManualFeedForward<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        let [w1, b1, w2, b2] = &self.parameters;
        Ok(vec![Linear::from_parameters(w1, Some(b1))?, Linear::from_parameters(w2, Some(b2))?])
    }
}

impl<T: Element> Classifier<T> for ManualFeedForward<T> {
    /// The logits `Z2`.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(self.forward(x)?.2)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let onehot = y.one_hot(CLASSES)?;
        let (z1, h, z2) = self.forward(x)?;
        let (log_p, loss) = Self::log_softmax_loss(&z2, &onehot)?;
        let batch = T::from_usize(x.shape()[0]).unwrap_or_else(T::nan);
        let d2 = log_p.exp()?.sub(&onehot)?.div_scalar(batch)?;
        let [w1, b1, w2, b2] = &self.parameters;
        let zero = Tensor::full_on(&[], T::zero(), z1.device())?;
        let d1 = d2.matmul(w2)?.mul(&z1.gt(&zero)?)?;
        let grads = [d1.t()?.matmul(x)?, d1.sum_dim(0, false)?, d2.t()?.matmul(&h)?, d2.sum_dim(0, false)?];
        for (p, g) in [w1, b1, w2, b2].into_iter().zip(grads) {
            p.sub_(&g.mul_scalar(self.lr)?)?;
        }
        Ok(loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let z2 = self.predict(x)?;
        Ok((Self::log_softmax_loss(&z2, &y.one_hot(CLASSES)?)?.1, argmax_accuracy(&z2, y)?))
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = learning_rate(lr)?;
        Ok(())
    }
}

/// T9 with torch's parts, as the lesson's `MnistModel`: `linear2(relu(linear1(x)))`, `F.cross_entropy` on
/// the logits against the labels, and `SGD(model.parameters(), lr)`, made afresh by
/// [`Classifier::set_learning_rate`]. Each batch runs `zero_grad`, `backward`, `step`: the same updates as the
/// lesson's `backward`, `step`, `zero_grad`.
pub struct AutodiffFeedForward<T: Element> {
    linear1: Linear<T>,
    linear2: Linear<T>,
    optimizer: SGD<T>,
}

impl<T: Element> AutodiffFeedForward<T> {
    /// Trains `linear1` and `linear2` with plain SGD at learning rate `lr`.
    pub fn new(linear1: Linear<T>, linear2: Linear<T>, lr: f64) -> Result<Self> {
        let optimizer = SGD::new([linear1.parameters(), linear2.parameters()].concat(), lr)?;
        Ok(AutodiffFeedForward { linear1, linear2, optimizer })
    }

    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let x = x.flatten(1, -1)?; // xb.view(xb.size(0), -1)
        self.linear2.forward(&self.linear1.forward(&x)?.relu()?)
    }
}

impl<T: Element> Layers<T> for AutodiffFeedForward<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        Ok(vec![copy_linear(&self.linear1)?, copy_linear(&self.linear2)?])
    }
}

impl<T: Element> Classifier<T> for AutodiffFeedForward<T> {
    /// The logits.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.forward(x)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = cross_entropy(&self.forward(x)?, &labels(y)?)?;
        sgd_step(&mut self.optimizer, &loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        no_grad(|| {
            let logits = self.forward(x)?;
            Ok((cross_entropy(&logits, &labels(y)?)?.item()?, argmax_accuracy(&logits, y)?))
        })
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = SGD::new([self.linear1.parameters(), self.linear2.parameters()].concat(), lr)?;
        Ok(())
    }
}
