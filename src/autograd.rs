//! Reverse-mode autodiff: the graph nodes that ops record, grad mode (`no_grad`), and the backward sweep.
//!
//! Each recorded op makes one `Node` holding its backward function and edges to its inputs' nodes (or to
//! the leaf tensors that collect gradients). Nodes point only backwards, to inputs, so the graph has no
//! cycles and is freed as soon as its output tensors are dropped.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Gradients with respect to an op's inputs, in input order; `None` where an input needs none.
pub(crate) type Grads<T> = SmallVec<[Option<Tensor<T>>; 2]>;

/// The backward of one op: the gradients of its inputs from the gradient of its output.
pub(crate) trait BackwardOp<T: Element>: Send + Sync {
    /// `needs[i]` tells whether input `i` wants a gradient, so work for the others can be skipped.
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>>;

    /// The backward when the graph is not retained, so the op runs no more: it may reuse the buffers it
    /// saved (a gradient written over a saved difference, say) instead of allocating new ones.
    fn backward_once(self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>>
    where
        Self: Sized,
    {
        self.backward(grad, needs)
    }
}

/// Where an input's gradient goes.
pub(crate) enum Edge<T: Element> {
    /// Into the node of the op that made the input.
    Node(Arc<dyn Node<T>>),
    /// Into the `.grad` of a leaf that requires grad.
    Leaf(Tensor<T>),
}

/// What every node holds besides its op.
pub(crate) struct NodeMeta<T: Element> {
    name: &'static str,
    edges: SmallVec<[Option<Edge<T>>; 3]>,
    /// The output's gradient, kept when the output asked for `retain_grad`.
    retained: Mutex<Option<Tensor<T>>>,
    retain: AtomicBool,
}

/// One recorded op in the graph. A trait object, so a node and its op's saved state are one allocation.
pub(crate) trait Node<T: Element>: Send + Sync {
    fn meta(&self) -> &NodeMeta<T>;

    /// Runs the op's backward, then frees the op (and what it saved) unless `retain`; `None` when a
    /// previous backward already freed it.
    fn apply(&self, grad: &Tensor<T>, needs: &[bool], retain: bool) -> Option<Result<Grads<T>>>;
}

impl<T: Element> dyn Node<T> {
    pub fn name(&self) -> &'static str {
        self.meta().name
    }

    pub fn set_retain(&self) {
        self.meta().retain.store(true, Ordering::Relaxed);
    }

    pub fn retained_grad(&self) -> Option<Tensor<T>> {
        crate::sync::lock(&self.meta().retained).clone()
    }
}

struct NodeImpl<T: Element, B> {
    meta: NodeMeta<T>,
    op: Mutex<Option<B>>,
}

impl<T: Element, B: BackwardOp<T>> Node<T> for NodeImpl<T, B> {
    fn meta(&self) -> &NodeMeta<T> {
        &self.meta
    }

    fn apply(&self, grad: &Tensor<T>, needs: &[bool], retain: bool) -> Option<Result<Grads<T>>> {
        let mut op = crate::sync::lock(&self.op);
        if retain {
            return Some(op.as_ref()?.backward(grad, needs));
        }
        // Freed as it runs: what it saved goes with it.
        let op = op.take()?;
        Some(op.backward_once(grad, needs))
    }
}

/// A tensor saved for backward, with the version it had then: using it after an in-place change is an error.
pub(crate) struct Saved<T: Element> {
    tensor: Tensor<T>,
    version: u64,
}

impl<T: Element> Saved<T> {
    /// Saves an op's input.
    pub fn input(tensor: &Tensor<T>) -> Self {
        Saved { tensor: tensor.clone(), version: tensor.version() }
    }

    /// Saves an op's output, from inside [`record`]'s `make_backward`: the output has no node yet, so the
    /// handle saved here holds none (a node holding its own output would be a cycle, never freed), and
    /// `record` gives the recorded result a handle of its own.
    pub fn output(tensor: &Tensor<T>) -> Self {
        assert!(tensor.is_leaf(), "Saved::output: the output already has a node; save it before `record` adds one");
        Self::input(tensor)
    }

