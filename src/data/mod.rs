//! Data handling in the shape of `torch.utils.data` and scikit-learn: [`TensorDataset`], [`DataLoader`],
//! [`make_regression`] and [`train_test_split`].
//!
//! For classification:
//! - the generators [`make_classification`], [`make_moons`], [`make_circles`] and [`make_blobs`], seeded as
//!   [`make_regression`] is;
//! - [`load_digits`], scikit-learn's 1 797 8×8 handwritten digits, compiled into the crate;
//! - [`mnist::load_dir`], MNIST from its IDX files in a local folder.
//!
//! They return the labels as a label tensor of class indices ([`Classification::y`], whole numbers in the
//! element type), which goes through [`train_test_split`] and [`DataLoader`] beside the inputs and into
//! `cross_entropy` and the metrics in [`crate::metrics`] unchanged; [`one_hot`] makes probability targets
//! of them, and [`Tensor::to_labels`](crate::Tensor::to_labels) reads them back as `usize`s.
//!
//! The digits are the test part of the UCI "Optical Recognition of Handwritten Digits" data set by E. Alpaydin
//! and C. Kaynak (1998, <https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits>),
//! licensed under CC BY 4.0 (<https://creativecommons.org/licenses/by/4.0/>), shipped as scikit-learn ships
//! it (`sklearn/datasets/data/digits.csv.gz`, unchanged).
//!
//! ```
//! use torchlet::data::{make_regression, train_test_split, DataLoader, MakeRegression, TensorDataset};
//!
//! // The T3 tutorial's data: 1 500 samples, 5 features, 3 targets, 80/20 split, batches of 32.
//! let config = MakeRegression { n_samples: 1_500, n_features: 5, n_targets: 3, noise: 1.0, ..Default::default() };
//! let data = make_regression::<f32>(&config)?;
//! let [(x_train, x_valid), (y_train, y_valid)] = train_test_split([&data.x, &data.y], 0.2, true, 42)?;
//! assert_eq!((x_train.shape(), x_valid.shape(), y_valid.shape()), (&[1200, 5][..], &[300, 5][..], &[300, 3][..]));
//! let mut train = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 32)?;
//! assert_eq!(train.len(), 38); // 37 full batches and one of 16
//! let last = train.iter().last().unwrap()?;
//! assert_eq!(last[0].shape(), &[16, 5]);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod blobs;
mod classification;
mod dataset;
mod digits;
mod labeled;
mod loader;
pub mod mnist;
mod regression;
mod shapes;
mod split;

pub use crate::ops::AsLabels;
pub use blobs::{make_blobs, Blobs, Centers, ClusterStd, MakeBlobs};
pub use classification::{make_classification, MakeClassification};
pub use dataset::TensorDataset;
pub use digits::load_digits;
pub use labeled::{labels_to_tensor, one_hot, Classification};
pub use loader::{Batches, DataLoader, Pairs};
pub use regression::{make_regression, MakeRegression, Regression};
pub use shapes::{make_circles, make_moons, MakeCircles, MakeMoons};
pub use split::{train_test_split, TestSize};
