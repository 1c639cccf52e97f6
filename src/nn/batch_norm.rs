//! `nn.BatchNorm1d` / `nn.BatchNorm2d` and `F.batch_norm`: each channel normalised over the batch (and the
//! length or the plane), with running statistics kept as buffers for evaluation. The computation is a
//! composition of existing ops, so autograd gives the backward and it runs wherever those ops run.

use super::Module;
use crate::autograd::no_grad;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Batch normalisation (`F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
/// eps)`) of `input` `[N, C, *]` per channel `C`.
///
/// With `training` (or without running statistics) each channel is normalised with the batch's mean and
/// biased variance over every dim but `C`: `y = (x − mean)/√(var + eps)·weight + bias`. In training, given
/// running statistics are then updated in place, without autograd: `running = (1 − momentum)·running +
/// momentum·batch`, with the unbiased batch variance for `running_var`, as torch does. Without `training`
/// the running statistics are used instead of the batch's.
///
/// ```
/// use torchlet::nn::functional::batch_norm;
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::new([[1.0, 10.0], [3.0, 30.0]]);
/// let (mean, var) = (Tensor::zeros(&[2]), Tensor::ones(&[2]));
/// let y = batch_norm(&x, Some(&mean), Some(&var), None, None, true, 0.1, 0.0)?;
/// assert_eq!(y.to_vec2()?, vec![vec![-1.0, -1.0], vec![1.0, 1.0]]);
/// assert_eq!(mean.to_vec()?, vec![0.2, 2.0]); // 0.1 · batch mean
/// let err = batch_norm(&Tensor::<f64>::zeros(&[1, 4]), None, None, None, None, true, 0.1, 1e-5).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "batch_norm: Expected more than 1 value per channel when training, got input size [1, 4]"
/// );
/// # Ok::<(), torchlet::Error>(())
/// ```
// The arguments are torch's, in torch's order, so a call reads as the Python one.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm<T: Element>(
    input: &Tensor<T>,
    running_mean: Option<&Tensor<T>>,
    running_var: Option<&Tensor<T>>,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor<T>> {
    const OP: &str = "batch_norm";
    check_arguments(OP, input, [running_mean, running_var, weight, bias], training)?;
    normalize(input, running_mean.zip(running_var), weight, bias, training, momentum, eps)
}

/// torch's checks of `F.batch_norm`, in its order: more than one value per channel in training, then each
/// per-channel tensor's length against the input's channel count.
fn check_arguments<T: Element>(
    op: &'static str,
    input: &Tensor<T>,
    per_channel: [Option<&Tensor<T>>; 4],
    training: bool,
) -> Result<()> {
    let shape = input.shape();
    if shape.len() < 2 {
        return Err(Error::shape(op, format!("expected an input of shape [N, C, *], got shape {shape:?}")));
    }
    if training && shape[0] * shape[2..].iter().product::<usize>() == 1 {
        return Err(Error::invalid(
            op,
            format!("Expected more than 1 value per channel when training, got input size {shape:?}"),
        ));
    }
    let channels = shape[1];
    for (name, t) in ["running_mean", "running_var", "weight", "bias"].into_iter().zip(per_channel) {
        if let Some(t) = t.filter(|t| t.numel() != channels || t.rank() != 1) {
            return Err(Error::shape(
                op,
                format!("{name} should contain {channels} elements not {} (shape {:?})", t.numel(), t.shape()),
            ));
        }
    }
    if per_channel[0].is_some() != per_channel[1].is_some() {
        return Err(Error::invalid(op, "running_mean and running_var must be given together"));
    }
    if !training && per_channel[0].is_none() {
        return Err(Error::invalid(op, "running_mean and running_var must be defined in evaluation mode"));
    }
    Ok(())
}

