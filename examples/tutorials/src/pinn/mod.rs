//! T11b, a physics-informed network: `u″(x) = −π² sin(πx)` on [0, 1] with `u(0) = u(1) = 0` (whose solution is
//! `sin(πx)`), solved by a `1→32→32→1` tanh network trained on the equation's residual at 64 collocation
//! points, `mean((u″ + π² sin(πx))²)`, plus the boundary term `u(0)² + u(1)²`, with Adam (lr 1e-3) for 3 000
//! steps.
//!
//! Built twice: [`AutodiffPinn`] takes u″ as torch users do, `grad(u, x, create_graph=True)` twice, and
//! trains through that second derivative with `optim::Adam`; [`ManualPinn`] writes u′ and u″ of the tanh
//! network out in closed form and their gradients with respect to the parameters by hand. Both are
//! [`Pinn`]s; with feature `tch`, `libtorch::TchPinn` is the same recipe in libtorch.

#[cfg(feature = "tch")]
pub(crate) mod libtorch;
mod manual;

pub use manual::ManualPinn;

use crate::tch_default_linear;
use rand::Rng;
use std::f64::consts::PI;
use torchlet::autograd::{grad, grad_with, no_grad, GradOptions};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::{Linear, Module, Sequential, Tanh};
use torchlet::optim::{Adam, Optimizer};
use torchlet::tensor::Tensor;

/// Adam's learning rate.
pub const LR: f64 = 1e-3;
/// The number of Adam steps.
pub const STEPS: usize = 3_000;
/// The number of interior collocation points.
pub const POINTS: usize = 64;
/// `(in, out)` of the three linear layers; tanh follows the first two.
pub const LAYERS: [(usize, usize); 3] = [(1, 32), (32, 32), (32, 1)];

/// The 64 interior collocation points `x_i = i / 65`, i = 1…64 (evenly spaced, the end points left out), as a
/// column `[64, 1]`.
///
/// ```
/// let x = torchlet_tutorials::pinn::collocation::<f64>();
/// assert_eq!(x.shape(), &[64, 1]);
/// assert_eq!(x.to_vec()?[0], 1.0 / 65.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn collocation<T: Element>() -> Tensor<T> {
    column((1..=POINTS).map(|i| i as f64 / (POINTS + 1) as f64))
}

/// `n` evenly spaced points on [0, 1], end points included, as a column: where the solution is checked.
pub fn grid<T: Element>(n: usize) -> Tensor<T> {
    column((0..n).map(|i| i as f64 / (n.max(2) - 1) as f64))
}

/// The boundary points 0 and 1, as a column `[2, 1]`.
pub fn boundary<T: Element>() -> Tensor<T> {
    column([0.0, 1.0])
}

fn column<T: Element>(values: impl IntoIterator<Item = f64>) -> Tensor<T> {
    let values: Vec<T> = values.into_iter().map(T::from_f64_lossy).collect();
    let n = values.len();
    Tensor::from_vec(values, &[n, 1]).expect("n values make an [n, 1] column")
}

/// `f(x)` pointwise, computed in f64.
fn map<T: Element>(x: &Tensor<T>, f: impl Fn(f64) -> f64) -> Result<Tensor<T>> {
    let values = x.to_vec()?.iter().map(|v| T::from_f64_lossy(f(v.to_f64().unwrap_or(f64::NAN)))).collect();
    Tensor::from_vec(values, x.shape())
}

/// The equation's source term with its sign flipped, `π² sin(πx)`, so that the residual is `u″ + source`.
pub fn source<T: Element>(x: &Tensor<T>) -> Result<Tensor<T>> {
    map(x, |x| PI * PI * (PI * x).sin())
}

/// The exact solution `sin(πx)`.
pub fn exact<T: Element>(x: &Tensor<T>) -> Result<Tensor<T>> {
    map(x, |x| (PI * x).sin())
}

/// The network's initial parameters, `[W₁, b₁, W₂, b₂, W₃, b₃]` in `nn.Linear`'s layout, drawn from `rng` as
/// tch's `nn::linear` draws them ([`tch_default_linear`]); the parity tests copy libtorch's own instead.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let params = torchlet_tutorials::pinn::initial_parameters::<f64, _>(&mut StdRng::seed_from_u64(0))?;
/// let shapes: Vec<&[usize]> = params.iter().map(|p| p.shape()).collect();
/// assert_eq!(shapes, [&[32, 1][..], &[32], &[32, 32], &[32], &[1, 32], &[1]]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn initial_parameters<T: Element, R: Rng + ?Sized>(rng: &mut R) -> Result<Vec<Tensor<T>>> {
    let mut params = Vec::with_capacity(6);
    for (n_in, n_out) in LAYERS {
        let layer = tch_default_linear::<T, R>(n_in, n_out, rng)?;
        params.push(layer.weight().detach());
        params.push(layer.bias().expect("made with a bias").detach());
    }
    Ok(params)
}

/// Fails unless `params` are the network's six tensors with [`initial_parameters`]'s shapes.
pub(crate) fn check_parameters<T: Element>(op: &'static str, params: &[Tensor<T>]) -> Result<()> {
    let expected = LAYERS.iter().flat_map(|&(i, o)| [vec![o, i], vec![o]]);
    let shapes_match = params.len() == 6 && params.iter().zip(expected).all(|(p, e)| p.shape() == e.as_slice());
    if !shapes_match {
        return Err(Error::shape(op, "expected the six parameters of the 1→32→32→1 network"));
    }
    Ok(())
}

