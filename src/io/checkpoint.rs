//! Training checkpoints: a model's parameters and buffers, an optimizer's state and hyperparameters and a
//! scheduler's state in one safetensors file, so that a run stopped and resumed in another process goes on
//! exactly as if it had not stopped.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::io_error;
use super::safetensors::{
    check_dtype, check_module_entries, copy_into, module_state, read_file, to_tensor, write, Stored,
};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::optim::lr_scheduler::LRScheduler;
use crate::optim::{Optimizer, StateDict};
use crate::tensor::Tensor;

const MODEL: &str = "model.";
const OPTIMIZER: &str = "optimizer.";

/// Saves everything a training run needs to go on (`torch.save({"model": model.state_dict(), "optimizer":
/// opt.state_dict(), "scheduler": scheduler.state_dict()}, path)`) to one safetensors file:
///
/// - tensors `model.<name>`: the model's parameters and buffers under their `state_dict` names;
/// - tensors `optimizer.state.<index>.<key>`: the optimizer's [`state_dict`](Optimizer::state_dict);
/// - metadata `optimizer`: `{"param_groups": [group]}` in JSON, the [`param_group`](Optimizer::param_group)
///   with torch's `params` (the parameters' indices) — with the tensors above, torch's
///   `optimizer.state_dict()`;
/// - metadata `scheduler`, when one is given: its [`state_dict`](LRScheduler::state_dict) in JSON.
///
/// Every value is stored exactly: tensors in the model's dtype (a `num_batches_tracked` buffer as `I64`,
/// as torch keeps it), scalars as JSON numbers that read back to
/// the same bits. Load it with [`load_checkpoint`].
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::io::{load_safetensors, save_checkpoint};
/// use torchlet::nn::{Linear, Module};
/// use torchlet::optim::lr_scheduler::StepLR;
/// use torchlet::optim::SGD;
///
/// let model = Linear::<f32>::with_rng(3, 1, true, &mut StdRng::seed_from_u64(0));
/// let mut opt = SGD::new(model.parameters(), 0.1)?;
/// let scheduler = StepLR::new(&mut opt, 10, 0.5)?;
/// let dir = tempfile::tempdir().unwrap();
/// save_checkpoint(dir.path().join("ckpt.safetensors"), &model, &opt, Some(&scheduler))?;
/// let names: Vec<String> = load_safetensors::<f32>(dir.path().join("ckpt.safetensors"))?.into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["model.bias", "model.weight"]); // plain SGD keeps no state
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn save_checkpoint<T: Element, M: Module<T> + ?Sized, O: Optimizer<T> + ?Sized>(
    path: impl AsRef<Path>,
    model: &M,
    optimizer: &O,
    scheduler: Option<&dyn LRScheduler>,
) -> Result<()> {
    let model_state = module_state(model);
    let optimizer_state = optimizer.state_dict();
    let named: Vec<(String, &Tensor<T>, Stored)> = model_state
        .iter()
        .map(|(n, t, s)| (format!("{MODEL}{n}"), t, *s))
        .chain(optimizer_state.iter().map(|(n, t)| (format!("{OPTIMIZER}{n}"), t, Stored::Float)))
        .collect();
    let mut group = optimizer.param_group();
    group.insert("params".to_string(), (0..optimizer.params().len()).collect::<Vec<usize>>().into());
    let mut optimizer_meta = StateDict::new();
    optimizer_meta.insert("param_groups".to_string(), Value::Array(vec![Value::Object(group)]));
    let mut metadata = HashMap::from([("optimizer".to_string(), Value::Object(optimizer_meta).to_string())]);
    if let Some(s) = scheduler {
        metadata.insert("scheduler".to_string(), Value::Object(s.state_dict()).to_string());
    }
    write(path.as_ref(), "save_checkpoint", named.iter().map(|(n, t, s)| (n.as_str(), *t, *s)), metadata)
}

