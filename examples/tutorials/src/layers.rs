//! What the scratch models of T6–T8 are built from: [`Dense`], an affine layer `Z = X W + b` whose gradient
//! step is written out by hand, and [`Activation`], each activation with its forward pass and its derivative
//! written out by hand (and, for the autograd twins, the matching `nn` module).

use rand::Rng;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::init::uniform;
use torchlet::nn::{Linear, ModuleList, ReLU, Sigmoid, Softmax, Tanh};
use torchlet::tensor::Tensor;

/// An affine layer `Z = X W + b` in the notebooks' layout: `W` is `[in, out]` (transposed relative to
/// `nn.Linear.weight`), or `[in]` for a single output, in which case `Z` is `[m]` and `b` is `[1]`.
///
/// It never requires grad: the gradient step is [`Dense::step`], from the `δ = ∂L/∂Z` the caller derived.
///
/// ```
/// use torchlet_tutorials::Dense;
/// use torchlet::Tensor;
/// let layer = Dense::from_parameters(Tensor::new([[1.0, 0.0], [0.0, 2.0]]), Tensor::new([0.5, 0.0]))?;
/// let x = Tensor::new([[1.0, 1.0]]);
/// assert_eq!(layer.forward(&x)?.to_vec()?, vec![1.5, 2.0]);
/// // With δ = ∂L/∂Z: b -= lr Σ δ, W -= lr Xᵀ δ.
/// layer.step(&x, &Tensor::new([[1.0, -1.0]]), 0.5)?;
/// assert_eq!(layer.bias().to_vec()?, vec![0.0, 0.5]);
/// assert_eq!(layer.weight().to_vec()?, vec![0.5, 0.5, -0.5, 2.5]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dense<T: Element> {
    weight: Tensor<T>,
    bias: Tensor<T>,
}

impl<T: Element> Dense<T> {
    /// A layer over copies of `weight` (`[in, out]`, or `[in]`) and `bias` (`[out]`, or `[1]`).
    pub fn from_parameters(weight: Tensor<T>, bias: Tensor<T>) -> Result<Self> {
        let outputs = match weight.shape() {
            [_] => 1,
            [_, out] => *out,
            shape => return Err(Error::shape("Dense", format!("weight must be [in] or [in, out], got {shape:?}"))),
        };
        if bias.shape() != [outputs] {
            return Err(Error::shape(
                "Dense",
                format!("bias of shape {:?} does not fit weight of shape {:?}", bias.shape(), weight.shape()),
            ));
        }
        let own = |t: &Tensor<T>| t.detach().deep_clone();
        Ok(Dense { weight: own(&weight)?, bias: own(&bias)? })
    }

