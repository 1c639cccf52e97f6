//! Tensors to and from files: parameters as [safetensors](https://github.com/huggingface/safetensors) with
//! the names of torch's `state_dict`, and 2-D tensors as CSV.
//!
//! | PyTorch | torchlet |
//! |---|---|
//! | `safetensors.torch.save_file({"w": w}, path)` | [`save_safetensors`]`(path, &[("w", &w)])?` |
//! | `safetensors.torch.load_file(path)` | [`load_safetensors::<f32>`](load_safetensors)`(path)?` |
//! | `save_file(model.state_dict(), path)` | [`save_parameters`]`(&model, path)?` |
//! | `model.load_state_dict(load_file(path))` | [`load_parameters`]`(&model, path)?` |
//! | `np.loadtxt(path, delimiter=",", skiprows=1)` | [`read_csv::<f32>`](read_csv)`(path, true)?` |
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::io::{load_parameters, save_parameters};
//! use torchlet::nn::Linear;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("model.safetensors");
//! let trained = Linear::<f32>::new(3, 2, true, &mut StdRng::seed_from_u64(1));
//! save_parameters(&trained, &path)?;
//!
//! let fresh = Linear::<f32>::new(3, 2, true, &mut StdRng::seed_from_u64(2));
//! load_parameters(&fresh, &path)?;
//! assert_eq!(fresh.weight().to_vec()?, trained.weight().to_vec()?);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod csv;
mod safetensors;

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
