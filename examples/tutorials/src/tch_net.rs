//! The libtorch twin of the T6–T9 models (feature `tch`): `tch::nn::linear` layers in a `VarStore`, each
//! followed by its activation, trained on the tutorial's loss with tch's SGD.

use super::classification::{argmax_accuracy, binary_accuracy, Classifier};
use super::libtorch::{from_tch, tch_error, to_tch, TchElement};
use super::regression::Regressor;
use super::{Activation, Layers};
use std::marker::PhantomData;
use tch::nn::OptimizerConfig;
use torchlet::error::{Error, Result};
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// The loss a [`TchNet`] trains on, which also fixes what its `predict` returns and how it scores accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TchLoss {
    /// T6: `binary_cross_entropy` of the network's `[m, 1]` probabilities against `y.unsqueeze(-1)`; predicts
    /// the probabilities `[m]`; accuracy `(a > 0.5) == y`.
    BinaryCrossEntropy,
    /// T7: `cross_entropy` of the logits against one-hot probability rows; predicts `softmax(logits, 1)`;
    /// accuracy by argmax.
    SoftTargetCrossEntropy,
    /// T9: `cross_entropy` of the logits against class indices (int64); predicts the logits; accuracy by
    /// argmax.
    CrossEntropy,
    /// T8: `mse_loss`; predicts the output. A regression loss: the net is a [`Regressor`].
    Mse,
}

/// A stack of dense layers with activations, trained by libtorch: the reference that the examples and the
/// parity tests compare the T6–T9 models against. A [`Classifier`] for the classification losses and a
/// [`Regressor`] for [`TchLoss::Mse`].
///
/// ```
/// use torchlet_tutorials::libtorch::{TchLoss, TchNet};
/// use torchlet_tutorials::mlp::{AutodiffMlp, LAYERS};
/// use torchlet_tutorials::regression::Regressor;
/// use torchlet_tutorials::Layers;
/// use torchlet::Tensor;
/// // T8's network, initialised by libtorch from seed 0; torchlet's copy trains in step with it.
/// let mut theirs = TchNet::<f64>::new(&LAYERS, TchLoss::Mse, 0.01, 0)?;
/// let activations: Vec<_> = LAYERS.iter().map(|l| l.2).collect();
/// let mut ours = AutodiffMlp::new(theirs.linears()?, &activations, 0.01)?;
/// let (x, y) = (Tensor::ones(&[4, 6]), Tensor::ones(&[4, 3]));
/// for _ in 0..3 {
///     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
///     assert!((a - b).abs() <= 1e-12 * a);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchNet<T: TchElement> {
    vs: tch::nn::VarStore,
    layers: Vec<(tch::nn::Linear, Activation)>,
    loss: TchLoss,
    optimizer: tch::nn::Optimizer,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchNet<T> {
    /// Layers `(in, out, activation)` initialised from `seed` as `torch.manual_seed(seed)` followed by
    /// `nn.Linear(in, out)` for each layer initialises them (weight, then bias, each from `U(±1/√in)`), in `T`,
    /// trained on `loss` with plain SGD at `lr`.
    pub fn new(layers: &[(usize, usize, Activation)], loss: TchLoss, lr: f64, seed: i64) -> Result<Self> {
        tch::manual_seed(seed);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let linears: Vec<(tch::nn::Linear, Activation)> = layers
            .iter()
            .enumerate()
            .map(|(i, &(n_in, n_out, f))| (torch_linear(&(vs.root() / i), n_in, n_out), f))
            .collect();
        vs.set_kind(T::KIND);
        let optimizer = tch::nn::Sgd::default().build(&vs, lr).map_err(tch_error)?;
        Ok(TchNet { vs, layers: linears, loss, optimizer, _element: PhantomData })
    }

    /// Layers holding copies of the parameters of torchlet's `linears` (each with a bias), each followed by
    /// its activation.
    pub fn from_linears(linears: &[&Linear<T>], activations: &[Activation], loss: TchLoss, lr: f64) -> Result<Self> {
        if linears.len() != activations.len() {
            return Err(Error::invalid(
                "TchNet",
                format!("{} layers and {} activations", linears.len(), activations.len()),
            ));
        }
        let shape: Vec<_> =
            linears.iter().zip(activations).map(|(l, &f)| (l.in_features(), l.out_features(), f)).collect();
        let mut net = Self::new(&shape, loss, lr, 0)?;
        let _guard = tch::no_grad_guard();
        for ((theirs, _), ours) in net.layers.iter_mut().zip(linears) {
            let (Some(bias), Some(their_bias)) = (ours.bias(), theirs.bs.as_mut()) else {
                return Err(Error::invalid("TchNet", "every layer needs a bias"));
            };
            their_bias.f_copy_(&to_tch(bias)?).map_err(tch_error)?;
            theirs.ws.f_copy_(&to_tch(ours.weight())?).map_err(tch_error)?;
        }
        Ok(net)
    }

    /// The network's last output: probabilities for [`TchLoss::BinaryCrossEntropy`], logits for the
    /// cross-entropies, the prediction for [`TchLoss::Mse`].
    fn forward(&self, x: &Tensor<T>) -> Result<tch::Tensor> {
        self.forward_tch(&to_tch(x)?)
    }

    /// [`Self::forward`] of a libtorch tensor.
    fn forward_tch(&self, x: &tch::Tensor) -> Result<tch::Tensor> {
        let mut h = x.shallow_clone();
        for (linear, f) in &self.layers {
            h = activate(h.f_linear(&linear.ws, linear.bs.as_ref()).map_err(tch_error)?, *f)?;
        }
        Ok(h)
    }

    fn loss_of(&self, output: &tch::Tensor, y: &Tensor<T>) -> Result<tch::Tensor> {
        self.loss_of_tch(output, &to_tch(y)?)
    }

    /// [`Self::loss_of`] against a libtorch target.
    fn loss_of_tch(&self, output: &tch::Tensor, y: &tch::Tensor) -> Result<tch::Tensor> {
        let mean = tch::Reduction::Mean;
        match self.loss {
            TchLoss::BinaryCrossEntropy => output.f_binary_cross_entropy::<tch::Tensor>(&y.unsqueeze(-1), None, mean),
            TchLoss::SoftTargetCrossEntropy => output.f_cross_entropy_loss::<tch::Tensor>(y, None, mean, -100, 0.0),
            TchLoss::CrossEntropy => {
                output.f_cross_entropy_loss::<tch::Tensor>(&y.to_kind(tch::Kind::Int64), None, mean, -100, 0.0)
            }
            TchLoss::Mse => output.f_mse_loss(y, mean),
        }
        .map_err(tch_error)
    }

    fn prediction(&self, output: &tch::Tensor) -> Result<Tensor<T>> {
        let out = match self.loss {
            TchLoss::BinaryCrossEntropy => output.f_squeeze_dim(1),
            TchLoss::SoftTargetCrossEntropy => output.f_softmax(1, None::<tch::Kind>),
            TchLoss::CrossEntropy | TchLoss::Mse => Ok(output.shallow_clone()),
        };
        from_tch(&out.map_err(tch_error)?.detach())
    }

    /// `zero_grad`, the loss of `(x, y)`, `backward`, `step`; returns the loss before the step.
    fn step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = self.loss_of(&self.forward(x)?, y)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        from_tch::<T>(&loss.detach())?.item()
    }

    /// One training step on libtorch tensors, as [`Regressor::train_step`] and [`Classifier::train_step`] on
    /// torchlet's (`zero_grad`, the loss, `backward`, `step`), with no conversion of the data: for callers that
    /// keep their batches in libtorch, such as the benches. Class-index targets may be int64 already. Returns
    /// the loss before the step.
    pub fn train_step_tch(&mut self, x: &tch::Tensor, y: &tch::Tensor) -> Result<f64> {
        let loss = self.loss_of_tch(&self.forward_tch(x)?, y)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        loss.f_double_value(&[]).map_err(tch_error)
    }

    /// The loss of libtorch tensors `(x, y)` under `no_grad`, as [`Regressor::evaluate`] computes it.
    pub fn loss_tch(&self, x: &tch::Tensor, y: &tch::Tensor) -> Result<f64> {
        let _guard = tch::no_grad_guard();
        self.loss_of_tch(&self.forward_tch(x)?, y)?.f_double_value(&[]).map_err(tch_error)
    }

    /// The loss and the prediction of `(x, y)` under `no_grad`.
    fn score(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, Tensor<T>)> {
        let _guard = tch::no_grad_guard();
        let output = self.forward(x)?;
        Ok((from_tch::<T>(&self.loss_of(&output, y)?)?.item()?, self.prediction(&output)?))
    }
}

