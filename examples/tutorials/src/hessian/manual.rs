//! T11a's hand-derived twin: a two-layer tanh network whose gradient and Hessian-vector product are written
//! out, the product forward-over-reverse.

use crate::{Activation, Dense};
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// `Ŷ = tanh(X W₁ + b₁) W₂ + b₂` with the loss `L = Σ (Ŷ − Y)² / numel(Y)`, in the notebooks' layout (`W` is
/// `[in, out]`), with its gradient and its Hessian-vector product derived by hand.
///
/// The backward pass, with `Z = X W₁ + b₁`, `A = tanh Z`: `D = 2(Ŷ − Y)/N`, `∂W₂ = AᵀD`, `∂b₂ = colsum D`,
/// `E = D W₂ᵀ`, `Δ = E ⊙ (1 − A²)`, `∂W₁ = XᵀΔ`, `∂b₁ = colsum Δ`.
///
/// `H v` is the derivative of that gradient along `v = (V₁, c₁, V₂, c₂)`: writing `Ṙ` for the derivative of
/// each quantity along `v` (forward mode over the reverse pass), `Ż = X V₁ + c₁`, `Ȧ = (1 − A²) ⊙ Ż`,
/// `Ẏ = Ȧ W₂ + A V₂ + c₂`, `Ḋ = 2Ẏ/N`, then `(∂W₂)˙ = ȦᵀD + AᵀḊ`, `(∂b₂)˙ = colsum Ḋ`, `Ė = Ḋ W₂ᵀ + D V₂ᵀ`,
/// `Δ̇ = Ė ⊙ (1 − A²) − 2 E ⊙ A ⊙ Ȧ` (from tanh″ = −2 tanh · tanh′), `(∂W₁)˙ = XᵀΔ̇`, `(∂b₁)˙ = colsum Δ̇`.
/// One forward and one backward pass, each carrying its directional derivative: no Hessian is formed.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{Linear, Module};
/// use torchlet::Tensor;
/// use torchlet_tutorials::hessian::{hessian_vector_product, network, relative_error, TanhNet};
/// use torchlet_tutorials::Activation;
/// let mut rng = StdRng::seed_from_u64(0);
/// let linears = vec![Linear::<f64>::with_rng(6, 4, true, &mut rng), Linear::with_rng(4, 3, true, &mut rng)];
/// let (x, y) = (Tensor::randn_with(&[5, 6], &mut rng), Tensor::randn_with(&[5, 3], &mut rng));
/// let net = network(&linears, &[Activation::Tanh, Activation::Identity])?;
/// let v: Vec<Tensor<f64>> = net.parameters().iter().map(|p| Tensor::randn_with(p.shape(), &mut rng)).collect();
/// let by_hand = TanhNet::new(&linears[0], &linears[1])?.hessian_vector_product(&x, &y, &v)?;
/// let autograd = hessian_vector_product(&net, &x, &y, &v)?;
/// assert!(relative_error(&by_hand, &autograd.hv)? < 1e-13);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TanhNet<T: Element> {
    first: Dense<T>,
    second: Dense<T>,
}

/// The forward pass's values that the backward passes reuse.
struct Forward<T: Element> {
    a: Tensor<T>,
    /// `1 − A²`, tanh′ at Z.
    slope: Tensor<T>,
    y_hat: Tensor<T>,
}

impl<T: Element> TanhNet<T> {
    /// The network over copies of the parameters of `first` (`Linear(in, hidden)`, followed by tanh) and
    /// `second` (`Linear(hidden, out)`).
    pub fn new(first: &Linear<T>, second: &Linear<T>) -> Result<Self> {
        if first.out_features() != second.in_features() {
            return Err(Error::shape("TanhNet", "the second layer must take the first one's outputs"));
        }
        Ok(TanhNet { first: Dense::from_linear(first)?, second: Dense::from_linear(second)? })
    }

    fn forward(&self, x: &Tensor<T>) -> Result<Forward<T>> {
        let a = Activation::Tanh.forward(&self.first.forward(x)?)?;
        let slope = a.mul(&a)?.rsub_scalar(T::one())?;
        let y_hat = self.second.forward(&a)?;
        Ok(Forward { a, slope, y_hat })
    }

    /// L at `(x, y)`.
    pub fn loss(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let diff = self.forward(x)?.y_hat.sub(y)?;
        diff.mul(&diff)?.mean()?.item()
    }

    /// `2 / numel(y)`, the factor of `∂L/∂Ŷ`.
    fn two_over_n(y: &Tensor<T>) -> T {
        T::from_f64_lossy(2.0 / y.numel() as f64)
    }

    /// ∇L at `(x, y)` in `nn.Linear`'s layout and order: `[∂W₁ᵀ, ∂b₁, ∂W₂ᵀ, ∂b₂]`.
    pub fn gradient(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<Vec<Tensor<T>>> {
        let f = self.forward(x)?;
        let d = f.y_hat.sub(y)?.mul_scalar(Self::two_over_n(y))?;
        let delta = d.matmul(&self.second.weight().t()?)?.mul(&f.slope)?;
        Ok(vec![x.t()?.matmul(&delta)?.t()?, delta.sum_dim(0, false)?, f.a.t()?.matmul(&d)?.t()?, d.sum_dim(0, false)?])
    }

    /// `H v` at `(x, y)` for a direction `v` given, as the result, in `nn.Linear`'s layout and order
    /// (`[V₁ᵀ, c₁, V₂ᵀ, c₂]`): forward-over-reverse, as the type's documentation writes it out.
    pub fn hessian_vector_product(&self, x: &Tensor<T>, y: &Tensor<T>, v: &[Tensor<T>]) -> Result<Vec<Tensor<T>>> {
        let [v1, c1, v2, c2] = v else {
            return Err(Error::invalid("TanhNet::hessian_vector_product", "v needs four tensors"));
        };
        let (v1, v2) = (v1.t()?, v2.t()?);
        let (w2, two_over_n) = (self.second.weight(), Self::two_over_n(y));
        let f = self.forward(x)?;
        // Forward, with the directional derivatives.
        let a_dot = x.matmul(&v1)?.add(c1)?.mul(&f.slope)?;
        let y_dot = a_dot.matmul(w2)?.add(&f.a.matmul(&v2)?)?.add(c2)?;
        // Backward, with the directional derivatives.
        let d = f.y_hat.sub(y)?.mul_scalar(two_over_n)?;
        let d_dot = y_dot.mul_scalar(two_over_n)?;
        let e = d.matmul(&w2.t()?)?;
        let e_dot = d_dot.matmul(&w2.t()?)?.add(&d.matmul(&v2.t()?)?)?;
        let tanh_second = e.mul(&f.a)?.mul(&a_dot)?.mul_scalar(T::from_f64_lossy(2.0))?;
        let delta_dot = e_dot.mul(&f.slope)?.sub(&tanh_second)?;
        Ok(vec![
            x.t()?.matmul(&delta_dot)?.t()?,
            delta_dot.sum_dim(0, false)?,
            a_dot.t()?.matmul(&d)?.add(&f.a.t()?.matmul(&d_dot)?)?.t()?,
            d_dot.sum_dim(0, false)?,
        ])
    }
}