    /// The saved tensor, or an error if it was modified in place since it was saved.
    pub fn get(&self, op: &'static str) -> Result<&Tensor<T>> {
        let now = self.tensor.version();
        if now != self.version {
            return Err(Error::autograd(
                op,
                format!(
                    "one of the tensors needed for gradient computation has been modified by an in-place operation: \
                     a tensor of shape {:?} is at version {now}; expected version {}",
                    self.tensor.shape(),
                    self.version
                ),
            ));
        }
        Ok(&self.tensor)
    }
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static DETECT_ANOMALY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with anomaly detection on for this thread (`torch.autograd.set_detect_anomaly(True)`): inside it,
/// a backward step that produces a NaN or an infinite gradient stops with an error naming the backward
/// function and the forward op that recorded it, instead of a NaN weight epochs later.
///
/// It costs a copy of every gradient to the host and a scan of it, on every backward step: off by default,
/// for debugging only.
///
/// ```
/// use torchlet::{autograd::detect_anomaly, Tensor};
/// let x = Tensor::new([0.0, 1.0]).requires_grad_(true)?;
/// let err = detect_anomaly(|| x.sqrt()?.sum()?.backward()).unwrap_err().to_string();
/// assert!(err.contains("SqrtBackward0") && err.contains("sqrt"), "{err}");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DETECT_ANOMALY.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DETECT_ANOMALY.with(|d| d.replace(true)));
    f()
}

/// Whether [`detect_anomaly`] is on for this thread.
pub fn is_anomaly_enabled() -> bool {
    DETECT_ANOMALY.with(Cell::get)
}

