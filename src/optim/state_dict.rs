//! State dicts of plain values — what torch's schedulers return from `state_dict()` and what an optimizer's
//! parameter group holds — and the checks on one being loaded.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::{Error, Result};

/// A state dict of plain values under torch's names: numbers, flags, strings and lists or dicts of them,
/// as JSON values. It is what a scheduler's [`state_dict`](super::lr_scheduler::LRScheduler::state_dict)
/// returns (torch's `scheduler.state_dict()`) and what an optimizer's
/// [`param_group`](super::Optimizer::param_group) returns (`opt.state_dict()["param_groups"][0]`).
///
/// `serde_json::to_string` turns it into the JSON text that Python's `json.loads` reads, and
/// `serde_json::from_str` back; every `f64` comes back with the same bits.
///
/// ```
/// use torchlet::optim::lr_scheduler::{LRScheduler, StepLR};
/// use torchlet::optim::SGD;
/// use torchlet::Tensor;
/// let mut opt = SGD::new([Tensor::<f32>::zeros(&[2]).requires_grad_(true)?], 0.1)?;
/// let state = StepLR::new(&mut opt, 30, 0.1)?.state_dict();
/// assert_eq!((state["step_size"].as_u64(), state["gamma"].as_f64()), (Some(30), Some(0.1)));
/// assert_eq!(state["_last_lr"][0], 0.1);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub type StateDict = serde_json::Map<String, Value>;

/// Reads the values of a state dict being loaded, naming `op` and the key in every error. Made only once
/// the keys are known to be the expected ones.
pub(crate) struct Reader<'a> {
    op: &'static str,
    state: &'a StateDict,
}

impl<'a> Reader<'a> {
    /// Checks that `state` has every key of `required`, and no key outside `required` and `ignored`
    /// (torch's bookkeeping, which has no counterpart here); the error lists the missing and the
    /// unexpected keys, as a strict `load_state_dict` does, and says whose keys were expected.
    pub(crate) fn new(
        op: &'static str,
        whose: &str,
        state: &'a StateDict,
        required: &[&str],
        ignored: &[&str],
    ) -> Result<Self> {
        let missing: Vec<&str> = required.iter().copied().filter(|k| !state.contains_key(*k)).collect();
        let known: BTreeSet<&str> = required.iter().chain(ignored).copied().collect();
        let unexpected: Vec<&str> = state.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            return Err(Error::invalid(
                op,
                format!(
                    "the keys do not match {whose}: missing key(s) {missing:?}, \
                     unexpected key(s) {unexpected:?}"
                ),
            ));
        }
        Ok(Reader { op, state })
    }

    fn get(&self, key: &str) -> Result<&'a Value> {
        self.state.get(key).ok_or_else(|| Error::invalid(self.op, format!("missing key {key:?}")))
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> Error {
        Error::invalid(self.op, format!("{key:?} must be {expected}, but is {got}"))
    }

    /// A finite number.
    pub(crate) fn f64(&self, key: &str) -> Result<f64> {
        let v = self.get(key)?;
        v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| self.wrong(key, "a finite number", v))
    }

    /// A whole number >= 0 that fits a `usize`.
    pub(crate) fn usize(&self, key: &str) -> Result<usize> {
        let v = self.get(key)?;
        v.as_u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| self.wrong(key, "a whole number >= 0", v))
    }

    /// `true` or `false`.
    pub(crate) fn bool(&self, key: &str) -> Result<bool> {
        let v = self.get(key)?;
        v.as_bool().ok_or_else(|| self.wrong(key, "true or false", v))
    }

    /// A string.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str> {
        let v = self.get(key)?;
        v.as_str().ok_or_else(|| self.wrong(key, "a string", v))
    }

    /// A list of exactly `len` finite numbers.
    pub(crate) fn f64_list(&self, key: &str, len: usize) -> Result<Vec<f64>> {
        let v = self.get(key)?;
        let expected = format!("a list of {len} finite number(s)");
        let list = v.as_array().filter(|l| l.len() == len).ok_or_else(|| self.wrong(key, &expected, v))?;
        list.iter().map(|x| x.as_f64().filter(|x| x.is_finite()).ok_or_else(|| self.wrong(key, &expected, v))).collect()
    }

    /// The value as it is, for shapes of their own (lists of dicts, counters).
    pub(crate) fn value(&self, key: &str) -> Result<&'a Value> {
        self.get(key)
    }

    /// An error about the value of `key`, with the operation's name.
    pub(crate) fn invalid(&self, key: &str, msg: impl std::fmt::Display) -> Error {
        Error::invalid(self.op, format!("{key:?}: {msg}"))
    }
}

/// Sets `key` to `value`.
pub(crate) fn put(state: &mut StateDict, key: &str, value: impl Into<Value>) {
    state.insert(key.to_string(), value.into());
}