/// One step's loss and its two terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    /// The loss minimised: `equation + boundary`.
    pub total: f64,
    /// `mean((u″ + π² sin(πx))²)` over the collocation points.
    pub equation: f64,
    /// `u(0)² + u(1)²`.
    pub boundary: f64,
}

impl Losses {
    pub(crate) fn new<T: Element>(equation: T, boundary: T, total: T) -> Self {
        let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
        Losses { total: f(total), equation: f(equation), boundary: f(boundary) }
    }
}

/// A physics-informed network for T11b's problem, whatever computes its derivatives.
pub trait Pinn<T: Element> {
    /// One Adam step on the loss at the collocation points; returns the loss before the step.
    fn train_step(&mut self) -> Result<Losses>;

    /// The gradient of the loss with respect to the parameters at their current values, in
    /// [`initial_parameters`]' order and layout.
    fn gradient(&self) -> Result<Vec<Tensor<T>>>;

    /// `u(x)` for a column of points.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>>;

    /// Copies of the parameters, in [`initial_parameters`]'s order and layout.
    fn parameters(&self) -> Result<Vec<Tensor<T>>>;
}

/// Trains `model` for `steps` Adam steps, calling `on_step(step, losses)` after each (steps count from 1);
/// returns every step's losses.
pub fn fit<T: Element, M: Pinn<T> + ?Sized>(
    model: &mut M,
    steps: usize,
    mut on_step: impl FnMut(usize, Losses),
) -> Result<Vec<Losses>> {
    let mut history = Vec::with_capacity(steps);
    for step in 1..=steps {
        let losses = model.train_step()?;
        on_step(step, losses);
        history.push(losses);
    }
    Ok(history)
}

/// `max |u(x) − sin(πx)|` over `n` evenly spaced points of [0, 1], the end points included.
pub fn max_error<T: Element, M: Pinn<T> + ?Sized>(model: &M, n: usize) -> Result<f64> {
    let x = grid::<T>(n);
    let error = model.predict(&x)?.sub(&exact(&x)?)?.abs()?.max()?.item()?;
    Ok(error.to_f64().unwrap_or(f64::NAN))
}

/// T11b as torch users write it: `Sequential(Linear(1, 32), Tanh(), Linear(32, 32), Tanh(), Linear(32, 1))`,
/// the collocation points a leaf that requires grad, `u′ = autograd.grad(u, x, grad_outputs=ones_like(u),
/// create_graph=True)` and u″ the same of u′, the loss through u″ and the boundary values, and
/// `Adam(model.parameters(), lr)`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet_tutorials::pinn::{initial_parameters, AutodiffPinn, ManualPinn, Pinn};
/// let init = initial_parameters::<f64, _>(&mut StdRng::seed_from_u64(0))?;
/// let (mut autograd, mut by_hand) = (AutodiffPinn::new(&init, 1e-3)?, ManualPinn::new(&init, 1e-3)?);
/// for _ in 0..3 {
///     let (a, b) = (autograd.train_step()?.total, by_hand.train_step()?.total);
///     assert!((a - b).abs() <= 1e-13 * b);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct AutodiffPinn<T: Element> {
    network: Sequential<T>,
    optimizer: Adam<T>,
    x: Tensor<T>,
    source: Tensor<T>,
    boundary: Tensor<T>,
}

impl<T: Element> AutodiffPinn<T> {
    /// The network over copies of `params` (as [`initial_parameters`] lists them), trained with Adam at `lr`.
    pub fn new(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("AutodiffPinn", params)?;
        let linear = |i: usize| Linear::from_parameters(&params[2 * i], Some(&params[2 * i + 1]));
        let network = Sequential::new().add(linear(0)?).add(Tanh).add(linear(1)?).add(Tanh).add(linear(2)?);
        let optimizer = Adam::new(network.parameters(), lr)?;
        let x = collocation::<T>().requires_grad_(true)?;
        Ok(AutodiffPinn { network, optimizer, source: source(&x)?, x, boundary: boundary() })
    }

    /// u″ at the collocation points, with the graph that leads back to the parameters.
    pub fn second_derivative(&self) -> Result<Tensor<T>> {
        let u = self.network.forward(&self.x)?;
        let ones = u.ones_like()?;
        let options = GradOptions::new().grad_outputs(&[&ones]).create_graph(true);
        let du = grad_with(&[&u], &[&self.x], &options)?.remove(0).expect("u depends on x");
        Ok(grad_with(&[&du], &[&self.x], &options)?.remove(0).expect("u′ depends on x"))
    }

    /// The equation's term, the boundary term and their sum, with their graphs.
    fn loss(&self) -> Result<[Tensor<T>; 3]> {
        let equation = self.second_derivative()?.add(&self.source)?.square()?.mean()?;
        let boundary = self.network.forward(&self.boundary)?.square()?.sum()?;
        let total = equation.add(&boundary)?;
        Ok([equation, boundary, total])
    }
}

impl<T: Element> Pinn<T> for AutodiffPinn<T> {
    fn train_step(&mut self) -> Result<Losses> {
        let [equation, boundary, loss] = self.loss()?;
        self.optimizer.zero_grad();
        loss.backward()?;
        self.optimizer.step()?;
        Ok(Losses::new(equation.item()?, boundary.item()?, loss.item()?))
    }

    fn gradient(&self) -> Result<Vec<Tensor<T>>> {
        let [_, _, loss] = self.loss()?;
        let params = self.network.parameters();
        let grads = grad(&[&loss], &params.iter().collect::<Vec<_>>())?;
        Ok(grads.into_iter().map(|g| g.expect("every parameter is used")).collect())
    }

    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        no_grad(|| self.network.forward(x))
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.network.parameters().iter().map(|p| p.detach().deep_clone()).collect()
    }
}
