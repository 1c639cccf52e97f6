//! What the optimizers share: the checks on their parameter lists and hyperparameters, and the
//! `state.<index>.<key>` naming of their state dicts.

use std::collections::BTreeMap;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Collects `params` and refuses what torch refuses: an empty list, a non-leaf, a tensor listed twice.
pub(crate) fn check_params<T: Element>(
    op: &'static str,
    params: impl IntoIterator<Item = Tensor<T>>,
) -> Result<Vec<Tensor<T>>> {
    let params: Vec<Tensor<T>> = params.into_iter().collect();
    if params.is_empty() {
        return Err(Error::invalid(op, "optimizer got an empty parameter list"));
    }
    for (i, p) in params.iter().enumerate() {
        if !p.is_leaf() {
            return Err(Error::invalid(
                op,
                format!("can't optimize a non-leaf tensor (parameter {i}, shape {:?})", p.shape()),
            ));
        }
        if let Some(j) = params[..i].iter().position(|q| q.id() == p.id()) {
            return Err(Error::invalid(op, format!("parameter {i} is the same tensor as parameter {j}")));
        }
    }
    Ok(params)
}

/// `value` must be finite and >= 0 (torch checks `0.0 <= value`, which lets infinities through; NaN and
/// infinities are refused here because no update survives them).
pub(crate) fn check_non_negative(op: &'static str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(op, format!("invalid {name}: {value} (must be finite and >= 0)")))
    }
}

/// The gradient to use for `p`, or `None` to skip it; a gradient of another shape is an error.
pub(crate) fn grad_of<T: Element>(op: &'static str, p: &Tensor<T>) -> Result<Option<Tensor<T>>> {
    let Some(grad) = p.grad() else { return Ok(None) };
    if grad.shape() != p.shape() {
        return Err(Error::shape(
            op,
            format!("gradient of shape {:?} for a parameter of shape {:?}", grad.shape(), p.shape()),
        ));
    }
    Ok(Some(grad))
}

/// A new tensor with `src`'s values, owned by the optimizer (`torch.zeros_like` + copy).
pub(crate) fn owned_copy<T: Element>(src: &Tensor<T>) -> Result<Tensor<T>> {
    let out = src.zeros_like()?;
    out.copy_(src)?;
    Ok(out)
}

/// The entries of one parameter's state, by key.
pub(crate) type Entries<T> = BTreeMap<String, Tensor<T>>;

/// The name of one state entry, `state.<index>.<key>`, as in torch's `optimizer.state_dict()["state"]`.
pub(crate) fn entry_name(index: usize, key: &str) -> String {
    format!("state.{index}.{key}")
}

/// The step counter as torch keeps it: a scalar tensor (on the CPU).
pub(crate) fn step_tensor<T: Element>(step: u64) -> Tensor<T> {
    Tensor::scalar(T::from_f64_lossy(step as f64))
}

/// Groups `state.<index>.<key>` entries by parameter, refusing malformed names, indices past the
/// parameter list, keys outside `keys` and entries given twice.
pub(crate) fn group_entries<T: Element>(
    op: &'static str,
    entries: &[(String, Tensor<T>)],
    n_params: usize,
    keys: &[&str],
) -> Result<Vec<Entries<T>>> {
    let mut grouped: Vec<Entries<T>> = vec![BTreeMap::new(); n_params];
    for (name, tensor) in entries {
        let parsed = name.strip_prefix("state.").and_then(|rest| rest.split_once('.'));
        let Some((index, key)) = parsed.and_then(|(i, k)| Some((i.parse::<usize>().ok()?, k))) else {
            return Err(Error::invalid(op, format!("state entry {name:?} is not named state.<index>.<key>")));
        };
        if index >= n_params {
            return Err(Error::invalid(
                op,
                format!("state entry {name:?} is for parameter {index}, but the optimizer has {n_params}"),
            ));
        }
        if !keys.contains(&key) {
            return Err(Error::invalid(
                op,
                format!("state entry {name:?}: unknown key {key:?} (expected one of {keys:?})"),
            ));
        }
        if grouped[index].insert(key.to_string(), tensor.clone()).is_some() {
            return Err(Error::invalid(op, format!("state entry {name:?} is given twice")));
        }
    }
    Ok(grouped)
}

/// One parameter's entries of a state dict being loaded, taken out key by key as its state is rebuilt.
pub struct StateLoader<'a, T: Element> {
    op: &'static str,
    index: usize,
    param: &'a Tensor<T>,
    entries: Entries<T>,
}

impl<'a, T: Element> StateLoader<'a, T> {
    /// The entries of parameter `index`, for errors under `op`.
    pub(crate) fn new(op: &'static str, index: usize, param: &'a Tensor<T>, entries: Entries<T>) -> Self {
        StateLoader { op, index, param, entries }
    }

    fn missing(&self, key: &str) -> Error {
        Error::invalid(self.op, format!("the state of parameter {} lacks {}", self.index, entry_name(self.index, key)))
    }

    /// The buffer `key`, if given: it must have the parameter's shape, and is copied onto the parameter's
    /// device into memory of its own.
    pub(crate) fn optional_buffer(&mut self, key: &str) -> Result<Option<Tensor<T>>> {
        let Some(t) = self.entries.remove(key) else { return Ok(None) };
        let (index, param) = (self.index, self.param);
        if t.shape() != param.shape() {
            return Err(Error::shape(
                self.op,
                format!(
                    "{} has shape {:?}, but parameter {index} has shape {:?}",
                    entry_name(index, key),
                    t.shape(),
                    param.shape()
                ),
            ));
        }
        owned_copy(&t.to(param.device())?).map(Some)
    }

    /// Like [`StateLoader::optional_buffer`], for a buffer that must be there.
    pub(crate) fn buffer(&mut self, key: &str) -> Result<Tensor<T>> {
        self.optional_buffer(key)?.ok_or_else(|| self.missing(key))
    }

    /// The step counter: one element holding a whole number >= 0.
    pub(crate) fn step(&mut self) -> Result<u64> {
        let t = self.entries.remove("step").ok_or_else(|| self.missing("step"))?;
        let value = if t.numel() == 1 { t.item()?.to_f64() } else { None };
        match value {
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53) => Ok(v as u64),
            _ => Err(Error::invalid(
                self.op,
                format!("{} must be one whole number >= 0 (got shape {:?})", entry_name(self.index, "step"), t.shape()),
            )),
        }
    }
}
