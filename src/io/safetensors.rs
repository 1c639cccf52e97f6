//! Parameters in the safetensors format: a JSON header (names, dtypes, shapes, offsets) and the raw
//! little-endian data, readable by `safetensors.torch.load_file` and by tch's `Tensor::read_safetensors`.

use super::{from_le_bytes, io_error, to_le_bytes};
use crate::autograd::no_grad;
use crate::element::{DType, Element};
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::tensor::Tensor;
use ::safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// How a tensor goes into a file: in its own float dtype, or as int64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    /// `F32` or `F64`, the tensor's element type.
    Float,
    /// `I64`: whole numbers that torch keeps as int64.
    Int64,
}

/// The last path component of the buffers that torch keeps as int64 tensors: a batch norm's
/// `num_batches_tracked`. torchlet tensors hold floats only, so such a buffer is a float tensor in memory;
/// it is recognised by its name, because the name is all a `state_dict` entry carries and it is torch's
/// own fixed name for that buffer. Writing it as `I64` and reading `I64` into it is what lets a PyTorch
/// `state_dict` saved with `safetensors.torch.save_file` load here, and a file written here load into
/// PyTorch, with the same dtypes on both sides.
const INT64_BUFFERS: [&str; 1] = ["num_batches_tracked"];

/// Whether a module's buffer of this (dotted) name is stored as int64.
pub(super) fn is_int64_buffer(name: &str) -> bool {
    INT64_BUFFERS.contains(&name.rsplit('.').next().unwrap_or(name))
}

fn dtype_of(kind: DType) -> Dtype {
    match kind {
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
    }
}

/// Writes named tensors to `path` in the safetensors format (`safetensors.torch.save_file`). Names must be
/// unique; each tensor is stored with its shape, as `F32` or `F64`. Views and CUDA tensors are copied out
/// first; the tensors themselves are not touched.
///
/// ```
/// use torchlet::io::{load_safetensors, save_safetensors};
/// use torchlet::Tensor;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("tensors.safetensors");
/// let (w, b) = (Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]), Tensor::new([0.5, -0.5]));
/// save_safetensors(&path, &[("weight", &w), ("bias", &b)])?;
/// let loaded = load_safetensors::<f64>(&path)?;
/// assert_eq!(loaded[1].0, "weight");
/// assert_eq!(loaded[1].1.to_vec2()?, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn save_safetensors<T: Element, S: AsRef<str>>(path: impl AsRef<Path>, tensors: &[(S, &Tensor<T>)]) -> Result<()> {
    let tensors = tensors.iter().map(|(n, t)| (n.as_ref(), *t, Stored::Float));
    write(path.as_ref(), "save_safetensors", tensors, HashMap::new())
}

/// Writes `tensors` to `path`, each as its [`Stored`] says, with `metadata` (string values, the format's
/// `__metadata__`) beside the `format` key.
pub(super) fn write<'a, T: Element>(
    path: &Path,
    op: &'static str,
    tensors: impl IntoIterator<Item = (&'a str, &'a Tensor<T>, Stored)>,
    mut metadata: HashMap<String, String>,
) -> Result<()> {
    let kind = T::DTYPE;
    let mut seen = BTreeSet::new();
    let mut owned = Vec::new();
    for (name, tensor, stored) in tensors {
        if !seen.insert(name) {
            return Err(Error::invalid(op, format!("the name {name:?} is given twice")));
        }
        let values = tensor.to_vec()?;
        let (dtype, bytes) = match stored {
            Stored::Float => (dtype_of(kind), to_le_bytes(&values, kind)),
            Stored::Int64 => (Dtype::I64, int64_le_bytes(op, name, &values)?),
        };
        owned.push((name.to_string(), dtype, tensor.shape().to_vec(), bytes));
    }
    let views = owned
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            let view = TensorView::new(*dtype, shape.clone(), bytes)
                .map_err(|e| io_error(op, format!("tensor {name:?}: {e}")))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    // The format key that safetensors' own torch writer sets, so Python loaders that check it accept the file.
    metadata.insert("format".to_string(), "pt".to_string());
    ::safetensors::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| io_error(op, format!("cannot write {}: {e}", path.display())))
}

