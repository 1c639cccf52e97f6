//! The classification tutorials, each built twice behind one [`Classifier`] interface and one training loop,
//! [`fit`]:
//! - T6, binary classification: [`ManualLogistic`] (hand-derived `∂BCE/∂z = (a - y)/m`) and
//!   [`AutodiffLogistic`] (`Linear` → `Sigmoid` → `BCELoss`, `SGD`);
//! - T7, multiclass classification: [`ManualSoftmax`] (the softmax Jacobian written out) and
//!   [`AutodiffSoftmax`] (`Linear` + `CrossEntropyLoss` on the logits with one-hot targets, `SGD`).
//!
//! T9's digit classifiers ([`crate::digits`]) use the same interface.

mod binary;
mod multiclass;

pub use binary::{binary_data, AutodiffLogistic, ManualLogistic};
pub use multiclass::{multiclass_data, AutodiffSoftmax, ManualSoftmax};

use torchlet::data::DataLoader;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::metrics::{accuracy, argmax_rows};
use torchlet::tensor::Tensor;

/// The settings T6 and T7 share: learning rate 0.01, 16 epochs, batches of 100 // 3 = 33 taken in order.
pub const LR: f64 = 0.01;
/// The number of epochs of T6 and T7.
pub const EPOCHS: usize = 16;
/// The training batch size of T6 and T7 (batches of 33, 33, 33 and 1).
pub const BATCH: usize = 33;

/// A classifier the tutorials train by mini-batch gradient descent.
///
/// The targets `y` are what the tutorial feeds: 0/1 labels `[m]` (T6), one-hot rows `[m, C]` (T7), or class
/// indices `[m]` as whole numbers in the element type (T9).
///
/// ```
/// use torchlet_tutorials::classification::{Classifier, ManualLogistic};
/// use torchlet::Tensor;
/// let (x, y) = (Tensor::new([[-1.0], [1.0]]), Tensor::new([0.0, 1.0]));
/// let mut model = ManualLogistic::from_parameters(Tensor::new([0.0]), Tensor::new([0.0]), 1.0)?;
/// let first = model.train_step(&x, &y)?;
/// let (loss, accuracy) = model.evaluate(&x, &y)?;
/// assert!(loss < first && accuracy == 1.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Classifier<T: Element> {
    /// The model's output for `x`, as the tutorial's `forward` returns it: probabilities for T6 and T7,
    /// logits for T9.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>>;

    /// One gradient step on the batch `(x, y)`; returns the batch's loss before the step.
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T>;

    /// The loss and the accuracy on `(x, y)`, computed without recording a graph.
    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(T, f64)>;

    /// Starts a fresh optimizer at learning rate `lr`, as the tutorials' `fit(epochs, lr)` builds
    /// `SGD(model.parameters(), lr)` on every call.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()>;
}

/// Per-epoch figures of a [`fit`], in f64 whatever the model's element type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The mean of the epoch's training-batch losses, each taken before its update step.
    pub train: Vec<f64>,
    /// The mean of the validation-batch losses after the epoch.
    pub valid: Vec<f64>,
    /// The mean of the validation-batch accuracies after the epoch.
    pub accuracy: Vec<f64>,
}

impl History {
    /// Appends another run's epochs (T9's second `fit` continues the first).
    pub fn extend(&mut self, other: &History) {
        self.train.extend(&other.train);
        self.valid.extend(&other.valid);
        self.accuracy.extend(&other.accuracy);
    }
}

