//! T10, the CNN of the lesson 5 notebook (`Cifar10CnnModel`), at the size of the data it trains on here:
//! `Conv2d(1,16,3,p1), ReLU, Conv2d(16,32,3,p1), ReLU, MaxPool2d(2,2), Conv2d(32,64,3,p1), ReLU,
//! Conv2d(64,64,3,p1), ReLU, MaxPool2d(2,2), Flatten, Linear(64·s·s,128), ReLU, Linear(128,10)` with `s` a
//! quarter of the image side, trained on the cross-entropy of the logits with Adam (lr 1e-3) for 10 epochs.
//! Built twice: [`ManualCnn`] with the forward and backward passes and Adam's update written out (the
//! convolutions as im2col + GEMM) and [`AutodiffCnn`] with torchlet's `nn` layers in a `Sequential` and
//! `optim::Adam`. Both are [`Classifier`]s over images `[N, 1, side, side]`; the targets are the digits as
//! whole numbers in the element type.
//!
//! The data is T9's ([`crate::digits`]): scikit-learn's 8×8 digits by default, or MNIST's 28×28 images,
//! reshaped into one-channel images by [`images`].

mod adam;
mod im2col;
mod manual;

pub use adam::HandAdam;
pub use im2col::{col2im, conv2d_backward, conv2d_forward, im2col, max_pool2x2, max_pool2x2_backward, ConvGrads};
pub use manual::ManualCnn;

use crate::classification::{argmax_accuracy, labels, Classifier};
use crate::{Layers, Split};
use rand::Rng;
use torchlet::autograd::no_grad;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::functional::{cross_entropy, Conv2dOptions};
use torchlet::nn::init::uniform;
use torchlet::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use torchlet::optim::{Adam, Optimizer};
use torchlet::tensor::Tensor;

/// The training batch size (shuffled batches), as lesson 5's.
pub const BATCH: usize = 128;
/// The validation batch size.
pub const VALID_BATCH: usize = 256;
/// Adam's learning rate, `fit(10, 0.001, ..., torch.optim.Adam)`.
pub const LR: f64 = 1e-3;
/// The number of epochs.
pub const EPOCHS: usize = 10;
/// `(in_channels, out_channels)` of the four convolutions, each 3×3 with padding 1.
pub const CONVS: [(usize, usize); 4] = [(1, 16), (16, 32), (32, 64), (64, 64)];
/// The side of every convolution's kernel.
pub const KERNEL: usize = 3;
/// The zeros around each convolution's input, which keep the image's size.
pub const PADDING: usize = 1;
/// The width of the hidden linear layer.
pub const HIDDEN: usize = 128;
/// The number of classes.
pub const CLASSES: usize = 10;

/// The stages of the network in order, as the lesson's `nn.Sequential` lists them; the numbers index the
/// convolutions and the linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `Conv2d(CONVS[i], 3, padding=1)`.
    Conv(usize),
    /// `ReLU`.
    Relu,
    /// `MaxPool2d(2, 2)`.
    Pool,
    /// `Flatten`: `[N, C, H, W]` to `[N, C·H·W]`.
    Flatten,
    /// The `i`-th `Linear`: 0 is `Linear(64·s·s, 128)`, 1 is `Linear(128, 10)`.
    Linear(usize),
}

/// The network's stages; the parameters of the `Sequential` are named by these positions (`0.weight`,
/// `0.bias`, `2.weight`, …, `11.weight`, `13.bias`), as torch names them.
pub const STAGES: [Stage; 14] = [
    Stage::Conv(0),
    Stage::Relu,
    Stage::Conv(1),
    Stage::Relu,
    Stage::Pool,
    Stage::Conv(2),
    Stage::Relu,
    Stage::Conv(3),
    Stage::Relu,
    Stage::Pool,
    Stage::Flatten,
    Stage::Linear(0),
    Stage::Relu,
    Stage::Linear(1),
];

/// The inputs of the first linear layer for images of `side`×`side`: 64 channels of `side/4`×`side/4` after
/// the two poolings (`64·2·2` for digits, `64·7·7` for MNIST).
pub fn flat_features(side: usize) -> usize {
    CONVS[3].1 * (side / 4) * (side / 4)
}

