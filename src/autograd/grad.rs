//! The entry points of the backward engine: [`Tensor::backward`] and its variants, and [`grad`] /
//! [`grad_with`] (`torch.autograd.grad`), with their options.

use super::engine::{run, Sweep, Target};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The options of [`grad_with`], as `torch.autograd.grad`'s keyword arguments; [`GradOptions::new`] gives
/// torch's defaults.
///
/// ```
/// use torchlet::autograd::{grad_with, GradOptions};
/// use torchlet::Tensor;
/// let x = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
/// let y = x.square()?; // not a scalar: it needs a gradient to start from
/// let v = Tensor::new([1.0, 10.0]);
/// let options = GradOptions::new().grad_outputs(&[&v]).retain_graph(true);
/// let dx = grad_with(&[&y], &[&x], &options)?;
/// assert_eq!(dx[0].as_ref().unwrap().to_vec()?, vec![2.0, 40.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct GradOptions<T: Element> {
    grad_outputs: Option<Vec<Tensor<T>>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
}

impl<T: Element> Default for GradOptions<T> {
    fn default() -> Self {
        GradOptions { grad_outputs: None, retain_graph: None, create_graph: false, allow_unused: false }
    }
}

impl<T: Element> Clone for GradOptions<T> {
    fn clone(&self) -> Self {
        GradOptions {
            grad_outputs: self.grad_outputs.clone(),
            retain_graph: self.retain_graph,
            create_graph: self.create_graph,
            allow_unused: self.allow_unused,
        }
    }
}

impl<T: Element> GradOptions<T> {
    /// torch's defaults: no `grad_outputs` (each output must be a scalar), `retain_graph` as
    /// `create_graph`, `create_graph` off, `allow_unused` off.
    pub fn new() -> Self {
        Self::default()
    }

    /// The gradient each output starts from (`grad_outputs=`), one per output, each of its output's shape:
    /// the vector of a vector-Jacobian product. With `create_graph` the graph goes through them too.
    pub fn grad_outputs(mut self, grad_outputs: &[&Tensor<T>]) -> Self {
        self.grad_outputs = Some(grad_outputs.iter().map(|&g| g.clone()).collect());
        self
    }

    /// Whether the graph's saved tensors are kept for another backward (`retain_graph=`); by default they
    /// are kept exactly when `create_graph` is on.
    pub fn retain_graph(mut self, retain_graph: bool) -> Self {
        self.retain_graph = Some(retain_graph);
        self
    }

    /// Whether the backward is itself recorded (`create_graph=`), so that the gradients returned can be
    /// differentiated again.
    pub fn create_graph(mut self, create_graph: bool) -> Self {
        self.create_graph = create_graph;
        self
    }

    /// Whether an input that the outputs do not depend on gets `None` (`allow_unused=True`) instead of an
    /// error.
    pub fn allow_unused(mut self, allow_unused: bool) -> Self {
        self.allow_unused = allow_unused;
        self
    }
}

/// The options of [`Tensor::backward_with_options`], as `tensor.backward`'s arguments; [`BackwardOptions::new`]
/// gives torch's defaults.
pub struct BackwardOptions<T: Element> {
    pub(crate) gradient: Option<Tensor<T>>,
    retain_graph: Option<bool>,
    pub(crate) create_graph: bool,
}

impl<T: Element> Default for BackwardOptions<T> {
    fn default() -> Self {
        BackwardOptions { gradient: None, retain_graph: None, create_graph: false }
    }
}

impl<T: Element> Clone for BackwardOptions<T> {
    fn clone(&self) -> Self {
        BackwardOptions {
            gradient: self.gradient.clone(),
            retain_graph: self.retain_graph,
            create_graph: self.create_graph,
        }
    }
}

impl<T: Element> BackwardOptions<T> {
    /// torch's defaults: no `gradient` (the tensor must be a scalar), `retain_graph` as `create_graph`,
    /// `create_graph` off.
    pub fn new() -> Self {
        Self::default()
    }

    /// The gradient of the final output with respect to this tensor (`gradient=`), of its shape.
    pub fn gradient(mut self, gradient: &Tensor<T>) -> Self {
        self.gradient = Some(gradient.clone());
        self
    }

    /// Whether the graph's saved tensors are kept for another backward (`retain_graph=`); by default they
    /// are kept exactly when `create_graph` is on.
    pub fn retain_graph(mut self, retain_graph: bool) -> Self {
        self.retain_graph = Some(retain_graph);
        self
    }

