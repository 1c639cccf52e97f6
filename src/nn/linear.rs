//! `nn.Linear`: `y = x Wᵀ + b`, with torch's default initialisation.

use super::init::{kaiming_uniform_bound, uniform};
use super::Module;
use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::Rng;

/// A fully connected layer (`torch.nn.Linear`): weight `[out, in]`, optional bias `[out]`, `y = x Wᵀ + b`.
///
/// Both parameters are leaves with `requires_grad = true`. Inputs are `[*, in]` → `[*, out]` as in torch: any
/// leading dims (`[batch, in]`, `[batch, seq, in]`, ...) or none (`[in]` → `[out]`).
///
/// ```
/// use torchlet::nn::{Linear, Module};
/// use torchlet::Tensor;
///
/// let model = Linear::<f64>::new(3, 2);
/// let y = model.forward(&Tensor::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0]]))?;
/// assert_eq!(y.shape(), &[2, 2]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Linear<T: Element> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
}

impl<T: Element> Linear<T> {
    /// `nn.Linear(in_features, out_features)`: a layer with a bias and torch's default init, drawn from
    /// the default generator ([`crate::manual_seed`]).
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// torchlet::manual_seed(0);
    /// let model = Linear::<f32>::new(4, 2);
    /// assert_eq!((model.weight().shape(), model.bias().map(|b| b.shape().to_vec())), (&[2, 4][..], Some(vec![2])));
    /// ```
    pub fn new(in_features: usize, out_features: usize) -> Self {
        crate::random::with_default_generator(|rng| Self::with_rng(in_features, out_features, true, rng))
    }

    /// `nn.Linear(in_features, out_features, bias=False)`, from the default generator.
    pub fn without_bias(in_features: usize, out_features: usize) -> Self {
        crate::random::with_default_generator(|rng| Self::with_rng(in_features, out_features, false, rng))
    }

    /// A layer with torch's default init, drawn from `rng`: weight and bias ~ U(-1/√in, 1/√in)
    /// (kaiming_uniform with a = √5; the bias bound is 0 when `in_features` is 0). The weight is drawn first,
    /// then the bias, as torch does.
    ///
    /// ```
    /// use torchlet::rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet::nn::Linear::<f32>::with_rng(4, 2, true, &mut StdRng::seed_from_u64(7));
    /// assert_eq!(model.weight().shape(), &[2, 4]);
    /// assert!(model.weight().to_vec()?.iter().all(|w| w.abs() <= 0.5));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn with_rng<R: Rng + ?Sized>(in_features: usize, out_features: usize, bias: bool, rng: &mut R) -> Self {
        let shape = [out_features, in_features];
        // torch's kaiming_uniform_ with a = sqrt(5); its bound works out to 1/sqrt(in) up to rounding.
        let weight_bound = kaiming_uniform_bound(in_features, 5f64.sqrt());
        let weight = uniform(&shape, -weight_bound, weight_bound, rng);
        let bias = bias.then(|| {
            let bound = if in_features > 0 { 1.0 / (in_features as f64).sqrt() } else { 0.0 };
            uniform(&[out_features], -bound, bound, rng)
        });
        Self::from_leaves(weight, bias)
    }

    /// A layer holding copies of the given values: `weight` `[out, in]` and `bias` `[out]` (or none). The
    /// copies are fresh leaves that require grad, so the arguments are left untouched.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[2.0, -1.0]]), Some(&Tensor::new([0.5])))?;
    /// assert_eq!(model.forward(&Tensor::new([3.0, 4.0]))?.to_vec()?, vec![2.5]);
    /// assert!(Linear::from_parameters(&Tensor::new([[2.0, -1.0]]), Some(&Tensor::new([0.5, 1.0]))).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn from_parameters(weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Result<Self> {
        if weight.rank() != 2 {
            return Err(Error::shape(
                "Linear",
                format!("weight must be 2-D [out_features, in_features], got shape {:?}", weight.shape()),
            ));
        }
        if let Some(b) = bias {
            check_bias_shape(b, weight.shape()[0])?;
        }
        let copy = |t: &Tensor<T>| no_grad(|| t.deep_clone());
        let bias = bias.map(copy).transpose()?;
        Ok(Self::from_leaves(copy(weight)?, bias))
    }

    fn from_leaves(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Self {
        let leaf = |t: Tensor<T>| t.requires_grad_(true).expect("a fresh tensor is a leaf");
        Linear { weight: leaf(weight), bias: bias.map(leaf) }
    }

    /// The weight, `[out_features, in_features]` (`linear.weight`): the parameter itself, not a copy.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet::nn::Linear::<f64>::with_rng(2, 1, false, &mut StdRng::seed_from_u64(0));
    /// assert!(model.weight().is_leaf() && model.weight().requires_grad());
    /// ```
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias, `[out_features]`, or `None` for a layer built with `bias = false` (`linear.bias`).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet::nn::Linear::<f64>::with_rng(2, 3, true, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(model.bias().unwrap().shape(), &[3]);
    /// ```
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// A copy of this layer with its parameters on `device` (`linear.to(device)`), fresh leaves that
    /// require grad.
    ///
    /// ```
    /// use torchlet::{nn::Linear, Device, Tensor};
    /// let model = Linear::from_parameters(&Tensor::<f32>::new([[1.0, 2.0]]), None)?.to(Device::Cpu)?;
    /// assert_eq!(model.weight().device(), Device::Cpu);
    /// assert!(model.to(Device::Cuda(7)).is_err() || torchlet::cuda::device_count() > 7);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: crate::Device) -> Result<Self> {
        let bias = self.bias.as_ref().map(|b| b.to(device)).transpose()?;
        Self::from_parameters(&self.weight.to(device)?, bias.as_ref())
    }

    /// The number of input features (`linear.in_features`).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// assert_eq!(torchlet::nn::Linear::<f32>::with_rng(5, 3, true, &mut StdRng::seed_from_u64(0)).in_features(), 5);
    /// ```
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The number of output features (`linear.out_features`).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// assert_eq!(torchlet::nn::Linear::<f32>::with_rng(5, 3, true, &mut StdRng::seed_from_u64(0)).out_features(), 3);
    /// ```
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Overwrites the weight's values with `weight` (`with torch.no_grad(): linear.weight.copy_(w)`). The
    /// parameter stays the same tensor, so an optimizer built on it keeps working. Shapes must match.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::Tensor;
    /// let model = torchlet::nn::Linear::<f64>::with_rng(2, 1, false, &mut StdRng::seed_from_u64(0));
    /// model.set_weight(&Tensor::new([[10.0, 20.0]]))?;
    /// assert_eq!(model.weight().to_vec()?, vec![10.0, 20.0]);
    /// assert!(model.set_weight(&Tensor::new([10.0, 20.0])).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn set_weight(&self, weight: &Tensor<T>) -> Result<()> {
        if weight.shape() != self.weight.shape() {
            return Err(Error::shape(
                "Linear::set_weight",
                format!(
                    "weight of shape {:?} for a layer whose weight has shape {:?}",
                    weight.shape(),
                    self.weight.shape()
                ),
            ));
        }
        no_grad(|| self.weight.copy_(weight).map(|_| ()))
    }

    /// Overwrites the bias's values with `bias`, as [`Linear::set_weight`] does the weight. Fails for a
    /// layer without bias or on a shape mismatch.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::Tensor;
    /// let model = torchlet::nn::Linear::<f64>::with_rng(2, 1, true, &mut StdRng::seed_from_u64(0));
    /// model.set_bias(&Tensor::new([0.25]))?;
    /// assert_eq!(model.bias().unwrap().to_vec()?, vec![0.25]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn set_bias(&self, bias: &Tensor<T>) -> Result<()> {
        let Some(own) = &self.bias else {
            return Err(Error::invalid("Linear::set_bias", "the layer was built with bias = false"));
        };
        check_bias_shape(bias, self.out_features())?;
        no_grad(|| own.copy_(bias).map(|_| ()))
    }
}

