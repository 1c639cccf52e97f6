//! T11a, Hessian-vector products of a training loss. For T8's network ([`crate::mlp`]) and its loss L(θ), the
//! mean squared error over the 1 000 training rows, the product `H v` of the Hessian ∇²L(θ) with a direction
//! `v` is taken three ways:
//!
//! - by double backward, as torch users write it ([`hessian_vector_product`]): `g = grad(L, θ,
//!   create_graph=True)`, then `H v = grad(g · v, θ)`: the gradient of the directional derivative `g · v`;
//! - by central differences of gradients ([`finite_difference_hvp`]): `(∇L(θ + εv) − ∇L(θ − εv)) / 2ε`,
//!   which needs first derivatives only and is accurate to O(ε²) plus the gradients' rounding over ε;
//! - by hand, forward-over-reverse, for a two-layer tanh net ([`TanhNet`]): the backward pass written out, then
//!   differentiated along `v` term by term (Pearlmutter's R-operator).
//!
//! With feature `tch`, `libtorch::tch_hessian_vector_product` is libtorch's double backward of the
//! same network.

#[cfg(feature = "tch")]
pub(crate) mod libtorch;
mod manual;

pub use manual::TanhNet;

use crate::{Activation, Layers};
use rand::Rng;
use torchlet::autograd::{grad, grad_with, GradOptions};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::{Linear, MSELoss, Module, ModuleList};
use torchlet::tensor::Tensor;

/// The hand-derived twin's network, `(in, out, activation)` per layer: `Linear(6, 32) Tanh → Linear(32, 3)`,
/// on T8's data.
pub const TANH_NET: [(usize, usize, Activation); 2] = [(6, 32, Activation::Tanh), (32, 3, Activation::Identity)];

/// The step of [`finite_difference_hvp`] that the example and the tests use for T8's loss: near the minimum
/// of the error over ε (truncation, O(ε²), against the rounding of the gradients divided by ε; the example
/// prints the whole curve).
pub const FD_EPS: f64 = 1e-4;

/// The gradient ∇L(θ) and the Hessian-vector product `H v` at one point θ, each a list of tensors in the order
/// of the model's parameters.
#[derive(Debug, Clone)]
pub struct Hvp<T: Element> {
    /// ∇L(θ).
    pub gradient: Vec<Tensor<T>>,
    /// ∇²L(θ) v.
    pub hv: Vec<Tensor<T>>,
}

/// A network of copies of `linears`, each followed by its activation's module: T8's `ModuleList` (the
/// autograd model's), whose parameters are θ.
///
/// ```
/// use torchlet::nn::{Linear, Module};
/// use torchlet_tutorials::hessian::network;
/// use torchlet_tutorials::Activation;
/// let net = network(&[Linear::<f64>::new(2, 3), Linear::new(3, 1)], &[Activation::Tanh, Activation::Identity])?;
/// assert_eq!(net.parameters().len(), 4);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn network<T: Element>(linears: &[Linear<T>], activations: &[Activation]) -> Result<ModuleList<T>> {
    if linears.len() != activations.len() {
        return Err(Error::invalid("network", format!("{} layers, {} activations", linears.len(), activations.len())));
    }
    let mut net = ModuleList::new();
    for (linear, f) in linears.iter().zip(activations) {
        net.push(Linear::from_parameters(linear.weight(), linear.bias())?);
        f.push_module(&mut net);
    }
    Ok(net)
}

/// The layers holding `params` (a weight, then a bias, per layer), as copies.
pub fn linears_of<T: Element>(params: &[Tensor<T>]) -> Result<Vec<Linear<T>>> {
    if params.len() % 2 != 0 {
        return Err(Error::invalid("linears_of", format!("{} tensors are not (weight, bias) pairs", params.len())));
    }
    params.chunks(2).map(|wb| Linear::from_parameters(&wb[0].detach(), Some(&wb[1].detach()))).collect()
}

/// L(θ): `MSELoss()` of the network's output for `x` against `y`.
pub fn training_loss<T: Element>(model: &dyn Module<T>, x: &Tensor<T>, y: &Tensor<T>) -> Result<Tensor<T>> {
    MSELoss::new().forward(&model.forward(x)?, y)
}

/// `Σ_i a_i · b_i` over lists of tensors, as a graph: the directional derivative `g · v` when `a` is a
/// gradient and `b` a direction.
fn dot_graph<T: Element>(a: &[Tensor<T>], b: &[Tensor<T>]) -> Result<Tensor<T>> {
    let mut terms = a.iter().zip(b).map(|(x, y)| x.mul(y)?.sum());
    let first = terms.next().ok_or_else(|| Error::invalid("dot", "no tensors"))??;
    terms.try_fold(first, |acc, term| acc.add(&term?))
}

/// `Σ_i a_i · b_i` over lists of tensors, as a number.
///
/// ```
/// use torchlet::Tensor;
/// let (a, b) = (vec![Tensor::new([1.0, 2.0]), Tensor::new([3.0])], vec![Tensor::new([1.0, 1.0]), Tensor::new([2.0])]);
/// assert_eq!(torchlet_tutorials::hessian::dot(&a, &b)?, 9.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn dot<T: Element>(a: &[Tensor<T>], b: &[Tensor<T>]) -> Result<f64> {
    let detached: Vec<Tensor<T>> = a.iter().map(Tensor::detach).collect();
    Ok(dot_graph(&detached, b)?.item()?.to_f64().unwrap_or(f64::NAN))
}