    /// Whether the backward is itself recorded (`create_graph=`): the gradients accumulated into `.grad`
    /// then carry a graph and can be differentiated again.
    pub fn create_graph(mut self, create_graph: bool) -> Self {
        self.create_graph = create_graph;
        self
    }

    pub(crate) fn retains_graph(&self) -> bool {
        self.retain_graph.unwrap_or(self.create_graph)
    }
}

/// The gradient a backward starts `output` from: `gradient` (of its shape), or 1 for a one-element output.
/// Without `create_graph` it is cut from any graph it has; with it, the graph goes through it, as torch's.
#[inline]
fn seed<T: Element>(
    op: &'static str,
    output: &Tensor<T>,
    gradient: Option<&Tensor<T>>,
    create_graph: bool,
    which: &dyn Fn() -> (String, String),
    missing_hint: &str,
) -> Result<Tensor<T>> {
    match gradient {
        Some(g) if g.shape() != output.shape() => {
            let (gradient, output_name) = which();
            Err(Error::shape(
                op,
                format!("{gradient} has shape {:?} but {output_name} has shape {:?}", g.shape(), output.shape()),
            ))
        }
        Some(g) if create_graph => Ok(g.clone()),
        Some(g) => Ok(g.detach()),
        None if output.numel() != 1 => Err(Error::autograd(
            op,
            format!(
                "grad can be implicitly created only for scalar outputs, got shape {:?}; {missing_hint}",
                output.shape()
            ),
        )),
        None => output.ones_like(),
    }
}

/// The backward sweep behind [`Tensor::backward`] and its variants: gradients accumulate into `.grad`.
pub(crate) fn backward<T: Element>(
    root: &Tensor<T>,
    gradient: Option<&Tensor<T>>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<()> {
    const OP: &str = "backward";
    if !root.requires_grad() {
        return Err(Error::autograd(OP, "the tensor does not require grad and has no grad_fn"));
    }
    let which = || ("gradient".to_string(), "the output".to_string());
    let seed = seed(OP, root, gradient, create_graph, &which, "pass a gradient with backward_with")?;
    let sweep =
        Sweep { op: OP, freed_hint: "use backward_retain_graph the first time to keep it", retain_graph, create_graph };
    run([(root, seed)], Target::Accumulate, &sweep)?;
    Ok(())
}

/// The gradients of `outputs` with respect to `inputs` (`torch.autograd.grad(outputs, inputs)`), each a
/// one-element tensor, with torch's defaults; [`grad_with`] takes the options. Nothing is accumulated into
/// any `.grad`, and the graph is freed.
///
/// `inputs` may be leaves or tensors inside the graph (the gradient of `y` with respect to an intermediate
/// `h`). Each must require grad, and each must be used to compute the outputs; every entry of the result is
/// then `Some` (it is `None` only for an unused input under [`GradOptions::allow_unused`]).
///
/// ```
/// use torchlet::autograd::grad;
/// use torchlet::Tensor;
/// let x = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
/// let h = x.mul_scalar(3.0)?;
/// let y = h.square()?.sum()?;
/// let g = grad(&[&y], &[&x, &h])?;
/// assert_eq!(g[0].as_ref().unwrap().to_vec()?, vec![18.0, 36.0]); // 18 x
/// assert_eq!(g[1].as_ref().unwrap().to_vec()?, vec![6.0, 12.0]); // 2 h
/// assert!(x.grad().is_none());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn grad<T: Element>(outputs: &[&Tensor<T>], inputs: &[&Tensor<T>]) -> Result<Vec<Option<Tensor<T>>>> {
    grad_with(outputs, inputs, &GradOptions::new())
}

