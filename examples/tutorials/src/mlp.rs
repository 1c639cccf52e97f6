//! T8, the multilayer perceptron of `3-1-mlp.ipynb`: five dense layers with four different activations,
//! trained on the mean squared error of a three-target regression, built twice: [`ManualMlp`] with the
//! backward pass written out layer by layer and [`AutodiffMlp`] with a `ModuleList`, `MSELoss` and `SGD`.
//! Both are [`Regressor`]s, so [`crate::regression::fit`] trains them.

use crate::regression::{mse, Regressor};
use crate::{learning_rate, sgd_step, Activation, Dense, Layers, Split};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::data::{make_regression, MakeRegression};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::{Linear, MSELoss, Module, ModuleList};
use torchlet::optim::SGD;
use torchlet::tensor::Tensor;

/// T8's learning rate.
pub const LR: f64 = 0.01;
/// T8's number of epochs.
pub const EPOCHS: usize = 32;
/// T8's training batch size, 1000 // 3 (batches of 333, 333, 333 and 1).
pub const BATCH: usize = 333;

/// The notebook's network, `(in, out, activation)` per layer:
/// `Linear(6,32) Tanh → Linear(32,32) Softmax(dim=1) → Linear(32,32) Sigmoid → Linear(32,32) ReLU → Linear(32,3)`.
pub const LAYERS: [(usize, usize, Activation); 5] = [
    (6, 32, Activation::Tanh),
    (32, 32, Activation::Softmax),
    (32, 32, Activation::Sigmoid),
    (32, 32, Activation::ReLU),
    (32, 3, Activation::Identity),
];

/// T8's data: `make_regression(n_samples=10_100, n_features=6, n_targets=3, n_informative=5,
/// bias=random.random(), noise=1)` with the bias and the data drawn from `seed`; the first 1 000 rows train,
/// the other 9 100 validate.
///
/// ```
/// let data = torchlet_tutorials::mlp::mlp_data(0)?;
/// assert_eq!((data.x_train.shape(), data.y_valid.shape()), (&[1_000, 6][..], &[9_100, 3][..]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn mlp_data(seed: u64) -> Result<Split<f64>> {
    let config = MakeRegression {
        n_samples: 10_100,
        n_features: 6,
        n_targets: 3,
        n_informative: 5,
        bias: StdRng::seed_from_u64(seed).random_range(0.0..1.0),
        noise: 1.0,
        seed,
        ..Default::default()
    };
    let data = make_regression::<f64>(&config)?;
    Split::head(&data.x, &data.y, 1_000)
}

/// The notebook's layers with torch's default initialisation, drawn from `rng`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let linears = torchlet_tutorials::mlp::mlp_linears::<f64, _>(&mut StdRng::seed_from_u64(0));
/// assert_eq!((linears.len(), linears[4].out_features()), (5, 3));
/// ```
pub fn mlp_linears<T: Element, R: Rng + ?Sized>(rng: &mut R) -> Vec<Linear<T>> {
    LAYERS.iter().map(|&(i, o, _)| Linear::with_rng(i, o, true, rng)).collect()
}

/// Fails unless there is one activation per layer.
fn check_activations(op: &'static str, layers: usize, activations: &[Activation]) -> Result<()> {
    if layers != activations.len() || layers == 0 {
        return Err(Error::invalid(op, format!("{layers} layers and {} activations", activations.len())));
    }
    Ok(())
}

/// T8 from scratch: layers `A = f(X W + b)` and the backward pass written out. From `D = 2(Ŷ - Y)/numel`,
/// each layer, last first, turns `D = ∂L/∂A` into `∂L/∂Z` with its activation's derivative
/// ([`Activation::backward`]), then `b -= lr colsum D`, `gW = inputᵀ D`, `D = D Wᵀ` with the old `W`, and
/// `W -= lr gW`. No autograd graph is built.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet_tutorials::mlp::{AutodiffMlp, ManualMlp};
/// use torchlet_tutorials::regression::Regressor;
/// use torchlet_tutorials::Activation;
/// use torchlet::Tensor;
/// let first = Linear::from_parameters(&Tensor::new([[0.5, -0.3], [0.2, 0.1]]), Some(&Tensor::new([0.1, 0.0])))?;
/// let second = Linear::from_parameters(&Tensor::new([[1.0, -1.0]]), Some(&Tensor::new([0.2])))?;
/// let activations = [Activation::Softmax, Activation::Identity];
/// let mut scratch = ManualMlp::new(&[&first, &second], &activations, 0.1)?;
/// let mut autograd = AutodiffMlp::new(vec![first, second], &activations, 0.1)?;
/// let (x, y) = (Tensor::new([[1.0, 2.0], [0.0, -1.0]]), Tensor::new([[1.0], [-1.0]]));
/// for _ in 0..5 {
///     let (a, b): (f64, f64) = (scratch.train_step(&x, &y)?, autograd.train_step(&x, &y)?);
///     assert!((a - b).abs() < 1e-14);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ManualMlp<T: Element> {
    layers: Vec<(Dense<T>, Activation)>,
    lr: T,
}

