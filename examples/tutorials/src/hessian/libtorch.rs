//! T11a's libtorch twin (feature `tch`): the same network and loss in libtorch, and `H v` by its double
//! backward.

use super::Hvp;
use crate::libtorch::{from_tch, tch_error, to_tch, TchElement};
use crate::tch_net::activate;
use crate::Activation;
use torchlet::error::{Error, Result};
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// ∇L(θ) and `H v` by libtorch: L is `mse_loss` of the network of `linears` (each followed by its
/// activation) for `x` against `y`; `g = autograd.grad(L, θ, create_graph=True)` and `H v =
/// autograd.grad((g · v).sum(), θ)`, through `tch::Tensor::run_backward`.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet::Tensor;
/// use torchlet_tutorials::libtorch::tch_hessian_vector_product;
/// use torchlet_tutorials::Activation;
/// // L(w) = (w x − y)² for one weight: H = 2x², so H v = 2x² v.
/// let layer = Linear::from_parameters(&Tensor::new([[3.0]]), Some(&Tensor::new([0.0])))?;
/// let (x, y) = (Tensor::new([[2.0]]), Tensor::new([[1.0]]));
/// let v = [Tensor::new([[0.5]]), Tensor::new([0.0])];
/// let out = tch_hessian_vector_product(&[layer], &[Activation::Identity], (&x, &y), &v)?;
/// assert_eq!((out.gradient[0].to_vec()?, out.hv[0].to_vec()?), (vec![20.0], vec![4.0]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn tch_hessian_vector_product<T: TchElement>(
    linears: &[Linear<T>],
    activations: &[Activation],
    (x, y): (&Tensor<T>, &Tensor<T>),
    v: &[Tensor<T>],
) -> Result<Hvp<T>> {
    let op = "tch_hessian_vector_product";
    if linears.len() != activations.len() || v.len() != 2 * linears.len() {
        return Err(Error::invalid(op, "one activation per layer and a direction tensor per parameter"));
    }
    let mut theta = Vec::with_capacity(v.len());
    for layer in linears {
        let bias = layer.bias().ok_or_else(|| Error::invalid(op, "every layer needs a bias"))?;
        theta.push(to_tch(&layer.weight().detach())?.set_requires_grad(true));
        theta.push(to_tch(&bias.detach())?.set_requires_grad(true));
    }
    let mut h = to_tch(x)?;
    for (wb, &f) in theta.chunks(2).zip(activations) {
        h = activate(h.f_linear(&wb[0], Some(&wb[1])).map_err(tch_error)?, f)?;
    }
    let loss = h.f_mse_loss(&to_tch(y)?, tch::Reduction::Mean).map_err(tch_error)?;
    let g = tch::Tensor::f_run_backward(&[&loss], &theta, true, true).map_err(tch_error)?;
    let mut directional: Option<tch::Tensor> = None;
    for (gi, vi) in g.iter().zip(v) {
        let term = (gi * to_tch(vi)?).sum(None::<tch::Kind>);
        directional = Some(match directional {
            None => term,
            Some(sum) => sum + term,
        });
    }
    let directional = directional.ok_or_else(|| Error::invalid(op, "no parameters"))?;
    let hv = tch::Tensor::f_run_backward(&[&directional], &theta, false, false).map_err(tch_error)?;
    let back = |ts: &[tch::Tensor]| ts.iter().map(|t| from_tch::<T>(&t.detach())).collect::<Result<Vec<_>>>();
    Ok(Hvp { gradient: back(&g)?, hv: back(&hv)? })
}
