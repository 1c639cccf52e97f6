//! T10b, the residual network of the lesson 6 notebook (`ResNet9`) at the size of the data it trains on:
//! `conv_block(in, out, pool)` = `Conv2d(in, out, 3, padding=1), BatchNorm2d(out), ReLU` (then `MaxPool2d(2)`
//! with `pool`), and the network `conv1 = conv_block(1, 32)`, `conv2 = conv_block(32, 64, pool)`, `res1 =
//! Sequential(conv_block(64, 64), conv_block(64, 64))` added to its input, `conv3 = conv_block(64, 128, pool)`,
//! `res2` as `res1` at 128, `classifier = Sequential(MaxPool2d(2), Flatten(), Linear(128·s·s, 10))`, where
//! `s` is what the three poolings leave of the image side (`⌊side/8⌋`: 1 for the 8×8 digits, 3 for MNIST's
//! 28×28, whose 7×7 the last pooling takes to 3×3 as torch's floor mode does).
//!
//! Trained as the lesson's `fit_one_cycle(8, 0.01, grad_clip=0.1, weight_decay=1e-4, opt_func=Adam)`
//! ([`fit_one_cycle`]): Adam with (L2) weight decay, `OneCycleLR` stepped after every batch (it also cycles
//! Adam's β1), and every gradient clipped to ±0.1 before each update; validation in evaluation mode, with
//! BatchNorm's running statistics.
//!
//! Built twice: [`ManualResNet`] with every forward and backward pass written out (BatchNorm's among them)
//! and no autograd graph, and [`AutodiffResNet`] with torchlet's `nn` layers, `optim::Adam`, `OneCycleLR` and
//! `clip_grad_value_`. Both are [`OneCycleModel`]s over T10's images ([`crate::cnn::images`]).

mod autograd;
mod batch_norm;
mod manual;
mod schedule;

pub use autograd::{AutodiffResNet, ResNet9};
pub use batch_norm::{
    batch_norm_backward, batch_norm_eval, batch_norm_train, BatchNormGrads, BatchNormSaved, RunningStats,
};
pub use manual::ManualResNet;
pub use schedule::OneCycle;

use crate::classification::History;
use rand::Rng;
use torchlet::data::DataLoader;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::init::uniform;
use torchlet::tensor::Tensor;

/// The training batch size (the lesson's is 400; the digits take T10's 128).
pub const BATCH: usize = 128;
/// The validation batch size.
pub const VALID_BATCH: usize = 256;
/// The number of epochs, `fit_one_cycle(8, ...)`.
pub const EPOCHS: usize = 8;
/// The one-cycle schedule's peak learning rate.
pub const MAX_LR: f64 = 0.01;
/// Every gradient entry is clipped to `[-GRAD_CLIP, GRAD_CLIP]` before each update.
pub const GRAD_CLIP: f64 = 0.1;
/// Adam's L2 weight decay.
pub const WEIGHT_DECAY: f64 = 1e-4;
/// BatchNorm's defaults: eps and the running statistics' momentum.
pub const BN_EPS: f64 = 1e-5;
/// See [`BN_EPS`].
pub const BN_MOMENTUM: f64 = 0.1;
/// The number of classes.
pub const CLASSES: usize = 10;

/// One `conv_block`: its place in the network (the prefix of its parameters' names, as torch's
/// `state_dict` writes them), its channels and whether it ends in a 2×2 max pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// `conv1`, `res1.0`, …: the block's `Sequential` within the network.
    pub name: &'static str,
    /// The convolution's input channels.
    pub in_channels: usize,
    /// The convolution's output channels (and BatchNorm's features).
    pub out_channels: usize,
    /// Whether `MaxPool2d(2)` follows the ReLU.
    pub pool: bool,
}

const fn block(name: &'static str, in_channels: usize, out_channels: usize, pool: bool) -> Block {
    Block { name, in_channels, out_channels, pool }
}

/// The seven blocks in the order the forward pass runs them.
pub const BLOCKS: [Block; 7] = [
    block("conv1", 1, 32, false),
    block("conv2", 32, 64, true),
    block("res1.0", 64, 64, false),
    block("res1.1", 64, 64, false),
    block("conv3", 64, 128, true),
    block("res2.0", 128, 128, false),
    block("res2.1", 128, 128, false),
];

/// The residual stages: `(first block, last block)` indices into [`BLOCKS`], whose output is added to the
/// input of the first.
pub const RESIDUALS: [(usize, usize); 2] = [(2, 3), (5, 6)];

/// The classifier's linear layer's name and the channels it takes at each pixel left after the poolings.
pub const LINEAR: (&str, usize) = ("classifier.2", 128);

/// The inputs of the classifier's linear layer for images of `side`×`side`: [`LINEAR`]'s channels at each
/// of the `⌊side/8⌋²` pixels the three 2×2 poolings leave (`128` for digits, `128·3·3` for MNIST).
pub fn flat_features(side: usize) -> usize {
    LINEAR.1 * (side / 8) * (side / 8)
}

