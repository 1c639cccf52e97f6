//! T11c, a critic trained with a gradient penalty (WGAN-GP's critic step): `D`, a `2→64→64→1` network with
//! LeakyReLU(0.2), scores real points (two moons) against fake ones (the same points shifted); its loss is
//! `mean D(fake) − mean D(real) + λ·mean((‖∇ₓ̂ D(x̂)‖₂ − 1)²)` with `x̂ = α·real + (1 − α)·fake`, α ~ U(0, 1)
//! per point and step, and λ = 10; 200 Adam steps at lr 1e-4 with betas (0.5, 0.9).
//!
//! The penalty is a function of an input gradient, so training through it takes second derivatives: built
//! twice, [`AutodiffCritic`] takes `∇ₓ̂ D` by `grad(D(x̂), x̂, create_graph=True)` and backpropagates through
//! it, [`ManualCritic`] writes that input gradient and its derivatives with respect to the weights out by
//! hand. Both are [`Critic`]s; with feature `tch`, `libtorch::TchCritic` is the same in libtorch.

#[cfg(feature = "tch")]
pub(crate) mod libtorch;
mod manual;

pub use manual::ManualCritic;

use crate::tch_default_linear;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::autograd::{grad, grad_with, no_grad, GradOptions};
use torchlet::data::{make_moons, MakeMoons};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::{LeakyReLU, Linear, Module, Sequential};
use torchlet::optim::{Adam, AdamConfig, Optimizer};
use torchlet::tensor::Tensor;

/// The penalty's weight λ.
pub const LAMBDA: f64 = 10.0;
/// Adam's learning rate.
pub const LR: f64 = 1e-4;
/// Adam's decay rates, as WGAN-GP's.
pub const BETAS: (f64, f64) = (0.5, 0.9);
/// The number of critic steps.
pub const STEPS: usize = 200;
/// LeakyReLU's slope below 0.
pub const SLOPE: f64 = 0.2;
/// The number of real (and of fake) points, all of them in every step.
pub const SAMPLES: usize = 256;
/// The moons' noise (`make_moons(noise=0.1)`).
pub const NOISE: f64 = 0.1;
/// How far the fake points are from the real ones: each is a real point plus this.
pub const SHIFT: [f64; 2] = [0.5, 0.5];
/// `(in, out)` of the three linear layers; LeakyReLU follows the first two.
pub const LAYERS: [(usize, usize); 3] = [(2, 64), (64, 64), (64, 1)];

/// The points a critic trains on: the real ones, the fake ones, and each step's interpolation weights.
#[derive(Debug, Clone)]
pub struct CriticData<T: Element> {
    /// `make_moons(n_samples=256, noise=0.1)` points, `[256, 2]`.
    pub real: Tensor<T>,
    /// The real points shifted by [`SHIFT`].
    pub fake: Tensor<T>,
    /// One `[256, 1]` tensor of α ~ U(0, 1) per step.
    pub alphas: Vec<Tensor<T>>,
}

/// T11c's data from `seed`: the moons (noise drawn from `seed`), their shifted copies, and `steps` tensors of
/// interpolation weights drawn from `seed + 1`.
///
/// ```
/// let data = torchlet_tutorials::gradient_penalty::critic_data::<f64>(0, 3)?;
/// assert_eq!((data.real.shape(), data.alphas.len()), (&[256, 2][..], 3));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn critic_data<T: Element>(seed: u64, steps: usize) -> Result<CriticData<T>> {
    let moons = make_moons::<T>(&MakeMoons { n_samples: SAMPLES, noise: Some(NOISE), seed, ..Default::default() })?;
    let shift = Tensor::from_vec(SHIFT.iter().map(|&s| T::from_f64_lossy(s)).collect(), &[1, 2])?;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1));
    let alphas = (0..steps).map(|_| Tensor::rand_with(&[SAMPLES, 1], &mut rng)).collect();
    Ok(CriticData { fake: moons.x.add(&shift)?, real: moons.x, alphas })
}

