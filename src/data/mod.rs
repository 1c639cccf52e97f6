//! Data handling in the shape of `torch.utils.data` and scikit-learn: [`TensorDataset`], [`DataLoader`],
//! [`make_regression`] and [`train_test_split`].
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

mod dataset;
mod loader;
mod regression;
mod split;

pub use dataset::TensorDataset;
pub use loader::{Batches, DataLoader, Pairs};
pub use regression::{make_regression, MakeRegression, Regression};
pub use split::{train_test_split, TestSize};