/// The names of the network's parameters in the order of [`initial_parameters`] (torch's `parameters()`):
/// per block `{block}.0.weight`, `{block}.0.bias` (the convolution), `{block}.1.weight`, `{block}.1.bias`
/// (BatchNorm), then `classifier.2.weight`, `classifier.2.bias`.
///
/// ```
/// let names = torchlet_tutorials::resnet::parameter_names();
/// assert_eq!((names[0].as_str(), names[10].as_str()), ("conv1.0.weight", "res1.0.1.weight"));
/// assert_eq!(names.last().map(String::as_str), Some("classifier.2.bias"));
/// ```
pub fn parameter_names() -> Vec<String> {
    let mut names = Vec::with_capacity(4 * BLOCKS.len() + 2);
    for b in BLOCKS {
        for (layer, what) in [(0, "weight"), (0, "bias"), (1, "weight"), (1, "bias")] {
            names.push(format!("{}.{layer}.{what}", b.name));
        }
    }
    names.extend(["weight", "bias"].map(|what| format!("{}.{what}", LINEAR.0)));
    names
}

/// The names of BatchNorm's running statistics, per block `{block}.1.running_mean`, `{block}.1.running_var`
/// (the `num_batches_tracked` counts are left out: libtorch's twin keeps none, and with a fixed momentum
/// they change nothing).
pub fn running_names() -> Vec<String> {
    BLOCKS.iter().flat_map(|b| ["running_mean", "running_var"].map(|what| format!("{}.1.{what}", b.name))).collect()
}

/// The network's parameters for images of `side`×`side` with libtorch's default initialisation as tch's
/// layers give it, drawn from `rng`: the convolutions' and the linear layer's weights from the Kaiming uniform `U(±√(6/fan_in))`, the
/// convolutions' biases 0, the linear bias from `U(±1/√fan_in)`, and BatchNorm's weight 1 and bias 0 (as
/// torch's); in the order of [`parameter_names`].
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let params = torchlet_tutorials::resnet::initial_parameters::<f32, _>(8, &mut StdRng::seed_from_u64(0));
/// assert_eq!(params.len(), 30);
/// assert_eq!((params[4].shape(), params[28].shape()), (&[64, 32, 3, 3][..], &[10, 128][..]));
/// let mnist = torchlet_tutorials::resnet::initial_parameters::<f32, _>(28, &mut StdRng::seed_from_u64(0));
/// assert_eq!(mnist[28].shape(), &[10, 128 * 3 * 3]);
/// assert_eq!(params[6].to_vec()?, vec![1.0; 64]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn initial_parameters<T: Element, R: Rng + ?Sized>(side: usize, rng: &mut R) -> Vec<Tensor<T>> {
    let kaiming = |shape: &[usize], rng: &mut R| {
        let bound = (6.0 / (shape[1..].iter().product::<usize>() as f64)).sqrt();
        uniform::<T, R>(shape, -bound, bound, rng)
    };
    let mut params = Vec::with_capacity(4 * BLOCKS.len() + 2);
    for b in BLOCKS {
        params.push(kaiming(&[b.out_channels, b.in_channels, 3, 3], rng));
        params.push(Tensor::zeros(&[b.out_channels]));
        params.push(Tensor::ones(&[b.out_channels]));
        params.push(Tensor::zeros(&[b.out_channels]));
    }
    let features = flat_features(side);
    params.push(kaiming(&[CLASSES, features], rng));
    let bound = 1.0 / (features as f64).sqrt();
    params.push(uniform(&[CLASSES], -bound, bound, rng));
    params
}

/// Checks that `params` have the shapes of [`initial_parameters`] for some image side; returns the smallest
/// such side (`8·⌊side/8⌋`: the linear layer's inputs tell only what the poolings leave of it).
pub(crate) fn check_parameters<T: Element>(op: &'static str, params: &[Tensor<T>]) -> Result<usize> {
    let flat = params.iter().rev().nth(1).and_then(|w| w.shape().get(1)).copied().unwrap_or(0);
    let pooled = (((flat / LINEAR.1) as f64).sqrt().round() as usize).max(1);
    let mut expected: Vec<Vec<usize>> = Vec::new();
    for b in BLOCKS {
        let c = b.out_channels;
        expected.extend([vec![c, b.in_channels, 3, 3], vec![c], vec![c], vec![c]]);
    }
    expected.extend([vec![CLASSES, flat_features(8 * pooled)], vec![CLASSES]]);
    if params.len() != expected.len() {
        return Err(Error::shape(
            op,
            format!("expected the {} parameters of the net, got {}", expected.len(), params.len()),
        ));
    }
    match params.iter().zip(&expected).position(|(p, e)| p.shape() != e.as_slice()) {
        Some(i) => Err(Error::shape(
            op,
            format!("parameter {i} has shape {:?}, expected {:?}", params[i].shape(), expected[i]),
        )),
        None => Ok(8 * pooled),
    }
}

