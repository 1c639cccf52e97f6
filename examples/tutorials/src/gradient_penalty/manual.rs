//! T11c's hand-derived twin: the critic's input gradient and the penalty's gradient with respect to the
//! weights, through that input gradient, written out.

use super::{check_parameters, interpolate, Critic, CriticLosses, BETAS, LAMBDA, LR, SLOPE};
use crate::cnn::HandAdam;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::tensor::Tensor;
use torchlet::{cat, where_};

/// T11c with every derivative written out, for `D(x) = w₃ · σ(W₂ σ(W₁ x + b₁) + b₂) + b₃` with σ the
/// LeakyReLU of slope 0.2, and Adam's update by hand ([`HandAdam`], betas (0.5, 0.9)).
///
/// σ′ is the piecewise constant `s = [z > 0] + 0.2·[z ≤ 0]`, so σ″ = 0 and the input gradient of a row is
/// linear in each weight: `G₂ = s₂ ⊙ w₃`, `G₁ = s₁ ⊙ (G₂ W₂)`, `∇ₓD = G₁ W₁`. The penalty
/// `λ·mean((‖∇ₓD‖ − 1)²)` over m rows then has `∂/∂∇ₓD = (2λ/m)(‖∇ₓD‖ − 1) ∇ₓD / ‖∇ₓD‖`, and back through
/// those products `∂W₁ = G₁ᵀ ∂∇ₓD`, `∂G₁ = ∂∇ₓD W₁ᵀ`, `∂W₂ = G₂ᵀ (s₁ ⊙ ∂G₁)`, `∂G₂ = (s₁ ⊙ ∂G₁) W₂ᵀ`,
/// `∂w₃ = colsum(s₂ ⊙ ∂G₂)`; the biases (and the masks' dependence on everything) contribute 0. The
/// `mean D(fake) − mean D(real)` term is plain backpropagation from `∂L/∂D = ±1/n`.
pub struct ManualCritic<T: Element> {
    /// `[W₁, b₁, W₂, b₂, W₃, b₃]` in `nn.Linear`'s layout.
    params: Vec<Tensor<T>>,
    adam: HandAdam<T>,
}

/// A forward pass's values that the backward passes use.
struct Pass<T: Element> {
    a1: Tensor<T>,
    a2: Tensor<T>,
    /// σ′ at the layers' pre-activations: 1 or 0.2.
    s1: Tensor<T>,
    s2: Tensor<T>,
    out: Tensor<T>,
}

impl<T: Element> ManualCritic<T> {
    /// The critic over copies of `params` (as [`super::initial_parameters`] lists them).
    pub fn new(params: &[Tensor<T>]) -> Result<Self> {
        check_parameters("ManualCritic", params)?;
        let params = params.iter().map(|p| p.detach().deep_clone()).collect::<Result<Vec<_>>>()?;
        Ok(ManualCritic { params, adam: HandAdam::new(6, LR)?.with_betas(BETAS.0, BETAS.1) })
    }

    /// σ(z) and σ′(z) (torch's LeakyReLU backward takes the slope where `z ≤ 0`).
    fn leaky(z: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>)> {
        let zero = Tensor::full_on(&[], T::zero(), z.device())?;
        let slope = where_(&z.gt(&zero)?, &zero.add_scalar(T::one())?, &zero.add_scalar(T::from_f64_lossy(SLOPE))?)?;
        Ok((z.mul(&slope)?, slope))
    }

    fn forward(&self, x: &Tensor<T>) -> Result<Pass<T>> {
        let [w1, b1, w2, b2, w3, b3] = &self.params[..] else { unreachable!("six parameters") };
        let (a1, s1) = Self::leaky(&x.matmul(&w1.t()?)?.add(b1)?)?;
        let (a2, s2) = Self::leaky(&a1.matmul(&w2.t()?)?.add(b2)?)?;
        let out = a2.matmul(&w3.t()?)?.add(b3)?;
        Ok(Pass { a1, a2, s1, s2, out })
    }

    /// `G₁` (`∂D/∂z₁`) and `∇ₓD` of each row, from a forward pass's masks.
    fn input_gradient_of(&self, pass: &Pass<T>) -> Result<(Tensor<T>, Tensor<T>, Tensor<T>)> {
        let [w1, _, w2, _, w3, _] = &self.params[..] else { unreachable!("six parameters") };
        let g2 = pass.s2.mul(w3)?;
        let g1 = pass.s1.mul(&g2.matmul(w2)?)?;
        Ok((g2, g1.clone(), g1.matmul(w1)?))
    }