/// `x̂ = α·real + (1 − α)·fake`, row by row.
pub fn interpolate<T: Element>(real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<Tensor<T>> {
    alpha.mul(real)?.add(&alpha.rsub_scalar(T::one())?.mul(fake)?)
}

/// The critic's initial parameters, `[W₁, b₁, W₂, b₂, W₃, b₃]` in `nn.Linear`'s layout, drawn from `rng` as
/// tch's `nn::linear` draws them ([`tch_default_linear`]); the parity tests copy libtorch's own instead.
pub fn initial_parameters<T: Element, R: Rng + ?Sized>(rng: &mut R) -> Result<Vec<Tensor<T>>> {
    let mut params = Vec::with_capacity(6);
    for (n_in, n_out) in LAYERS {
        let layer = tch_default_linear::<T, R>(n_in, n_out, rng)?;
        params.push(layer.weight().detach());
        params.push(layer.bias().expect("made with a bias").detach());
    }
    Ok(params)
}

/// Fails unless `params` are the critic's six tensors with [`initial_parameters`]'s shapes.
pub(crate) fn check_parameters<T: Element>(op: &'static str, params: &[Tensor<T>]) -> Result<()> {
    let expected = LAYERS.iter().flat_map(|&(i, o)| [vec![o, i], vec![o]]);
    let shapes_match = params.len() == 6 && params.iter().zip(expected).all(|(p, e)| p.shape() == e.as_slice());
    if !shapes_match {
        return Err(Error::shape(op, "expected the six parameters of the 2→64→64→1 critic"));
    }
    Ok(())
}

/// One critic step's figures, before its update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriticLosses {
    /// The loss minimised: `mean D(fake) − mean D(real) + penalty`.
    pub total: f64,
    /// `λ·mean((‖∇ₓ̂ D(x̂)‖₂ − 1)²)`.
    pub penalty: f64,
    /// `mean D(real) − mean D(fake)`, the critic's estimate of the Wasserstein distance.
    pub wasserstein: f64,
}

impl CriticLosses {
    pub(crate) fn new<T: Element>(d_real: T, d_fake: T, penalty: T, total: T) -> Self {
        let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
        CriticLosses { total: f(total), penalty: f(penalty), wasserstein: f(d_real) - f(d_fake) }
    }
}