/// A model trained by [`fit_one_cycle`]: each implementation runs the lesson's batch step its own way.
pub trait OneCycleModel<T: Element> {
    /// One batch of the lesson's loop in training mode: the loss, its gradients, `clip_grad_value_`, Adam's
    /// step at the schedule's learning rate and β1, the schedule's step; returns the batch's loss.
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T>;

    /// The loss and accuracy on `(x, y)` in evaluation mode (BatchNorm with its running statistics), with
    /// no graph.
    fn evaluate(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)>;

    /// The learning rate of the last update (the lesson's `get_lr(optimizer)` before `sched.step()`).
    fn last_lr(&self) -> f64;

    /// Copies of the parameters and BatchNorm's running statistics, named as [`parameter_names`] and
    /// [`running_names`] (in that order).
    fn state(&self) -> Result<Vec<(String, Tensor<T>)>>;
}

/// The unweighted mean over `loader`'s batches of the loss and the accuracy, in evaluation mode (the
/// lesson's `evaluate`).
pub fn evaluate<T: Element, M: OneCycleModel<T> + ?Sized>(
    model: &mut M,
    loader: &mut DataLoader<T>,
) -> Result<(f64, f64)> {
    let (mut loss, mut acc, mut count) = (0.0, 0.0, 0usize);
    for batch in loader.iter_pairs()? {
        let (x, y) = batch?;
        let (l, a) = model.evaluate(&x, &y)?;
        (loss, acc, count) = (loss + l.to_f64().unwrap_or(f64::NAN), acc + a, count + 1);
    }
    Ok((loss / count as f64, acc / count as f64))
}

/// One epoch's figures, as the lesson's `epoch_end` prints them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochEnd {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The learning rate of the epoch's last update.
    pub last_lr: f64,
    /// The mean of the epoch's batch losses.
    pub train_loss: f64,
    /// The validation loss and accuracy after the epoch.
    pub val_loss: f64,
    /// See `val_loss`.
    pub val_acc: f64,
}

impl std::fmt::Display for EpochEnd {
    /// `Epoch [{e}], last_lr: {:.5f}, train_loss: {:.4f}, val_loss: {:.4f}, val_acc: {:.4f}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Epoch [{}], last_lr: {:.5}, train_loss: {:.4}, val_loss: {:.4}, val_acc: {:.4}",
            self.epoch, self.last_lr, self.train_loss, self.val_loss, self.val_acc
        )
    }
}

/// The lesson's `fit_one_cycle` loop over `epochs` passes of `train` (the model's schedule must have been
/// made for `epochs · train.len()` steps), evaluating on `valid` after each; `on_epoch` gets each epoch's
/// figures. Returns the per-epoch history and each epoch's last learning rate.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::Tensor;
/// use torchlet_tutorials::resnet::{fit_one_cycle, initial_parameters, ManualResNet};
/// use torchlet_tutorials::Split;
/// let x = Tensor::<f64>::randn_with(&[12, 1, 8, 8], &mut StdRng::seed_from_u64(1));
/// let y = Tensor::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0, 1.0]);
/// let (mut train, mut valid) = Split::head(&x, &y, 8)?.loaders(4, 4, None)?;
/// let mut model = ManualResNet::new(&initial_parameters(8, &mut StdRng::seed_from_u64(0)), 2 * train.len())?;
/// let (history, lrs) = fit_one_cycle(&mut model, &mut train, &mut valid, 2, |_| {})?;
/// assert_eq!((history.train.len(), lrs.len()), (2, 2));
/// assert!(lrs[1] < lrs[0]); // the last step of the cycle is its lowest rate
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn fit_one_cycle<T: Element, M: OneCycleModel<T> + ?Sized>(
    model: &mut M,
    train: &mut DataLoader<T>,
    valid: &mut DataLoader<T>,
    epochs: usize,
    mut on_epoch: impl FnMut(&EpochEnd),
) -> Result<(History, Vec<f64>)> {
    let (mut history, mut lrs) = (History::default(), Vec::with_capacity(epochs));
    for epoch in 0..epochs {
        let (mut sum, mut count) = (0.0, 0usize);
        for batch in train.iter_pairs()? {
            let (x, y) = batch?;
            sum += model.train_step(&x, &y)?.to_f64().unwrap_or(f64::NAN);
            count += 1;
        }
        let (val_loss, val_acc) = evaluate(model, valid)?;
        let end = EpochEnd { epoch, last_lr: model.last_lr(), train_loss: sum / count as f64, val_loss, val_acc };
        on_epoch(&end);
        history.train.push(end.train_loss);
        history.valid.push(val_loss);
        history.accuracy.push(val_acc);
        lrs.push(end.last_lr);
    }
    Ok((history, lrs))
}