    /// The parameters of an `nn::Linear` in this layout: `W = weightᵀ`, `b = bias` (a missing bias is 0).
    ///
    /// ```
    /// use torchlet::{nn::Linear, Tensor};
    /// use torchlet_tutorials::Dense;
    /// let linear = Linear::from_parameters(&Tensor::new([[1.0, 2.0, 3.0]]), None)?;
    /// let layer = Dense::from_linear(&linear)?;
    /// assert_eq!((layer.weight().shape(), layer.bias().to_vec()?), (&[3, 1][..], vec![0.0]));
    /// assert_eq!(layer.linear_weight()?.to_vec()?, linear.weight().to_vec()?);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn from_linear(linear: &Linear<T>) -> Result<Self> {
        let weight = linear.weight().detach().t()?;
        let bias = match linear.bias() {
            Some(b) => b.detach(),
            None => Tensor::full_on(&[linear.out_features()], T::zero(), weight.device())?,
        };
        Self::from_parameters(weight, bias)
    }

    /// The weight, `[in, out]` or `[in]`.
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias, `[out]`.
    pub fn bias(&self) -> &Tensor<T> {
        &self.bias
    }

    /// The weight in `nn.Linear`'s `[out, in]` layout (a copy).
    pub fn linear_weight(&self) -> Result<Tensor<T>> {
        self.weight.detach().reshape(&[self.inputs(), self.outputs()])?.t()?.deep_clone()
    }

    /// The layer as an `nn::Linear` (copies of the parameters, in torch's layout).
    pub fn to_linear(&self) -> Result<Linear<T>> {
        Linear::from_parameters(&self.linear_weight()?, Some(&self.bias))
    }

    /// A copy of the layer on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        Self::from_parameters(self.weight.to(device)?, self.bias.to(device)?)
    }

    fn inputs(&self) -> usize {
        self.weight.shape()[0]
    }

    fn outputs(&self) -> usize {
        self.bias.numel()
    }

    /// `Z = X W + b`.
    pub fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.matmul(&self.weight)?.add(&self.bias)
    }

    /// `∂L/∂X = δ Wᵀ` for `δ = ∂L/∂Z`, with the current weight: call it before [`Dense::step`], which
    /// changes it.
    pub fn input_gradient(&self, delta: &Tensor<T>) -> Result<Tensor<T>> {
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let rows = delta.numel() / outputs.max(1);
        delta.reshape(&[rows, outputs])?.matmul(&self.weight.reshape(&[inputs, outputs])?.t()?)
    }

    /// One gradient-descent step from `δ = ∂L/∂Z` at input `x`: `b -= lr Σ_rows δ`, `W -= lr Xᵀ δ`.
    pub fn step(&self, x: &Tensor<T>, delta: &Tensor<T>, lr: T) -> Result<()> {
        let bias_grad = delta.sum_dim(0, false)?.reshape(self.bias.shape())?;
        let weight_grad = x.t()?.matmul(delta)?;
        self.bias.sub_(&bias_grad.mul_scalar(lr)?)?;
        self.weight.sub_(&weight_grad.mul_scalar(lr)?)?;
        Ok(())
    }
}

/// A model made of dense layers, whose parameters read out as `nn::Linear` layers: how the examples and the
/// tests compare a scratch model, an autograd model and libtorch's, whatever layout each keeps.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet_tutorials::classification::ManualLogistic;
/// use torchlet_tutorials::Layers;
/// use torchlet::Tensor;
/// let model = ManualLogistic::from_parameters(Tensor::new([1.0, 2.0]), Tensor::new([0.5]), 0.1)?;
/// let linears = model.linears()?;
/// assert_eq!(linears[0].weight().to_vec2()?, vec![vec![1.0, 2.0]]); // [out, in]
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Layers<T: Element> {
    /// Copies of the parameters as `nn::Linear` layers (weight `[out, in]`, bias `[out]`), input layer first.
    fn linears(&self) -> Result<Vec<Linear<T>>>;
}

/// The activations of the tutorials' networks, each with its forward pass and its derivative written out as
/// the notebooks write them, for the scratch models, and the `nn` module the autograd models use instead.
///
/// ```
/// use torchlet_tutorials::Activation;
/// use torchlet::Tensor;
/// let z = Tensor::new([[-1.0, 0.0, 2.0]]);
/// let a = Activation::ReLU.forward(&z)?;
/// assert_eq!(a.to_vec()?, vec![0.0, 0.0, 2.0]);
/// // dL/dZ from dL/dA: D ⊙ [A > 0].
/// assert_eq!(Activation::ReLU.backward(&Tensor::new([[5.0, 5.0, 5.0]]), &a)?.to_vec()?, vec![0.0, 0.0, 5.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// No activation: `A = Z`.
    Identity,
    /// `(1 - e^{-2z}) / (1 + e^{-2z})`, derivative `1 - A²`.
    Tanh,
    /// `1 / (1 + e^{-z})`, derivative `A (1 - A)`.
    Sigmoid,
    /// `max(z, 0)`, derivative `[A > 0]`.
    ReLU,
    /// The row softmax `exp(Z - rowmax) / rowsum`, Jacobian-vector product `A ⊙ (D - rowsum(D ⊙ A))`.
    Softmax,
}