/// Restores a checkpoint written by [`save_checkpoint`] into a model, an optimizer and (when the checkpoint
/// has one) a scheduler made as they were for the saved run: the parameters and buffers are copied in
/// place (an optimizer built on them keeps working), the optimizer gets its state and hyperparameters
/// (the learning rate a scheduler had set included), the scheduler its state. The next step then gives
/// exactly what the saved run's next step would have given.
///
/// Everything in the file is checked before anything is written: every tensor's name, shape and dtype
/// against the model (a checkpoint of a model of another shape or dtype is an error naming the key and
/// both shapes or dtypes), the metadata, the optimizer's number of parameters, and a scheduler given
/// exactly when the checkpoint has one. The optimizer and the scheduler then check their own parts as
/// their `load_*` methods do; if one refuses, what was already loaded is put back. On any error the model,
/// the optimizer and the scheduler are as they were.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::io::{load_checkpoint, save_checkpoint};
/// use torchlet::nn::{Linear, Module};
/// use torchlet::optim::{Adam, Optimizer};
///
/// let model = Linear::<f64>::with_rng(3, 1, true, &mut StdRng::seed_from_u64(0));
/// let opt = Adam::new(model.parameters(), 0.01)?;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("ckpt.safetensors");
/// save_checkpoint(&path, &model, &opt, None)?;
///
/// let wider = Linear::<f64>::with_rng(4, 1, true, &mut StdRng::seed_from_u64(1));
/// let before = wider.weight().to_vec()?;
/// let err = load_checkpoint(&path, &wider, &mut Adam::new(wider.parameters(), 0.01)?, None).unwrap_err();
/// assert!(err.to_string().contains("size mismatch for \"weight\": shape [1, 3]"), "{err}");
/// assert_eq!(wider.weight().to_vec()?, before);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn load_checkpoint<T: Element, M: Module<T> + ?Sized, O: Optimizer<T> + ?Sized>(
    path: impl AsRef<Path>,
    model: &M,
    optimizer: &mut O,
    mut scheduler: Option<&mut dyn LRScheduler>,
) -> Result<()> {
    const OP: &str = "load_checkpoint";
    let path = path.as_ref();
    let (entries, metadata) = read_file(path, OP)?;

    // The file's own checks: nothing is written until all of them pass.
    let (mut model_entries, mut optimizer_entries) = (Vec::new(), Vec::new());
    for mut entry in entries {
        if let Some(name) = entry.name.strip_prefix(MODEL) {
            entry.name = name.to_string();
            model_entries.push(entry);
        } else if let Some(name) = entry.name.strip_prefix(OPTIMIZER) {
            entry.name = name.to_string();
            optimizer_entries.push(entry);
        } else {
            return Err(io_error(
                OP,
                format!("{}: unexpected tensor {:?} (expected model.* or optimizer.*)", path.display(), entry.name),
            ));
        }
    }
    let sources = check_module_entries(OP, path, &model_entries, model)?;
    let optimizer_state = optimizer_entries
        .iter()
        .map(|e| {
            let dtype = check_dtype::<T>(OP, path, e, "the optimizer's state is")?;
            Ok((e.name.clone(), to_tensor::<T>(e, dtype)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let group = param_group(OP, path, &metadata, optimizer.params().len())?;
    let scheduler_state = match (metadata.get("scheduler"), &scheduler) {
        (Some(text), Some(_)) => Some(json_object(OP, path, "scheduler", text)?),
        (None, None) => None,
        (Some(_), None) => {
            return Err(io_error(
                OP,
                format!("{} holds a scheduler's state, but no scheduler was given", path.display()),
            ))
        }
        (None, Some(_)) => {
            return Err(io_error(OP, format!("{} holds no scheduler state, but a scheduler was given", path.display())))
        }
    };

    // Each load below is all or nothing; a later refusal puts the earlier ones back, with values that
    // were accepted before and so are accepted again.
    let in_file = |what: &'static str| move |e: Error| within(OP, path, what, e);
    let old_schedule = match (&mut scheduler, &scheduler_state) {
        (Some(s), Some(state)) => {
            let old = s.state_dict();
            s.load_state_dict(state).map_err(in_file("scheduler"))?;
            Some(old)
        }
        _ => None,
    };
    let put_schedule_back = |scheduler: &mut Option<&mut dyn LRScheduler>| {
        if let (Some(s), Some(old)) = (scheduler, &old_schedule) {
            let _ = s.load_state_dict(old);
        }
    };
    let (old_group, old_state) = (optimizer.param_group(), optimizer.state_dict());
    if let Err(e) = optimizer.load_param_group(&group) {
        put_schedule_back(&mut scheduler);
        return Err(in_file("optimizer")(e));
    }
    if let Err(e) = optimizer.load_state_dict(&optimizer_state) {
        let _ = optimizer.load_param_group(&old_group);
        put_schedule_back(&mut scheduler);
        return Err(in_file("optimizer")(e));
    }
    // The shapes and devices were checked above, so copying cannot fail short of a broken device.
    copy_into(&sources).inspect_err(|_| {
        let _ = optimizer.load_param_group(&old_group);
        let _ = optimizer.load_state_dict(&old_state);
        put_schedule_back(&mut scheduler);
    })
}

/// The optimizer's parameter group from the `optimizer` metadata: one group, whose `params` are the indices
/// of `n_params` parameters.
fn param_group(
    op: &'static str,
    path: &Path,
    metadata: &HashMap<String, String>,
    n_params: usize,
) -> Result<StateDict> {
    let text = metadata.get("optimizer").ok_or_else(|| {
        io_error(op, format!("{} has no \"optimizer\" metadata: not a checkpoint of save_checkpoint", path.display()))
    })?;
    let optimizer = json_object(op, path, "optimizer", text)?;
    let groups = optimizer.get("param_groups").and_then(Value::as_array);
    let Some([Value::Object(group)]) = groups.map(Vec::as_slice) else {
        return Err(io_error(
            op,
            format!("the \"optimizer\" metadata of {} does not hold \"param_groups\" of one group", path.display()),
        ));
    };
    let params: Option<Vec<u64>> =
        group.get("params").and_then(Value::as_array).and_then(|l| l.iter().map(Value::as_u64).collect());
    let expected: Vec<u64> = (0..n_params as u64).collect();
    if params.as_ref() != Some(&expected) {
        return Err(io_error(
            op,
            format!(
                "the optimizer in {} has parameters {}, but this optimizer has {n_params} ({expected:?})",
                path.display(),
                group.get("params").unwrap_or(&Value::Null)
            ),
        ));
    }
    Ok(group.clone())
}

fn json_object(op: &'static str, path: &Path, key: &str, text: &str) -> Result<StateDict> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            Err(io_error(op, format!("the {key:?} metadata of {} is not a JSON object: {other}", path.display())))
        }
        Err(e) => Err(io_error(op, format!("the {key:?} metadata of {} is not valid JSON: {e}", path.display()))),
    }
}

/// `e` (from the optimizer's or the scheduler's own load) under `op`, saying which part of which file it
/// concerns; the kind of error is kept.
fn within(op: &'static str, path: &Path, what: &str, e: Error) -> Error {
    let msg = format!("the {what} in {}: {e}", path.display());
    match e {
        Error::Shape { .. } => Error::shape(op, msg),
        Error::Io { .. } => io_error(op, msg),
        _ => Error::invalid(op, msg),
    }
}