fn as_f64<T: Element>(v: T) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// The unweighted mean over `loader`'s batches of the batch loss and the batch accuracy, as the tutorials'
/// `evaluate` computes them (T9's last validation batch, smaller, counts as much as the others).
///
/// ```
/// use torchlet::data::{DataLoader, TensorDataset};
/// use torchlet_tutorials::classification::{evaluate, ManualLogistic};
/// use torchlet::Tensor;
/// let model = ManualLogistic::from_parameters(Tensor::new([1.0]), Tensor::new([0.0]), 0.1)?;
/// let data = TensorDataset::new(vec![Tensor::new([[-1.0], [1.0], [2.0]]), Tensor::new([0.0, 0.0, 1.0])])?;
/// let (_, accuracy) = evaluate(&model, &mut DataLoader::new(data, 2)?)?;
/// assert_eq!(accuracy, (0.5 + 1.0) / 2.0); // batches [-1, 1] and [2]
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn evaluate<T: Element, M: Classifier<T> + ?Sized>(model: &M, loader: &mut DataLoader<T>) -> Result<(f64, f64)> {
    let (mut loss, mut acc, mut count) = (0.0, 0.0, 0usize);
    for batch in loader.iter_pairs()? {
        let (x, y) = batch?;
        let (l, a) = model.evaluate(&x, &y)?;
        (loss, acc, count) = (loss + as_f64(l), acc + a, count + 1);
    }
    Ok((loss / count as f64, acc / count as f64))
}

/// Trains `model` for `epochs` passes over `train`, evaluating on `valid` after each, as the tutorials' loops
/// do; `on_epoch(epoch, train_loss, valid_loss, valid_accuracy)` is called after each epoch (epochs count from
/// 1, as in [`crate::regression::fit`]).
///
/// ```
/// use torchlet::data::{DataLoader, TensorDataset};
/// use torchlet_tutorials::classification::{fit, ManualLogistic};
/// use torchlet::Tensor;
/// let (x, y) = (Tensor::new([[-2.0], [-1.0], [1.0], [2.0]]), Tensor::new([0.0, 0.0, 1.0, 1.0]));
/// let mut train = DataLoader::new(TensorDataset::new(vec![x.clone(), y.clone()])?, 2)?;
/// let mut valid = DataLoader::new(TensorDataset::new(vec![x, y])?, 4)?;
/// let mut model = ManualLogistic::from_parameters(Tensor::new([-1.0]), Tensor::new([0.0]), 0.5)?;
/// let history = fit(&mut model, &mut train, &mut valid, 20, |_, _, _, _| {})?;
/// assert!(history.valid[19] < history.train[0] && history.accuracy[19] == 1.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn fit<T: Element, M: Classifier<T> + ?Sized>(
    model: &mut M,
    train: &mut DataLoader<T>,
    valid: &mut DataLoader<T>,
    epochs: usize,
    mut on_epoch: impl FnMut(usize, f64, f64, f64),
) -> Result<History> {
    let mut history = History::default();
    for epoch in 1..=epochs {
        let (mut sum, mut count) = (0.0, 0usize);
        for batch in train.iter_pairs()? {
            let (x, y) = batch?;
            sum += as_f64(model.train_step(&x, &y)?);
            count += 1;
        }
        let train_loss = sum / count as f64;
        let (valid_loss, valid_accuracy) = evaluate(model, valid)?;
        on_epoch(epoch, train_loss, valid_loss, valid_accuracy);
        history.train.push(train_loss);
        history.valid.push(valid_loss);
        history.accuracy.push(valid_accuracy);
    }
    Ok(history)
}