fn check_bias_shape<T: Element>(bias: &Tensor<T>, out_features: usize) -> Result<()> {
    if bias.shape() != [out_features] {
        return Err(Error::shape(
            "Linear",
            format!("bias must have shape [{out_features}] (out_features), got {:?}", bias.shape()),
        ));
    }
    Ok(())
}

impl<T: Element> Module<T> for Linear<T> {
    /// `x Wᵀ + b` for `x` of shape `[*, in]` (`F.linear`): the leading dims, if any, are kept; the transpose
    /// is a stride swap, not a copy.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module};
    /// use torchlet::Tensor;
    /// let model = Linear::from_parameters(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]), None)?;
    /// assert_eq!(model.forward(&Tensor::new([[1.0, 1.0]]))?.to_vec2()?, vec![vec![3.0, 7.0]]);
    /// assert_eq!(model.forward(&Tensor::ones(&[4, 5, 2]))?.shape(), &[4, 5, 2]);
    /// assert!(model.forward(&Tensor::new([1.0, 1.0, 1.0])).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        let Some(&features) = input.shape().last() else {
            return Err(Error::shape(
                "Linear",
                format!(
                    "expected an input of shape [*, in_features] with at least one dim, got shape {:?}",
                    input.shape()
                ),
            ));
        };
        if features != self.in_features() {
            return Err(Error::shape(
                "Linear",
                format!(
                    "input of shape {:?} has {features} features, but in_features is {}",
                    input.shape(),
                    self.in_features()
                ),
            ));
        }
        input.linear(&self.weight, self.bias.as_ref())
    }

    /// `weight`, then `bias` if the layer has one (torch's names and order).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::nn::{Linear, Module};
    /// let model = Linear::<f64>::with_rng(2, 1, true, &mut StdRng::seed_from_u64(0));
    /// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["weight", "bias"]);
    /// ```
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut params = vec![("weight".to_string(), self.weight.clone())];
        params.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        params
    }
}

impl<T: Element> std::fmt::Debug for Linear<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            self.bias.is_some()
        )
    }
}
