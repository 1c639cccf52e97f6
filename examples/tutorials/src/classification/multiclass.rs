//! T7, multiclass classification: `A = softmax(X W + b)` trained on the cross-entropy against one-hot
//! targets, from scratch (the softmax Jacobian written out) and with `nn` + autograd.

use super::{argmax_accuracy, Classifier};
use crate::layers::softmax_backward;
use crate::{copy_linear, learning_rate, sgd_step, softmax_rows, Dense, Layers, Split};
use rand::Rng;
use torchlet::autograd::no_grad;
use torchlet::data::{make_classification, one_hot, MakeClassification};
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::{CrossEntropyLoss, Linear, Module};
use torchlet::optim::SGD;
use torchlet::tensor::Tensor;

/// The number of classes of T7.
const CLASSES: usize = 3;

/// T7's data: `make_classification(n_samples=10_100, n_features=5, n_classes=3, n_informative=4,
/// n_redundant=0)` drawn from `seed`, targets one-hot `[m, 3]`; the first 100 rows train, the other 10 000
/// validate.
///
/// ```
/// let data = torchlet_tutorials::classification::multiclass_data(0)?;
/// assert_eq!((data.x_train.shape(), data.y_valid.shape()), (&[100, 5][..], &[10_000, 3][..]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn multiclass_data(seed: u64) -> Result<Split<f64>> {
    let config = MakeClassification {
        n_samples: 10_100,
        n_features: 5,
        n_classes: CLASSES,
        n_informative: 4,
        n_redundant: 0,
        seed,
        ..Default::default()
    };
    let data = make_classification::<f64>(&config)?;
    Split::head(&data.x, &one_hot(&data.y, CLASSES)?, 100)
}

/// The notebook's loss, `CE = -Σ(Y ⊙ log A)/m`, as a number.
fn cross_entropy<T: Element>(a: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
    let m = T::from_usize(y.shape()[0]).unwrap_or_else(T::nan);
    y.mul(&a.log()?)?.sum()?.neg()?.div_scalar(m)?.item()
}

/// T7 from scratch: `A = softmax(X W + b)` (`W` `[f, C]`, `b` `[C]`), and the gradient in the notebook's
/// general form, through the softmax's Jacobian rather than the fused `(A - Y)/m`: `D = -(Y ⊘ A)/m`, then
/// `D = A ⊙ (D - rowsum(D ⊙ A))`; `b -= lr colsum(D)`, `W -= lr Xᵀ D`. No autograd graph is built.
///
/// ```
/// use torchlet_tutorials::classification::{Classifier, ManualSoftmax};
/// use torchlet::Tensor;
/// let mut model = ManualSoftmax::from_parameters(Tensor::zeros(&[1, 2]), Tensor::zeros(&[2]), 1.0)?;
/// // A = [0.5, 0.5]; the Jacobian form gives D = A - Y = [-0.5, 0.5].
/// model.train_step(&Tensor::new([[1.0]]), &Tensor::new([[1.0, 0.0]]))?;
/// assert_eq!(model.weight().to_vec()?, vec![0.5, -0.5]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ManualSoftmax<T: Element> {
    dense: Dense<T>,
    lr: T,
}

impl<T: Element> ManualSoftmax<T> {
    /// A model over copies of `W` `[f, C]` and `b` `[C]`, trained with learning rate `lr`.
    pub fn from_parameters(w: Tensor<T>, b: Tensor<T>, lr: f64) -> Result<Self> {
        Ok(ManualSoftmax { dense: Dense::from_parameters(w, b)?, lr: learning_rate(lr)? })
    }

    /// The notebook's own start: `W` and `b` drawn from N(0, 1).
    pub fn random<R: Rng + ?Sized>(n_features: usize, n_classes: usize, lr: f64, rng: &mut R) -> Result<Self> {
        Self::from_parameters(
            Tensor::randn_with(&[n_features, n_classes], rng),
            Tensor::randn_with(&[n_classes], rng),
            lr,
        )
    }

