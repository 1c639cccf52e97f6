//! T6, binary classification: `a = σ(b + X w)` trained on the binary cross-entropy, from scratch and with
//! `nn` + autograd.

use super::{binary_accuracy, Classifier};
use crate::{copy_linear, learning_rate, sgd_step, Activation, Dense, Layers, Split};
use rand::Rng;
use torchlet::autograd::no_grad;
use torchlet::data::{make_classification, MakeClassification};
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::{BCELoss, Linear, Module, Sigmoid};
use torchlet::optim::SGD;
use torchlet::tensor::Tensor;

/// T6's data: `make_classification(n_samples=10_100, n_features=6, n_classes=2, n_informative=5,
/// n_redundant=0)` drawn from `seed`, labels as 0/1 values `[m]`; the first 100 rows train, the other 10 000
/// validate.
///
/// ```
/// let data = torchlet_tutorials::classification::binary_data(0)?;
/// assert_eq!((data.x_train.shape(), data.y_valid.shape()), (&[100, 6][..], &[10_000][..]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn binary_data(seed: u64) -> Result<Split<f64>> {
    let config = MakeClassification {
        n_samples: 10_100,
        n_features: 6,
        n_classes: 2,
        n_informative: 5,
        n_redundant: 0,
        seed,
        ..Default::default()
    };
    let data = make_classification::<f64>(&config)?;
    Split::head(&data.x, &data.y, 100)
}

/// The notebook's loss, `BCE = -mean(y log a + (1 - y) log(1 - a))`, as a number.
fn bce<T: Element>(a: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
    let one = T::one();
    let terms = y.mul(&a.log()?)?.add(&y.rsub_scalar(one)?.mul(&a.rsub_scalar(one)?.log()?)?)?;
    terms.mean()?.neg()?.item()
}

/// T6 from scratch: `z = b + X w` (`w` `[f]`, `b` `[1]`), `a = σ(z)`, and the notebook's gradient
/// `∂BCE/∂z = (a - y)/m`, so `b -= lr Σ δ` and `w -= lr Xᵀ δ`. No autograd graph is built.
///
/// ```
/// use torchlet_tutorials::classification::{Classifier, ManualLogistic};
/// use torchlet::Tensor;
/// let mut model = ManualLogistic::from_parameters(Tensor::new([0.0]), Tensor::new([0.0]), 1.0)?;
/// // a = 0.5 for both samples: δ = (a - y)/2 = [0.25, -0.25]; w -= Xᵀδ = -0.5; b -= Σδ = 0.
/// model.train_step(&Tensor::new([[-1.0], [1.0]]), &Tensor::new([0.0, 1.0]))?;
/// assert_eq!((model.weight().to_vec()?, model.bias().to_vec()?), (vec![0.5], vec![0.0]));
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ManualLogistic<T: Element> {
    dense: Dense<T>,
    lr: T,
}

impl<T: Element> ManualLogistic<T> {
    /// A model over copies of `w` `[f]` and `b` `[1]`, trained with learning rate `lr`.
    pub fn from_parameters(w: Tensor<T>, b: Tensor<T>, lr: f64) -> Result<Self> {
        Ok(ManualLogistic { dense: Dense::from_parameters(w, b)?, lr: learning_rate(lr)? })
    }

    /// The notebook's own start: `w` and `b` drawn from N(0, 1).
    pub fn random<R: Rng + ?Sized>(n_features: usize, lr: f64, rng: &mut R) -> Result<Self> {
        Self::from_parameters(Tensor::randn_with(&[n_features], rng), Tensor::randn_with(&[1], rng), lr)
    }

    /// Copies the parameters of an `nn::Linear(f, 1)`: `w = weight.T`, `b = bias`.
    pub fn copy_from_linear(&mut self, linear: &Linear<T>) -> Result<()> {
        let dense = Dense::from_linear(linear)?;
        self.dense = Dense::from_parameters(dense.weight().reshape(&[linear.in_features()])?, dense.bias().clone())?;
        Ok(())
    }

