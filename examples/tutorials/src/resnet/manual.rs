//! T10b from scratch: T10's hand-written convolution and pooling ([`crate::cnn`]), BatchNorm's forward and
//! backward ([`super::batch_norm_train`], [`super::batch_norm_backward`]), the residual adds, the loss,
//! gradient clipping and Adam with weight decay under the one-cycle schedule, all written out.

use super::{
    batch_norm_backward, batch_norm_eval, batch_norm_train, check_parameters, BatchNormSaved, OneCycle, OneCycleModel,
    RunningStats, BLOCKS, BN_EPS, BN_MOMENTUM, CLASSES, GRAD_CLIP, MAX_LR, RESIDUALS, WEIGHT_DECAY,
};
use crate::classification::argmax_accuracy;
use crate::cnn::{conv2d_backward, conv2d_forward, max_pool2x2, max_pool2x2_backward, HandAdam, ManualCnn};
use torchlet::cat;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;

/// What one block's backward pass needs from its (training) forward pass.
struct BlockSaved<T: Element> {
    /// The convolution's im2col columns and its input's shape.
    cols: Tensor<T>,
    input_shape: Vec<usize>,
    batch_norm: BatchNormSaved<T>,
    /// The ReLU's output: its derivative is `[A > 0]`.
    relu: Tensor<T>,
    /// The pooling's one-hot choices, for a block that pools.
    pool: Option<Tensor<T>>,
    /// BatchNorm's new running statistics.
    running: RunningStats<T>,
}

/// What the whole forward pass keeps: each block's, the classifier's pooling (with the shape of its input
/// and output) and its linear layer's input.
struct Saved<T: Element> {
    blocks: Vec<BlockSaved<T>>,
    pool: Tensor<T>,
    unpooled_shape: Vec<usize>,
    pooled_shape: Vec<usize>,
    features: Tensor<T>,
}

/// T10b from scratch, with the parameters in torch's layout and order ([`super::parameter_names`]):
/// - each block: convolution ([`crate::cnn::conv2d_forward`]/[`crate::cnn::conv2d_backward`]), BatchNorm (batch
///   statistics in training, running ones in evaluation, the three-term backward), ReLU (`dZ = dA ⊙ [A > 0]`),
///   and for `conv2`/`conv3` the 2×2 max pooling's routing;
/// - the residual stages `h + res(h)`: the gradient of `h` is the sum of the one through `res` and the one
///   straight through the add;
/// - the classifier: max pooling (2×2 → 1×1 for digits; MNIST's 7×7 → 3×3 leaves out the last row and
///   column, which get no gradient, as torch's floor mode), flatten, linear (`gW = dZᵀ X`, `gb = Σ dZ`,
///   `dX = dZ W`);
/// - the loss and its gradient as T10's (`(softmax(Z) − onehot(y)) / B`);
/// - the update: every gradient entry clamped to ±0.1, then Adam with L2 weight decay ([`HandAdam`]) at the
///   learning rate and β1 of [`OneCycle`].
///
/// No autograd graph is built: the parameters never require grad.
#[derive(Debug, Clone)]
pub struct ManualResNet<T: Element> {
    params: Vec<Tensor<T>>,
    /// BatchNorm's running mean and variance per block, torch's initial zeros and ones.
    running: Vec<RunningStats<T>>,
    adam: HandAdam<T>,
    schedule: OneCycle,
    step: usize,
    last_lr: f64,
}

