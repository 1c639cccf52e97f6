//! The linear-regression models of the tutorials, each built twice: [`ManualLinear`] with hand-derived
//! gradients and [`AutodiffLinear`] with `nn::Linear` + `nn::MSELoss` + `optim::SGD`, behind one
//! [`Regressor`] interface and one training loop, [`fit`].

mod autodiff;
#[cfg(feature = "tch")]
pub(crate) mod libtorch;
mod manual;

pub use autodiff::{AutodiffLinear, TensorLinear};
pub use manual::ManualLinear;

use torchlet::autograd::no_grad;
use torchlet::data::DataLoader;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::tensor::Tensor;

/// A model the tutorials train by mini-batch gradient descent.
///
/// ```
/// use torchlet_tutorials::regression::{ManualLinear, Regressor};
/// use torchlet::Tensor;
/// // Any Regressor trains the same way; here the scratch model on y = 2x.
/// fn train(model: &mut impl Regressor<f64>, x: &Tensor<f64>, y: &Tensor<f64>) -> torchlet::Result<f64> {
///     for _ in 0..200 {
///         model.train_step(x, y)?;
///     }
///     model.evaluate(x, y)
/// }
/// let (x, y) = (Tensor::new([[1.0], [2.0]]), Tensor::new([[2.0], [4.0]]));
/// let mut model = ManualLinear::from_parameters(Tensor::new([[0.0]]), None, 0.1)?;
/// assert!(train(&mut model, &x, &y)? < 1e-12);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Regressor<T: Element> {
    /// The model's prediction for the inputs `x`.
    ///
    /// ```
    /// use torchlet_tutorials::regression::{ManualLinear, Regressor};
    /// use torchlet::Tensor;
    /// let model = ManualLinear::from_parameters(Tensor::new([[2.0]]), Some(Tensor::new([1.0])), 0.1)?;
    /// assert_eq!(model.predict(&Tensor::new([[3.0]]))?.to_vec()?, vec![7.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>>;

    /// One gradient step on the batch `(x, y)`; returns the batch's MSE before the step.
    ///
    /// ```
    /// use torchlet_tutorials::regression::{ManualLinear, Regressor};
    /// use torchlet::Tensor;
    /// let mut model = ManualLinear::from_parameters(Tensor::new([[0.0]]), None, 0.1)?;
    /// let (x, y) = (Tensor::new([[1.0]]), Tensor::new([[2.0]]));
    /// assert_eq!(model.train_step(&x, &y)?, 4.0); // (0 - 2)² before the step
    /// assert_eq!(model.weight().item()?, 0.4); // w -= 0.1 · 2 (0 - 2) · 1
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T>;

    /// The MSE of the predictions for `x` against `y`, computed without recording a graph.
    ///
    /// ```
    /// use torchlet_tutorials::regression::{ManualLinear, Regressor};
    /// use torchlet::Tensor;
    /// let model = ManualLinear::from_parameters(Tensor::new([[1.0]]), None, 0.1)?;
    /// assert_eq!(model.evaluate(&Tensor::new([[1.0], [2.0]]), &Tensor::new([[2.0], [2.0]]))?, 0.5);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        no_grad(|| mse(&self.predict(x)?, y))
    }
}

/// The mean squared error `Σ(ŷ - y)² / n` as a number; the shapes must match.
///
/// ```
/// use torchlet::Tensor;
/// use torchlet_tutorials::regression::mse;
/// assert_eq!(mse(&Tensor::new([1.0, 3.0]), &Tensor::new([1.0, 1.0]))?, 2.0);
/// assert!(mse(&Tensor::new([[1.0], [3.0]]), &Tensor::new([1.0, 1.0])).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn mse<T: Element>(y_hat: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
    manual::check_target("mse", y_hat, y)?;
    no_grad(|| y_hat.sub(y)?.square()?.mean()?.item())
}

/// Per-epoch losses of a [`fit`], in f64 whatever the model's element type.
///
/// ```
/// let history = torchlet_tutorials::regression::History { train: vec![4.0, 1.0], valid: vec![3.0, 0.5] };
/// assert_eq!(history.train.len(), history.valid.len());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The mean of the epoch's training-batch losses, each taken before its update step.
    pub train: Vec<f64>,
    /// The mean of the validation-batch losses after the epoch.
    pub valid: Vec<f64>,
}

/// The mean of one pass of `loader`'s batches through `batch_loss`.
fn mean_batch_loss<T: Element>(
    loader: &mut DataLoader<T>,
    mut batch_loss: impl FnMut(&Tensor<T>, &Tensor<T>) -> Result<T>,
) -> Result<f64> {
    let (mut sum, mut count) = (0.0, 0usize);
    for batch in loader.iter_pairs()? {
        let (x, y) = batch?;
        sum += batch_loss(&x, &y)?.to_f64().unwrap_or(f64::NAN);
        count += 1;
    }
    Ok(sum / count as f64)
}

/// Trains `model` for `epochs` passes over `train`, evaluating on `valid` after each, as the tutorials'
/// loops do; `on_epoch(epoch, train_mse, valid_mse)` is called after each epoch (epochs count from 1).
///
/// ```
/// use torchlet::data::{DataLoader, TensorDataset};
/// use torchlet_tutorials::regression::{fit, ManualLinear};
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// let y = Tensor::new([[50.0], [110.0], [170.0]]);
/// let mut train = DataLoader::new(TensorDataset::new(vec![x.clone(), y.clone()])?, 3)?;
/// let mut valid = DataLoader::new(TensorDataset::new(vec![x, y])?, 3)?;
/// let mut model = ManualLinear::from_parameters(Tensor::new([[0.1], [0.1]]), None, 1e-4)?;
/// let history = fit(&mut model, &mut train, &mut valid, 10, |_, _, _| {})?;
/// assert!(history.valid[9] < history.train[0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn fit<T: Element, M: Regressor<T>>(
    model: &mut M,
    train: &mut DataLoader<T>,
    valid: &mut DataLoader<T>,
    epochs: usize,
    mut on_epoch: impl FnMut(usize, f64, f64),
) -> Result<History> {
    let mut history = History::default();
    for epoch in 1..=epochs {
        let train_loss = mean_batch_loss(train, |x, y| model.train_step(x, y))?;
        let valid_loss = mean_batch_loss(valid, |x, y| model.evaluate(x, y))?;
        on_epoch(epoch, train_loss, valid_loss);
        history.train.push(train_loss);
        history.valid.push(valid_loss);
    }
    Ok(history)
}