    /// A copy of the model with its parameters on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        Ok(ManualLogistic { dense: self.dense.to(device)?, lr: self.lr })
    }

    /// `w`, `[f]`.
    pub fn weight(&self) -> &Tensor<T> {
        self.dense.weight()
    }

    /// `b`, `[1]`.
    pub fn bias(&self) -> &Tensor<T> {
        self.dense.bias()
    }
}

impl<T: Element> Layers<T> for ManualLogistic<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        Ok(vec![self.dense.to_linear()?])
    }
}

impl<T: Element> Classifier<T> for ManualLogistic<T> {
    /// `a = σ(b + X w)`, `[m]`.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Activation::Sigmoid.forward(&self.dense.forward(x)?)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let a = self.predict(x)?;
        let loss = bce(&a, y)?;
        let m = T::from_usize(y.numel()).unwrap_or_else(T::nan);
        self.dense.step(x, &a.sub(y)?.div_scalar(m)?, self.lr)?;
        Ok(loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let a = self.predict(x)?;
        Ok((bce(&a, y)?, binary_accuracy(&a, y)?))
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = learning_rate(lr)?;
        Ok(())
    }
}

/// T6 with torch's parts: `Linear(f, 1)` → `Sigmoid` → `BCELoss()` against `y.unsqueeze(-1)`, `SGD(lr)`.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet_tutorials::classification::{AutodiffLogistic, Classifier, ManualLogistic};
/// use torchlet::Tensor;
/// let linear = Linear::from_parameters(&Tensor::new([[0.3, -0.2]]), Some(&Tensor::new([0.1])))?;
/// let mut scratch = ManualLogistic::from_parameters(Tensor::zeros(&[2]), Tensor::zeros(&[1]), 0.1)?;
/// scratch.copy_from_linear(&linear)?;
/// let mut autograd = AutodiffLogistic::new(linear, 0.1)?;
/// let (x, y) = (Tensor::new([[1.0, 2.0], [-1.0, 0.5]]), Tensor::new([1.0, 0.0]));
/// for _ in 0..5 {
///     let (a, b): (f64, f64) = (scratch.train_step(&x, &y)?, autograd.train_step(&x, &y)?);
///     assert!((a - b).abs() < 1e-15);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct AutodiffLogistic<T: Element> {
    linear: Linear<T>,
    criterion: BCELoss<T>,
    optimizer: SGD<T>,
}

impl<T: Element> AutodiffLogistic<T> {
    /// Trains `linear` (one output) with plain SGD at learning rate `lr`.
    pub fn new(linear: Linear<T>, lr: f64) -> Result<Self> {
        let optimizer = SGD::new(linear.parameters(), lr)?;
        Ok(AutodiffLogistic { linear, criterion: BCELoss::new(), optimizer })
    }

    /// The layer being trained.
    pub fn linear(&self) -> &Linear<T> {
        &self.linear
    }

    /// `σ(linear(x))`, `[m, 1]`.
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Sigmoid.forward(&self.linear.forward(x)?)
    }
}

impl<T: Element> Layers<T> for AutodiffLogistic<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        Ok(vec![copy_linear(&self.linear)?])
    }
}

impl<T: Element> Classifier<T> for AutodiffLogistic<T> {
    /// The probabilities `[m]` (the network's `[m, 1]` squeezed).
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.forward(x)?.squeeze_dim(1)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = self.criterion.forward(&self.forward(x)?, &y.unsqueeze(-1)?)?;
        sgd_step(&mut self.optimizer, &loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        no_grad(|| {
            let a = self.forward(x)?;
            Ok((self.criterion.forward(&a, &y.unsqueeze(-1)?)?.item()?, binary_accuracy(&a, y)?))
        })
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = SGD::new(self.linear.parameters(), lr)?;
        Ok(())
    }
}
