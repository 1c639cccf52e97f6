//! # torchlet
//!
//! A small, fast, honest reverse-mode autodiff tensor library modelled on PyTorch.
//!
//! ```
//! use torchlet::{no_grad, Tensor};
//!
//! // y = X w_true, learn w by gradient descent (the T5 tutorial, way 2).
//! let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
//! let y = Tensor::new([[50.0], [110.0], [170.0]]);
//! let w = Tensor::zeros(&[2, 1]).requires_grad_(true)?;
//! for _ in 0..20_000 {
//!     let loss = (&y - &x.matmul(&w)?).square()?.mean()?;
//!     loss.backward()?;
//!     let grad = w.grad().unwrap();
//!     no_grad(|| w.sub_(&(&grad * 1e-2)))?;
//!     grad.zero_()?;
//! }
//! let w = w.to_vec()?;
//! assert!((w[0] - 10.0).abs() < 1e-3 && (w[1] - 20.0).abs() < 1e-3);
//! # Ok::<(), torchlet::Error>(())
//! ```
//!
//! ## From PyTorch
//!
//! The PyTorch tutorials translate almost line by line. `?` marks the calls that return a [`Result`]; each
//! error names the operation and the values involved (`matmul: shapes [3, 4] and [5, 2] cannot be
//! multiplied`), and the operators (`&a + &b`) panic with that same message.
//!
//! | PyTorch | torchlet |
//! |---|---|
//! | `torch.tensor([[1., 2.]])` | [`Tensor::new`]`([[1.0, 2.0]])`, or [`Tensor::from_vec`]`(v, &[rows, cols])?` |
//! | `torch.zeros(2, 3)` / `torch.ones(2, 3)` | [`Tensor::zeros`]`(&[2, 3])` / [`Tensor::ones`]`(&[2, 3])` |
//! | `torch.manual_seed(0); torch.randn(2, 3)` | [`Tensor::randn`]`(&[2, 3], &mut StdRng::seed_from_u64(0))` |
//! | `w.requires_grad_(True)` | `w.requires_grad_(true)?` |
//! | `a + b`, `a - b`, `a * b`, `a / b` | `&a + &b`, ... or [`a.add(&b)?`](Tensor::add), ... |
//! | `a * 2`, `x ** 2`, `x.sum()`, `x.mean()` | `&a * 2.0`, `x.square()?`, `x.sum()?`, `x.mean()?` |
//! | `x.sum(dim=0, keepdim=True)` | `x.sum_dim(0, true)?` |
//! | `x @ w.t()` / `torch.matmul(x, w)` | [`x.matmul(&w.t()?)?`](Tensor::matmul) |
//! | `x.reshape(3, 2)`, `x[0:2]`, `x.item()` | `x.reshape(&[3, 2])?`, `x.narrow(0, 0, 2)?`, `x.item()?` |
//! | `loss.backward()` | [`loss.backward()?`](Tensor::backward) |
//! | `w.grad` | [`w.grad()`](Tensor::grad) (an `Option`) |
//! | `w.grad.zero_()` / `w.grad = None` | `w.grad().unwrap().zero_()?` / `w.zero_grad()` |
//! | `with torch.no_grad(): w -= lr * w.grad` | [`no_grad`]`(\|\| w.sub_(&(&grad * lr)))?` |
//! | `x.detach()` | [`x.detach()`](Tensor::detach) |
//! | `nn.Linear(3, 2)` | [`nn::Linear::new`]`(3, 2, true, &mut rng)` |
//! | `nn.MSELoss()` / `F.mse_loss` | [`nn::MSELoss::new()`](nn::MSELoss::new) / [`nn::functional::mse_loss`] |
//! | `optim.SGD(model.parameters(), lr=0.01)` | [`optim::SGD::new`]`(model.parameters(), 0.01)?` |
//! | `opt.zero_grad(); loss.backward(); opt.step()` | `opt.zero_grad(); loss.backward()?; opt.step()?;` |
//! | `TensorDataset(x, y)` | [`data::TensorDataset::new`]`(vec![x, y])?` |
//! | `DataLoader(ds, batch_size=5, shuffle=True)` | [`data::DataLoader::new`]`(ds, 5)?.shuffle(true)` |
//! | `sklearn.datasets.make_regression(...)` | [`data::make_regression`]`(&MakeRegression { .. })?` |
//! | `train_test_split(x, y, test_size=0.2)` | [`data::train_test_split`]`([&x, &y], 0.2, true, seed)?` |
//! | `save_file(model.state_dict(), path)` | [`io::save_parameters`]`(&model, path)?` (safetensors) |
//! | `model.load_state_dict(load_file(path))` | [`io::load_parameters`]`(&model, path)?` |
//! | `torch.save({"model": ..., "optimizer": ..., "scheduler": ...}, path)` | [`io::save_checkpoint`]`(path, &model, &opt, Some(&scheduler))?` |
//! | `model.load_state_dict(ckpt["model"]); opt.load_state_dict(...); ...` | [`io::load_checkpoint`]`(path, &model, &mut opt, Some(&mut scheduler))?` |
//! | `np.loadtxt(path, delimiter=",", skiprows=1)` | [`io::read_csv`]`::<f32>(path, true)?` |
//! | `x.to("cuda")` | `x.to(Device::Cuda(0))?` (feature `cuda`) |
//! | `torch.relu(x)`, `torch.sigmoid(x)`, `torch.tanh(x)`, `F.gelu(x)` | `x.relu()?`, `x.sigmoid()?`, `x.tanh()?`, `x.gelu(GeluApproximate::None)?` |
//! | `F.softmax(x, dim=1)`, `F.log_softmax(x, dim=1)`, `x.logsumexp(1)` | `x.softmax(1)?`, `x.log_softmax(1)?`, `x.logsumexp(1, false)?` |
//! | `x.max(dim=1)`, `x.argmax(dim=1)`, `x.var(dim=0)` | `x.max_dim(1, false)?` (values, indices), `x.argmax(1, false)?`, `x.var_dim(0, 1, false)?` |
//! | `a > b`, `torch.where(c, a, b)`, `x.clamp(0, 1)` | `a.gt(&b)?` (a 0/1 tensor), [`where_`]`(&c, &a, &b)?`, `x.clamp(Some(0.0), Some(1.0))?` |
//! | `torch.cat([a, b], 0)`, `torch.stack([a, b])`, `x.flatten(1)` | [`cat`]`(&[a, b], 0)?`, [`stack`]`(&[a, b], 0)?`, `x.flatten(1, -1)?` |
//! | `x.gather(1, idx)`, `F.one_hot(y, 10)` | `x.gather(1, &idx)?`, `y.one_hot(10)?` (indices as whole numbers in the element type) |
//! | `nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))` | `Sequential::new().add(Linear::new(64, 32, true, &mut rng)).add(ReLU).add(Linear::new(32, 10, true, &mut rng))` |
//! | `nn.Dropout(0.2)`, `model.eval()` / `model.train()` | [`nn::Dropout::new`]`(0.2, seed)?`, `model.eval()` / `model.train(true)` |
//! | `nn.CrossEntropyLoss()(logits, labels)` | [`nn::CrossEntropyLoss::new`]`().forward(&logits, &labels)?` (labels: `&[usize]` or a probability tensor) |
//! | `nn.BCELoss()`, `nn.BCEWithLogitsLoss()`, `nn.NLLLoss()`, `nn.L1Loss()`, `nn.HuberLoss()` | [`nn::BCELoss`], [`nn::BCEWithLogitsLoss`], [`nn::NLLLoss`], [`nn::L1Loss`], [`nn::HuberLoss`] |
//! | `optim.Adam(params, lr=1e-3)`, `optim.AdamW`, `optim.RMSprop` | [`optim::Adam::new`]`(params, 1e-3)?`, [`optim::AdamW`], [`optim::RMSprop`] (the [`optim::Optimizer`] trait) |
//! | `lr_scheduler.CosineAnnealingLR(opt, T_max)`, `StepLR`, `OneCycleLR` | [`optim::lr_scheduler::CosineAnnealingLR::new`]`(&mut opt, t_max, 0.0)?`, ... |
//! | `nn.utils.clip_grad_norm_(params, 1.0)` | [`nn::utils::clip_grad_norm_`]`(&params, 1.0, 2.0, false)?` |
//! | `nn.init.xavier_uniform_(w)`, `nn.init.kaiming_normal_(w)` | [`nn::init::fill_`]`(&w, init::xavier_uniform(w.shape(), 1.0, &mut rng)?)?`, [`nn::init::kaiming_normal`] |
//! | `make_classification(...)`, `load_digits()` | [`data::make_classification`]`(&MakeClassification { .. })?`, [`data::load_digits`]`()?` |
//!
//! A whole training loop, torch-style:
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::data::{DataLoader, TensorDataset};
//! use torchlet::nn::{Linear, MSELoss, Module};
//! use torchlet::optim::SGD;
//! use torchlet::Tensor;
//!
//! let x = Tensor::<f32>::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0], [87.0, 134.0, 58.0], [102.0, 43.0, 37.0]]);
//! let y = Tensor::new([[56.0, 70.0], [81.0, 101.0], [119.0, 133.0], [22.0, 37.0]]);
//! let mut loader = DataLoader::new(TensorDataset::new(vec![x, y])?, 2)?.shuffle(true).seed(42);
//! let model = Linear::new(3, 2, true, &mut StdRng::seed_from_u64(0));
//! let mut opt = SGD::new(model.parameters(), 1e-5)?;
//! let loss_fn = MSELoss::new();
//! for _epoch in 0..100 {
//!     for batch in loader.iter_pairs()? {
//!         let (xb, yb) = batch?;
//!         let loss = loss_fn.forward(&model.forward(&xb)?, &yb)?;
//!         opt.zero_grad();
//!         loss.backward()?;
//!         opt.step()?;
//!     }
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```
//!
//! An MLP classifier, the PyTorch way:
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::data::{load_digits, DataLoader, TensorDataset};
//! use torchlet::nn::{CrossEntropyLoss, Linear, Module, ReLU, Sequential};
//! use torchlet::optim::SGD;
//!
//! let digits = load_digits::<f32>()?; // 1 797 images of 8×8 pixels, labels 0–9
//! let labels = torchlet::data::labels_to_tensor::<f32>(&digits.y);
//! let mut loader = DataLoader::new(TensorDataset::new(vec![digits.x, labels])?, 128)?.shuffle(true).seed(0);
//! let mut rng = StdRng::seed_from_u64(0);
//! let model = Sequential::new().add(Linear::new(64, 32, true, &mut rng)).add(ReLU).add(Linear::new(32, 10, true, &mut rng));
//! let mut opt = SGD::new(model.parameters(), 0.5)?;
//! let loss_fn = CrossEntropyLoss::new();
//! for _epoch in 0..2 {
//!     for batch in loader.iter_pairs()? {
//!         let (xb, yb) = batch?;
//!         let labels: Vec<usize> = yb.to_vec()?.iter().map(|&v| v as usize).collect();
//!         let loss = loss_fn.forward(&model.forward(&xb)?, &labels)?;
//!         opt.zero_grad();
//!         loss.backward()?;
//!         opt.step()?;
//!     }
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod autograd;
pub mod cpu;
pub mod cuda;
pub mod data;
pub mod device;
mod display;
pub mod element;
pub mod error;
pub mod io;
pub mod metrics;
pub mod nn;
mod ops;
pub mod optim;
mod shape;
mod storage;
mod sync;
pub mod tensor;

pub use autograd::{enable_grad, is_grad_enabled, no_grad, GradModeGuard};
pub use device::Device;
pub use element::{DType, Element};
pub use error::{Error, Result};
pub use ops::{cat, stack, where_, GeluApproximate};
pub use tensor::{Tensor, TensorData};