/// `H v` by double backward, as in torch: `g = autograd.grad(L, θ, create_graph=True)`, then
/// `autograd.grad((g · v).sum(), θ)`, with θ the model's parameters and L [`training_loss`].
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet::Tensor;
/// use torchlet_tutorials::hessian::{hessian_vector_product, network};
/// use torchlet_tutorials::Activation;
/// // L(w) = (w x − y)² for one weight: H = 2x², so H v = 2x² v.
/// let net = network(&[Linear::from_parameters(&Tensor::new([[3.0]]), None)?], &[Activation::Identity])?;
/// let (x, y) = (Tensor::new([[2.0]]), Tensor::new([[1.0]]));
/// let out = hessian_vector_product(&net, &x, &y, &[Tensor::new([[0.5]])])?;
/// assert_eq!((out.gradient[0].to_vec()?, out.hv[0].to_vec()?), (vec![20.0], vec![4.0]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn hessian_vector_product<T: Element>(
    model: &dyn Module<T>,
    x: &Tensor<T>,
    y: &Tensor<T>,
    v: &[Tensor<T>],
) -> Result<Hvp<T>> {
    let params = model.parameters();
    check_direction("hessian_vector_product", &params, v)?;
    let theta: Vec<&Tensor<T>> = params.iter().collect();
    let loss = training_loss(model, x, y)?;
    let g = grad_with(&[&loss], &theta, &GradOptions::new().create_graph(true))?;
    let g: Vec<Tensor<T>> = g.into_iter().map(|g| g.expect("every parameter is used")).collect();
    let hv = grad(&[&dot_graph(&g, v)?], &theta)?;
    Ok(Hvp {
        gradient: g.iter().map(Tensor::detach).collect(),
        hv: hv.into_iter().map(|h| h.expect("every parameter is used")).collect(),
    })
}

/// ∇L(θ) of the network with layers `linears` (a first-order `autograd.grad`).
pub fn gradient<T: Element>(
    linears: &[Linear<T>],
    activations: &[Activation],
    x: &Tensor<T>,
    y: &Tensor<T>,
) -> Result<Vec<Tensor<T>>> {
    let net = network(linears, activations)?;
    let params = net.parameters();
    let theta: Vec<&Tensor<T>> = params.iter().collect();
    let g = grad(&[&training_loss(&net, x, y)?], &theta)?;
    Ok(g.into_iter().map(|g| g.expect("every parameter is used")).collect())
}

/// `H v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε`, θ being the parameters of `linears`.
pub fn finite_difference_hvp<T: Element>(
    linears: &[Linear<T>],
    activations: &[Activation],
    (x, y): (&Tensor<T>, &Tensor<T>),
    v: &[Tensor<T>],
    eps: f64,
) -> Result<Vec<Tensor<T>>> {
    let theta = network(linears, activations)?.parameters();
    check_direction("finite_difference_hvp", &theta, v)?;
    let shifted = |sign: f64| -> Result<Vec<Linear<T>>> {
        let moved = theta
            .iter()
            .zip(v)
            .map(|(p, d)| p.detach().add(&d.mul_scalar(T::from_f64_lossy(sign * eps))?))
            .collect::<Result<Vec<_>>>()?;
        linears_of(&moved)
    };
    let plus = gradient(&shifted(1.0)?, activations, x, y)?;
    let minus = gradient(&shifted(-1.0)?, activations, x, y)?;
    let scale = T::from_f64_lossy(1.0 / (2.0 * eps));
    plus.iter().zip(&minus).map(|(p, m)| p.sub(m)?.mul_scalar(scale)).collect()
}

/// A direction in parameter space: one standard normal tensor per parameter, drawn from `rng` in order and
/// scaled so that the whole has norm 1.
pub fn random_direction<T: Element, R: Rng + ?Sized>(like: &[Tensor<T>], rng: &mut R) -> Result<Vec<Tensor<T>>> {
    let v: Vec<Tensor<T>> = like.iter().map(|p| Tensor::randn_with(p.shape(), rng)).collect();
    let norm = dot(&v, &v)?.sqrt();
    v.iter().map(|t| t.div_scalar(T::from_f64_lossy(norm))).collect()
}

/// The parameters of a model's layers (a weight, then a bias, per layer), as copies.
pub fn parameters_of<T: Element>(model: &impl Layers<T>) -> Result<Vec<Tensor<T>>> {
    let mut params = Vec::new();
    for layer in model.linears()? {
        let bias = layer.bias().ok_or_else(|| Error::invalid("parameters_of", "every layer needs a bias"))?;
        params.extend([layer.weight().detach(), bias.detach()]);
    }
    Ok(params)
}

/// How far apart two lists of tensors are as one vector: `‖a − b‖ / ‖b‖` (norms over all entries).
///
/// ```
/// use torchlet::Tensor;
/// let e = torchlet_tutorials::hessian::relative_error(&[Tensor::new([3.0, 4.1])], &[Tensor::new([3.0, 4.0])])?;
/// assert!((e - 0.02).abs() < 1e-12);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn relative_error<T: Element>(a: &[Tensor<T>], b: &[Tensor<T>]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::invalid("relative_error", format!("{} tensors against {}", a.len(), b.len())));
    }
    let diff = a.iter().zip(b).map(|(x, y)| x.detach().sub(&y.detach())).collect::<Result<Vec<_>>>()?;
    Ok((dot(&diff, &diff)? / dot(b, b)?).sqrt())
}

fn check_direction<T: Element>(op: &'static str, params: &[Tensor<T>], v: &[Tensor<T>]) -> Result<()> {
    let shapes_match = params.len() == v.len() && params.iter().zip(v).all(|(p, d)| p.shape() == d.shape());
    if !shapes_match {
        return Err(Error::shape(op, "the direction needs one tensor of each parameter's shape"));
    }
    Ok(())
}