/// A critic trained with T11c's gradient penalty, whatever computes its derivatives.
pub trait Critic<T: Element> {
    /// One Adam step on the critic loss for `real` and `fake` points, interpolated with weights `alpha`;
    /// returns the figures before the step.
    fn train_step(&mut self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<CriticLosses>;

    /// The gradient of the critic loss with respect to the parameters at their current values, in
    /// [`initial_parameters`]' order and layout.
    fn gradient(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<Vec<Tensor<T>>>;

    /// `∇ₓ D(x)` for each row of `x`: what the penalty keeps near norm 1.
    fn input_gradient(&self, x: &Tensor<T>) -> Result<Tensor<T>>;

    /// Copies of the parameters, in [`initial_parameters`]'s order and layout.
    fn parameters(&self) -> Result<Vec<Tensor<T>>>;
}

/// Trains `model` for as many steps as `data` has interpolation weights (or `steps`, if fewer), calling
/// `on_step(step, figures)` after each (steps count from 1); returns every step's figures.
pub fn fit<T: Element, M: Critic<T> + ?Sized>(
    model: &mut M,
    data: &CriticData<T>,
    steps: usize,
    mut on_step: impl FnMut(usize, CriticLosses),
) -> Result<Vec<CriticLosses>> {
    let mut history = Vec::with_capacity(steps);
    for (step, alpha) in data.alphas.iter().take(steps).enumerate() {
        let losses = model.train_step(&data.real, &data.fake, alpha)?;
        on_step(step + 1, losses);
        history.push(losses);
    }
    Ok(history)
}

/// T11c as torch users write it: `Sequential(Linear(2, 64), LeakyReLU(0.2), Linear(64, 64), LeakyReLU(0.2),
/// Linear(64, 1))`; `x̂` made a leaf that requires grad; `g = autograd.grad(D(x̂), x̂,
/// grad_outputs=ones_like(D(x̂)), create_graph=True)`; the penalty `λ·((g.norm(2, dim=1) − 1)²).mean()` (the
/// norm as `√(Σ g²)` over each row); `Adam(D.parameters(), lr, betas=(0.5, 0.9))`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet_tutorials::gradient_penalty::{critic_data, initial_parameters, AutodiffCritic, Critic, ManualCritic};
/// let init = initial_parameters::<f64, _>(&mut StdRng::seed_from_u64(0))?;
/// let data = critic_data(0, 3)?;
/// let (mut autograd, mut by_hand) = (AutodiffCritic::new(&init)?, ManualCritic::new(&init)?);
/// for alpha in &data.alphas {
///     let a = autograd.train_step(&data.real, &data.fake, alpha)?.total;
///     let b = by_hand.train_step(&data.real, &data.fake, alpha)?.total;
///     assert!((a - b).abs() <= 1e-13 * b.abs());
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct AutodiffCritic<T: Element> {
    network: Sequential<T>,
    optimizer: Adam<T>,
}

impl<T: Element> AutodiffCritic<T> {
    /// The critic over copies of `params` (as [`initial_parameters`] lists them), trained with T11c's Adam.
    pub fn new(params: &[Tensor<T>]) -> Result<Self> {
        check_parameters("AutodiffCritic", params)?;
        let linear = |i: usize| Linear::from_parameters(&params[2 * i], Some(&params[2 * i + 1]));
        let network = Sequential::new()
            .add(linear(0)?)
            .add(LeakyReLU::new(SLOPE))
            .add(linear(1)?)
            .add(LeakyReLU::new(SLOPE))
            .add(linear(2)?);
        let config = AdamConfig::new(LR).betas(BETAS.0, BETAS.1);
        let optimizer = Adam::with_config(network.parameters(), config)?;
        Ok(AutodiffCritic { network, optimizer })
    }

    /// `∇ₓ̂ D(x̂)` with its graph (`create_graph`), for `x̂` a leaf that requires grad.
    fn input_gradient_graph(&self, x_hat: &Tensor<T>) -> Result<Tensor<T>> {
        let score = self.network.forward(x_hat)?;
        let ones = score.ones_like()?;
        let options = GradOptions::new().grad_outputs(&[&ones]).create_graph(true);
        Ok(grad_with(&[&score], &[x_hat], &options)?.remove(0).expect("D depends on its input"))
    }

    /// `mean D(real)`, `mean D(fake)`, the penalty and the loss, with their graphs.
    fn loss(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<[Tensor<T>; 4]> {
        let d_real = self.network.forward(real)?.mean()?;
        let d_fake = self.network.forward(fake)?.mean()?;
        let x_hat = interpolate(real, fake, alpha)?.requires_grad_(true)?;
        let g = self.input_gradient_graph(&x_hat)?;
        let norm = g.square()?.sum_dim(1, false)?.sqrt()?;
        let penalty = norm.sub_scalar(T::one())?.square()?.mean()?.mul_scalar(T::from_f64_lossy(LAMBDA))?;
        let loss = d_fake.sub(&d_real)?.add(&penalty)?;
        Ok([d_real, d_fake, penalty, loss])
    }
}

impl<T: Element> Critic<T> for AutodiffCritic<T> {
    fn train_step(&mut self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<CriticLosses> {
        let [d_real, d_fake, penalty, loss] = self.loss(real, fake, alpha)?;
        self.optimizer.zero_grad();
        loss.backward()?;
        self.optimizer.step()?;
        Ok(CriticLosses::new(d_real.item()?, d_fake.item()?, penalty.item()?, loss.item()?))
    }

    fn gradient(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<Vec<Tensor<T>>> {
        let [_, _, _, loss] = self.loss(real, fake, alpha)?;
        let params = self.network.parameters();
        let grads = grad(&[&loss], &params.iter().collect::<Vec<_>>())?;
        Ok(grads.into_iter().map(|g| g.expect("every parameter is used")).collect())
    }

    fn input_gradient(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let x = x.detach().requires_grad_(true)?;
        let score = self.network.forward(&x)?;
        let g = grad_with(&[&score], &[&x], &GradOptions::new().grad_outputs(&[&score.ones_like()?]))?;
        Ok(g.into_iter().next().flatten().expect("D depends on its input"))
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        no_grad(|| self.network.parameters().iter().map(|p| p.detach().deep_clone()).collect())
    }
}
