//! The libtorch twin of T10b's network (feature `tch`): tch's `nn::conv2d`, `nn::batch_norm2d` and
//! `nn::linear` in a `VarStore` under the names of torch's `state_dict`, trained with tch's Adam (weight
//! decay), the one-cycle learning rate and β1 set before every step, and `clip_grad_value`.

use super::classification::argmax_accuracy;
use super::libtorch::{from_tch, tch_error, to_tch, TchElement};
use super::resnet::{
    check_parameters, flat_features, parameter_names, running_names, OneCycle, OneCycleModel, BLOCKS, BN_EPS,
    BN_MOMENTUM, CLASSES, GRAD_CLIP, LINEAR, MAX_LR, RESIDUALS, WEIGHT_DECAY,
};
use std::marker::PhantomData;
use tch::nn::{ModuleT, OptimizerConfig};
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;

/// T10b's network trained by libtorch, the reference the example and the parity tests compare the torchlet
/// models against. The variables are named as torch's `state_dict` names them (`conv1.0.weight`,
/// `res1.0.1.running_var`, `classifier.2.bias`), so a torchlet checkpoint loads into it by name
/// ([`TchResNet::load_state`]); tch's BatchNorm keeps no `num_batches_tracked`, which is skipped.
///
/// ```
/// use torchlet_tutorials::libtorch::TchResNet;
/// use torchlet_tutorials::resnet::{AutodiffResNet, OneCycleModel};
/// use torchlet::Tensor;
/// let mut theirs = TchResNet::<f64>::new(8, 0, 3)?;
/// let mut ours = AutodiffResNet::new(&theirs.parameters()?, 3)?;
/// let x = Tensor::randn_with(&[4, 1, 8, 8], &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1));
/// let y = Tensor::new([1.0, 7.0, 7.0, 0.0]);
/// for _ in 0..3 {
///     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
///     assert!((a - b).abs() <= 1e-12 * a);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchResNet<T: TchElement> {
    vs: tch::nn::VarStore,
    blocks: Vec<(tch::nn::Conv2D, tch::nn::BatchNorm)>,
    linear: tch::nn::Linear,
    optimizer: tch::nn::Optimizer,
    schedule: OneCycle,
    step: usize,
    last_lr: f64,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchResNet<T> {
    /// The network for images of `side`×`side` initialised from `seed` (`tch::manual_seed`) by tch's layers'
    /// defaults, BatchNorm's weight set to torch's ones (tch's default is uniform), in `T`, with a one-cycle
    /// schedule of `total_steps`.
    pub fn new(side: usize, seed: i64, total_steps: usize) -> Result<Self> {
        tch::manual_seed(seed);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let conv_config = tch::nn::ConvConfig { padding: 1, ..Default::default() };
        let bn_config = tch::nn::BatchNormConfig {
            ws_init: tch::nn::Init::Const(1.0),
            eps: BN_EPS,
            momentum: BN_MOMENTUM,
            ..Default::default()
        };
        let blocks = BLOCKS
            .iter()
            .map(|b| {
                let path = b.name.split('.').fold(vs.root(), |p, part| p.sub(part));
                let conv = tch::nn::conv2d(&path / 0, b.in_channels as i64, b.out_channels as i64, 3, conv_config);
                (conv, tch::nn::batch_norm2d(&path / 1, b.out_channels as i64, bn_config))
            })
            .collect();
        let path = LINEAR.0.split('.').fold(vs.root(), |p, part| p.sub(part));
        let linear = tch::nn::linear(path, flat_features(side) as i64, CLASSES as i64, Default::default());
        vs.set_kind(T::KIND);
        let optimizer = tch::nn::Adam::default().wd(WEIGHT_DECAY).build(&vs, MAX_LR).map_err(tch_error)?;
        let schedule = OneCycle::new(MAX_LR, total_steps);
        Ok(TchResNet { vs, blocks, linear, optimizer, schedule, step: 0, last_lr: f64::NAN, _element: PhantomData })
    }

    /// The network holding copies of torchlet's `params` (as [`crate::resnet::initial_parameters`] lists
    /// them).
    pub fn from_parameters(params: &[Tensor<T>], total_steps: usize) -> Result<Self> {
        let side = check_parameters("TchResNet", params)?;
        let net = Self::new(side, 0, total_steps)?;
        let _guard = tch::no_grad_guard();
        for (theirs, ours) in net.tensors().into_iter().zip(params) {
            theirs.shallow_clone().f_copy_(&to_tch(&ours.detach())?).map_err(tch_error)?;
        }
        Ok(net)
    }

    /// The parameters themselves (not copies), in the order of [`parameter_names`].
    fn tensors(&self) -> Vec<&tch::Tensor> {
        let blocks = self.blocks.iter().flat_map(|(c, b)| [Some(&c.ws), c.bs.as_ref(), b.ws.as_ref(), b.bs.as_ref()]);
        blocks.chain([Some(&self.linear.ws), self.linear.bs.as_ref()]).flatten().collect()
    }

    /// Copies of the parameters, in the order of [`parameter_names`].
    pub fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.tensors().into_iter().map(|p| from_tch(&p.detach())).collect()
    }

    /// Copies `state` (parameters and buffers by torch's names, as [`torchlet::io::load_safetensors`] reads a
    /// checkpoint) into the network's variables, as `load_state_dict`; `num_batches_tracked` entries are
    /// skipped, and a variable missing from `state`, or a name in `state` the network does not have, is an
    /// error.
    pub fn load_state(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
        let variables = self.vs.variables();
        let missing: Vec<&String> = variables.keys().filter(|n| !state.iter().any(|(s, _)| s == *n)).collect();
        let unexpected: Vec<&String> = state
            .iter()
            .map(|(n, _)| n)
            .filter(|n| !n.ends_with("num_batches_tracked") && !variables.contains_key(*n))
            .collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            let msg = format!("missing key(s) {missing:?}, unexpected key(s) {unexpected:?}");
            return Err(Error::invalid("TchResNet::load_state", msg));
        }
        let _guard = tch::no_grad_guard();
        for (name, value) in state.iter().filter(|(n, _)| variables.contains_key(n)) {
            variables[name].shallow_clone().f_copy_(&to_tch(value)?).map_err(tch_error)?;
        }
        Ok(())
    }

    /// The logits of `x`, with BatchNorm in training (`train`) or evaluation mode.
    fn forward(&self, x: &Tensor<T>, train: bool) -> Result<tch::Tensor> {
        let mut h = to_tch(x)?;
        let mut skip = None;
        for (i, (conv, bn)) in self.blocks.iter().enumerate() {
            if RESIDUALS.iter().any(|r| r.0 == i) {
                skip = Some(h.shallow_clone());
            }
            let mut out = bn.forward_t(&h.apply(conv), train).f_relu().map_err(tch_error)?;
            if BLOCKS[i].pool {
                out = out.f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).map_err(tch_error)?;
            }
            h = match (RESIDUALS.iter().any(|r| r.1 == i), &skip) {
                (true, Some(input)) => out.f_add(input).map_err(tch_error)?,
                _ => out,
            };
        }
        let pooled = h.f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).map_err(tch_error)?;
        Ok(pooled.f_flatten(1, -1).map_err(tch_error)?.apply(&self.linear))
    }

    fn loss(logits: &tch::Tensor, y: &Tensor<T>) -> Result<tch::Tensor> {
        let targets = to_tch(y)?.to_kind(tch::Kind::Int64);
        logits.f_cross_entropy_loss::<tch::Tensor>(&targets, None, tch::Reduction::Mean, -100, 0.0).map_err(tch_error)
    }
}

impl<T: TchElement> OneCycleModel<T> for TchResNet<T> {
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = Self::loss(&self.forward(x, true)?, y)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.clip_grad_value(GRAD_CLIP);
        let (lr, beta1) = self.schedule.at(self.step);
        self.optimizer.set_lr(lr);
        self.optimizer.set_momentum(beta1);
        self.optimizer.step();
        (self.last_lr, self.step) = (lr, self.step + 1);
        from_tch::<T>(&loss.detach())?.item()
    }

    fn evaluate(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let _guard = tch::no_grad_guard();
        let logits = self.forward(x, false)?;
        let loss = from_tch::<T>(&Self::loss(&logits, y)?)?.item()?;
        Ok((loss, argmax_accuracy(&from_tch(&logits)?, y)?))
    }

    fn last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state(&self) -> Result<Vec<(String, Tensor<T>)>> {
        let running = self.blocks.iter().flat_map(|(_, bn)| [&bn.running_mean, &bn.running_var]);
        let names = parameter_names().into_iter().chain(running_names());
        names.zip(self.tensors().into_iter().chain(running)).map(|(n, t)| Ok((n, from_tch(&t.detach())?))).collect()
    }
}
