//! The libtorch twin of T10's network (feature `tch`): tch's `nn::conv2d` and `nn::linear` layers in a
//! `VarStore` with `relu`, `max_pool2d` and `flatten` between them, trained on `cross_entropy` with tch's
//! Adam.

use super::classification::{argmax_accuracy, Classifier};
use super::cnn::{as_linears, check_parameters, Stage, CLASSES, CONVS, HIDDEN, KERNEL, PADDING, STAGES};
use super::libtorch::{from_tch, tch_error, to_tch, TchElement};
use super::Layers;
use std::marker::PhantomData;
use tch::nn::OptimizerConfig;
use torchlet::error::Result;
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// T10's network trained by libtorch, the reference the example and the parity tests compare the two
/// torchlet models against: `nn::conv2d` (padding 1), `relu`, `max_pool2d(2, 2)`, `flatten`, `nn::linear`,
/// the loss `cross_entropy` of the logits against int64 labels, `tch::nn::Adam` (torch's defaults).
///
/// ```
/// use torchlet_tutorials::classification::Classifier;
/// use torchlet_tutorials::cnn::AutodiffCnn;
/// use torchlet_tutorials::libtorch::TchCnn;
/// use torchlet::Tensor;
/// // libtorch's initial parameters for 8×8 images, copied into torchlet's model: both train in step.
/// let mut theirs = TchCnn::<f64>::new(8, 1e-3, 0)?;
/// let mut ours = AutodiffCnn::new(&theirs.parameters()?, 1e-3)?;
/// let (x, y) = (Tensor::ones(&[3, 1, 8, 8]), Tensor::new([1.0, 7.0, 7.0]));
/// for _ in 0..3 {
///     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
///     assert!((a - b).abs() <= 1e-12 * a);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchCnn<T: TchElement> {
    vs: tch::nn::VarStore,
    convs: Vec<tch::nn::Conv2D>,
    linears: Vec<tch::nn::Linear>,
    optimizer: tch::nn::Optimizer,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchCnn<T> {
    /// The network for images `[N, 1, side, side]`, initialised from `seed` (`tch::manual_seed`) by tch's
    /// layers' defaults (see [`crate::cnn::initial_parameters`]), in `T`, trained with Adam at `lr`.
    pub fn new(side: usize, lr: f64, seed: i64) -> Result<Self> {
        tch::manual_seed(seed);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let root = vs.root();
        let config = tch::nn::ConvConfig { padding: PADDING as i64, ..Default::default() };
        let convs = CONVS
            .iter()
            .enumerate()
            .map(|(i, &(c_in, c_out))| tch::nn::conv2d(&root / i, c_in as i64, c_out as i64, KERNEL as i64, config))
            .collect();
        let linears = [(super::cnn::flat_features(side), HIDDEN), (HIDDEN, CLASSES)]
            .iter()
            .enumerate()
            .map(|(i, &(n_in, n_out))| tch::nn::linear(&root / (4 + i), n_in as i64, n_out as i64, Default::default()))
            .collect();
        vs.set_kind(T::KIND);
        let optimizer = tch::nn::Adam::default().build(&vs, lr).map_err(tch_error)?;
        Ok(TchCnn { vs, convs, linears, optimizer, _element: PhantomData })
    }

    /// The parameters themselves (not copies), in the order of [`crate::cnn::initial_parameters`].
    fn tensors(&self) -> Vec<&tch::Tensor> {
        let convs = self.convs.iter().map(|c| (&c.ws, c.bs.as_ref()));
        let linears = self.linears.iter().map(|l| (&l.ws, l.bs.as_ref()));
        convs.chain(linears).flat_map(|(w, b)| [Some(w), b]).flatten().collect()
    }

    /// The network holding copies of torchlet's `params` (as [`crate::cnn::initial_parameters`] lists them).
    pub fn from_parameters(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        let side = check_parameters("TchCnn", params)?;
        let net = Self::new(side, lr, 0)?;
        let _guard = tch::no_grad_guard();
        for (theirs, ours) in net.tensors().into_iter().zip(params) {
            theirs.shallow_clone().f_copy_(&to_tch(&ours.detach())?).map_err(tch_error)?;
        }
        Ok(net)
    }

    /// Copies of the parameters, in the order of [`crate::cnn::initial_parameters`].
    pub fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.tensors().into_iter().map(|p| from_tch(&p.detach())).collect()
    }

    /// The logits of `x`, through the layers' own `forward`.
    fn forward(&self, x: &Tensor<T>) -> Result<tch::Tensor> {
        let mut h = to_tch(x)?;
        for stage in STAGES {
            h = match stage {
                Stage::Conv(i) => Ok(h.apply(&self.convs[i])),
                Stage::Relu => h.f_relu(),
                Stage::Pool => h.f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false),
                Stage::Flatten => h.f_flatten(1, -1),
                Stage::Linear(i) => Ok(h.apply(&self.linears[i])),
            }
            .map_err(tch_error)?;
        }
        Ok(h)
    }

    fn loss(logits: &tch::Tensor, y: &Tensor<T>) -> Result<tch::Tensor> {
        let labels = to_tch(y)?.to_kind(tch::Kind::Int64);
        logits.f_cross_entropy_loss::<tch::Tensor>(&labels, None, tch::Reduction::Mean, -100, 0.0).map_err(tch_error)
    }
}

impl<T: TchElement> Layers<T> for TchCnn<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        as_linears(&self.parameters()?)
    }
}

impl<T: TchElement> Classifier<T> for TchCnn<T> {
    /// The logits.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _guard = tch::no_grad_guard();
        from_tch(&self.forward(x)?)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = Self::loss(&self.forward(x)?, y)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        from_tch::<T>(&loss.detach())?.item()
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let _guard = tch::no_grad_guard();
        let logits = self.forward(x)?;
        let loss = from_tch::<T>(&Self::loss(&logits, y)?)?.item()?;
        Ok((loss, argmax_accuracy(&from_tch(&logits)?, y)?))
    }

    /// A fresh `tch::nn::Adam` over the VarStore.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = tch::nn::Adam::default().build(&self.vs, lr).map_err(tch_error)?;
        Ok(())
    }
}
