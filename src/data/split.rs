//! `train_test_split`: scikit-learn's split of several arrays into train and test parts.

use super::dataset::common_len;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::fmt;

/// The size of the test part: a fraction of the samples in (0, 1), or a count of them (scikit-learn's float
/// or int `test_size`). `0.2` and `300usize` convert into it.
///
/// ```
/// use torchlet::data::TestSize;
/// assert_eq!(TestSize::from(0.2), TestSize::Fraction(0.2));
/// assert_eq!(TestSize::from(300usize), TestSize::Count(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestSize {
    /// This fraction of the samples, rounded up, goes to the test part.
    Fraction(f64),
    /// This many samples go to the test part.
    Count(usize),
}

impl From<f64> for TestSize {
    fn from(fraction: f64) -> Self {
        TestSize::Fraction(fraction)
    }
}

impl From<usize> for TestSize {
    fn from(count: usize) -> Self {
        TestSize::Count(count)
    }
}

impl fmt::Display for TestSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestSize::Fraction(v) => write!(f, "{v}"),
            TestSize::Count(v) => write!(f, "{v}"),
        }
    }
}

impl TestSize {
    /// The number of test samples out of `n`: `ceil(fraction · n)` or the count, as scikit-learn computes
    /// it; fails unless both parts end up non-empty.
    ///
    /// ```
    /// use torchlet::data::TestSize;
    /// assert_eq!(TestSize::Fraction(0.2).test_count(1500)?, 300);
    /// assert_eq!(TestSize::Fraction(0.25).test_count(10)?, 3); // ceil(2.5)
    /// assert!(TestSize::Count(10).test_count(10).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn test_count(self, n: usize) -> Result<usize> {
        let n_test = match self {
            TestSize::Fraction(v) if v > 0.0 && v < 1.0 => (v * n as f64).ceil() as usize,
            TestSize::Count(c) if c >= 1 && c < n => c,
            _ => {
                return Err(Error::invalid(
                    "train_test_split",
                    format!(
                        "test_size={self} should be a fraction in (0, 1) or a count in [1, n_samples - 1] \
                         (n_samples = {n})"
                    ),
                ))
            }
        };
        if n_test >= n {
            return Err(Error::invalid(
                "train_test_split",
                format!("with n_samples={n} and test_size={self}, the resulting train set would be empty"),
            ));
        }
        Ok(n_test)
    }
}

/// Splits every tensor along dimension 0 into a train part and a test part, the same rows for all
/// (`sklearn.model_selection.train_test_split(*arrays, test_size, shuffle, random_state)`).
///
/// Returns one `(train, test)` pair per input, in input order. The test part has `ceil(test_size · n)` rows
/// for a fraction, or `test_size` rows for a count. With `shuffle`, a permutation from
/// `StdRng::seed_from_u64(seed)` is drawn and its first rows form the test part, the rest the train part,
/// in permutation order (rows gathered, copied); without it the train part is the first rows and the test
/// part the last ones (views, `seed` unused).
///
/// Fails when no tensor is given, a tensor is 0-D, first dimensions differ, or either part would be empty.
///
/// ```
/// use torchlet::data::train_test_split;
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::arange(0.0, 10.0, 1.0)?;
/// let y = &x * 10.0;
/// let [(x_train, x_test), (y_train, y_test)] = train_test_split([&x, &y], 0.2, true, 42)?;
/// assert_eq!((x_train.shape(), x_test.shape()), (&[8][..], &[2][..]));
/// assert_eq!((&x_test * 10.0).to_vec()?, y_test.to_vec()?);
/// assert_eq!((&x_train * 10.0).to_vec()?, y_train.to_vec()?);
///
/// let [(head, tail)] = train_test_split([&x], 3usize, false, 0)?;
/// assert_eq!((head.to_vec()?, tail.to_vec()?), ((0..7).map(f64::from).collect(), vec![7.0, 8.0, 9.0]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn train_test_split<T: Element, const N: usize>(
    tensors: [&Tensor<T>; N],
    test_size: impl Into<TestSize>,
    shuffle: bool,
    seed: u64,
) -> Result<[(Tensor<T>, Tensor<T>); N]> {
    let owned: Vec<Tensor<T>> = tensors.iter().map(|&t| t.clone()).collect();
    let n = common_len("train_test_split", &owned)?;
    let n_test = test_size.into().test_count(n)?;
    let permutation: Vec<usize> = if shuffle {
        let mut p: Vec<usize> = (0..n).collect();
        p.shuffle(&mut StdRng::seed_from_u64(seed));
        p
    } else {
        Vec::new()
    };
    let split = |t: &Tensor<T>| -> Result<(Tensor<T>, Tensor<T>)> {
        if shuffle {
            Ok((t.index_select(0, &permutation[n_test..])?, t.index_select(0, &permutation[..n_test])?))
        } else {
            Ok((t.narrow(0, 0, n - n_test)?, t.narrow(0, n - n_test, n_test)?))
        }
    };
    let parts = owned.iter().map(split).collect::<Result<Vec<_>>>()?;
    parts.try_into().map_err(|_| Error::invalid("train_test_split", "internal error: lost a split"))
}