/// [`grad`] with torch's options ([`GradOptions`]): the gradients the outputs start from, whether the graph
/// is kept, whether the backward is itself recorded so that the result can be differentiated again, and
/// whether an unused input is allowed.
///
/// ```
/// use torchlet::autograd::{grad, grad_with, GradOptions};
/// use torchlet::Tensor;
/// // A Hessian-vector product: H v = d/dx (∇f(x) · v), for f(x) = Σ x³, H = diag(6x).
/// let x = Tensor::new([1.0, -2.0]).requires_grad_(true)?;
/// let v = Tensor::new([1.0, 0.5]);
/// let g = grad_with(&[&x.powi(3)?.sum()?], &[&x], &GradOptions::new().create_graph(true))?.remove(0).unwrap();
/// let hv = grad(&[&g.mul(&v)?.sum()?], &[&x])?.remove(0).unwrap();
/// assert_eq!(hv.to_vec()?, vec![6.0, -6.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn grad_with<T: Element>(
    outputs: &[&Tensor<T>],
    inputs: &[&Tensor<T>],
    options: &GradOptions<T>,
) -> Result<Vec<Option<Tensor<T>>>> {
    const OP: &str = "grad";
    if outputs.is_empty() || inputs.is_empty() {
        return Err(Error::invalid(
            OP,
            format!("grad requires non-empty outputs and inputs, got {} and {}", outputs.len(), inputs.len()),
        ));
    }
    if let Some(gs) = &options.grad_outputs {
        if gs.len() != outputs.len() {
            return Err(Error::invalid(
                OP,
                format!("grad_outputs has {} tensors for {} outputs; give one per output", gs.len(), outputs.len()),
            ));
        }
    }
    if let Some(i) = inputs.iter().position(|x| !x.requires_grad()) {
        return Err(Error::autograd(
            OP,
            format!(
                "One of the differentiated Tensors does not require grad (input {i}, shape {:?})",
                inputs[i].shape()
            ),
        ));
    }
    let mut roots = Vec::with_capacity(outputs.len());
    for (i, &output) in outputs.iter().enumerate() {
        if !output.requires_grad() {
            return Err(Error::autograd(
                OP,
                format!("element {i} of outputs does not require grad and does not have a grad_fn"),
            ));
        }
        let gradient = options.grad_outputs.as_ref().map(|gs| &gs[i]);
        let which = || (format!("grad_outputs[{i}]"), format!("outputs[{i}]"));
        let hint = "pass one with GradOptions::grad_outputs";
        roots.push((output, seed(OP, output, gradient, options.create_graph, &which, hint)?));
    }
    let sweep = Sweep {
        op: OP,
        freed_hint: "pass GradOptions::retain_graph(true) the first time to keep it",
        retain_graph: options.retain_graph.unwrap_or(options.create_graph),
        create_graph: options.create_graph,
    };
    let found = run(roots, Target::Capture(inputs), &sweep)?;
    if !options.allow_unused {
        if let Some(i) = found.iter().position(Option::is_none) {
            return Err(Error::autograd(
                OP,
                format!(
                    "One of the differentiated Tensors appears to not have been used in the graph (input {i}, shape \
                     {:?}); set GradOptions::allow_unused(true) if this is the desired behavior",
                    inputs[i].shape()
                ),
            ));
        }
    }
    Ok(found)
}

impl<T: Element> Tensor<T> {
    /// Runs backward from this one-element tensor (`loss.backward()`): gradients accumulate into the
    /// `.grad` of every leaf that requires grad, and the graph's saved tensors are freed.
    pub fn backward(&self) -> Result<()> {
        backward(self, None, false, false)
    }

    /// Backward from a tensor of any shape, given the gradient of the final output with respect to it
    /// (`tensor.backward(gradient)`).
    pub fn backward_with(&self, gradient: &Tensor<T>) -> Result<()> {
        backward(self, Some(gradient), false, false)
    }

    /// Backward that keeps the graph, so it can be run again (`backward(retain_graph=True)`).
    pub fn backward_retain_graph(&self, gradient: Option<&Tensor<T>>) -> Result<()> {
        backward(self, gradient, true, false)
    }

    /// Backward with all of torch's options (`tensor.backward(gradient, retain_graph, create_graph)`):
    /// with `create_graph` the backward is itself recorded, so the `.grad` it accumulates carries a graph
    /// and can be differentiated again (a gradient penalty, a Hessian-vector product).
    ///
    /// ```
    /// use torchlet::autograd::BackwardOptions;
    /// use torchlet::Tensor;
    /// let x = Tensor::new([1.0, 3.0]).requires_grad_(true)?;
    /// x.powi(3)?.sum()?.backward_with_options(&BackwardOptions::new().create_graph(true))?;
    /// let g = x.grad().unwrap(); // 3x², with its graph
    /// assert_eq!(g.to_vec()?, vec![3.0, 27.0]);
    /// x.zero_grad();
    /// g.sum()?.backward()?; // d/dx Σ 3x² = 6x
    /// assert_eq!(x.grad().unwrap().to_vec()?, vec![6.0, 18.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn backward_with_options(&self, options: &BackwardOptions<T>) -> Result<()> {
        backward(self, options.gradient.as_ref(), options.retains_graph(), options.create_graph)
    }
}