impl Activation {
    /// `A = f(Z)`, from the notebooks' formulas (the tanh as `(1 - t)/(1 + t)` with `t = e^{-2|z|}` and the
    /// sign of `z` put back, the same value without overflow for large negative `z`).
    pub fn forward<T: Element>(self, z: &Tensor<T>) -> Result<Tensor<T>> {
        let one = T::one();
        match self {
            Activation::Identity => Ok(z.clone()),
            Activation::Tanh => {
                let t = z.abs()?.mul_scalar(T::from_f64_lossy(-2.0))?.exp()?;
                t.rsub_scalar(one)?.div(&t.add_scalar(one)?)?.mul(&z.sign()?)
            }
            Activation::Sigmoid => z.neg()?.exp()?.add_scalar(one)?.rdiv_scalar(one),
            Activation::ReLU => z.clamp_min(T::zero()),
            Activation::Softmax => softmax_rows(z),
        }
    }

    /// `∂L/∂Z` from `d = ∂L/∂A` and the activation's output `a`.
    pub fn backward<T: Element>(self, d: &Tensor<T>, a: &Tensor<T>) -> Result<Tensor<T>> {
        let one = T::one();
        match self {
            Activation::Identity => Ok(d.clone()),
            Activation::Tanh => d.mul(&a.mul(a)?.rsub_scalar(one)?),
            Activation::Sigmoid => d.mul(&a.mul(&a.rsub_scalar(one)?)?),
            Activation::ReLU => d.mul(&a.gt(&Tensor::full_on(&[], T::zero(), a.device())?)?),
            Activation::Softmax => softmax_backward(d, a),
        }
    }

    /// Appends the matching `nn` module (none for [`Activation::Identity`]) to `layers`.
    pub fn push_module<T: Element>(self, layers: &mut ModuleList<T>) {
        match self {
            Activation::Identity => {}
            Activation::Tanh => layers.push(Tanh),
            Activation::Sigmoid => layers.push(Sigmoid),
            Activation::ReLU => layers.push(ReLU),
            Activation::Softmax => layers.push(Softmax::new(1)),
        }
    }
}

/// The stable row softmax the notebooks write: `exp(Z - rowmax) / rowsum`.
///
/// ```
/// let a = torchlet_tutorials::softmax_rows(&torchlet::Tensor::new([[0.0, 0.0], [1000.0, 1000.0]]))?;
/// assert_eq!(a.to_vec()?, vec![0.5, 0.5, 0.5, 0.5]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn softmax_rows<T: Element>(z: &Tensor<T>) -> Result<Tensor<T>> {
    let (row_max, _) = z.max_dim(1, true)?;
    let e = z.sub(&row_max)?.exp()?;
    e.div(&e.sum_dim(1, true)?)
}

/// The softmax's Jacobian applied to `d = ∂L/∂A`, row by row: `A ⊙ (D - rowsum(D ⊙ A))`.
pub(crate) fn softmax_backward<T: Element>(d: &Tensor<T>, a: &Tensor<T>) -> Result<Tensor<T>> {
    a.mul(&d.sub(&d.mul(a)?.sum_dim(1, true)?)?)
}

/// A linear layer `n_in → n_out` initialised as tch's `nn::linear(.., Default::default())` initialises it
/// (libtorch's own default, which the second-derivative tutorials start from), drawn from `rng`: the weight
/// `[out, in]` from the Kaiming uniform with the ReLU gain, `U(±√(6/in))`, and the bias from `U(±1/√in)`.
/// (PyTorch's `nn.Linear` draws its weight from `U(±1/√in)`, a bound √6 times smaller.)
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let layer = torchlet_tutorials::tch_default_linear::<f64, _>(1, 32, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(layer.weight().shape(), &[32, 1]);
/// assert!(layer.weight().to_vec()?.iter().all(|w| w.abs() <= 6f64.sqrt()));
/// assert!(layer.weight().to_vec()?.iter().any(|w| w.abs() > 1.0)); // beyond nn.Linear's bound of 1
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn tch_default_linear<T: Element, R: Rng + ?Sized>(n_in: usize, n_out: usize, rng: &mut R) -> Result<Linear<T>> {
    let fan_in = n_in as f64;
    let weight = uniform::<T, R>(&[n_out, n_in], -(6.0 / fan_in).sqrt(), (6.0 / fan_in).sqrt(), rng);
    let bias = uniform::<T, R>(&[n_out], -1.0 / fan_in.sqrt(), 1.0 / fan_in.sqrt(), rng);
    Linear::from_parameters(&weight, Some(&bias))
}
