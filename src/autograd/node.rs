//! The graph that recorded ops build: one [`Node`] per op, holding its [`BackwardOp`], the tensors it saved
//! and edges to its inputs' nodes (or to the leaves that collect `.grad`).
//!
//! Nodes point only backwards, to inputs, so the graph has no cycles and is freed as soon as its output
//! tensors are dropped.

use super::{is_grad_enabled, no_grad};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Gradients with respect to an op's inputs, in input order; `None` where an input needs none.
pub(crate) type Grads<T> = SmallVec<[Option<Tensor<T>>; 2]>;

/// The backward of one op: the gradients of its inputs from the gradient of its output.
pub(crate) trait BackwardOp<T: Element>: Send + Sync {
    /// `needs[i]` tells whether input `i` wants a gradient, so work for the others can be skipped.
    ///
    /// This runs with grad mode off (no `create_graph`): it may use fused kernels that record nothing.
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>>;

    /// The backward when the graph is not retained, so the op runs no more: it may reuse the buffers it
    /// saved (a gradient written over a saved difference, say) instead of allocating new ones.
    fn backward_once(self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>>
    where
        Self: Sized,
    {
        self.backward(grad, needs)
    }

    /// The backward built from recorded tensor ops, run with grad mode on when the backward's own graph is
    /// wanted (`create_graph`), so that the gradients it returns can be differentiated again, to any order.
    ///
    /// `None` where the op has no such form yet: the engine then runs [`BackwardOp::backward`] and records
    /// its gradients under a node that refuses to be differentiated ("double backward of X is not
    /// supported"), so a second derivative through the op is an error, never a silently wrong number.
    fn backward_graph(&self, ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        let _ = (ctx, grad, needs);
        None
    }
}

/// What a [`BackwardOp::backward_graph`] is handed besides the gradient: the node it runs in, so that a
/// saved output can be joined to it again ([`Saved::output_in`]).
pub(crate) struct GraphCtx<'a, T: Element> {
    node: &'a Arc<dyn Node<T>>,
}

/// Where an input's gradient goes.
pub(crate) enum Edge<T: Element> {
    /// Into the node of the op that made the input.
    Node(Arc<dyn Node<T>>),
    /// Into the `.grad` of a leaf that requires grad.
    Leaf(Tensor<T>),
}

impl<T: Element> Clone for Edge<T> {
    fn clone(&self) -> Self {
        match self {
            Edge::Node(node) => Edge::Node(Arc::clone(node)),
            Edge::Leaf(leaf) => Edge::Leaf(leaf.clone()),
        }
    }
}

impl<T: Element> Edge<T> {
    /// Where the gradient of `t` goes: its node, itself when it is a leaf that requires grad, else nowhere.
    pub(crate) fn of(t: &Tensor<T>) -> Option<Self> {
        match t.grad_fn() {
            Some(node) => Some(Edge::Node(Arc::clone(node))),
            None if t.requires_grad() => Some(Edge::Leaf(t.clone())),
            None => None,
        }
    }
}

/// What every node holds besides its op.
pub(crate) struct NodeMeta<T: Element> {
    pub(crate) name: &'static str,
    pub(crate) edges: SmallVec<[Option<Edge<T>>; 3]>,
    /// The output's gradient, kept when the output asked for `retain_grad`.
    pub(crate) retained: Mutex<Option<Tensor<T>>>,
    pub(crate) retain: AtomicBool,
    /// Whether hooks are registered on the output (in the hooks' table, under [`NodeMeta::key`]).
    pub(crate) hooked: AtomicBool,
}

impl<T: Element> NodeMeta<T> {
    /// The key of this node's hooks in the hooks' table: its address, fixed while the node lives.
    pub(crate) fn key(&self) -> usize {
        self as *const Self as usize
    }

    fn new(name: &'static str, edges: SmallVec<[Option<Edge<T>>; 3]>) -> Self {
        NodeMeta {
            name,
            edges,
            retained: Mutex::new(None),
            retain: AtomicBool::new(false),
            hooked: AtomicBool::new(false),
        }
    }
}

impl<T: Element> Drop for NodeMeta<T> {
    fn drop(&mut self) {
        if *self.hooked.get_mut() {
            super::forget(self.key());
        }
    }
}

/// One recorded op in the graph. A trait object, so a node and its op's saved state are one allocation.
pub(crate) trait Node<T: Element>: Send + Sync {
    fn meta(&self) -> &NodeMeta<T>;

    /// Runs the op's backward, then frees the op (and what it saved) unless `retain`; `None` when a
    /// previous backward already freed it. With `create_graph` the gradients are recorded tensor ops (see
    /// [`BackwardOp::backward_graph`]); `this` is the node itself, for saved outputs to join again.
    fn apply(
        &self,
        this: &Arc<dyn Node<T>>,
        grad: &Tensor<T>,
        needs: &[bool],
        retain: bool,
        create_graph: bool,
    ) -> Option<Result<Grads<T>>>;
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

    fn apply(
        &self,
        this: &Arc<dyn Node<T>>,
        grad: &Tensor<T>,
        needs: &[bool],
        retain: bool,
        create_graph: bool,
    ) -> Option<Result<Grads<T>>> {
        let mut op = crate::sync::lock(&self.op);
        if create_graph {
            let result = differentiable_backward(op.as_ref()?, this, grad, needs);
            if !retain {
                // Freed as after any backward that does not retain the graph; the gradients just made
                // hold this node, and differentiating through it later says it was freed.
                *op = None;
            }
            return Some(result);
        }
        if retain {
            return Some(op.as_ref()?.backward(grad, needs));
        }
        // Freed as it runs: what it saved goes with it.
        let op = op.take()?;
        Some(op.backward_once(grad, needs))
    }
}

