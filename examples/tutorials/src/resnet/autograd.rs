//! T10b with torchlet's parts: the lesson's `ResNet9` as an `nn::Module` of `Sequential`s, trained with
//! `optim::Adam` (weight decay), `OneCycleLR` and `clip_grad_value_`.

use super::{check_parameters, Block, OneCycleModel, BLOCKS, GRAD_CLIP, MAX_LR, RESIDUALS, WEIGHT_DECAY};
use crate::classification::{argmax_accuracy, labels};
use torchlet::autograd::no_grad;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::functional::{cross_entropy, Conv2dOptions};
use torchlet::nn::utils::clip_grad_value_;
use torchlet::nn::{BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use torchlet::optim::lr_scheduler::{LRScheduler, OneCycleConfig, OneCycleLR};
use torchlet::optim::{Adam, AdamConfig, Optimizer};
use torchlet::tensor::Tensor;

/// The lesson's `ResNet9` at the size of its images (see [`super`]): six named `Sequential`s, `conv1`, `conv2`,
/// `res1`, `conv3`, `res2` and `classifier`, with `res1` and `res2` added to their inputs. Its parameters and
/// buffers carry the names of torch's `state_dict` (`conv1.0.weight`, `conv1.1.running_mean`,
/// `res1.0.0.weight`, `classifier.2.bias`, …), so [`torchlet::io::save_parameters`] writes what PyTorch's
/// `save_file(model.state_dict(), path)` would.
pub struct ResNet9<T: Element> {
    /// `(name, stage, whether the stage's output is added to its input)`.
    stages: Vec<(&'static str, Sequential<T>, bool)>,
}

/// `conv_block` over copies of its four parameters `[conv weight, conv bias, bn weight, bn bias]`.
fn conv_block<T: Element>(block: &Block, params: &[Tensor<T>]) -> Result<Sequential<T>> {
    let options = Conv2dOptions::default().padding(1);
    let conv = Conv2d::from_parameters(&params[0], Some(&params[1]), options)?;
    // BatchNorm2d is made with torch's ones and zeros (on the parameters' device); the given values are
    // copied in.
    let bn = BatchNorm2d::new(block.out_channels).to(params[0].device())?;
    no_grad(|| -> Result<()> {
        for (ours, given) in bn.named_parameters().iter().zip(&params[2..4]) {
            ours.1.copy_(given)?;
        }
        Ok(())
    })?;
    let mut layers = Sequential::new().add(conv).add(bn).add(ReLU);
    if block.pool {
        layers = layers.add(MaxPool2d::new(2));
    }
    Ok(layers)
}

impl<T: Element> ResNet9<T> {
    /// The network over copies of `params` (as [`super::initial_parameters`] lists them), in training mode.
    pub fn from_parameters(params: &[Tensor<T>]) -> Result<Self> {
        check_parameters("ResNet9", params)?;
        let block = |i: usize| conv_block(&BLOCKS[i], &params[4 * i..4 * i + 4]);
        // A residual stage is the Sequential of its blocks, named `res1.0`, `res1.1` inside it.
        let residual = |(first, last): (usize, usize)| -> Result<Sequential<T>> {
            (first..=last).try_fold(Sequential::new(), |s, i| Ok(s.add(block(i)?)))
        };
        let n = params.len();
        let linear = Linear::from_parameters(&params[n - 2], Some(&params[n - 1]))?;
        let classifier = Sequential::new().add(MaxPool2d::new(2)).add(Flatten::new()).add(linear);
        let stages = vec![
            ("conv1", block(0)?, false),
            ("conv2", block(1)?, false),
            ("res1", residual(RESIDUALS[0])?, true),
            ("conv3", block(4)?, false),
            ("res2", residual(RESIDUALS[1])?, true),
            ("classifier", classifier, false),
        ];
        Ok(ResNet9 { stages })
    }

    /// `(name, tensor)` of each stage's `named(stage)`, prefixed by the stage's name.
    fn prefixed(&self, named: impl Fn(&Sequential<T>) -> Vec<(String, Tensor<T>)>) -> Vec<(String, Tensor<T>)> {
        let each = |(name, stage, _): &(&str, Sequential<T>, bool)| {
            named(stage).into_iter().map(|(n, t)| (format!("{name}.{n}"), t)).collect::<Vec<_>>()
        };
        self.stages.iter().flat_map(each).collect()
    }
}

impl<T: Element> Module<T> for ResNet9<T> {
    /// The logits `[N, 10]` of images `[N, 1, side, side]`.
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        let mut h = input.clone();
        for (_, stage, residual) in &self.stages {
            let out = stage.forward(&h)?;
            h = if *residual { out.add(&h)? } else { out };
        }
        Ok(h)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        self.prefixed(|s| s.named_parameters())
    }

    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        self.prefixed(|s| s.named_buffers())
    }

    fn set_training(&mut self, mode: bool) {
        for (_, stage, _) in &mut self.stages {
            stage.set_training(mode);
        }
    }
}

/// T10b with torch's parts: [`ResNet9`], `F.cross_entropy` on its logits, `Adam(params, max_lr,
/// weight_decay=1e-4)` under `OneCycleLR(max_lr=0.01, total_steps)` stepped after every batch, and
/// `clip_grad_value_(params, 0.1)` between `backward` and `step`.
pub struct AutodiffResNet<T: Element> {
    network: ResNet9<T>,
    optimizer: Adam<T>,
    scheduler: OneCycleLR,
    last_lr: f64,
}

impl<T: Element> AutodiffResNet<T> {
    /// The network over copies of `params` (as [`super::initial_parameters`] lists them), with a one-cycle
    /// schedule of `total_steps` updates (`epochs · steps_per_epoch`).
    pub fn new(params: &[Tensor<T>], total_steps: usize) -> Result<Self> {
        let network = ResNet9::from_parameters(params)?;
        let config = AdamConfig::new(MAX_LR).weight_decay(WEIGHT_DECAY);
        let mut optimizer = Adam::with_config(network.parameters(), config)?;
        let scheduler = OneCycleLR::new(&mut optimizer, OneCycleConfig::new(MAX_LR, total_steps))?;
        Ok(AutodiffResNet { network, optimizer, scheduler, last_lr: f64::NAN })
    }

    /// The network (save it with [`torchlet::io::save_parameters`], load into it with
    /// [`torchlet::io::load_parameters`]).
    pub fn network(&self) -> &ResNet9<T> {
        &self.network
    }
}

impl<T: Element> OneCycleModel<T> for AutodiffResNet<T> {
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        self.network.train();
        let loss = cross_entropy(&self.network.forward(x)?, &labels(y)?)?;
        self.optimizer.zero_grad();
        loss.backward()?;
        clip_grad_value_(self.network.parameters(), GRAD_CLIP)?;
        self.last_lr = self.optimizer.lr();
        self.optimizer.step()?;
        self.scheduler.step(&mut self.optimizer)?;
        loss.item()
    }

    fn evaluate(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        self.network.eval();
        no_grad(|| {
            let logits = self.network.forward(x)?;
            Ok((cross_entropy(&logits, &labels(y)?)?.item()?, argmax_accuracy(&logits, y)?))
        })
    }

    fn last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state(&self) -> Result<Vec<(String, Tensor<T>)>> {
        let buffers = self.network.named_buffers().into_iter().filter(|(n, _)| !n.ends_with("num_batches_tracked"));
        let copy = |(n, t): (String, Tensor<T>)| Ok((n, t.detach().deep_clone()?));
        self.network.named_parameters().into_iter().chain(buffers).map(copy).collect()
    }
}
