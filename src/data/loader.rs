//! `DataLoader`: mini-batches over a [`TensorDataset`], in order or shuffled.

use super::TensorDataset;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Mini-batches of a [`TensorDataset`] (`torch.utils.data.DataLoader`).
///
/// Each call to [`DataLoader::iter`] is one epoch. Without shuffling the batches are consecutive rows, as
/// views (`narrow`); with shuffling each epoch draws a fresh permutation and gathers its rows
/// (`index_select`). As in torch, the permutation comes from the default generator ([`crate::manual_seed`]):
/// each epoch seeds its shuffle with a number drawn from it, unless [`DataLoader::seed`] gave the loader a
/// stream of its own. The permutation of the latest
/// epoch is [`DataLoader::epoch_indices`], so another framework can replay the same batches. The last batch
/// is shorter when the batch size does not divide the dataset, unless `drop_last` is set.
///
/// ```
/// use torchlet::data::{DataLoader, TensorDataset};
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::arange(0.0, 10.0, 1.0)?;
/// let mut loader = DataLoader::new(TensorDataset::new(vec![x.clone(), &x * 2.0])?, 4)?.shuffle(true).seed(42);
/// let mut seen = Vec::new();
/// for batch in &mut loader {
///     let batch = batch?;
///     assert_eq!(batch[1].to_vec()?, (&batch[0] * 2.0).to_vec()?);
///     seen.extend(batch[0].to_vec()?.into_iter().map(|v| v as usize));
/// }
/// assert_eq!(seen, loader.epoch_indices());
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug)]
pub struct DataLoader<T: Element> {
    dataset: TensorDataset<T>,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    /// The loader's own shuffling stream; `None` seeds each epoch from the default generator.
    rng: Option<StdRng>,
    order: Vec<usize>,
}

impl<T: Element> DataLoader<T> {
    /// A loader of `dataset` in batches of `batch_size`, unshuffled, keeping the last short batch.
    /// Fails for a batch size of 0 or an empty dataset.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[3, 2])])?;
    /// let err = DataLoader::new(ds, 0).unwrap_err();
    /// assert_eq!(err.to_string(), "DataLoader: batch_size should be a positive integer, got 0");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn new(dataset: TensorDataset<T>, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::invalid("DataLoader", "batch_size should be a positive integer, got 0"));
        }
        if dataset.is_empty() {
            let shapes: Vec<&[usize]> = dataset.tensors().iter().map(Tensor::shape).collect();
            return Err(Error::invalid("DataLoader", format!("the dataset is empty (0 samples; shapes {shapes:?})")));
        }
        let order = (0..dataset.len()).collect();
        Ok(DataLoader { dataset, batch_size, shuffle: false, drop_last: false, rng: None, order })
    }

    /// Shuffles the samples at every epoch (`shuffle=True`).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[3, 2])])?;
    /// assert!(DataLoader::new(ds, 2)?.shuffle(true).is_shuffled());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn shuffle(self, shuffle: bool) -> Self {
        DataLoader { shuffle, ..self }
    }

    /// Gives the loader a shuffling stream of its own (`generator=torch.Generator().manual_seed(seed)`): the
    /// same seed gives the same sequence of epochs, whatever else draws from the default generator.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let make = |seed| -> torchlet::Result<Vec<usize>> {
    ///     let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[50])])?;
    ///     let mut loader = DataLoader::new(ds, 8)?.shuffle(true).seed(seed);
    ///     loader.iter();
    ///     Ok(loader.epoch_indices().to_vec())
    /// };
    /// assert_eq!(make(7)?, make(7)?);
    /// assert_ne!(make(7)?, make(8)?);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn seed(self, seed: u64) -> Self {
        DataLoader { rng: Some(StdRng::seed_from_u64(seed)), ..self }
    }

    /// Drops the last batch when it would be shorter than the batch size (`drop_last=True`).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])])?;
    /// assert_eq!(DataLoader::new(ds, 3)?.drop_last(true).len(), 3);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn drop_last(self, drop_last: bool) -> Self {
        DataLoader { drop_last, ..self }
    }

    /// The dataset being batched.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])])?;
    /// assert_eq!(DataLoader::new(ds, 3)?.dataset().len(), 10);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn dataset(&self) -> &TensorDataset<T> {
        &self.dataset
    }

    /// The batch size.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])])?;
    /// assert_eq!(DataLoader::new(ds, 3)?.batch_size(), 3);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether epochs are shuffled.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])])?;
    /// assert!(!DataLoader::new(ds, 3)?.is_shuffled());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn is_shuffled(&self) -> bool {
        self.shuffle
    }

    /// The number of batches in an epoch (`len(loader)`).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[100])])?;
    /// assert_eq!(DataLoader::new(ds, 33)?.len(), 4); // 33, 33, 33, 1
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// `true` when an epoch has no batches (only possible with `drop_last` and a batch larger than the data).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[2])])?;
    /// assert!(DataLoader::new(ds, 3)?.drop_last(true).is_empty());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sample order of the epoch most recently started by [`DataLoader::iter`]: batch `k` holds samples
    /// `epoch_indices()[k * batch_size..]`, up to the batch size. `0..n` when unshuffled or before any epoch.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5])])?;
    /// assert_eq!(DataLoader::new(ds, 2)?.epoch_indices(), &[0, 1, 2, 3, 4]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn epoch_indices(&self) -> &[usize] {
        &self.order
    }

    /// Starts an epoch and returns its batches (`for batch in loader`), each a `Vec` with one tensor per
    /// dataset tensor. With shuffling, this draws the epoch's permutation.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f64>::arange(0.0, 5.0, 1.0)?])?;
    /// let mut loader = DataLoader::new(ds, 2)?;
    /// let sizes: Vec<usize> = loader.iter().map(|b| b.map(|b| b[0].numel())).collect::<Result<_, _>>()?;
    /// assert_eq!(sizes, [2, 2, 1]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn iter(&mut self) -> Batches<'_, T> {
        if self.shuffle {
            // A fresh permutation of 0..n each epoch, so an epoch's order depends only on the rng's state.
            self.order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
            match &mut self.rng {
                Some(own) => self.order.shuffle(own),
                None => self.order.shuffle(&mut StdRng::seed_from_u64(crate::random::next_seed())),
            }
        }
        Batches { loader: self, next: 0 }
    }

    /// Like [`DataLoader::iter`], for a dataset of exactly two tensors, yielding `(x, y)` pairs. Fails for
    /// any other number of tensors.
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f64>::zeros(&[6, 3]), Tensor::zeros(&[6, 2])])?;
    /// let mut loader = DataLoader::new(ds, 4)?;
    /// for pair in loader.iter_pairs()? {
    ///     let (x, y) = pair?;
    ///     assert_eq!((x.shape()[1], y.shape()[1]), (3, 2));
    /// }
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn iter_pairs(&mut self) -> Result<Pairs<'_, T>> {
        let count = self.dataset.tensors().len();
        if count != 2 {
            return Err(Error::invalid(
                "DataLoader::iter_pairs",
                format!("(x, y) pairs need a dataset of exactly 2 tensors, this one has {count}"),
            ));
        }
        Ok(Pairs(self.iter()))
    }

    fn batch(&self, index: usize) -> Result<Vec<Tensor<T>>> {
        let start = index * self.batch_size;
        let end = (start + self.batch_size).min(self.dataset.len());
        let tensors = self.dataset.tensors().iter();
        if self.shuffle {
            tensors.map(|t| t.index_select(0, &self.order[start..end])).collect()
        } else {
            tensors.map(|t| t.narrow(0, start, end - start)).collect()
        }
    }
}