/// T9's data as one-channel images: every row of `side·side` pixels becomes `[1, side, side]`, and the
/// inputs are converted to `T` (the tutorial trains in f32; the parity tests also in f64).
///
/// ```
/// let data = torchlet_tutorials::cnn::images::<f64>(&torchlet_tutorials::digits::digits_data(0)?)?;
/// assert_eq!(data.x_train.shape(), &[1_497, 1, 8, 8]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn images<T: Element>(data: &Split<f32>) -> Result<Split<T>> {
    let pixels = data.x_train.shape().get(1).copied().unwrap_or(0);
    let side = (pixels as f64).sqrt().round() as usize;
    if side * side != pixels || side % 4 != 0 {
        return Err(Error::shape(
            "cnn::images",
            format!("rows of {pixels} pixels are not square images of a side divisible by 4"),
        ));
    }
    let convert = |t: &Tensor<f32>, shape: &[usize]| -> Result<Tensor<T>> {
        let values = t.to_vec()?.into_iter().map(|v| T::from_f64_lossy(f64::from(v))).collect();
        Tensor::from_vec(values, shape)?.to(t.device())
    };
    let image = |t: &Tensor<f32>| convert(t, &[t.shape()[0], 1, side, side]);
    let label = |t: &Tensor<f32>| convert(t, t.shape());
    Ok(Split {
        x_train: image(&data.x_train)?,
        y_train: label(&data.y_train)?,
        x_valid: image(&data.x_valid)?,
        y_valid: label(&data.y_valid)?,
    })
}

/// The network's parameters for images of `side`×`side` with libtorch's default initialisation as tch's
/// `nn::conv2d` and `nn::linear` give it (what shared/TUTORIALS.md's expected accuracies were measured
/// with), drawn from `rng`: every weight from the Kaiming uniform with the ReLU gain, `U(±√(6/fan_in))`, the
/// convolutions' biases 0 and the linear layers' from `U(±1/√fan_in)`; in the `Sequential`'s parameter order
/// (each layer's weight, then its bias).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let params = torchlet_tutorials::cnn::initial_parameters::<f32, _>(8, &mut StdRng::seed_from_u64(0))?;
/// let shapes: Vec<&[usize]> = params.iter().map(|p| p.shape()).collect();
/// assert_eq!(shapes[0], &[16, 1, 3, 3]);
/// assert_eq!(shapes[8], &[128, 256]);
/// assert_eq!(shapes[11], &[10]);
/// assert!(params[0].to_vec()?.iter().all(|w| w.abs() <= (6.0f32 / 9.0).sqrt()));
/// assert_eq!(params[1].to_vec()?, vec![0.0; 16]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn initial_parameters<T: Element, R: Rng + ?Sized>(side: usize, rng: &mut R) -> Result<Vec<Tensor<T>>> {
    let mut params = Vec::with_capacity(12);
    let kaiming = |shape: &[usize], rng: &mut R| {
        let bound = (6.0 / (shape[1..].iter().product::<usize>() as f64)).sqrt();
        uniform::<T, R>(shape, -bound, bound, rng)
    };
    for (c_in, c_out) in CONVS {
        params.push(kaiming(&[c_out, c_in, KERNEL, KERNEL], rng));
        params.push(Tensor::zeros(&[c_out]));
    }
    for (n_in, n_out) in [(flat_features(side), HIDDEN), (HIDDEN, CLASSES)] {
        params.push(kaiming(&[n_out, n_in], rng));
        let bound = 1.0 / (n_in as f64).sqrt();
        params.push(uniform(&[n_out], -bound, bound, rng));
    }
    Ok(params)
}

/// The convolutions' options: stride 1, padding 1.
fn conv_options() -> Conv2dOptions {
    Conv2dOptions::default().padding(PADDING)
}