/// `f(z)` with libtorch's op for the activation `f` (the softmax over dim 1).
pub(crate) fn activate(z: tch::Tensor, f: Activation) -> Result<tch::Tensor> {
    match f {
        Activation::Identity => Ok(z),
        Activation::Tanh => z.f_tanh(),
        Activation::Sigmoid => z.f_sigmoid(),
        Activation::ReLU => z.f_relu(),
        Activation::Softmax => z.f_softmax(1, None::<tch::Kind>),
    }
    .map_err(tch_error)
}

/// `nn.Linear(n_in, n_out)` as PyTorch initialises it: the weight, then the bias, each from
/// `U(-1/√n_in, 1/√n_in)`. (`tch::nn::linear`'s default draws the weight from a kaiming-uniform with the ReLU
/// gain, a bound √6 times larger, and the bias first.)
fn torch_linear(path: &tch::nn::Path, n_in: usize, n_out: usize) -> tch::nn::Linear {
    let bound = 1.0 / (n_in as f64).sqrt();
    let init = tch::nn::Init::Uniform { lo: -bound, up: bound };
    let ws = path.var("weight", &[n_out as i64, n_in as i64], init);
    tch::nn::Linear { ws, bs: Some(path.var("bias", &[n_out as i64], init)) }
}

impl<T: TchElement> Layers<T> for TchNet<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        let copy = |t: &tch::Tensor| from_tch::<T>(&t.detach());
        self.layers
            .iter()
            .map(|(l, _)| Linear::from_parameters(&copy(&l.ws)?, l.bs.as_ref().map(copy).transpose()?.as_ref()))
            .collect()
    }
}

impl<T: TchElement> Classifier<T> for TchNet<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _guard = tch::no_grad_guard();
        self.prediction(&self.forward(x)?)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        self.step(x, y)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let (loss, prediction) = self.score(x, y)?;
        let accuracy = match self.loss {
            TchLoss::BinaryCrossEntropy => binary_accuracy(&prediction, y)?,
            TchLoss::SoftTargetCrossEntropy | TchLoss::CrossEntropy => argmax_accuracy(&prediction, y)?,
            TchLoss::Mse => return Err(Error::invalid("TchNet::evaluate", "accuracy needs a classification loss")),
        };
        Ok((loss, accuracy))
    }

    /// A fresh `tch::nn::Sgd` over the VarStore.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = tch::nn::Sgd::default().build(&self.vs, lr).map_err(tch_error)?;
        Ok(())
    }
}

impl<T: TchElement> Regressor<T> for TchNet<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Classifier::predict(self, x)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        self.step(x, y)
    }

    /// The net's own loss under `no_grad`.
    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        Ok(self.score(x, y)?.0)
    }
}