/// The normalisation itself, on checked arguments. The input is viewed as `[N, C, L]` so one code path
/// serves every rank; the statistics are `[1, C, 1]` and broadcast back.
fn normalize<T: Element>(
    input: &Tensor<T>,
    running: Option<(&Tensor<T>, &Tensor<T>)>,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor<T>> {
    let shape = input.shape();
    if input.numel() == 0 {
        // An empty batch has no statistics: torch returns it as it is (through a new node, so the graph
        // goes on) and leaves the running statistics alone.
        return input.mul_scalar(T::one());
    }
    let (n, c) = (shape[0], shape[1]);
    let l: usize = shape[2..].iter().product();
    let x = input.reshape(&[n, c, l])?;
    let per_channel = [1, c, 1];
    let count = n * l;
    let (centered, var) = match running {
        Some((mean, var)) if !training => (x.sub(&mean.reshape(&per_channel)?)?, var.reshape(&per_channel)?),
        _ => {
            let mean = x.sum_dim(2, true)?.sum_dim(0, true)?.div_scalar(T::from_f64_lossy(count as f64))?;
            let centered = x.sub(&mean)?;
            // Two passes (the mean, then the squares about it), as torch's CPU kernel: no cancellation.
            let squares = centered.square()?.sum_dim(2, true)?.sum_dim(0, true)?;
            if let (true, Some((running_mean, running_var))) = (training, running) {
                update_running(running_mean, &mean, momentum)?;
                let unbiased = squares.div_scalar(T::from_f64_lossy((count - 1) as f64))?;
                update_running(running_var, &unbiased, momentum)?;
            }
            (centered, squares.div_scalar(T::from_f64_lossy(count as f64))?)
        }
    };
    let invstd = var.add_scalar(T::from_f64_lossy(eps))?.sqrt()?.rdiv_scalar(T::one())?;
    let mut y = centered.mul(&invstd)?;
    if let Some(w) = weight {
        y = y.mul(&w.reshape(&per_channel)?)?;
    }
    if let Some(b) = bias {
        y = y.add(&b.reshape(&per_channel)?)?;
    }
    y.reshape(shape)
}

/// `running = momentum·batch + (1 − momentum)·running`, in place and outside autograd (torch's running
/// statistics are buffers, not part of the graph). torch's order of the two terms, so f64 agrees to the bit
/// given the same statistics.
fn update_running<T: Element>(running: &Tensor<T>, batch: &Tensor<T>, momentum: f64) -> Result<()> {
    no_grad(|| {
        let batch = batch.detach().reshape(running.shape())?;
        let new = batch
            .mul_scalar(T::from_f64_lossy(momentum))?
            .add(&running.mul_scalar(T::from_f64_lossy(1.0 - momentum))?)?;
        running.copy_(&new).map(|_| ())
    })
}

/// The options of a batch norm layer, with torch's defaults (`eps=1e-5, momentum=0.1, affine=True,
/// track_running_stats=True`).
///
/// ```
/// use torchlet::nn::{BatchNorm1d, BatchNormOptions, Module};
/// let bn = BatchNorm1d::<f32>::with_options(4, BatchNormOptions::default().momentum(None).affine(false));
/// assert!(bn.named_parameters().is_empty());
/// assert_eq!(bn.named_buffers().len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormOptions {
    /// Added to the variance before its square root.
    pub eps: f64,
    /// The weight of the batch's statistics in the running ones; `None` is the cumulative average
    /// (`1/num_batches_tracked`).
    pub momentum: Option<f64>,
    /// Whether the layer has a learnable `weight` (ones) and `bias` (zeros).
    pub affine: bool,
    /// Whether the layer keeps running statistics (buffers) and uses them in evaluation mode.
    pub track_running_stats: bool,
}

impl Default for BatchNormOptions {
    fn default() -> Self {
        BatchNormOptions { eps: 1e-5, momentum: Some(0.1), affine: true, track_running_stats: true }
    }
}

impl BatchNormOptions {
    /// With `eps`.
    pub fn eps(self, eps: f64) -> Self {
        BatchNormOptions { eps, ..self }
    }

    /// With `momentum` (`None`: the cumulative moving average).
    pub fn momentum(self, momentum: Option<f64>) -> Self {
        BatchNormOptions { momentum, ..self }
    }

    /// With or without a learnable weight and bias.
    pub fn affine(self, affine: bool) -> Self {
        BatchNormOptions { affine, ..self }
    }

    /// With or without running statistics.
    pub fn track_running_stats(self, track_running_stats: bool) -> Self {
        BatchNormOptions { track_running_stats, ..self }
    }
}

/// The state both batch norm layers share: parameters, buffers, options and the training flag.
struct Layer<T: Element> {
    num_features: usize,
    weight: Option<Tensor<T>>,
    bias: Option<Tensor<T>>,
    /// `running_mean`, `running_var` and `num_batches_tracked` (a count held in the element type: torch's
    /// is int64, and the safetensors files store it as such).
    running: Option<[Tensor<T>; 3]>,
    options: BatchNormOptions,
    training: bool,
}