/// Checks that `params` are the network's twelve tensors, with the shapes of [`initial_parameters`] for some
/// image side; returns that side.
pub(crate) fn check_parameters<T: Element>(op: &'static str, params: &[Tensor<T>]) -> Result<usize> {
    let wrong = |msg: String| Err(Error::shape(op, msg));
    if params.len() != 12 {
        return wrong(format!("expected the 12 parameters of the CNN, got {}", params.len()));
    }
    let flat = params[8].shape().get(1).copied().unwrap_or(0);
    let side = 4 * ((flat / CONVS[3].1) as f64).sqrt().round() as usize;
    let mut expected: Vec<Vec<usize>> = Vec::new();
    for (c_in, c_out) in CONVS {
        expected.extend([vec![c_out, c_in, KERNEL, KERNEL], vec![c_out]]);
    }
    for (n_in, n_out) in [(flat_features(side), HIDDEN), (HIDDEN, CLASSES)] {
        expected.extend([vec![n_out, n_in], vec![n_out]]);
    }
    match params.iter().zip(&expected).position(|(p, e)| p.shape() != e.as_slice()) {
        Some(i) => wrong(format!("parameter {i} has shape {:?}, expected {:?}", params[i].shape(), expected[i])),
        None => Ok(side),
    }
}

/// The parameters as six `nn::Linear` layers: a convolution's weight `[O, C, k, k]` read as the `[O, C·k·k]`
/// matrix it multiplies im2col's columns by, so that the models can be compared through [`Layers`].
pub(crate) fn as_linears<T: Element>(params: &[Tensor<T>]) -> Result<Vec<Linear<T>>> {
    params
        .chunks(2)
        .map(|pair| {
            let w = pair[0].detach();
            let rows = w.shape()[0];
            let w = w.reshape(&[rows, w.numel() / rows])?.deep_clone()?;
            Linear::from_parameters(&w, Some(&pair[1].detach()))
        })
        .collect()
}

/// T10 with torch's parts, as the lesson's `Cifar10CnnModel`: the layers in an `nn::Sequential`,
/// `F.cross_entropy` on the logits against the labels, and `Adam(model.parameters(), lr)`, made afresh by
/// [`Classifier::set_learning_rate`] as the lesson's `fit` makes its optimizer. Each batch runs `zero_grad`,
/// `backward`, `step`: the same updates as the lesson's `backward`, `step`, `zero_grad`.
pub struct AutodiffCnn<T: Element> {
    network: Sequential<T>,
    optimizer: Adam<T>,
}

impl<T: Element> AutodiffCnn<T> {
    /// The network over copies of `params` (as [`initial_parameters`] lists them), trained with Adam at `lr`.
    pub fn new(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("AutodiffCnn", params)?;
        let conv = |i: usize| Conv2d::from_parameters(&params[2 * i], Some(&params[2 * i + 1]), conv_options());
        let linear = |i: usize| Linear::from_parameters(&params[8 + 2 * i], Some(&params[9 + 2 * i]));
        let mut network = Sequential::new();
        for stage in STAGES {
            network = match stage {
                Stage::Conv(i) => network.add(conv(i)?),
                Stage::Relu => network.add(ReLU),
                Stage::Pool => network.add(MaxPool2d::new(2)),
                Stage::Flatten => network.add(Flatten::new()),
                Stage::Linear(i) => network.add(linear(i)?),
            };
        }
        let optimizer = Adam::new(network.parameters(), lr)?;
        Ok(AutodiffCnn { network, optimizer })
    }

    /// The network.
    pub fn network(&self) -> &Sequential<T> {
        &self.network
    }
}

impl<T: Element> Layers<T> for AutodiffCnn<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        as_linears(&self.network.parameters())
    }
}

impl<T: Element> Classifier<T> for AutodiffCnn<T> {
    /// The logits.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.network.forward(x)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = cross_entropy(&self.network.forward(x)?, &labels(y)?)?;
        self.optimizer.zero_grad();
        loss.backward()?;
        self.optimizer.step()?;
        loss.item()
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        no_grad(|| {
            let logits = self.network.forward(x)?;
            Ok((cross_entropy(&logits, &labels(y)?)?.item()?, argmax_accuracy(&logits, y)?))
        })
    }

    /// A fresh `Adam` over the network's parameters.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = Adam::new(self.network.parameters(), lr)?;
        Ok(())
    }
}
