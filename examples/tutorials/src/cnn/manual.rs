//! T10 from scratch: the network's stages run forward keeping what their backward needs, then backward in
//! reverse order, each with its gradient written out, and the parameters updated by [`HandAdam`].

use super::im2col::{conv2d_backward, conv2d_forward, max_pool2x2, max_pool2x2_backward};
use super::{as_linears, check_parameters, HandAdam, Stage, CLASSES, PADDING, STAGES};
use crate::classification::{argmax_accuracy, Classifier};
use crate::Layers;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// What a stage's backward pass needs from its forward pass.
enum Saved<T: Element> {
    /// A convolution's im2col columns and its input's shape.
    Conv(Tensor<T>, Vec<usize>),
    /// The ReLU's output: its derivative is `[A > 0]`.
    Relu(Tensor<T>),
    /// The pooling's one-hot choice per window.
    Pool(Tensor<T>),
    /// The shape before flattening.
    Flatten(Vec<usize>),
    /// A linear layer's input.
    Linear(Tensor<T>),
}

/// T10 from scratch, with the parameters in torch's layout (convolution weights `[O, C, 3, 3]`, linear
/// weights `[out, in]`):
/// - convolution: `Y = im2col(X) W2ᵀ + b`; backward `gW = dYᵀ im2col(X)`, `gb = Σ dY`, `dX = col2im(dY W2)`
///   (see [`super::conv2d_forward`], [`super::conv2d_backward`]);
/// - ReLU: `A = max(Z, 0)`, `dZ = dA ⊙ [A > 0]`;
/// - 2×2 max pooling: the gradient goes to the entry each window kept ([`super::max_pool2x2_backward`]);
/// - linear, as T9: `Z = X Wᵀ + b`, `gW = dZᵀ X`, `gb = Σ dZ`, `dX = dZ W`;
/// - the loss: the mean cross-entropy of the logits, from `log softmax = Z − rowmax − log Σ exp(Z − rowmax)`,
///   and its gradient `(softmax(Z) − onehot(y)) / B`;
/// - the update: Adam written out ([`HandAdam`]).
///
/// No autograd graph is built: the parameters never require grad.
#[derive(Debug, Clone)]
pub struct ManualCnn<T: Element> {
    params: Vec<Tensor<T>>,
    adam: HandAdam<T>,
}

impl<T: Element> ManualCnn<T> {
    /// The network over copies of `params` (as [`super::initial_parameters`] lists them), trained with Adam at
    /// `lr`.
    pub fn new(params: &[Tensor<T>], lr: f64) -> Result<Self> {
        check_parameters("ManualCnn", params)?;
        let params = params.iter().map(|p| p.detach().deep_clone()).collect::<Result<Vec<_>>>()?;
        Ok(ManualCnn { adam: HandAdam::new(params.len(), lr)?, params })
    }

    /// The parameters, in the order of [`super::initial_parameters`].
    pub fn parameters(&self) -> &[Tensor<T>] {
        &self.params
    }

    /// The weight and bias of convolution `i`, or of linear layer `i`.
    fn conv(&self, i: usize) -> (&Tensor<T>, &Tensor<T>) {
        (&self.params[2 * i], &self.params[2 * i + 1])
    }

    fn linear(&self, i: usize) -> (&Tensor<T>, &Tensor<T>) {
        self.conv(4 + i)
    }

    /// The logits, and what each stage keeps for the backward pass.
    fn forward(&self, x: &Tensor<T>) -> Result<(Tensor<T>, Vec<Saved<T>>)> {
        let mut saved = Vec::with_capacity(STAGES.len());
        let mut h = x.clone();
        for stage in STAGES {
            let (out, keep) = match stage {
                Stage::Conv(i) => {
                    let (w, b) = self.conv(i);
                    let (out, cols) = conv2d_forward(&h, w, b, PADDING)?;
                    (out, Saved::Conv(cols, h.shape().to_vec()))
                }
                Stage::Relu => {
                    let a = h.clamp_min(T::zero())?;
                    (a.clone(), Saved::Relu(a))
                }
                Stage::Pool => {
                    let (out, choice) = max_pool2x2(&h)?;
                    (out, Saved::Pool(choice))
                }
                Stage::Flatten => (h.flatten(1, -1)?, Saved::Flatten(h.shape().to_vec())),
                Stage::Linear(i) => {
                    let (w, b) = self.linear(i);
                    (h.matmul(&w.t()?)?.add(b)?, Saved::Linear(h))
                }
            };
            saved.push(keep);
            h = out;
        }
        Ok((h, saved))
    }