/// The values as little-endian int64 bytes; each must be a whole number in int64's range (a count), since
/// rounding one on the way out would change it silently.
fn int64_le_bytes<T: Element>(op: &'static str, name: &str, values: &[T]) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(values.len() * 8);
    for v in values {
        let whole = v.to_f64().filter(|f| f.fract() == 0.0).and_then(|_| v.to_i64());
        let Some(i) = whole else {
            return Err(Error::invalid(
                op,
                format!("buffer {name:?} holds {v}, which is not a whole number, but it is stored as int64"),
            ));
        };
        bytes.extend_from_slice(&i.to_le_bytes());
    }
    Ok(bytes)
}

/// An `I64` entry as a tensor of `T`; each value must be exact in `T` (below 2^24 for f32, 2^53 for f64).
fn int64_tensor<T: Element>(op: &'static str, path: &Path, entry: &Entry) -> Result<Tensor<T>> {
    let values = entry
        .data
        .chunks_exact(8)
        .map(|c| {
            let i = i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            T::from_i64(i).filter(|v| v.to_i64() == Some(i)).ok_or_else(|| {
                Error::invalid(
                    op,
                    format!(
                        "tensor {:?} in {} holds {i}, which {} cannot hold exactly",
                        entry.name,
                        path.display(),
                        T::DTYPE.torch_name()
                    ),
                )
            })
        })
        .collect::<Result<Vec<T>>>()?;
    Tensor::from_vec(values, &entry.shape)
}

/// One tensor as stored in a file, before conversion to a `Tensor`.
pub(super) struct Entry {
    pub(super) name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// Reads and validates a whole file; the entries come in the order of their data in the file.
fn read_entries(path: &Path, op: &'static str) -> Result<Vec<Entry>> {
    read_file(path, op).map(|(entries, _)| entries)
}

/// Reads and validates a whole file: its entries in the order of their data, and its `__metadata__`
/// (empty when the file has none).
pub(super) fn read_file(path: &Path, op: &'static str) -> Result<(Vec<Entry>, HashMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| io_error(op, format!("cannot read {}: {e}", path.display())))?;
    let invalid = |e| io_error(op, format!("{} is not a valid safetensors file: {e}", path.display()));
    let file = SafeTensors::deserialize(&bytes).map_err(invalid)?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(invalid)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut views = file.tensors();
    // `tensors()` comes from a hash map; the data offsets give a stable order (the writer's, sorted by name),
    // and the name breaks ties between empty tensors.
    views.sort_by(|(a, va), (b, vb)| (va.data().as_ptr(), a).cmp(&(vb.data().as_ptr(), b)));
    views
        .into_iter()
        .map(|(name, v)| {
            // safetensors checks the product of the dims, which a 0 keeps small however large the others
            // are; a tensor's strides are the products of trailing dims, and those must fit a usize too.
            if v.shape().iter().rev().try_fold(1usize, |stride, &d| stride.checked_mul(d)).is_none() {
                return Err(io_error(
                    op,
                    format!(
                        "{} is not a valid safetensors file: tensor {name:?} has shape {:?}, too large to index",
                        path.display(),
                        v.shape()
                    ),
                ));
            }
            Ok(Entry { name, dtype: v.dtype(), shape: v.shape().to_vec(), data: v.data().to_vec() })
        })
        .collect::<Result<Vec<_>>>()
        .map(|entries| (entries, metadata))
}

/// Checks that `entry` holds elements of type `T`; `what` says what was expected of it, for the message.
pub(super) fn check_dtype<T: Element>(op: &'static str, path: &Path, entry: &Entry, what: &str) -> Result<DType> {
    let kind = T::DTYPE;
    if entry.dtype == dtype_of(kind) {
        return Ok(kind);
    }
    let hint = match entry.dtype {
        Dtype::F32 | Dtype::F64 => "",
        Dtype::I64 => "; torchlet reads I64 only into int64 buffers (num_batches_tracked)",
        _ => "; torchlet reads F32 and F64 only",
    };
    Err(Error::invalid(
        op,
        format!(
            "tensor {:?} in {} has dtype {:?}, but {what} {} ({:?}){hint}",
            entry.name,
            path.display(),
            entry.dtype,
            T::DTYPE.torch_name(),
            dtype_of(kind)
        ),
    ))
}

pub(super) fn to_tensor<T: Element>(entry: &Entry, kind: DType) -> Result<Tensor<T>> {
    // safetensors has checked that the data is exactly shape × dtype size, so this cannot truncate.
    Tensor::from_vec(from_le_bytes(&entry.data, kind), &entry.shape)
}

/// Reads every tensor of a safetensors file (`safetensors.torch.load_file`), in the order of their data in
/// the file (by name for files written here). All must have the dtype of `T`: an `F32` file read as `f64`
/// is an error naming both, not a silent conversion. A missing, truncated or malformed file is an error.
///
/// ```
/// use torchlet::io::{load_safetensors, save_safetensors};
/// use torchlet::Tensor;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("x.safetensors");
/// save_safetensors(&path, &[("x", &Tensor::<f32>::new([1.0, 2.0]))])?;
/// let err = load_safetensors::<f64>(&path).unwrap_err().to_string();
/// assert!(err.contains("has dtype F32, but the tensors asked for are torch.float64 (F64)"), "{err}");
/// std::fs::write(&path, b"not a safetensors file").unwrap();
/// assert!(load_safetensors::<f32>(&path).unwrap_err().to_string().contains("is not a valid safetensors file"));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn load_safetensors<T: Element>(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor<T>)>> {
    const OP: &str = "load_safetensors";
    let path = path.as_ref();
    let entries = read_entries(path, OP)?;
    entries
        .iter()
        .map(|e| {
            let kind = check_dtype::<T>(OP, path, e, "the tensors asked for are")?;
            Ok((e.name.clone(), to_tensor(e, kind)?))
        })
        .collect()
}

