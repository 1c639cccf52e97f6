//! The backward sweep, one engine for [`Tensor::backward`] (gradients accumulated into the leaves' `.grad`)
//! and [`grad`](super::grad) (gradients of the requested tensors captured and returned, `.grad` untouched).
//!
//! It counts, for every node reachable from the outputs, how many edges lead into it, and runs each node
//! once all the gradient flowing into it has arrived (torch's dependency counting). For `grad` it first marks
//! the nodes that lead to a requested input: only those run, and a requested non-leaf's gradient is the one
//! complete at its node, captured before that node runs (or instead, when nothing requested lies beyond it).

use super::hooks::run_hooks;
use super::node::{Edge, Grads, Node};
use super::small_map::SmallMap;
use super::{check_anomaly, is_anomaly_enabled, GradModeGuard};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Where the gradients a sweep computes go.
pub(super) enum Target<'a, T: Element> {
    /// Into the `.grad` of every leaf reached (`backward`).
    Accumulate,
    /// Into the returned list, one per requested tensor (`grad`); nothing else is touched.
    Capture(&'a [&'a Tensor<T>]),
}

/// How one sweep runs: which entry point it serves (for errors) and torch's two flags.
pub(super) struct Sweep {
    /// `backward` or `grad`, naming the errors.
    pub op: &'static str,
    /// What to tell a user who runs through a freed graph.
    pub freed_hint: &'static str,
    pub retain_graph: bool,
    pub create_graph: bool,
}

fn node_id<T: Element>(node: &Arc<dyn Node<T>>) -> usize {
    Arc::as_ptr(node) as *const () as usize
}

/// Adds `grad` into a pending gradient slot (recorded when the sweep builds a graph).
fn accumulate<T: Element>(slot: &mut Option<Tensor<T>>, grad: Tensor<T>) -> Result<()> {
    *slot = Some(match slot.take() {
        None => grad,
        Some(sum) => sum.add(&grad)?,
    });
    Ok(())
}

/// Adds `grad` into `tensor.grad`, as torch's AccumulateGrad does: in place, the first gradient stored as
/// is when nothing else shares it (else copied, so later in-place accumulation touches only `.grad`). When
/// the sweep builds a graph the sum is out of place and recorded, and a first gradient is stored as a
/// recorded copy, so `.grad` carries the graph.
fn accumulate_into_grad<T: Element>(tensor: &Tensor<T>, grad: Tensor<T>, create_graph: bool) -> Result<()> {
    if create_graph {
        let existing = crate::sync::lock(&tensor.0.grad).clone();
        let sum = match existing {
            Some(existing) => existing.add(&grad)?,
            None => grad.deep_clone()?,
        };
        *crate::sync::lock(&tensor.0.grad) = Some(sum);
        return Ok(());
    }
    let mut slot = crate::sync::lock(&tensor.0.grad);
    match slot.as_ref() {
        Some(existing) => existing.add_assign_untracked(&grad),
        None => {
            *slot = Some(if grad.is_sole_owner() { grad } else { grad.contiguous_copy()? });
            Ok(())
        }
    }
}

/// A leaf's gradient after its hooks (if it has any).
fn leaf_hooked<T: Element>(leaf: &Tensor<T>, grad: Tensor<T>) -> Result<Tensor<T>> {
    let hooks = super::hooks::hooks_of(leaf.id());
    if hooks.is_empty() {
        return Ok(grad);
    }
    run_hooks(&hooks, grad, leaf.shape())
}

/// A node's complete gradient after its output's hooks, kept for `.grad` when it asked for `retain_grad`.
#[inline(always)]
fn node_hooked<T: Element>(node: &Arc<dyn Node<T>>, grad: Tensor<T>) -> Result<Tensor<T>> {
    let meta = node.meta();
    if !meta.hooked.load(Ordering::Acquire) && !meta.retain.load(Ordering::Relaxed) {
        return Ok(grad);
    }
    observed(node, grad)
}

/// [`node_hooked`] for a node that has hooks or keeps its gradient.
#[cold]
fn observed<T: Element>(node: &Arc<dyn Node<T>>, grad: Tensor<T>) -> Result<Tensor<T>> {
    let meta = node.meta();
    let grad = if meta.hooked.load(Ordering::Acquire) {
        let hooks = super::hooks::hooks_of(meta.key());
        let shape = grad.shape().to_vec();
        run_hooks(&hooks, grad, &shape)?
    } else {
        grad
    };
    if meta.retain.load(Ordering::Relaxed) {
        *crate::sync::lock(&meta.retained) = Some(grad.clone());
    }
    Ok(grad)
}