    /// `(log softmax(Z), mean cross-entropy)` against one-hot rows, written out.
    pub(crate) fn log_softmax_loss(logits: &Tensor<T>, onehot: &Tensor<T>) -> Result<(Tensor<T>, T)> {
        let (row_max, _) = logits.max_dim(1, true)?;
        let shifted = logits.sub(&row_max)?;
        let log_p = shifted.sub(&shifted.exp()?.sum_dim(1, true)?.log()?)?;
        let batch = T::from_usize(logits.shape()[0]).unwrap_or_else(T::nan);
        let loss = log_p.mul(onehot)?.sum()?.neg()?.div_scalar(batch)?.item()?;
        Ok((log_p, loss))
    }

    /// The gradients of every parameter, in their order, from the loss gradient of the logits.
    fn backward(&self, d_logits: Tensor<T>, saved: Vec<Saved<T>>) -> Result<Vec<Tensor<T>>> {
        let mut grads: Vec<Option<Tensor<T>>> = vec![None; self.params.len()];
        let mut d = d_logits;
        let zero = Tensor::full_on(&[], T::zero(), d.device())?;
        for (index, (stage, keep)) in STAGES.iter().zip(saved).enumerate().rev() {
            d = match (stage, keep) {
                (Stage::Linear(i), Saved::Linear(x)) => {
                    let (w, _) = self.linear(*i);
                    grads[8 + 2 * i] = Some(d.t()?.matmul(&x)?);
                    grads[9 + 2 * i] = Some(d.sum_dim(0, false)?);
                    d.matmul(w)?
                }
                (Stage::Relu, Saved::Relu(a)) => d.mul(&a.gt(&zero)?)?,
                (Stage::Flatten, Saved::Flatten(shape)) => d.reshape(&shape)?,
                (Stage::Pool, Saved::Pool(choice)) => max_pool2x2_backward(&d, &choice)?,
                (Stage::Conv(i), Saved::Conv(cols, shape)) => {
                    let (w, _) = self.conv(*i);
                    // The network's input needs no gradient.
                    let input = (index > 0).then_some(shape.as_slice());
                    let g = conv2d_backward(&d, &cols, w, PADDING, input)?;
                    grads[2 * i] = Some(g.weight);
                    grads[2 * i + 1] = Some(g.bias);
                    match g.input {
                        Some(dx) => dx,
                        None => break,
                    }
                }
                _ => unreachable!("every stage saves its own kind"),
            };
        }
        grads
            .into_iter()
            .map(|g| g.ok_or_else(|| torchlet::Error::invalid("ManualCnn", "a parameter got no gradient")))
            .collect()
    }
}

impl<T: Element> Layers<T> for ManualCnn<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        as_linears(&self.params)
    }
}

impl<T: Element> Classifier<T> for ManualCnn<T> {
    /// The logits.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(self.forward(x)?.0)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let onehot = y.one_hot(CLASSES)?;
        let (logits, saved) = self.forward(x)?;
        let (log_p, loss) = Self::log_softmax_loss(&logits, &onehot)?;
        let batch = T::from_usize(x.shape()[0]).unwrap_or_else(T::nan);
        let d_logits = log_p.exp()?.sub(&onehot)?.div_scalar(batch)?;
        let grads = self.backward(d_logits, saved)?;
        let params: Vec<&Tensor<T>> = self.params.iter().collect();
        self.adam.step(&params, &grads)?;
        Ok(loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let logits = self.predict(x)?;
        Ok((Self::log_softmax_loss(&logits, &y.one_hot(CLASSES)?)?.1, argmax_accuracy(&logits, y)?))
    }

    /// Fresh Adam moments at learning rate `lr`, as a fresh `torch.optim.Adam`.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.adam = HandAdam::new(self.params.len(), lr)?;
        Ok(())
    }
}