/// Saves a module's parameters and buffers under their [`Module::named_parameters`] and
/// [`Module::named_buffers`] names, torch's `state_dict` keys (`weight`, `bias`, `layer1.weight`, ...), as
/// `save_file(model.state_dict(), path)` does. Tensors are stored in the model's dtype, except a buffer
/// named `num_batches_tracked` (a batch norm's count), which is stored as `I64` as torch keeps it, and which
/// [`load_parameters`] reads back from `I64`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::io::{load_safetensors, save_parameters};
/// use torchlet::nn::Linear;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("linear.safetensors");
/// save_parameters(&Linear::<f64>::with_rng(4, 2, true, &mut StdRng::seed_from_u64(0)), &path)?;
/// let names: Vec<String> = load_safetensors::<f64>(&path)?.into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["bias", "weight"]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn save_parameters<T: Element, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let state = module_state(module);
    write(path.as_ref(), "save_parameters", state.iter().map(|(n, t, s)| (n.as_str(), t, *s)), HashMap::new())
}

/// A module's parameters, then its buffers: the tensors of torch's `module.state_dict()`, each with how it
/// is stored (the int64 buffers as `I64`, see [`INT64_BUFFERS`]).
pub(super) fn module_state<T: Element, M: Module<T> + ?Sized>(module: &M) -> Vec<(String, Tensor<T>, Stored)> {
    let params = module.named_parameters().into_iter().map(|(n, t)| (n, t, Stored::Float));
    let buffers = module.named_buffers().into_iter().map(|(n, t)| {
        let stored = if is_int64_buffer(&n) { Stored::Int64 } else { Stored::Float };
        (n, t, stored)
    });
    params.chain(buffers).collect()
}

/// Copies the parameters (and buffers) saved in `path` into `module`'s in place
/// (`model.load_state_dict(load_file(path))`, strict): the parameters stay the same tensors, so an optimizer
/// built on them keeps working.
///
/// Everything is checked before anything is written, so on an error the module is unchanged: every
/// parameter and buffer must be in the file and every tensor in the file must be one of them, and each must
/// have the module's shape and dtype. The error lists every problem at once, as torch's does: the missing
/// and the unexpected keys, and each size or dtype mismatch.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::io::{load_parameters, save_parameters};
/// use torchlet::nn::Linear;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("linear.safetensors");
/// save_parameters(&Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0)), &path)?;
///
/// let wider = Linear::<f32>::with_rng(4, 2, true, &mut StdRng::seed_from_u64(0));
/// let err = load_parameters(&wider, &path).unwrap_err().to_string();
/// assert!(err.contains("size mismatch for \"weight\": shape [2, 3] in"), "{err}");
///
/// let no_bias = Linear::<f32>::with_rng(3, 2, false, &mut StdRng::seed_from_u64(0));
/// let err = load_parameters(&no_bias, &path).unwrap_err().to_string();
/// assert!(err.contains("unexpected key(s) [\"bias\"]"), "{err}");
///
/// let f64_model = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
/// let err = load_parameters(&f64_model, &path).unwrap_err().to_string();
/// assert!(err.contains("has dtype F32, but the model's parameter is torch.float64 (F64)"), "{err}");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn load_parameters<T: Element, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    const OP: &str = "load_parameters";
    let path = path.as_ref();
    let entries = read_entries(path, OP)?;
    let sources = check_module_entries(OP, path, &entries, module)?;
    copy_into(&sources)
}

