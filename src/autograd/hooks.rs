//! Gradient hooks on tensors (`tensor.register_hook(fn)`), and the handle that removes a hook, which module
//! forward hooks ([`crate::nn::Hooked`]) share.
//!
//! A leaf's hooks run on the gradient gathered for it in a backward pass, before it is accumulated into
//! `.grad` (or returned by [`grad`](super::grad)); a non-leaf's hooks belong to the node that made it and run
//! when its gradient is complete, before that node's backward sees it. Each may return a replacement, which
//! is what flows on; hooks run in the order they were registered, and a non-leaf's retained gradient
//! (`retain_grad`) is the one after its hooks, as in torch.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A gradient hook: the gradient in, a replacement (or `None` to keep it) out.
type HookFn<T> = dyn Fn(&Tensor<T>) -> Result<Option<Tensor<T>>> + Send + Sync;

/// A registered hook and the id its handle removes it by.
pub(crate) struct Hook<T: Element> {
    id: u64,
    f: Arc<HookFn<T>>,
}

impl<T: Element> Clone for Hook<T> {
    fn clone(&self) -> Self {
        Hook { id: self.id, f: Arc::clone(&self.f) }
    }
}

/// The hooks of every tensor that has any, keyed by the address of its leaf (`TensorInner`) or of its node's
/// metadata: a table beside the tensors rather than a field in each, so that tensors and nodes without hooks
/// (nearly all) keep their size and their allocations' size classes, and a backward pays one flag read per
/// node and leaf. The owner's flag says whether it has an entry, and dropping a flagged owner removes it
/// ([`forget`]); a handle holds a `Weak` to its owner, so an address cannot be reused while a hook could
/// still be removed by it.
static REGISTRY: Mutex<Vec<(usize, Box<dyn Any + Send + Sync>)>> = Mutex::new(Vec::new());

/// The hooks registered under `key`, cloned out, so that they run with no lock held.
pub(crate) fn hooks_of<T: Element>(key: usize) -> Vec<Hook<T>> {
    let registry = crate::sync::lock(&REGISTRY);
    let found = registry.iter().find(|(k, _)| *k == key);
    found.and_then(|(_, hooks)| hooks.downcast_ref::<Vec<Hook<T>>>()).cloned().unwrap_or_default()
}

fn add<T: Element>(key: usize, hook: Hook<T>) {
    let mut registry = crate::sync::lock(&REGISTRY);
    let list = match registry.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            registry.push((key, Box::new(Vec::<Hook<T>>::new())));
            registry.len() - 1
        }
    };
    if let Some(hooks) = registry[list].1.downcast_mut::<Vec<Hook<T>>>() {
        hooks.push(hook);
    }
}

/// Removes the hook `id` from `key`'s list, returning whether any remain.
fn remove<T: Element>(key: usize, id: u64) -> bool {
    let mut registry = crate::sync::lock(&REGISTRY);
    let Some(i) = registry.iter().position(|(k, _)| *k == key) else { return false };
    let any_left = match registry[i].1.downcast_mut::<Vec<Hook<T>>>() {
        Some(hooks) => {
            hooks.retain(|h| h.id != id);
            !hooks.is_empty()
        }
        None => false,
    };
    if !any_left {
        registry.swap_remove(i);
    }
    any_left
}

/// Drops the hooks of the owner at `key`, which is being dropped.
pub(crate) fn forget(key: usize) {
    let mut registry = crate::sync::lock(&REGISTRY);
    registry.retain(|(k, _)| *k != key);
}

/// A fresh id for a hook, unique in the process.
pub(crate) fn next_hook_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs `hooks` in order on `grad`, each on what the previous returned, for the tensor of shape `shape`.
/// A replacement of another shape is an error, as torch's check of a hook's result.
pub(crate) fn run_hooks<T: Element>(hooks: &[Hook<T>], grad: Tensor<T>, shape: &[usize]) -> Result<Tensor<T>> {
    let mut grad = grad;
    for hook in hooks {
        if let Some(replacement) = (hook.f)(&grad)? {
            if replacement.shape() != shape {
                return Err(Error::autograd(
                    "register_hook",
                    format!(
                        "a hook returned a gradient of shape {:?} for a tensor of shape {shape:?}; a hook may change \
                         the gradient's values, not its shape",
                        replacement.shape()
                    ),
                ));
            }
            grad = replacement;
        }
    }
    Ok(grad)
}

/// Removes a hook with [`RemovableHandle::remove`] (torch's `RemovableHandle`). Dropping the handle keeps
/// the hook, as in torch; removing it after its tensor or module is gone does nothing.
pub struct RemovableHandle {
    remove: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl RemovableHandle {
    pub(crate) fn new(remove: impl FnOnce() + Send + Sync + 'static) -> Self {
        RemovableHandle { remove: Some(Box::new(remove)) }
    }

    /// Removes the hook (`handle.remove()`): it runs no more.
    pub fn remove(mut self) {
        if let Some(remove) = self.remove.take() {
            remove();
        }
    }
}

impl std::fmt::Debug for RemovableHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemovableHandle")
    }
}

impl<T: Element> Tensor<T> {
    /// Registers a hook on this tensor's gradient (`tensor.register_hook(hook)`): it is called with the
    /// gradient of this tensor whenever a backward pass computes it, and may return a replacement, which is
    /// then used instead. On a leaf it runs before the gradient is accumulated into `.grad` (or returned by
    /// [`autograd::grad`](crate::autograd::grad)); on a non-leaf, when its gradient is complete, before it
    /// flows on to the op that made the tensor. Fails for a tensor that does not require grad.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let x = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    /// let h = x.mul_scalar(3.0)?;
    /// // Double the gradient flowing through h, and watch x's.
    /// let doubling = h.register_hook(|g| Ok(Some(g.mul_scalar(2.0)?)))?;
    /// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// x.register_hook(move |g| {
    ///     log.lock().unwrap().push(g.to_vec()?);
    ///     Ok(None)
    /// })?;
    /// h.sum()?.backward_retain_graph(None)?;
    /// assert_eq!(x.grad().unwrap().to_vec()?, vec![6.0, 6.0]);
    /// doubling.remove();
    /// h.sum()?.backward()?;
    /// assert_eq!(*seen.lock().unwrap(), vec![vec![6.0, 6.0], vec![3.0, 3.0]]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor<T>) -> Result<Option<Tensor<T>>> + Send + Sync + 'static,
    ) -> Result<RemovableHandle> {
        if !self.requires_grad() {
            return Err(Error::autograd(
                "register_hook",
                format!("cannot register a hook on a tensor that doesn't require gradient (shape {:?})", self.shape()),
            ));
        }
        let id = next_hook_id();
        let hook = Hook { id, f: Arc::new(hook) };
        match self.grad_fn() {
            Some(node) => {
                let meta = node.meta();
                let key = meta.key();
                add(key, hook);
                meta.hooked.store(true, Ordering::Release);
                let node = Arc::downgrade(node);
                Ok(RemovableHandle::new(move || {
                    if let Some(node) = node.upgrade() {
                        let any_left = remove::<T>(key, id);
                        node.meta().hooked.store(any_left, Ordering::Release);
                    }
                }))
            }
            None => {
                let key = self.id();
                add(key, hook);
                self.0.hooked.store(true, Ordering::Release);
                let leaf: Weak<_> = Arc::downgrade(&self.0);
                Ok(RemovableHandle::new(move || {
                    if let Some(leaf) = leaf.upgrade() {
                        let any_left = remove::<T>(key, id);
                        leaf.hooked.store(any_left, Ordering::Release);
                    }
                }))
            }
        }
    }
}
