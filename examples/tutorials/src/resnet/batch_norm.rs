//! BatchNorm2d forward and backward written out for [`super::ManualResNet`], per channel `c` over the
//! `m = N·H·W` values of a batch:
//! - training: `μ = Σx/m`, `σ² = Σ(x − μ)²/m` (biased), `x̂ = (x − μ)/√(σ² + eps)`, `y = γ·x̂ + β`; the running
//!   statistics move as torch moves them, `r = (1 − momentum)·r + momentum·batch`, with the *unbiased*
//!   variance `Σ(x − μ)²/(m − 1)` for the running variance;
//! - evaluation: the same with the running mean and variance in place of the batch's;
//! - backward (training), the classic three-term formula: `dβ = Σ dy`, `dγ = Σ dy·x̂`,
//!   `dx = γ/(m·√(σ² + eps)) · (m·dy − dβ − x̂·dγ)` — the batch's mean and variance depend on every `x`, which
//!   gives the two subtracted terms.

use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::tensor::Tensor;

/// `[1, C, 1, 1]`, the shape a per-channel vector broadcasts over `[N, C, H, W]` with.
fn per_channel<T: Element>(v: &Tensor<T>) -> Result<Tensor<T>> {
    v.reshape(&[1, v.numel(), 1, 1])
}

/// The sum over every dim but the channels', `[N, C, H, W]` to `[1, C, 1, 1]`.
fn channel_sum<T: Element>(x: &Tensor<T>) -> Result<Tensor<T>> {
    x.sum_dim(3, true)?.sum_dim(2, true)?.sum_dim(0, true)
}

/// BatchNorm's running mean and variance, `[C]` each.
pub type RunningStats<T> = (Tensor<T>, Tensor<T>);

/// What [`batch_norm_backward`] needs from the training forward pass.
#[derive(Debug, Clone)]
pub struct BatchNormSaved<T: Element> {
    /// The normalised input `x̂`, `[N, C, H, W]`.
    pub x_hat: Tensor<T>,
    /// `1/√(σ² + eps)` per channel, `[1, C, 1, 1]`.
    pub inv_std: Tensor<T>,
}

/// The training forward pass of `x` `[N, C, H, W]` with the scale `gamma` and shift `beta` `[C]`: the output,
/// what the backward pass needs, and the new running mean and variance from `running` (as torch updates its
/// buffers with `momentum`).
///
/// ```
/// use torchlet::Tensor;
/// use torchlet_tutorials::resnet::batch_norm_train;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2, 1, 1, 1])?;
/// let (one, zero) = (Tensor::ones(&[1]), Tensor::zeros(&[1]));
/// let (y, _, (mean, var)) = batch_norm_train(&x, &one, &zero, (&zero, &one), 0.1, 0.0)?;
/// assert_eq!(y.to_vec()?, vec![-1.0, 1.0]);
/// // 0.1 of the batch's mean 2 and of its unbiased variance 2.
/// assert_eq!((mean.to_vec()?, var.to_vec()?), (vec![0.2], vec![0.9 + 0.2]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn batch_norm_train<T: Element>(
    x: &Tensor<T>,
    gamma: &Tensor<T>,
    beta: &Tensor<T>,
    running: (&Tensor<T>, &Tensor<T>),
    momentum: f64,
    eps: f64,
) -> Result<(Tensor<T>, BatchNormSaved<T>, RunningStats<T>)> {
    let shape = x.shape();
    let m = shape[0] * shape[2] * shape[3];
    let t = T::from_f64_lossy;
    let mean = channel_sum(x)?.div_scalar(t(m as f64))?;
    let centered = x.sub(&mean)?;
    let squares = channel_sum(&centered.square()?)?;
    let var = squares.div_scalar(t(m as f64))?;
    let inv_std = var.add_scalar(t(eps))?.sqrt()?.rdiv_scalar(T::one())?;
    let x_hat = centered.mul(&inv_std)?;
    let y = x_hat.mul(&per_channel(gamma)?)?.add(&per_channel(beta)?)?;
    let c = gamma.numel();
    let update = |old: &Tensor<T>, batch: &Tensor<T>| -> Result<Tensor<T>> {
        batch.reshape(&[c])?.mul_scalar(t(momentum))?.add(&old.mul_scalar(t(1.0 - momentum))?)
    };
    let unbiased = squares.div_scalar(t((m - 1) as f64))?;
    let new_running = (update(running.0, &mean)?, update(running.1, &unbiased)?);
    Ok((y, BatchNormSaved { x_hat, inv_std }, new_running))
}

/// The evaluation forward pass: `x` normalised with the running statistics `(mean, var)`, then scaled and
/// shifted.
pub fn batch_norm_eval<T: Element>(
    x: &Tensor<T>,
    gamma: &Tensor<T>,
    beta: &Tensor<T>,
    running: (&Tensor<T>, &Tensor<T>),
    eps: f64,
) -> Result<Tensor<T>> {
    let inv_std = per_channel(running.1)?.add_scalar(T::from_f64_lossy(eps))?.sqrt()?.rdiv_scalar(T::one())?;
    let x_hat = x.sub(&per_channel(running.0)?)?.mul(&inv_std)?;
    x_hat.mul(&per_channel(gamma)?)?.add(&per_channel(beta)?)
}

/// The gradients of a training-mode BatchNorm.
#[derive(Debug, Clone)]
pub struct BatchNormGrads<T: Element> {
    /// `∂L/∂x`, `[N, C, H, W]`.
    pub input: Tensor<T>,
    /// `∂L/∂γ`, `[C]`.
    pub weight: Tensor<T>,
    /// `∂L/∂β`, `[C]`.
    pub bias: Tensor<T>,
}

/// The backward pass of [`batch_norm_train`] from `dy = ∂L/∂y` and the scale `gamma` it used.
pub fn batch_norm_backward<T: Element>(
    dy: &Tensor<T>,
    saved: &BatchNormSaved<T>,
    gamma: &Tensor<T>,
) -> Result<BatchNormGrads<T>> {
    let shape = dy.shape();
    let m = T::from_f64_lossy((shape[0] * shape[2] * shape[3]) as f64);
    let d_beta = channel_sum(dy)?;
    let d_gamma = channel_sum(&dy.mul(&saved.x_hat)?)?;
    let scale = per_channel(gamma)?.mul(&saved.inv_std)?.div_scalar(m)?;
    let inner = dy.mul_scalar(m)?.sub(&d_beta)?.sub(&saved.x_hat.mul(&d_gamma)?)?;
    let c = gamma.numel();
    Ok(BatchNormGrads { input: scale.mul(&inner)?, weight: d_gamma.reshape(&[c])?, bias: d_beta.reshape(&[c])? })
}
