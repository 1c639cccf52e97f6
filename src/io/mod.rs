//! Tensors to and from files: parameters as [safetensors](https://github.com/huggingface/safetensors) with
//! the names of torch's `state_dict`, training checkpoints (model, optimizer and scheduler in one
//! safetensors file), and 2-D tensors as CSV.
//!
//! | PyTorch | torchlet |
//! |---|---|
//! | `safetensors.torch.save_file({"w": w}, path)` | [`save_safetensors`]`(path, &[("w", &w)])?` |
//! | `safetensors.torch.load_file(path)` | [`load_safetensors::<f32>`](load_safetensors)`(path)?` |
//! | `save_file(model.state_dict(), path)` | [`save_parameters`]`(&model, path)?` |
//! | `model.load_state_dict(load_file(path))` | [`load_parameters`]`(&model, path)?` |
//! | `torch.save({"model": ..., "optimizer": ..., "scheduler": ...}, path)` | [`save_checkpoint`]`(path, &model, &opt, Some(&scheduler))?` |
//! | `model.load_state_dict(ckpt["model"])`, `opt.load_state_dict(...)`, ... | [`load_checkpoint`]`(path, &model, &mut opt, Some(&mut scheduler))?` |
//! | `np.loadtxt(path, delimiter=",", skiprows=1)` | [`read_csv::<f32>`](read_csv)`(path, true)?` |
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::io::{load_parameters, save_parameters};
//! use torchlet::nn::Linear;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("model.safetensors");
//! let trained = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(1));
//! save_parameters(&trained, &path)?;
//!
//! let fresh = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(2));
//! load_parameters(&fresh, &path)?;
//! assert_eq!(fresh.weight().to_vec()?, trained.weight().to_vec()?);
//! # Ok::<(), torchlet::Error>(())
//! ```
//!
//! A training run saved with [`save_checkpoint`] and loaded with [`load_checkpoint`] into the same objects
//! made afresh, in this process or another, goes on to the bit as if it had not stopped:
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::io::{load_checkpoint, save_checkpoint};
//! use torchlet::nn::{Linear, MSELoss, Module, ReLU, Sequential};
//! use torchlet::optim::lr_scheduler::{LRScheduler, StepLR};
//! use torchlet::optim::{Adam, Optimizer};
//! use torchlet::{Result, Tensor};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("run.safetensors");
//!
//! // The model, optimizer and scheduler, made the same way each time the program starts.
//! let setup = || -> Result<_> {
//!     let mut rng = StdRng::seed_from_u64(0);
//!     let model = Sequential::<f32>::new()
//!         .add(Linear::with_rng(2, 8, true, &mut rng))
//!         .add(ReLU)
//!         .add(Linear::with_rng(8, 1, true, &mut rng));
//!     let mut opt = Adam::new(model.parameters(), 0.01)?;
//!     let scheduler = StepLR::new(&mut opt, 5, 0.5)?;
//!     Ok((model, opt, scheduler))
//! };
//! let (x, y) = (Tensor::new([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), Tensor::new([[1.0], [1.0], [0.0]]));
//! let train = |model: &Sequential<f32>, opt: &mut Adam<f32>, scheduler: &mut StepLR, epochs| -> Result<f32> {
//!     let mut loss = 0.0;
//!     for _ in 0..epochs {
//!         let l = MSELoss::new().forward(&model.forward(&x)?, &y)?;
//!         opt.zero_grad();
//!         l.backward()?;
//!         opt.step()?;
//!         scheduler.step(opt)?;
//!         loss = l.item()?;
//!     }
//!     Ok(loss)
//! };
//!
//! let (model, mut opt, mut scheduler) = setup()?;
//! train(&model, &mut opt, &mut scheduler, 8)?;
//! save_checkpoint(&path, &model, &opt, Some(&scheduler))?;
//! let uninterrupted = train(&model, &mut opt, &mut scheduler, 4)?;
//!
//! let (model, mut opt, mut scheduler) = setup()?; // as a new process would
//! load_checkpoint(&path, &model, &mut opt, Some(&mut scheduler))?;
//! assert_eq!(train(&model, &mut opt, &mut scheduler, 4)?, uninterrupted);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod checkpoint;
mod csv;
mod safetensors;

pub use self::checkpoint::{load_checkpoint, save_checkpoint};
pub use self::csv::{read_csv, read_csv_from, write_csv};
pub use self::safetensors::{load_parameters, load_safetensors, save_parameters, save_safetensors};

use crate::element::{DType, Element};
use crate::error::Error;

/// The values as little-endian bytes, the byte order safetensors prescribes.
fn to_le_bytes<T: Element>(values: &[T], kind: DType) -> Vec<u8> {
    // `to_f32` of an f32 and `to_f64` of an f64 are exact (NaN included), so nothing is rounded.
    match kind {
        DType::F32 => values.iter().flat_map(|v| v.to_f32().unwrap_or(f32::NAN).to_le_bytes()).collect(),
        DType::F64 => values.iter().flat_map(|v| v.to_f64().unwrap_or(f64::NAN).to_le_bytes()).collect(),
    }
}

/// The values of little-endian bytes; the caller has checked that `bytes` holds whole elements.
fn from_le_bytes<T: Element>(bytes: &[u8], kind: DType) -> Vec<T> {
    match kind {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|c| T::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).unwrap_or_else(T::nan))
            .collect(),
        DType::F64 => bytes
            .chunks_exact(8)
            .map(|c| {
                let v = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                T::from_f64(v).unwrap_or_else(T::nan)
            })
            .collect(),
    }
}

fn io_error(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Io { op, msg: msg.into() }
}
