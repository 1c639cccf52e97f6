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
    write(path.as_ref(), "save_safetensors", tensors.iter().map(|(n, t)| (n.as_ref(), *t)), HashMap::new())
}

/// Writes `tensors` to `path`, with `metadata` (string values, the format's `__metadata__`) beside the
/// `format` key.
pub(super) fn write<'a, T: Element>(
    path: &Path,
    op: &'static str,
    tensors: impl IntoIterator<Item = (&'a str, &'a Tensor<T>)>,
    mut metadata: HashMap<String, String>,
) -> Result<()> {
    let kind = T::DTYPE;
    let mut seen = BTreeSet::new();
    let mut owned = Vec::new();
    for (name, tensor) in tensors {
        if !seen.insert(name) {
            return Err(Error::invalid(op, format!("the name {name:?} is given twice")));
        }
        owned.push((name.to_string(), tensor.shape().to_vec(), to_le_bytes(&tensor.to_vec()?, kind)));
    }
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            let view = TensorView::new(dtype_of(kind), shape.clone(), bytes)
                .map_err(|e| io_error(op, format!("tensor {name:?}: {e}")))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    // The format key that safetensors' own torch writer sets, so Python loaders that check it accept the file.
    metadata.insert("format".to_string(), "pt".to_string());
    ::safetensors::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| io_error(op, format!("cannot write {}: {e}", path.display())))
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
/// `save_file(model.state_dict(), path)` does.
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
    write(path.as_ref(), "save_parameters", state.iter().map(|(n, t)| (n.as_str(), t)), HashMap::new())
}

/// A module's parameters, then its buffers: the tensors of torch's `module.state_dict()`.
pub(super) fn module_state<T: Element, M: Module<T> + ?Sized>(module: &M) -> Vec<(String, Tensor<T>)> {
    let mut state = module.named_parameters();
    state.extend(module.named_buffers());
    state
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
        let dtype = match check_dtype::<T>(op, path, entry, &format!("the model's {kind} is")) {
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
        sources.push((target.clone(), to_tensor::<T>(entry, dtype)?.to(target.device())?));
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
