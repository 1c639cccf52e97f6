//! T11b's hand-derived twin: u′ and u″ of the tanh network in closed form, and the loss's gradient with
//! respect to the parameters written out through them.

use super::{boundary, check_parameters, collocation, source, Losses, Pinn};
use crate::cnn::HandAdam;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::tensor::Tensor;

/// T11b with every derivative written out, for `u(x) = w₃ · tanh(W₂ tanh(w₁ x + b₁) + b₂) + b₃` at a batch of
/// points (rows), with Adam's update by hand ([`HandAdam`]).
///
/// With `h₁ = tanh(w₁x + b₁)`, `p₁ = 1 − h₁²` (tanh′) and `q₁ = −2 h₁ p₁` (tanh″), the first layer's
/// derivatives in x are `h₁′ = p₁ ⊙ w₁` and `h₁″ = q₁ ⊙ w₁²`; the second layer's pre-activation has
/// `z₂′ = W₂ h₁′` and `z₂″ = W₂ h₁″`, so with `h₂ = tanh z₂`, `p₂`, `q₂` as before, `h₂″ = q₂ ⊙ z₂′² + p₂ ⊙ z₂″`
/// and `u″ = w₃ · h₂″` (b₃ drops out).
///
/// The gradient of `mean(r²)`, `r = u″ + π² sin(πx)`, starts from `∂L/∂u″ = 2r/n` and runs back through those
/// formulas: `∂w₃ = Σ ∂u″ h₂″`; `∂h₂″ = ∂u″ w₃` splits into `∂q₂ = ∂h₂″ ⊙ z₂′²`, `∂z₂′ = 2 ∂h₂″ ⊙ q₂ ⊙ z₂′`,
/// `∂p₂ = ∂h₂″ ⊙ z₂″`, `∂z₂″ = ∂h₂″ ⊙ p₂`; `q₂ = −2h₂p₂` and `p₂ = 1 − h₂²` fold `∂p₂ −= 2h₂ ⊙ ∂q₂` and
/// `∂h₂ = −2p₂ ⊙ ∂q₂ − 2h₂ ⊙ ∂p₂` into `∂z₂ = p₂ ⊙ ∂h₂`; then W₂ collects from z₂, z₂′ and z₂″
/// (`∂W₂ = ∂z₂ᵀh₁ + ∂z₂′ᵀh₁′ + ∂z₂″ᵀh₁″`), each of which passes back through W₂ to h₁, h₁′ and h₁″, and the
/// first layer repeats the pattern, with `∂w₁` collecting from `h₁′ = p₁ ⊙ w₁` and `h₁″ = q₁ ⊙ w₁²` as well as
/// from `z₁ = w₁x + b₁`. The boundary term `u(0)² + u(1)²` is plain backpropagation from `∂L/∂u = 2u`.
pub struct ManualPinn<T: Element> {
    /// `[W₁, b₁, W₂, b₂, W₃, b₃]` in `nn.Linear`'s layout.
    params: Vec<Tensor<T>>,
    adam: HandAdam<T>,
    x: Tensor<T>,
    source: Tensor<T>,
    boundary: Tensor<T>,
}

/// `tanh z`, its first derivative `1 − tanh²` and its second `−2 tanh (1 − tanh²)`.
fn tanh_and_derivatives<T: Element>(z: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>, Tensor<T>)> {
    let h = z.tanh()?;
    let p = h.square()?.rsub_scalar(T::one())?;
    let q = h.mul(&p)?.mul_scalar(T::from_f64_lossy(-2.0))?;
    Ok((h, p, q))
}

/// `(1 − h²) ⊙ ∂h`: back through a tanh whose output is `h`.
fn through_tanh<T: Element>(dh: &Tensor<T>, h: &Tensor<T>) -> Result<Tensor<T>> {
    dh.mul(&h.square()?.rsub_scalar(T::one())?)
}

impl<T: Element> ManualPinn<T> {
    /// The network over copies of `params` (as [`super::initial_parameters`] lists them), trained with Adam
    /// at `lr`.
    pub fn new(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("ManualPinn", params)?;
        let params = params.iter().map(|p| p.detach().deep_clone()).collect::<Result<Vec<_>>>()?;
        let x = collocation::<T>();
        Ok(ManualPinn { params, adam: HandAdam::new(6, lr)?, source: source(&x)?, x, boundary: boundary() })
    }

    /// The hidden layers' outputs and u for a batch of points, as plain backpropagation needs them.
    fn forward(&self, x: &Tensor<T>) -> Result<[Tensor<T>; 3]> {
        let [w1, b1, w2, b2, w3, b3] = &self.params[..] else { unreachable!("six parameters") };
        let h1 = x.matmul(&w1.t()?)?.add(b1)?.tanh()?;
        let h2 = h1.matmul(&w2.t()?)?.add(b2)?.tanh()?;
        let u = h2.matmul(&w3.t()?)?.add(b3)?;
        Ok([h1, h2, u])
    }