    /// Copies the parameters of an `nn::Linear(f, C)`: `W = weight.T`, `b = bias`.
    pub fn copy_from_linear(&mut self, linear: &Linear<T>) -> Result<()> {
        self.dense = Dense::from_linear(linear)?;
        Ok(())
    }

    /// A copy of the model with its parameters on `device`.
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        Ok(ManualSoftmax { dense: self.dense.to(device)?, lr: self.lr })
    }

    /// `W`, `[f, C]`.
    pub fn weight(&self) -> &Tensor<T> {
        self.dense.weight()
    }

    /// `b`, `[C]`.
    pub fn bias(&self) -> &Tensor<T> {
        self.dense.bias()
    }
}

impl<T: Element> Layers<T> for ManualSoftmax<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        Ok(vec![self.dense.to_linear()?])
    }
}

impl<T: Element> Classifier<T> for ManualSoftmax<T> {
    /// `A = softmax(X W + b)`, `[m, C]`.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        softmax_rows(&self.dense.forward(x)?)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let a = self.predict(x)?;
        let loss = cross_entropy(&a, y)?;
        let m = T::from_usize(y.shape()[0]).unwrap_or_else(T::nan);
        let d = y.div(&a)?.div_scalar(m)?.neg()?;
        self.dense.step(x, &softmax_backward(&d, &a)?, self.lr)?;
        Ok(loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        let a = self.predict(x)?;
        Ok((cross_entropy(&a, y)?, argmax_accuracy(&a, y)?))
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = learning_rate(lr)?;
        Ok(())
    }
}

/// T7 with torch's parts: `Linear(f, C)`, `CrossEntropyLoss()` on the logits against the one-hot
/// probabilities, `SGD(lr)`; its `forward` (what [`Classifier::predict`] returns) is `Softmax(dim=1)` of the
/// logits.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet_tutorials::classification::{AutodiffSoftmax, Classifier, ManualSoftmax};
/// use torchlet::Tensor;
/// let linear = Linear::from_parameters(&Tensor::new([[0.3, -0.2], [0.1, 0.4], [0.0, 0.2]]), Some(&Tensor::zeros(&[3])))?;
/// let mut scratch = ManualSoftmax::from_parameters(Tensor::zeros(&[2, 3]), Tensor::zeros(&[3]), 0.1)?;
/// scratch.copy_from_linear(&linear)?;
/// let mut autograd = AutodiffSoftmax::new(linear, 0.1)?;
/// let (x, y) = (Tensor::new([[1.0, 2.0], [-1.0, 0.5]]), Tensor::new([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]));
/// for _ in 0..5 {
///     let (a, b): (f64, f64) = (scratch.train_step(&x, &y)?, autograd.train_step(&x, &y)?);
///     assert!((a - b).abs() < 1e-15);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct AutodiffSoftmax<T: Element> {
    linear: Linear<T>,
    criterion: CrossEntropyLoss<T>,
    optimizer: SGD<T>,
}

impl<T: Element> AutodiffSoftmax<T> {
    /// Trains `linear` with plain SGD at learning rate `lr`.
    pub fn new(linear: Linear<T>, lr: f64) -> Result<Self> {
        let optimizer = SGD::new(linear.parameters(), lr)?;
        Ok(AutodiffSoftmax { linear, criterion: CrossEntropyLoss::new(), optimizer })
    }

    /// The layer being trained.
    pub fn linear(&self) -> &Linear<T> {
        &self.linear
    }
}

impl<T: Element> Layers<T> for AutodiffSoftmax<T> {
    fn linears(&self) -> Result<Vec<Linear<T>>> {
        Ok(vec![copy_linear(&self.linear)?])
    }
}

impl<T: Element> Classifier<T> for AutodiffSoftmax<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        self.linear.forward(x)?.softmax(1)
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let loss = self.criterion.forward(&self.linear.forward(x)?, y)?;
        sgd_step(&mut self.optimizer, &loss)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)> {
        no_grad(|| {
            let logits = self.linear.forward(x)?;
            Ok((self.criterion.forward(&logits, y)?.item()?, argmax_accuracy(&logits, y)?))
        })
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer = SGD::new(self.linear.parameters(), lr)?;
        Ok(())
    }
}