impl<T: Element> Layer<T> {
    fn new(num_features: usize, options: BatchNormOptions) -> Self {
        let leaf = |t: Tensor<T>| t.requires_grad_(true).expect("a fresh tensor is a leaf");
        Layer {
            num_features,
            weight: options.affine.then(|| leaf(Tensor::ones(&[num_features]))),
            bias: options.affine.then(|| leaf(Tensor::zeros(&[num_features]))),
            running: options
                .track_running_stats
                .then(|| [Tensor::zeros(&[num_features]), Tensor::ones(&[num_features]), Tensor::scalar(T::zero())]),
            options,
            training: true,
        }
    }

    fn forward(&self, op: &'static str, input: &Tensor<T>) -> Result<Tensor<T>> {
        let running = self.running.as_ref();
        let per_channel = [running.map(|r| &r[0]), running.map(|r| &r[1]), self.weight.as_ref(), self.bias.as_ref()];
        // In evaluation mode without running statistics torch normalises with the batch's, so the batch
        // must then have more than one value per channel too.
        let batch_stats = self.training || running.is_none();
        check_arguments(op, input, per_channel, batch_stats)?;
        let mut momentum = self.options.momentum.unwrap_or(0.0);
        if let (true, Some([_, _, count])) = (self.training, running) {
            // Counted only once the input has passed the checks, so a refused batch leaves the layer as it was.
            let tracked = no_grad(|| count.add_scalar_(T::one()).map(|c| c.item()))??;
            if self.options.momentum.is_none() {
                momentum = 1.0 / tracked.to_f64().unwrap_or(f64::NAN);
            }
        }
        let stats = running.map(|[mean, var, _]| (mean, var));
        normalize(input, stats, self.weight.as_ref(), self.bias.as_ref(), batch_stats, momentum, self.options.eps)
    }

    /// A copy on `device`: parameters as fresh leaves that require grad, buffers as plain copies.
    fn to(&self, device: Device) -> Result<Self> {
        let copy = |t: &Tensor<T>| no_grad(|| t.to(device)?.deep_clone());
        let param = |t: &Option<Tensor<T>>| t.as_ref().map(|t| copy(t)?.requires_grad_(true)).transpose();
        let running = match &self.running {
            Some([m, v, n]) => Some([copy(m)?, copy(v)?, copy(n)?]),
            None => None,
        };
        Ok(Layer {
            num_features: self.num_features,
            weight: param(&self.weight)?,
            bias: param(&self.bias)?,
            running,
            options: self.options,
            training: self.training,
        })
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let named = [("weight", &self.weight), ("bias", &self.bias)];
        named.into_iter().filter_map(|(n, t)| t.as_ref().map(|t| (n.to_string(), t.clone()))).collect()
    }

    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        let names = ["running_mean", "running_var", "num_batches_tracked"];
        self.running.iter().flat_map(|r| names.iter().zip(r).map(|(n, t)| (n.to_string(), t.clone()))).collect()
    }
}