/// Checks `entries` against the module's parameters and buffers, by name, shape and dtype, and makes the
/// tensors to copy into each, on its device; writes nothing. Every problem is found before any is reported,
/// as torch's `load_state_dict` lists them all: one comes back as it is, several as one error listing each.
pub(super) fn check_module_entries<T: Element, M: Module<T> + ?Sized>(
    op: &'static str,
    path: &Path,
    entries: &[Entry],
    module: &M,
) -> Result<Vec<(Tensor<T>, Tensor<T>)>> {
    let params = module.named_parameters();
    let buffers = module.named_buffers();
    let targets: Vec<(&String, &Tensor<T>, &str)> =
        params.iter().map(|(n, t)| (n, t, "parameter")).chain(buffers.iter().map(|(n, t)| (n, t, "buffer"))).collect();
    let missing: Vec<&str> =
        targets.iter().map(|(n, ..)| n.as_str()).filter(|n| !entries.iter().any(|e| e.name == *n)).collect();
    let unexpected: Vec<&str> =
        entries.iter().map(|e| e.name.as_str()).filter(|n| !targets.iter().any(|(t, ..)| t == n)).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() || !unexpected.is_empty() {
        let what = if buffers.is_empty() { "parameters" } else { "parameters and buffers" };
        problems.push(io_error(
            op,
            format!(
                "the keys of {} do not match the module's {what}: missing key(s) {missing:?}, \
                 unexpected key(s) {unexpected:?}",
                path.display()
            ),
        ));
    }
    let mut sources = Vec::with_capacity(targets.len());
    for (name, target, kind) in targets {
        let Some(entry) = entries.iter().find(|e| &e.name == name) else { continue };
        // An int64 buffer takes the I64 that torch writes (and, leniently, the model's float dtype).
        let int64 = kind == "buffer" && is_int64_buffer(name) && entry.dtype == Dtype::I64;
        let dtype = match check_dtype::<T>(op, path, entry, &format!("the model's {kind} is")) {
            _ if int64 => T::DTYPE,
            Ok(dtype) => dtype,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if entry.shape != target.shape() {
            problems.push(Error::shape(
                op,
                format!(
                    "size mismatch for {name:?}: shape {:?} in {}, but the {kind} in the model has shape {:?}",
                    entry.shape,
                    path.display(),
                    target.shape()
                ),
            ));
            continue;
        }
        let source = if int64 { int64_tensor::<T>(op, path, entry) } else { to_tensor::<T>(entry, dtype) };
        match source {
            Ok(source) => sources.push((target.clone(), source.to(target.device())?)),
            Err(e) => problems.push(e),
        }
    }
    match problems.len() {
        0 => Ok(sources),
        1 => Err(problems.remove(0)),
        n => {
            // The file is named once, up front, rather than in each problem.
            let shown = path.display().to_string();
            let each: Vec<String> = problems
                .iter()
                .map(|e| {
                    let msg = e.to_string();
                    let msg = msg.strip_prefix(op).and_then(|m| m.strip_prefix(": ")).unwrap_or(&msg);
                    msg.replace(&format!(" in {shown}"), "").replace(&format!("the keys of {shown}"), "the keys")
                })
                .collect();
            Err(io_error(op, format!("{n} problems loading {shown}: {}", each.join("; "))))
        }
    }
}

/// Copies each source into its target, in place. Parameters are leaves that require grad: as torch's
/// `load_state_dict`, copy under no_grad.
pub(super) fn copy_into<T: Element>(pairs: &[(Tensor<T>, Tensor<T>)]) -> Result<()> {
    no_grad(|| pairs.iter().try_for_each(|(target, src)| target.copy_(src).map(|_| ())))
}