    /// The loss and its gradient, `[∂W₁, ∂b₁, ∂W₂, ∂b₂, ∂W₃, ∂b₃]`, as the type's documentation derives it.
    fn loss_and_gradient(&self) -> Result<(Losses, Vec<Tensor<T>>)> {
        let [w1, _, w2, _, w3, _] = &self.params[..] else { unreachable!("six parameters") };
        let (x, two) = (&self.x, T::from_f64_lossy(2.0));
        let w1_row = w1.t()?;
        let w2_t = w2.t()?;
        // Forward: the values and their first and second derivatives in x.
        let (h1, p1, q1) = tanh_and_derivatives(&x.matmul(&w1_row)?.add(&self.params[1])?)?;
        let h1_d = p1.mul(&w1_row)?;
        let h1_dd = q1.mul(&w1_row.square()?)?;
        let z2 = h1.matmul(&w2_t)?.add(&self.params[3])?;
        let (z2_d, z2_dd) = (h1_d.matmul(&w2_t)?, h1_dd.matmul(&w2_t)?);
        let (h2, p2, q2) = tanh_and_derivatives(&z2)?;
        let h2_dd = q2.mul(&z2_d.square()?)?.add(&p2.mul(&z2_dd)?)?;
        let residual = h2_dd.matmul(&w3.t()?)?.add(&self.source)?;
        let equation = residual.square()?.mean()?;

        // Backward from ∂L/∂u″ = 2r/n.
        let du_dd = residual.mul_scalar(T::from_f64_lossy(2.0 / residual.numel() as f64))?;
        let mut g_w3 = du_dd.t()?.matmul(&h2_dd)?;
        let dh2_dd = du_dd.matmul(w3)?;
        let dq2 = dh2_dd.mul(&z2_d.square()?)?;
        let dz2_d = dh2_dd.mul(&q2)?.mul(&z2_d)?.mul_scalar(two)?;
        let dp2 = dh2_dd.mul(&z2_dd)?.sub(&dq2.mul(&h2)?.mul_scalar(two)?)?;
        let dz2_dd = dh2_dd.mul(&p2)?;
        let dh2 = dq2.mul(&p2)?.add(&dp2.mul(&h2)?)?.mul_scalar(T::from_f64_lossy(-2.0))?;
        let dz2 = dh2.mul(&p2)?;
        let mut g_w2 = dz2.t()?.matmul(&h1)?.add(&dz2_d.t()?.matmul(&h1_d)?)?.add(&dz2_dd.t()?.matmul(&h1_dd)?)?;
        let mut g_b2 = dz2.sum_dim(0, false)?;
        let dh1 = dz2.matmul(w2)?;
        let dh1_d = dz2_d.matmul(w2)?;
        let dh1_dd = dz2_dd.matmul(w2)?;
        // h₁′ = p₁ ⊙ w₁ and h₁″ = q₁ ⊙ w₁², with q₁ = −2h₁p₁ and p₁ = 1 − h₁².
        let dq1 = dh1_dd.mul(&w1_row.square()?)?;
        let dp1 = dh1_d.mul(&w1_row)?.sub(&dq1.mul(&h1)?.mul_scalar(two)?)?;
        let dh1 = dh1.sub(&dq1.mul(&p1)?.add(&dp1.mul(&h1)?)?.mul_scalar(two)?)?;
        let dz1 = dh1.mul(&p1)?;
        let from_h1_dd = dh1_dd.mul(&q1)?.sum_dim(0, true)?.mul(&w1_row)?.mul_scalar(two)?;
        let from_h1_d = dh1_d.mul(&p1)?.sum_dim(0, true)?;
        let mut g_w1 = x.t()?.matmul(&dz1)?.add(&from_h1_d)?.add(&from_h1_dd)?;
        let mut g_b1 = dz1.sum_dim(0, false)?;

        // The boundary term, from ∂L/∂u = 2u.
        let [hb1, hb2, ub] = self.forward(&self.boundary)?;
        let boundary = ub.square()?.sum()?;
        let dub = ub.mul_scalar(two)?;
        g_w3 = g_w3.add(&dub.t()?.matmul(&hb2)?)?;
        let g_b3 = dub.sum_dim(0, false)?;
        let dzb2 = through_tanh(&dub.matmul(w3)?, &hb2)?;
        g_w2 = g_w2.add(&dzb2.t()?.matmul(&hb1)?)?;
        g_b2 = g_b2.add(&dzb2.sum_dim(0, false)?)?;
        let dzb1 = through_tanh(&dzb2.matmul(w2)?, &hb1)?;
        g_w1 = g_w1.add(&self.boundary.t()?.matmul(&dzb1)?)?;
        g_b1 = g_b1.add(&dzb1.sum_dim(0, false)?)?;

        let (e, b) = (equation.item()?, boundary.item()?);
        let losses = Losses::new(e, b, e + b);
        Ok((losses, vec![g_w1.t()?, g_b1, g_w2, g_b2, g_w3, g_b3]))
    }
}

impl<T: Element> Pinn<T> for ManualPinn<T> {
    fn train_step(&mut self) -> Result<Losses> {
        let (losses, grads) = self.loss_and_gradient()?;
        let params: Vec<&Tensor<T>> = self.params.iter().collect();
        self.adam.step(&params, &grads)?;
        Ok(losses)
    }

    fn gradient(&self) -> Result<Vec<Tensor<T>>> {
        Ok(self.loss_and_gradient()?.1)
    }

    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(self.forward(x)?[2].clone())
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.params.iter().map(|p| p.deep_clone()).collect()
    }
}