/// Under [`detect_anomaly`], fails when a gradient a node produced holds a NaN or an infinity.
fn check_anomaly<T: Element>(node: &'static str, grads: &Grads<T>) -> Result<()> {
    for (i, grad) in grads.iter().enumerate() {
        let Some(grad) = grad else { continue };
        if let Some(bad) = grad.to_vec()?.into_iter().find(|v| !v.is_finite()) {
            let forward = node.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches("Backward");
            return Err(Error::autograd(
                "backward",
                format!(
                    "function {node} returned {} values in its {i}th output (the gradient of the forward op {}); \
                     anomaly detection stopped here",
                    if bad.is_nan() { "nan" } else { "inf" },
                    forward.to_lowercase()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether ops on this thread are recorded for backward (`torch.is_grad_enabled()`).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous grad mode of this thread when dropped.
#[must_use = "grad mode is restored as soon as the guard is dropped"]
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets this thread's grad mode until the guard is dropped (`torch.set_grad_enabled`).
    pub fn new(enabled: bool) -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(enabled));
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` with gradient recording off on this thread (`with torch.no_grad():`).
///
/// ```
/// use torchlet::{no_grad, Tensor};
/// let w = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(false);
    f()
}

/// Runs `f` with gradient recording on, even inside `no_grad` (`with torch.enable_grad():`).
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(true);
    f()
}

/// Builds the result tensor of an op, recording `make_backward(&output)` in the graph when grad mode is on
/// and an input requires grad. The closure runs only then, so untracked ops save nothing; the output it
/// gets has no history, so it can be saved without a cycle.
pub(crate) fn record<T: Element, B: BackwardOp<T> + 'static>(
    name: &'static str,
    output: Tensor<T>,
    inputs: &[&Tensor<T>],
    make_backward: impl FnOnce(&Tensor<T>) -> B,
) -> Tensor<T> {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return output;
    }
    let edges = inputs
        .iter()
        .map(|t| match t.grad_fn() {
            Some(node) => Some(Edge::Node(Arc::clone(node))),
            None if t.requires_grad() => Some(Edge::Leaf((*t).clone())),
            None => None,
        })
        .collect();
    let meta = NodeMeta { name, edges, retained: Mutex::new(None), retain: AtomicBool::new(false) };
    let op = make_backward(&output);
    let node: Arc<dyn Node<T>> = Arc::new(NodeImpl { meta, op: Mutex::new(Some(op)) });
    let mut output = output;
    match Arc::get_mut(&mut output.0) {
        // The usual case: the fresh output is not shared yet, so it takes the node without a new handle.
        Some(inner) => {
            inner.grad_fn = Some(node);
            output
        }
        // The backward saved the output itself (exp, sqrt): give the recorded result its own handle.
        None => Tensor::from_parts(Arc::clone(&output.0.storage), output.layout().clone(), output.device(), Some(node)),
    }
}

fn node_id<T: Element>(node: &Arc<dyn Node<T>>) -> usize {
    Arc::as_ptr(node) as *const () as usize
}

/// Adds `grad` into a pending gradient slot.
fn accumulate<T: Element>(slot: &mut Option<Tensor<T>>, grad: Tensor<T>) -> Result<()> {
    *slot = Some(match slot.take() {
        None => grad,
        Some(sum) => sum.add(&grad)?,
    });
    Ok(())
}

/// Adds `grad` into `tensor.grad` in place, as torch's AccumulateGrad does; the first gradient is stored
/// as is when nothing else shares it, else copied so that later in-place accumulation touches only `.grad`.
fn accumulate_into_grad<T: Element>(tensor: &Tensor<T>, grad: Tensor<T>) -> Result<()> {
    let mut slot = crate::sync::lock(&tensor.0.grad);
    match slot.as_ref() {
        Some(existing) => existing.add_assign_untracked(&grad),
        None => {
            *slot = Some(if grad.is_sole_owner() { grad } else { grad.contiguous_copy()? });
            Ok(())
        }
    }
}

/// A leaf and the gradient gathered for it during one backward pass.
type LeafGrad<T> = (Tensor<T>, Option<Tensor<T>>);
/// A node whose incoming gradient is complete, with that gradient (`None` when none reached it).
type ReadyNode<T> = (Arc<dyn Node<T>>, Option<Tensor<T>>);

/// The backward sweep behind [`Tensor::backward`].
pub(crate) fn backward<T: Element>(root: &Tensor<T>, gradient: Option<&Tensor<T>>, retain_graph: bool) -> Result<()> {
    const OP: &str = "backward";
    if !root.requires_grad() {
        return Err(Error::autograd(OP, "the tensor does not require grad and has no grad_fn"));
    }
    let seed = match gradient {
        Some(g) if g.shape() != root.shape() => {
            return Err(Error::shape(
                OP,
                format!("gradient has shape {:?} but the output has shape {:?}", g.shape(), root.shape()),
            ))
        }
        Some(g) => g.detach(),
        None if root.numel() != 1 => {
            return Err(Error::autograd(
                OP,
                format!(
                    "grad can be implicitly created only for scalar outputs, got shape {:?}; pass a gradient with backward_with",
                    root.shape()
                ),
            ))
        }
        None => root.ones_like()?,
    };
    let _no_grad = GradModeGuard::new(false);
    let Some(root_node) = root.grad_fn() else {
        // A leaf that requires grad: its gradient is the seed itself.
        return accumulate_into_grad(root, seed);
    };

    // Count, for every node reachable from the root, how many edges lead into it, so each node runs only
    // once all the gradient flowing into it has arrived (torch's dependency counting).
    let mut pending: SmallMap<usize> = SmallMap::default();
    let mut stack: SmallVec<[Arc<dyn Node<T>>; 8]> = smallvec::smallvec![Arc::clone(root_node)];
    pending.insert(node_id(root_node), 0);
    while let Some(node) = stack.pop() {
        for edge in node.meta().edges.iter().flatten() {
            if let Edge::Node(child) = edge {
                let count = pending.entry(node_id(child));
                *count += 1;
                if *count == 1 {
                    stack.push(Arc::clone(child));
                }
            }
        }
    }

    let mut grads: SmallMap<Option<Tensor<T>>> = SmallMap::default();
    let mut leaf_grads: SmallVec<[LeafGrad<T>; 4]> = SmallVec::new();
    let mut ready: SmallVec<[ReadyNode<T>; 8]> = smallvec::smallvec![(Arc::clone(root_node), Some(seed))];
    while let Some((node, grad)) = ready.pop() {
        let meta = node.meta();
        let input_grads = match grad {
            Some(grad) => {
                if meta.retain.load(Ordering::Relaxed) {
                    *crate::sync::lock(&meta.retained) = Some(grad.clone());
                }
                let needs: SmallVec<[bool; 2]> = meta.edges.iter().map(Option::is_some).collect();
                let Some(input_grads) = node.apply(&grad, &needs, retain_graph) else {
                    return Err(Error::autograd(
                        OP,
                        format!(
                            "trying to backward through the graph a second time ({} was already freed); \
                             use backward_retain_graph the first time to keep it",
                            meta.name
                        ),
                    ));
                };
                let input_grads = input_grads?;
                if is_anomaly_enabled() {
                    check_anomaly(meta.name, &input_grads)?;
                }
                input_grads
            }
            // Every consumer's backward passed nothing to this node (e.g. `x * x` sends all of its gradient
            // along the first edge): nothing flows on, but its inputs still count it as done.
            None => Grads::new(),
        };
        let mut input_grads = input_grads.into_iter();
        for edge in &meta.edges {
            let input_grad = input_grads.next().flatten();
            let Some(edge) = edge else { continue };
            match edge {
                Edge::Leaf(leaf) => {
                    let Some(input_grad) = input_grad else { continue };
                    match leaf_grads.iter_mut().find(|(t, _)| t.id() == leaf.id()) {
                        Some((_, slot)) => accumulate(slot, input_grad)?,
                        None => leaf_grads.push((leaf.clone(), Some(input_grad))),
                    }
                }
                Edge::Node(child) => {
                    let id = node_id(child);
                    if let Some(input_grad) = input_grad {
                        accumulate(grads.entry(id), input_grad)?;
                    }
                    let count = pending.entry(id);
                    *count -= 1;
                    if *count == 0 {
                        ready.push((Arc::clone(child), grads.remove(id).flatten()));
                    }
                }
            }
        }
    }
    for (leaf, grad) in leaf_grads {
        if let Some(grad) = grad {
            accumulate_into_grad(&leaf, grad)?;
        }
    }
    Ok(())
}

/// A map from node identity to `V` for one backward pass: a vector searched linearly while small (the
/// common case, and much cheaper than hashing), a hash map once the graph grows.
enum SmallMap<V> {
    Small(SmallVec<[(usize, V); 8]>),
    Large(HashMap<usize, V>),
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap::Small(SmallVec::new())
    }
}

impl<V: Default> SmallMap<V> {
    const SMALL: usize = 32;

    fn insert(&mut self, key: usize, value: V) {
        *self.entry(key) = value;
    }

    /// The value for `key`, inserted as `V::default()` when missing.
    fn entry(&mut self, key: usize) -> &mut V {
        if let SmallMap::Small(items) = self {
            if items.len() >= Self::SMALL && !items.iter().any(|(k, _)| *k == key) {
                *self = SmallMap::Large(std::mem::take(items).into_iter().collect());
            }
        }
        match self {
            SmallMap::Small(items) => {
                let index = match items.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        items.push((key, V::default()));
                        items.len() - 1
                    }
                };
                &mut items[index].1
            }
            SmallMap::Large(map) => map.entry(key).or_default(),
        }
    }

    fn remove(&mut self, key: usize) -> Option<V> {
        match self {
            SmallMap::Small(items) => items.iter().position(|(k, _)| *k == key).map(|i| items.swap_remove(i).1),
            SmallMap::Large(map) => map.remove(&key),
        }
    }
}