impl<'a, T: Element> IntoIterator for &'a mut DataLoader<T> {
    type Item = Result<Vec<Tensor<T>>>;
    type IntoIter = Batches<'a, T>;

    /// `for batch in &mut loader`, the same as [`DataLoader::iter`].
    fn into_iter(self) -> Batches<'a, T> {
        self.iter()
    }
}

/// The batches of one epoch, from [`DataLoader::iter`].
///
/// ```
/// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
/// let ds = TensorDataset::new(vec![Tensor::<f64>::zeros(&[7, 2])])?;
/// let mut loader = DataLoader::new(ds, 3)?;
/// let batches = loader.iter();
/// assert_eq!(batches.len(), 3);
/// assert_eq!(batches.indices(), &[0, 1, 2, 3, 4, 5, 6]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug)]
pub struct Batches<'a, T: Element> {
    loader: &'a DataLoader<T>,
    next: usize,
}

impl<T: Element> Batches<'_, T> {
    /// This epoch's sample order (see [`DataLoader::epoch_indices`]).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f64>::zeros(&[4])])?;
    /// let mut loader = DataLoader::new(ds, 3)?.shuffle(true).seed(1);
    /// let mut order = loader.iter().indices().to_vec();
    /// order.sort();
    /// assert_eq!(order, [0, 1, 2, 3]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn indices(&self) -> &[usize] {
        &self.loader.order
    }
}

impl<T: Element> Iterator for Batches<'_, T> {
    type Item = Result<Vec<Tensor<T>>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.loader.len() {
            return None;
        }
        self.next += 1;
        Some(self.loader.batch(self.next - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.loader.len() - self.next;
        (left, Some(left))
    }
}

impl<T: Element> ExactSizeIterator for Batches<'_, T> {}

/// The `(x, y)` batches of one epoch, from [`DataLoader::iter_pairs`].
///
/// ```
/// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
/// let ds = TensorDataset::new(vec![Tensor::<f64>::zeros(&[5, 3]), Tensor::zeros(&[5])])?;
/// let mut loader = DataLoader::new(ds, 2)?;
/// assert_eq!(loader.iter_pairs()?.len(), 3);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug)]
pub struct Pairs<'a, T: Element>(Batches<'a, T>);

impl<T: Element> Pairs<'_, T> {
    /// This epoch's sample order (see [`DataLoader::epoch_indices`]).
    ///
    /// ```
    /// use torchlet::{data::{DataLoader, TensorDataset}, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f64>::zeros(&[3]), Tensor::zeros(&[3])])?;
    /// assert_eq!(DataLoader::new(ds, 2)?.iter_pairs()?.indices(), &[0, 1, 2]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn indices(&self) -> &[usize] {
        self.0.indices()
    }
}

impl<T: Element> Iterator for Pairs<'_, T> {
    type Item = Result<(Tensor<T>, Tensor<T>)>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.0.next()?.map(|mut batch| {
            let y = batch.pop().expect("iter_pairs checked for two tensors");
            let x = batch.pop().expect("iter_pairs checked for two tensors");
            (x, y)
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T: Element> ExactSizeIterator for Pairs<'_, T> {}