/// A leaf and the gradient gathered for it during one backward pass.
type LeafGrad<T> = (Tensor<T>, Option<Tensor<T>>);
/// A node whose incoming gradient is complete, with that gradient (`None` when none reached it).
type ReadyNode<T> = (Arc<dyn Node<T>>, Option<Tensor<T>>);

#[inline]
fn add_leaf_grad<T: Element>(
    leaf_grads: &mut SmallVec<[LeafGrad<T>; 4]>,
    leaf: &Tensor<T>,
    grad: Tensor<T>,
) -> Result<()> {
    match leaf_grads.iter_mut().find(|(t, _)| t.id() == leaf.id()) {
        Some((_, slot)) => accumulate(slot, grad),
        None => {
            leaf_grads.push((leaf.clone(), Some(grad)));
            Ok(())
        }
    }
}

/// The tensors `grad` was asked for, and what the sweep found for each.
struct Captures<'a, T: Element> {
    inputs: &'a [&'a Tensor<T>],
    found: Vec<Option<Tensor<T>>>,
}

impl<T: Element> Captures<'_, T> {
    fn is_input_leaf(&self, leaf: &Tensor<T>) -> bool {
        self.inputs.iter().any(|x| x.is_leaf() && x.id() == leaf.id())
    }

    fn is_input_node(&self, id: usize) -> bool {
        self.inputs.iter().any(|x| x.grad_fn().is_some_and(|n| node_id(n) == id))
    }

    /// Records `grad` for every requested tensor that `matches`.
    fn capture(&mut self, grad: &Tensor<T>, matches: impl Fn(&Tensor<T>) -> bool) {
        for (slot, x) in self.found.iter_mut().zip(self.inputs) {
            if matches(x) {
                *slot = Some(grad.clone());
            }
        }
    }

    /// Whether the gradient along `edge` is wanted: it reaches a requested tensor.
    fn wants(&self, edge: &Edge<T>, needed: &SmallMap<bool>) -> bool {
        match edge {
            Edge::Leaf(leaf) => self.is_input_leaf(leaf),
            Edge::Node(child) => {
                let id = node_id(child);
                needed.get(id).copied().unwrap_or(false) || self.is_input_node(id)
            }
        }
    }

    /// For each node reachable from `roots`, whether running it leads to a requested tensor (a requested
    /// node beyond it, or a requested leaf). A depth-first walk in post-order, iterative so that a long
    /// chain of ops cannot overflow the stack.
    fn needed_nodes<'n>(&self, roots: impl Iterator<Item = &'n Arc<dyn Node<T>>>) -> SmallMap<bool>
    where
        T: 'n,
    {
        let mut needed: SmallMap<bool> = SmallMap::default();
        // (node, next edge to look at, whether it leads to a requested tensor so far)
        let mut stack: Vec<(Arc<dyn Node<T>>, usize, bool)> = Vec::new();
        for root in roots {
            if needed.get(node_id(root)).is_some() {
                continue;
            }
            stack.push((Arc::clone(root), 0, false));
            while let Some((node, next, leads)) = stack.last_mut() {
                let Some(edge) = node.meta().edges.get(*next) else {
                    let (node, _, leads) = stack.pop().expect("the loop saw a top");
                    needed.insert(node_id(&node), leads);
                    if let Some(parent) = stack.last_mut() {
                        parent.2 |= leads;
                    }
                    continue;
                };
                *next += 1;
                match edge {
                    Some(Edge::Leaf(leaf)) => *leads |= self.is_input_leaf(leaf),
                    Some(Edge::Node(child)) => {
                        let id = node_id(child);
                        *leads |= self.is_input_node(id);
                        match needed.get(id) {
                            Some(&child_leads) => *leads |= child_leads,
                            None => {
                                let child = Arc::clone(child);
                                stack.push((child, 0, false));
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        needed
    }
}

/// Runs backward from `roots` (each output with the gradient it is seeded with) to `target`. Grad mode is
/// `create_graph` throughout, so that with it every gradient is a recorded tensor op.
pub(super) fn run<'r, T: Element>(
    roots: impl IntoIterator<Item = (&'r Tensor<T>, Tensor<T>)>,
    target: Target<'_, T>,
    sweep: &Sweep,
) -> Result<Vec<Option<Tensor<T>>>> {
    let _grad_mode = GradModeGuard::new(sweep.create_graph);
    let mut captures = match target {
        Target::Accumulate => None,
        Target::Capture(inputs) => Some(Captures { inputs, found: vec![None; inputs.len()] }),
    };

    // The roots' nodes with their seeds (a root that is a leaf seeds the leaf itself).
    let mut leaf_grads: SmallVec<[LeafGrad<T>; 4]> = SmallVec::new();
    let mut root_seeds: SmallVec<[ReadyNode<T>; 1]> = SmallVec::new();
    for (root, seed) in roots {
        match root.grad_fn() {
            Some(node) => match root_seeds.iter_mut().find(|(n, _)| Arc::ptr_eq(n, node)) {
                Some((_, slot)) => accumulate(slot, seed)?,
                None => root_seeds.push((Arc::clone(node), Some(seed))),
            },
            None => add_leaf_grad(&mut leaf_grads, root, seed)?,
        }
    }
    let is_root = |id: usize| root_seeds.len() > 1 && root_seeds.iter().any(|(n, _)| node_id(n) == id);

    // Count, for every node reachable from the roots, how many edges lead into it, so each node runs only
    // once all the gradient flowing into it has arrived. (One root is never reached again: the graph has no
    // cycles; of several, one may lie below another, and is walked from where it already is.)
    let mut pending: SmallMap<usize> = SmallMap::default();
    let mut stack: SmallVec<[Arc<dyn Node<T>>; 8]> = SmallVec::new();
    for (node, _) in &root_seeds {
        pending.insert(node_id(node), 0);
        stack.push(Arc::clone(node));
    }
    while let Some(node) = stack.pop() {
        for edge in node.meta().edges.iter().flatten() {
            if let Edge::Node(child) = edge {
                let id = node_id(child);
                let count = pending.entry(id);
                *count += 1;
                if *count == 1 && !is_root(id) {
                    stack.push(Arc::clone(child));
                }
            }
        }
    }
    let needed = captures.as_ref().map(|c| c.needed_nodes(root_seeds.iter().map(|(n, _)| n)));

    // A root that nothing leads into is ready with its seed; one below another root waits for the rest of
    // its gradient, its seed already in its slot.
    let mut grads: SmallMap<Option<Tensor<T>>> = SmallMap::default();
    let mut ready: SmallVec<[ReadyNode<T>; 8]> = SmallVec::new();
    for (node, seed) in root_seeds {
        let id = node_id(&node);
        if pending.get(id) == Some(&0) {
            ready.push((node, seed));
        } else {
            *grads.entry(id) = seed;
        }
    }
    while let Some((node, grad)) = ready.pop() {
        let meta = node.meta();
        let grad = match (captures.as_mut(), needed.as_ref()) {
            (Some(captures), Some(needed)) => {
                let id = node_id(&node);
                let (requested, runs) = (captures.is_input_node(id), needed.get(id).copied().unwrap_or(false));
                if !requested && !runs {
                    // A root that leads to nothing requested.
                    continue;
                }
                let grad = grad.map(|g| node_hooked(&node, g)).transpose()?;
                if let (true, Some(grad)) = (requested, &grad) {
                    captures.capture(grad, |x| x.grad_fn().is_some_and(|n| node_id(n) == id));
                }
                if !runs {
                    // Nothing requested lies beyond this node: it does not run, and neither does anything
                    // only it leads to.
                    continue;
                }
                grad
            }
            _ => grad.map(|g| node_hooked(&node, g)).transpose()?,
        };
        let input_grads = match grad {
            Some(grad) => {
                let needs: SmallVec<[bool; 2]> = match (&captures, &needed) {
                    (Some(c), Some(needed)) => {
                        meta.edges.iter().map(|e| e.as_ref().is_some_and(|e| c.wants(e, needed))).collect()
                    }
                    _ => meta.edges.iter().map(Option::is_some).collect(),
                };
                let Some(input_grads) = node.apply(&node, &grad, &needs, sweep.retain_graph, sweep.create_graph) else {
                    return Err(Error::autograd(
                        sweep.op,
                        format!(
                            "trying to backward through the graph a second time ({} was already freed); {}",
                            meta.name, sweep.freed_hint
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
                    if captures.as_ref().is_none_or(|c| c.is_input_leaf(leaf)) {
                        add_leaf_grad(&mut leaf_grads, leaf, input_grad)?;
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

    // Every leaf's hooks first, then the gradients go where they belong: a failing hook leaves every
    // `.grad` as it was.
    if leaf_grads.iter().any(|(leaf, _)| leaf.has_hooks()) {
        for (leaf, grad) in &mut leaf_grads {
            if let (true, Some(g)) = (leaf.has_hooks(), grad.take()) {
                *grad = Some(leaf_hooked(leaf, g)?);
            }
        }
    }
    match captures {
        Some(mut captures) => {
            for (leaf, grad) in &leaf_grads {
                if let Some(grad) = grad {
                    captures.capture(grad, |x| x.is_leaf() && x.id() == leaf.id());
                }
            }
            Ok(captures.found)
        }
        None => {
            for (leaf, grad) in leaf_grads {
                if let Some(grad) = grad {
                    accumulate_into_grad(&leaf, grad, sweep.create_graph)?;
                }
            }
            Ok(Vec::new())
        }
    }
}