    /// The loss's figures and its gradient, `[∂W₁, ∂b₁, ∂W₂, ∂b₂, ∂W₃, ∂b₃]`, as the type's documentation
    /// derives it.
    fn loss_and_gradient(
        &self,
        real: &Tensor<T>,
        fake: &Tensor<T>,
        alpha: &Tensor<T>,
    ) -> Result<(CriticLosses, Vec<Tensor<T>>)> {
        let [w1, _, w2, _, w3, _] = &self.params[..] else { unreachable!("six parameters") };
        // mean D(fake) − mean D(real): real and fake rows in one batch, ∂L/∂D = −1/n and +1/n.
        let n = real.shape()[0];
        let batch = cat(&[real.clone(), fake.clone()], 0)?;
        let pass = self.forward(&batch)?;
        let (d_real, d_fake) = (pass.out.narrow(0, 0, n)?.mean()?.item()?, pass.out.narrow(0, n, n)?.mean()?.item()?);
        let inv_n = T::from_f64_lossy(1.0 / n as f64);
        let signs = cat(
            &[Tensor::full_on(&[n, 1], -inv_n, real.device())?, Tensor::full_on(&[n, 1], inv_n, real.device())?],
            0,
        )?;
        let g_w3 = signs.t()?.matmul(&pass.a2)?;
        let g_b3 = signs.sum_dim(0, false)?;
        let dz2 = signs.matmul(w3)?.mul(&pass.s2)?;
        let mut g_w2 = dz2.t()?.matmul(&pass.a1)?;
        let g_b2 = dz2.sum_dim(0, false)?;
        let dz1 = dz2.matmul(w2)?.mul(&pass.s1)?;
        let mut g_w1 = dz1.t()?.matmul(&batch)?;
        let g_b1 = dz1.sum_dim(0, false)?;

        // The penalty, through the input gradient at x̂.
        let hat = self.forward(&interpolate(real, fake, alpha)?)?;
        let (g2, g1, grad_x) = self.input_gradient_of(&hat)?;
        let norm = grad_x.square()?.sum_dim(1, true)?.sqrt()?;
        let excess = norm.sub_scalar(T::one())?;
        let lambda = T::from_f64_lossy(LAMBDA);
        let penalty = excess.square()?.mean()?.mul_scalar(lambda)?.item()?;
        let m = T::from_f64_lossy(grad_x.shape()[0] as f64);
        let d_norm = excess.mul_scalar(T::from_f64_lossy(2.0) * lambda / m)?;
        let d_grad_x = grad_x.mul(&d_norm.div(&norm)?)?;
        g_w1 = g_w1.add(&g1.t()?.matmul(&d_grad_x)?)?;
        let dm = d_grad_x.matmul(&w1.t()?)?.mul(&hat.s1)?;
        g_w2 = g_w2.add(&g2.t()?.matmul(&dm)?)?;
        let g_w3 = g_w3.add(&dm.matmul(&w2.t()?)?.mul(&hat.s2)?.sum_dim(0, true)?)?;

        let losses = CriticLosses::new(d_real, d_fake, penalty, d_fake - d_real + penalty);
        Ok((losses, vec![g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]))
    }
}

impl<T: Element> Critic<T> for ManualCritic<T> {
    fn train_step(&mut self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<CriticLosses> {
        let (losses, grads) = self.loss_and_gradient(real, fake, alpha)?;
        let params: Vec<&Tensor<T>> = self.params.iter().collect();
        self.adam.step(&params, &grads)?;
        Ok(losses)
    }

    fn gradient(&self, real: &Tensor<T>, fake: &Tensor<T>, alpha: &Tensor<T>) -> Result<Vec<Tensor<T>>> {
        Ok(self.loss_and_gradient(real, fake, alpha)?.1)
    }

    fn input_gradient(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(self.input_gradient_of(&self.forward(x)?)?.2)
    }

    fn parameters(&self) -> Result<Vec<Tensor<T>>> {
        self.params.iter().map(|p| p.deep_clone()).collect()
    }
}