/// Runs one [`fit`] after another on the same loaders, each from a fresh optimizer at its own learning rate
/// ([`Classifier::set_learning_rate`]), as T9's `fit(5, 0.5)` then `fit(5, 0.1)`; a shuffled loader's order
/// runs on from one fit to the next. `on_epoch` gets the epoch within its fit, counted from 1.
///
/// ```
/// use torchlet::data::{DataLoader, TensorDataset};
/// use torchlet_tutorials::classification::{fit_schedule, ManualLogistic};
/// use torchlet::Tensor;
/// let (x, y) = (Tensor::new([[-2.0], [-1.0], [1.0], [2.0]]), Tensor::new([0.0, 0.0, 1.0, 1.0]));
/// let mut train = DataLoader::new(TensorDataset::new(vec![x.clone(), y.clone()])?, 2)?.shuffle(true);
/// let mut valid = DataLoader::new(TensorDataset::new(vec![x, y])?, 4)?;
/// let mut model = ManualLogistic::from_parameters(Tensor::new([-1.0]), Tensor::new([0.0]), 0.5)?;
/// let history = fit_schedule(&mut model, &mut train, &mut valid, &[(5, 0.5), (5, 0.1)], |_, _, _, _| {})?;
/// assert_eq!(history.train.len(), 10);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn fit_schedule<T: Element, M: Classifier<T> + ?Sized>(
    model: &mut M,
    train: &mut DataLoader<T>,
    valid: &mut DataLoader<T>,
    schedule: &[(usize, f64)],
    mut on_epoch: impl FnMut(usize, f64, f64, f64),
) -> Result<History> {
    let mut history = History::default();
    for &(epochs, lr) in schedule {
        model.set_learning_rate(lr)?;
        history.extend(&fit(model, train, valid, epochs, &mut on_epoch)?);
    }
    Ok(history)
}

/// T6's accuracy: the share of samples where `(a > 0.5) == y`, for probabilities `a` and 0/1 labels `y` of
/// the same number of elements (`[m]` or `[m, 1]`).
///
/// ```
/// use torchlet_tutorials::classification::binary_accuracy;
/// use torchlet::Tensor;
/// assert_eq!(binary_accuracy(&Tensor::new([[0.9], [0.2], [0.6]]), &Tensor::new([1.0, 1.0, 0.0]))?, 1.0 / 3.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn binary_accuracy<T: Element>(a: &Tensor<T>, y: &Tensor<T>) -> Result<f64> {
    if a.numel() != y.numel() {
        return Err(Error::shape(
            "binary_accuracy",
            format!("probabilities of shape {:?} and labels of shape {:?} differ", a.shape(), y.shape()),
        ));
    }
    let half = T::from_f64_lossy(0.5);
    let predicted: Vec<usize> = a.to_vec()?.into_iter().map(|p| usize::from(p > half)).collect();
    accuracy(&labels(y)?, &predicted)
}

/// The share of rows whose largest score is in the target's class: `argmax(scores) == argmax(Y)` for one-hot
/// rows `Y` `[m, C]` (T7), or `argmax(scores) == y` for class indices `y` `[m]` (T9).
///
/// ```
/// use torchlet_tutorials::classification::argmax_accuracy;
/// use torchlet::Tensor;
/// let scores = Tensor::new([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]);
/// assert_eq!(argmax_accuracy(&scores, &Tensor::new([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))?, 0.5);
/// assert_eq!(argmax_accuracy(&scores, &Tensor::new([1.0, 0.0]))?, 1.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn argmax_accuracy<T: Element>(scores: &Tensor<T>, targets: &Tensor<T>) -> Result<f64> {
    let truth = if targets.rank() == 2 { argmax_rows(targets)? } else { labels(targets)? };
    accuracy(&truth, &argmax_rows(scores)?)
}

/// Class indices stored as whole numbers in a tensor (what a `DataLoader` yields for labels), as `usize`.
///
/// ```
/// use torchlet_tutorials::classification::labels;
/// assert_eq!(labels(&torchlet::Tensor::new([2.0f32, 0.0, 9.0]))?, vec![2, 0, 9]);
/// assert!(labels(&torchlet::Tensor::new([0.5])).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn labels<T: Element>(y: &Tensor<T>) -> Result<Vec<usize>> {
    y.to_vec()?
        .into_iter()
        .map(|v| match v.to_usize() {
            Some(label) if T::from_usize(label) == Some(v) => Ok(label),
            _ => Err(Error::invalid("labels", format!("{v} is not a class index"))),
        })
        .collect()
}