macro_rules! batch_norm_layer {
    ($(#[doc = $doc:literal])* $name:ident, $ranks:expr, $expected:literal) => {
        $(#[doc = $doc])*
        pub struct $name<T: Element> {
            layer: Layer<T>,
        }

        impl<T: Element> $name<T> {
            /// The layer over `num_features` channels with torch's defaults: eps 1e-5, momentum 0.1, a
            /// weight of ones and a bias of zeros, running statistics tracked.
            pub fn new(num_features: usize) -> Self {
                Self::with_options(num_features, BatchNormOptions::default())
            }

            /// The layer over `num_features` channels with the given options.
            pub fn with_options(num_features: usize, options: BatchNormOptions) -> Self {
                $name { layer: Layer::new(num_features, options) }
            }

            /// The number of channels (`num_features`).
            pub fn num_features(&self) -> usize {
                self.layer.num_features
            }

            /// The options the layer was made with.
            pub fn options(&self) -> BatchNormOptions {
                self.layer.options
            }

            /// The learnable scale `[C]` (`bn.weight`), `None` without `affine`.
            pub fn weight(&self) -> Option<&Tensor<T>> {
                self.layer.weight.as_ref()
            }

            /// The learnable shift `[C]` (`bn.bias`), `None` without `affine`.
            pub fn bias(&self) -> Option<&Tensor<T>> {
                self.layer.bias.as_ref()
            }

            /// The running mean `[C]` (`bn.running_mean`), `None` without `track_running_stats`.
            pub fn running_mean(&self) -> Option<&Tensor<T>> {
                self.layer.running.as_ref().map(|r| &r[0])
            }

            /// The running variance `[C]` (`bn.running_var`), `None` without `track_running_stats`.
            pub fn running_var(&self) -> Option<&Tensor<T>> {
                self.layer.running.as_ref().map(|r| &r[1])
            }

            /// The number of training batches seen (`bn.num_batches_tracked`), `None` without
            /// `track_running_stats`. It is held in the element type, so in f32 it counts exactly up to
            /// 2^24 batches.
            pub fn num_batches_tracked(&self) -> Option<u64> {
                let count = self.layer.running.as_ref()?[2].item().ok()?;
                count.to_u64()
            }

            /// Whether the layer is in training mode (`bn.training`).
            pub fn is_training(&self) -> bool {
                self.layer.training
            }

            /// A copy of the layer with its parameters and buffers on `device` (`bn.to(device)`).
            pub fn to(&self, device: Device) -> Result<Self> {
                Ok($name { layer: self.layer.to(device)? })
            }
        }

        impl<T: Element> Module<T> for $name<T> {
            fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
                if !$ranks.contains(&input.rank()) {
                    return Err(Error::shape(
                        stringify!($name),
                        format!(concat!("expected ", $expected, " input (got {}D input)"), input.rank()),
                    ));
                }
                self.layer.forward(stringify!($name), input)
            }

            /// `weight`, `bias` (with `affine`).
            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                self.layer.named_parameters()
            }

            /// `running_mean`, `running_var`, `num_batches_tracked` (with `track_running_stats`).
            fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
                self.layer.named_buffers()
            }

            fn set_training(&mut self, mode: bool) {
                self.layer.training = mode;
            }
        }

        impl<T: Element> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let o = self.layer.options;
                let momentum = o.momentum.map_or("None".to_string(), |m| m.to_string());
                write!(
                    f,
                    concat!(stringify!($name), "({}, eps={:e}, momentum={}, affine={}, track_running_stats={})"),
                    self.num_features(),
                    o.eps,
                    momentum,
                    o.affine,
                    o.track_running_stats
                )
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalisation over `[N, C]` or `[N, C, L]` (`nn.BatchNorm1d(num_features)`): see
    /// [`batch_norm`](super::functional::batch_norm). In training mode it normalises with the batch's
    /// statistics and updates the running ones (buffers `running_mean`, `running_var`,
    /// `num_batches_tracked`); in evaluation mode it uses the running ones.
    ///
    /// ```
    /// use torchlet::nn::{BatchNorm1d, Module};
    /// use torchlet::Tensor;
    /// let mut bn = BatchNorm1d::<f64>::new(2);
    /// let y = bn.forward(&Tensor::new([[1.0, 10.0], [3.0, 30.0]]))?;
    /// assert!((y.to_vec2()?[1][1] - 1.0).abs() < 1e-4);
    /// assert_eq!(bn.running_mean().unwrap().to_vec()?, vec![0.2, 2.0]);
    /// assert_eq!(bn.num_batches_tracked(), Some(1));
    /// bn.eval();
    /// let y = bn.forward(&Tensor::new([[0.2, 2.0]]))?;
    /// assert_eq!(y.to_vec()?, vec![0.0, 0.0]);
    /// let err = BatchNorm1d::<f64>::new(2).forward(&Tensor::zeros(&[2, 3])).unwrap_err();
    /// assert_eq!(err.to_string(), "BatchNorm1d: running_mean should contain 3 elements not 2 (shape [2])");
    /// assert_eq!(bn.to(torchlet::Device::Cpu)?.num_batches_tracked(), Some(1));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    BatchNorm1d, [2, 3], "2D or 3D"
);

batch_norm_layer!(
    /// Batch normalisation over `[N, C, H, W]` (`nn.BatchNorm2d(num_features)`), each channel over `N`, `H`
    /// and `W`; otherwise as [`BatchNorm1d`].
    ///
    /// ```
    /// use torchlet::nn::{BatchNorm2d, Module, Sequential};
    /// use torchlet::Tensor;
    /// let model = Sequential::<f32>::new().add(BatchNorm2d::new(3));
    /// assert_eq!(model.forward(&Tensor::randn(&[2, 3, 4, 5]))?.shape(), &[2, 3, 4, 5]);
    /// let names: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["0.running_mean", "0.running_var", "0.num_batches_tracked"]);
    /// let err = model.forward(&Tensor::zeros(&[2, 3, 4])).unwrap_err();
    /// assert_eq!(err.root().to_string(), "BatchNorm2d: expected 4D input (got 3D input)");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    BatchNorm2d, [4], "4D"
);