/// The gradients of `op` as recorded tensor ops: its own graph form, or else its fused backward's values
/// recorded under nodes that refuse a further derivative.
fn differentiable_backward<T: Element, B: BackwardOp<T>>(
    op: &B,
    this: &Arc<dyn Node<T>>,
    grad: &Tensor<T>,
    needs: &[bool],
) -> Result<Grads<T>> {
    if let Some(grads) = op.backward_graph(&GraphCtx { node: this }, grad, needs) {
        return grads;
    }
    let grads = no_grad(|| op.backward(grad, needs))?;
    let name = this.meta().name;
    // The gradients depend on the incoming gradient and on everything the op read: its inputs.
    let mut edges: SmallVec<[Option<Edge<T>>; 3]> = smallvec::smallvec![Edge::of(grad)];
    edges.extend(this.meta().edges.iter().cloned());
    if edges.iter().all(Option::is_none) {
        return Ok(grads);
    }
    Ok(grads
        .into_iter()
        .map(|g| {
            g.map(|g| {
                let node: Arc<dyn Node<T>> = Arc::new(NodeImpl {
                    meta: NodeMeta::new("NotImplemented", edges.clone()),
                    op: Mutex::new(Some(NotDifferentiable { name })),
                });
                g.with_grad_fn(node)
            })
        })
        .collect())
}

/// The backward of a gradient that an op computed without a graph: differentiating it is an error naming
/// the op, as torch's `NotImplemented` nodes raise.
struct NotDifferentiable {
    name: &'static str,
}

impl<T: Element> BackwardOp<T> for NotDifferentiable {
    fn backward(&self, _grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Err(Error::autograd(
            "backward",
            format!(
                "double backward of {} is not supported: the gradient it computed (with create_graph) cannot be \
                 differentiated again",
                self.name
            ),
        ))
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
    /// `record` gives the recorded result a handle of its own. [`Saved::output_in`] joins it to the node
    /// again when a backward builds a graph.
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

    /// A saved output as the output of the node running `ctx`, as torch unpacks a saved output with its
    /// grad_fn: differentiating through the handle returned reaches the op's inputs through its node (the
    /// node itself keeps only the handle without it, so there is still no cycle).
    pub fn output_in(&self, op: &'static str, ctx: &GraphCtx<'_, T>) -> Result<Tensor<T>> {
        Ok(self.get(op)?.with_grad_fn(Arc::clone(ctx.node)))
    }
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
    let edges = inputs.iter().map(|t| Edge::of(t)).collect();
    let op = make_backward(&output);
    let node: Arc<dyn Node<T>> = Arc::new(NodeImpl { meta: NodeMeta::new(name, edges), op: Mutex::new(Some(op)) });
    let mut output = output;
    match Arc::get_mut(&mut output.0) {
        // The usual case: the fresh output is not shared yet, so it takes the node without a new handle.
        Some(inner) => {
            inner.grad_fn = Some(node);
            output
        }
        // The backward saved the output itself (exp, sqrt): give the recorded result its own handle.
        None => output.with_grad_fn(node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::{grad_with, GradOptions};

    /// An op with a fused backward only (`2 g`), as an op without a graph form is.
    struct Doubling;

    impl BackwardOp<f64> for Doubling {
        fn backward(&self, grad: &Tensor<f64>, _needs: &[bool]) -> Result<Grads<f64>> {
            Ok(smallvec::smallvec![Some(grad.detach().mul_scalar(2.0)?)])
        }
    }

    fn doubled(x: &Tensor<f64>) -> Tensor<f64> {
        let out = no_grad(|| x.mul_scalar(2.0)).unwrap();
        record("DoublingBackward0", out, &[x], |_| Doubling)
    }

    #[test]
    fn an_op_without_a_graph_form_gives_its_gradient_and_refuses_a_second_derivative() {
        let x = Tensor::new([1.0, 2.0]).requires_grad_(true).unwrap();
        let y = doubled(&x.square().unwrap()).sum().unwrap();
        let [g] = <[_; 1]>::try_from(grad_with(&[&y], &[&x], &GradOptions::new().create_graph(true)).unwrap()).unwrap();
        let g = g.unwrap();
        // The first derivative is right (4x) and carries a graph ...
        assert_eq!(g.to_vec().unwrap(), vec![4.0, 8.0]);
        assert_eq!(g.grad_fn_name(), Some("MulBackward0"));
        // ... and differentiating through the op is an error naming it, not a derivative of 0.
        let err = grad_with(&[&g.sum().unwrap()], &[&x], &GradOptions::new().allow_unused(true)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "backward: double backward of DoublingBackward0 is not supported: the gradient it computed (with \
             create_graph) cannot be differentiated again"
        );
    }

    #[test]
    fn the_graph_of_a_gradient_holds_the_node_of_a_saved_output_and_is_freed_with_it() {
        let x = Tensor::new([0.5, 1.5]).requires_grad_(true).unwrap();
        let y = x.tanh().unwrap();
        let node = Arc::downgrade(y.grad_fn().expect("recorded"));
        let options = GradOptions::new().create_graph(true);
        let g = grad_with(&[&y.sum().unwrap()], &[&x], &options).unwrap().remove(0).unwrap();
        drop(y);
        assert!(node.upgrade().is_some(), "the gradient's graph reaches x through the tanh node");
        drop(g);
        assert!(node.upgrade().is_none(), "and nothing else keeps it: no cycle");
    }
}