impl<T: Element> ManualResNet<T> {
    /// The network over copies of `params` (as [`super::initial_parameters`] lists them), with a one-cycle
    /// schedule of `total_steps` updates.
    pub fn new(params: &[Tensor<T>], total_steps: usize) -> Result<Self> {
        check_parameters("ManualResNet", params)?;
        let params = params.iter().map(|p| p.detach().deep_clone()).collect::<Result<Vec<_>>>()?;
        let device = params[0].device();
        let running = BLOCKS
            .iter()
            .map(|b| Ok((Tensor::zeros(&[b.out_channels]).to(device)?, Tensor::ones(&[b.out_channels]).to(device)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ManualResNet {
            adam: HandAdam::new(params.len(), MAX_LR)?.with_weight_decay(WEIGHT_DECAY),
            params,
            running,
            schedule: OneCycle::new(MAX_LR, total_steps),
            step: 0,
            last_lr: f64::NAN,
        })
    }

    /// The parameters, in the order of [`super::parameter_names`].
    pub fn parameters(&self) -> &[Tensor<T>] {
        &self.params
    }

    /// Block `i`'s output for `h`; in training (with what its backward needs and its new running statistics).
    fn block(&self, i: usize, h: &Tensor<T>, training: bool) -> Result<(Tensor<T>, Option<BlockSaved<T>>)> {
        let [w, b, gamma, beta] = [0, 1, 2, 3].map(|k| &self.params[4 * i + k]);
        let (mean, var) = &self.running[i];
        let (z, cols) = conv2d_forward(h, w, b, 1)?;
        let (y, bn) = if training {
            let (y, saved, running) = batch_norm_train(&z, gamma, beta, (mean, var), BN_MOMENTUM, BN_EPS)?;
            (y, Some((saved, running)))
        } else {
            (batch_norm_eval(&z, gamma, beta, (mean, var), BN_EPS)?, None)
        };
        let a = y.clamp_min(T::zero())?;
        let (out, pool) = match BLOCKS[i].pool {
            true => max_pool2x2(&a).map(|(out, choice)| (out, Some(choice)))?,
            false => (a.clone(), None),
        };
        let saved = bn.map(|(batch_norm, running)| BlockSaved {
            cols,
            input_shape: h.shape().to_vec(),
            batch_norm,
            relu: a,
            pool,
            running,
        });
        Ok((out, saved))
    }

    /// The logits of `x`, and in training what the backward pass needs.
    fn forward(&self, x: &Tensor<T>, training: bool) -> Result<(Tensor<T>, Option<Saved<T>>)> {
        let mut blocks = Vec::new();
        let mut h = x.clone();
        let mut skip = None;
        for i in 0..BLOCKS.len() {
            if RESIDUALS.iter().any(|r| r.0 == i) {
                skip = Some(h.clone());
            }
            let (out, saved) = self.block(i, &h, training)?;
            h = out;
            if let (true, Some(input)) = (RESIDUALS.iter().any(|r| r.1 == i), &skip) {
                h = h.add(input)?;
            }
            blocks.extend(saved);
        }
        let (pooled, pool) = max_pool2x2(&crop_even(&h)?)?;
        let features = pooled.flatten(1, -1)?;
        let n = self.params.len();
        let logits = features.matmul(&self.params[n - 2].t()?)?.add(&self.params[n - 1])?;
        let (unpooled_shape, pooled_shape) = (h.shape().to_vec(), pooled.shape().to_vec());
        let saved = training.then(|| Saved { blocks, pool, unpooled_shape, pooled_shape, features });
        Ok((logits, saved))
    }

    /// Every parameter's gradient, in their order, from the gradient of the logits.
    fn backward(&self, d_logits: &Tensor<T>, saved: &Saved<T>) -> Result<Vec<Tensor<T>>> {
        let n = self.params.len();
        let mut grads = vec![None; n];
        grads[n - 2] = Some(d_logits.t()?.matmul(&saved.features)?);
        grads[n - 1] = Some(d_logits.sum_dim(0, false)?);
        let d_pooled = d_logits.matmul(&self.params[n - 2])?.reshape(&saved.pooled_shape)?;
        let mut d = pad_to(&max_pool2x2_backward(&d_pooled, &saved.pool)?, &saved.unpooled_shape)?;
        let zero = Tensor::full_on(&[], T::zero(), d.device())?;
        let mut d_skip = None;
        for (i, block) in saved.blocks.iter().enumerate().rev() {
            if RESIDUALS.iter().any(|r| r.1 == i) {
                // The gradient that goes straight through the residual add to the stage's input.
                d_skip = Some(d.clone());
            }
            if let Some(choice) = &block.pool {
                d = max_pool2x2_backward(&d, choice)?;
            }
            d = d.mul(&block.relu.gt(&zero)?)?;
            let gamma = &self.params[4 * i + 2];
            let bn = batch_norm_backward(&d, &block.batch_norm, gamma)?;
            // The network's input needs no gradient.
            let input = (i > 0).then_some(block.input_shape.as_slice());
            let conv = conv2d_backward(&bn.input, &block.cols, &self.params[4 * i], 1, input)?;
            for (k, g) in [conv.weight, conv.bias, bn.weight, bn.bias].into_iter().enumerate() {
                grads[4 * i + k] = Some(g);
            }
            let Some(dx) = conv.input else { break };
            d = match (RESIDUALS.iter().any(|r| r.0 == i), d_skip.take()) {
                (true, Some(straight)) => dx.add(&straight)?,
                (_, kept) => {
                    d_skip = kept;
                    dx
                }
            };
        }
        grads
            .into_iter()
            .map(|g| g.ok_or_else(|| Error::invalid("ManualResNet", "a parameter got no gradient")))
            .collect()
    }
}

/// `x` `[N, C, H, W]` without an odd last row or column: the windows of a 2×2 pooling in torch's floor mode.
fn crop_even<T: Element>(x: &Tensor<T>) -> Result<Tensor<T>> {
    let (h, w) = (x.shape()[2], x.shape()[3]);
    x.narrow(2, 0, h - h % 2)?.narrow(3, 0, w - w % 2)
}

/// The gradient of [`crop_even`]: `d` with rows and columns of zeros appended up to `shape`.
fn pad_to<T: Element>(d: &Tensor<T>, shape: &[usize]) -> Result<Tensor<T>> {
    let mut d = d.clone();
    for dim in [2, 3] {
        let mut missing = d.shape().to_vec();
        missing[dim] = shape[dim] - d.shape()[dim];
        if missing[dim] > 0 {
            let zeros = Tensor::full_on(&missing, T::zero(), d.device())?;
            d = cat(&[d, zeros], dim as isize)?;
        }
    }
    Ok(d)
}

impl<T: Element> OneCycleModel<T> for ManualResNet<T> {
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let onehot = y.one_hot(CLASSES)?;
        let (logits, saved) = self.forward(x, true)?;
        let saved = saved.ok_or_else(|| Error::invalid("ManualResNet", "a training pass keeps its state"))?;
        let (log_p, loss) = ManualCnn::log_softmax_loss(&logits, &onehot)?;
        let batch = T::from_usize(x.shape()[0]).unwrap_or_else(T::nan);
        let d_logits = log_p.exp()?.sub(&onehot)?.div_scalar(batch)?;
        let clip = T::from_f64_lossy(GRAD_CLIP);
        let grads = self
            .backward(&d_logits, &saved)?
            .iter()
            .map(|g| g.clamp(Some(-clip), Some(clip)))
            .collect::<Result<Vec<_>>>()?;
        let (lr, beta1) = self.schedule.at(self.step);
        self.adam.set_lr(lr);
        self.adam.set_beta1(beta1);
        let params: Vec<&Tensor<T>> = self.params.iter().collect();
        self.adam.step(&params, &grads)?;
        (self.last_lr, self.step) = (lr, self.step + 1);
        self.running = saved.blocks.into_iter().map(|b| b.running).collect();
        Ok(loss)
    }

    fn evaluate(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let logits = self.forward(x, false)?.0;
        let loss = ManualCnn::log_softmax_loss(&logits, &y.one_hot(CLASSES)?)?.1;
        Ok((loss, argmax_accuracy(&logits, y)?))
    }

    fn last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state(&self) -> Result<Vec<(String, Tensor<T>)>> {
        let running = self.running.iter().flat_map(|(m, v)| [m, v]);
        let names = super::parameter_names().into_iter().chain(super::running_names());
        names.zip(self.params.iter().chain(running)).map(|(n, t)| Ok((n, t.deep_clone()?))).collect()
    }
}