impl<T: Element> ManualMlp<T> {
    /// A network over copies of the parameters of `linears` (`W = weight.T`, `b = bias`), each layer followed
    /// by its activation, trained with learning rate `lr`.
    pub fn new(linears: &[&Linear<T>], activations: &[Activation], lr: f64) -> Result<Self> {
        check_activations("ManualMlp", linears.len(), activations)?;
        let layers = linears.iter().zip(activations).map(|(l, &f)| Ok((Dense::from_linear(l)?, f)));
        Ok(ManualMlp { layers: layers.collect::<Result<_>>()?, lr: learning_rate(lr)? })
    }

    /// A copy of the network with its parameters on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        let layers = self.layers.iter().map(|(d, f)| Ok((d.to(device)?, *f))).collect::<Result<_>>()?;
        Ok(ManualMlp { layers, lr: self.lr })
    }

    /// The layers and their activations.
    pub fn layers(&self) -> &[(Dense<T>, Activation)] {
        &self.layers
    }

    /// The input of every layer and the network's output: `[x, A₁, …, A_L]`.
    fn forward_all(&self, x: &Tensor<T>) -> Result<Vec<Tensor<T>>> {
        let mut outputs = vec![x.clone()];
        for (dense, f) in &self.layers {
            let a = f.forward(&dense.forward(outputs.last().expect("starts with x"))?)?;
            outputs.push(a);
        }
        Ok(outputs)
    }
}

impl<T: Element> Layers<T> for ManualMlp<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        self.layers.iter().map(|(d, _)| d.to_linear()).collect()
    }
}

impl<T: Element> Regressor<T> for ManualMlp<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(self.forward_all(x)?.pop().expect("x and one output per layer"))
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let outputs = self.forward_all(x)?;
        let y_hat = outputs.last().expect("x and one output per layer");
        let loss = mse(y_hat, y)?;
        let n = T::from_usize(y.numel()).unwrap_or_else(T::nan);
        let mut d = y_hat.sub(y)?.mul_scalar(T::from_f64_lossy(2.0))?.div_scalar(n)?;
        for (i, (dense, f)) in self.layers.iter().enumerate().rev() {
            d = f.backward(&d, &outputs[i + 1])?;
            let below = if i > 0 { Some(dense.input_gradient(&d)?) } else { None };
            dense.step(&outputs[i], &d, self.lr)?;
            d = match below {
                Some(below) => below,
                None => break,
            };
        }
        Ok(loss)
    }
}

/// T8 with torch's parts: the layers and their activations in a `ModuleList` applied in order, `MSELoss()`
/// and `SGD(lr, momentum=0)`.
pub struct AutodiffMlp<T: Element> {
    layers: ModuleList<T>,
    criterion: MSELoss,
    optimizer: SGD<T>,
}

impl<T: Element> AutodiffMlp<T> {
    /// A network of `linears`, each followed by its activation's module, trained with plain SGD at `lr`.
    pub fn new(linears: Vec<Linear<T>>, activations: &[Activation], lr: f64) -> Result<Self> {
        check_activations("AutodiffMlp", linears.len(), activations)?;
        if linears.iter().any(|l| l.bias().is_none()) {
            return Err(Error::invalid("AutodiffMlp", "every layer needs a bias, as the notebook's"));
        }
        let mut layers = ModuleList::new();
        for (linear, f) in linears.into_iter().zip(activations) {
            layers.push(linear);
            f.push_module(&mut layers);
        }
        let optimizer = SGD::new(layers.parameters(), lr)?;
        Ok(AutodiffMlp { layers, criterion: MSELoss::new(), optimizer })
    }

    /// The `ModuleList` being trained: linear layers and activation modules, in order.
    pub fn module_list(&self) -> &ModuleList<T> {
        &self.layers
    }
}

impl<T: Element> Layers<T> for AutodiffMlp<T> {
    /// The layers' parameters, read from `named_parameters` (a weight then a bias per linear layer).
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        let parameters = self.layers.parameters();
        parameters.chunks(2).map(|wb| Linear::from_parameters(&wb[0], Some(&wb[1]))).collect()
    }
}

impl<T: Element> Regressor<T> for AutodiffMlp<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.layers.forward(x)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = self.criterion.forward(&self.layers.forward(x)?, y)?;
        sgd_step(&mut self.optimizer, &loss)
    }
}
