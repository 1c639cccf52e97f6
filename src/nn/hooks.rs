//! Forward hooks (`module.register_forward_hook(hook)`): a function called after a module's forward with
//! the module, its input and its output, which may return a replacement output.
//!
//! A Rust module is a plain struct with no room for hooks, so they live beside it: [`Hooked`] wraps any
//! module with a list of hooks, and the containers ([`Sequential`](super::Sequential),
//! [`ModuleList`](super::ModuleList)) keep one list for themselves and one per layer, so a layer inside a
//! model gets hooks as `model[i].register_forward_hook` gives them in torch
//! ([`Sequential::register_layer_forward_hook`](super::Sequential::register_layer_forward_hook)). Each
//! registration returns a [`RemovableHandle`]; hooks run in the order they were registered, each seeing
//! the output the previous one returned.

use super::Module;
use crate::autograd::{next_hook_id, RemovableHandle};
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A forward hook: `(module, input, output)` in, a replacement output (or `None` to keep it) out. Any
/// closure of that shape is one.
pub trait ForwardHook<T: Element>:
    Fn(&dyn Module<T>, &Tensor<T>, &Tensor<T>) -> Result<Option<Tensor<T>>> + Send + Sync + 'static
{
}

impl<T: Element, F> ForwardHook<T> for F where
    F: Fn(&dyn Module<T>, &Tensor<T>, &Tensor<T>) -> Result<Option<Tensor<T>>> + Send + Sync + 'static
{
}

type ForwardHookFn<T> = dyn Fn(&dyn Module<T>, &Tensor<T>, &Tensor<T>) -> Result<Option<Tensor<T>>> + Send + Sync;

struct HookList<T: Element> {
    /// How many hooks there are, read without the lock on every forward.
    count: AtomicUsize,
    hooks: Mutex<Vec<(u64, Arc<ForwardHookFn<T>>)>>,
}

/// The forward hooks of one module, in the order they were registered. Cloning shares the list.
pub(crate) struct ForwardHooks<T: Element>(Arc<HookList<T>>);

impl<T: Element> Default for ForwardHooks<T> {
    fn default() -> Self {
        ForwardHooks(Arc::new(HookList { count: AtomicUsize::new(0), hooks: Mutex::new(Vec::new()) }))
    }
}

impl<T: Element> ForwardHooks<T> {
    /// Adds `hook` at the end; the handle removes it.
    pub(crate) fn register(&self, hook: impl ForwardHook<T>) -> RemovableHandle {
        let id = next_hook_id();
        let mut hooks = crate::sync::lock(&self.0.hooks);
        hooks.push((id, Arc::new(hook)));
        self.0.count.store(hooks.len(), Ordering::Release);
        let list = Arc::downgrade(&self.0);
        RemovableHandle::new(move || {
            if let Some(list) = list.upgrade() {
                let mut hooks = crate::sync::lock(&list.hooks);
                hooks.retain(|(h, _)| *h != id);
                list.count.store(hooks.len(), Ordering::Release);
            }
        })
    }

    /// `output` after every hook, each called with `module`, `input` and the output so far.
    pub(crate) fn run(&self, module: &dyn Module<T>, input: &Tensor<T>, output: Tensor<T>) -> Result<Tensor<T>> {
        if self.0.count.load(Ordering::Acquire) == 0 {
            return Ok(output);
        }
        // Called outside the lock, so that a hook may register or remove hooks.
        let hooks: Vec<_> = crate::sync::lock(&self.0.hooks).iter().map(|(_, h)| Arc::clone(h)).collect();
        let mut output = output;
        for hook in hooks {
            if let Some(replacement) = hook(module, input, &output)? {
                output = replacement;
            }
        }
        Ok(output)
    }
}

/// A module with forward hooks (torch's `module.register_forward_hook`): it computes what the module it
/// wraps computes, then calls each hook with that module, the input and the output; a hook may return a
/// replacement output. Parameters, buffers, the type name and the training mode are the wrapped module's,
/// and it dereferences to it, so `hooked.weight()` works as on the module.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use torchlet::nn::{Hooked, Linear, Module};
/// use torchlet::Tensor;
///
/// let layer = Hooked::new(Linear::from_parameters(&Tensor::new([[2.0]]), None)?);
/// // Record each output's shape, then double the output.
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let watching = layer.register_forward_hook(move |module, _input, output| {
///     log.lock().unwrap().push((module.type_name(), output.shape().to_vec()));
///     Ok(None)
/// });
/// let doubling = layer.register_forward_hook(|_module, _input, output| Ok(Some(output.mul_scalar(2.0)?)));
/// assert_eq!(layer.forward(&Tensor::new([[3.0]]))?.to_vec()?, vec![12.0]);
/// doubling.remove();
/// watching.remove();
/// assert_eq!(layer.forward(&Tensor::new([[3.0]]))?.to_vec()?, vec![6.0]);
/// assert_eq!(*seen.lock().unwrap(), vec![("Linear", vec![1, 1])]);
/// assert_eq!(layer.weight().shape(), &[1, 1]); // the wrapped Linear's own methods
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Hooked<T: Element, M> {
    module: M,
    hooks: ForwardHooks<T>,
}

impl<T: Element, M: Module<T>> Hooked<T, M> {
    /// `module` with no hooks yet.
    pub fn new(module: M) -> Self {
        Hooked { module, hooks: ForwardHooks::default() }
    }

    /// Registers `hook`, called after every forward with the module, its input and its output; it may
    /// return a replacement output (`Ok(Some(..))`) or keep it (`Ok(None)`), and an error it returns is
    /// the forward's. The handle removes it.
    pub fn register_forward_hook(&self, hook: impl ForwardHook<T>) -> RemovableHandle {
        self.hooks.register(hook)
    }

    /// The wrapped module.
    pub fn into_inner(self) -> M {
        self.module
    }
}

impl<T: Element, M> std::ops::Deref for Hooked<T, M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.module
    }
}

impl<T: Element, M> std::ops::DerefMut for Hooked<T, M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.module
    }
}

impl<T: Element, M: Module<T>> Module<T> for Hooked<T, M> {
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        let output = self.module.forward(input)?;
        self.hooks.run(&self.module, input, output)
    }

    fn type_name(&self) -> &'static str {
        self.module.type_name()
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        self.module.named_parameters()
    }

    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        self.module.named_buffers()
    }

    fn set_training(&mut self, mode: bool) {
        self.module.set_training(mode);
    }
}
