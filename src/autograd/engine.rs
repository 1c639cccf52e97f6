//! The backward sweep, one engine for [`Tensor::backward`] (gradients accumulated into the leaves' `.grad`)
//! and [`grad`](super::grad) (gradients of the requested tensors captured and returned, `.grad` untouched).
//!
//! It counts, for every node reachable from the outputs, how many edges lead into it, and runs each node
//! once all the gradient flowing into it has arrived (torch's dependency counting). For `grad` it first marks
//! the nodes that lead to a requested input: only those run, and a requested non-leaf's gradient is the one
//! complete at its node, captured before that node runs (or instead, when nothing requested lies beyond it).

use super::hooks::run_hooks;
use super::node::{Edge, Grads, Node};
use super::{check_anomaly, is_anomaly_enabled, GradModeGuard};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::collections::HashMap;
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
        let existing = crate::sync::lock(&tensor.0.leaf).grad.clone();
        let sum = match existing {
            Some(existing) => existing.add(&grad)?,
            None => grad.deep_clone()?,
        };
        crate::sync::lock(&tensor.0.leaf).grad = Some(sum);
        return Ok(());
    }
    let mut state = crate::sync::lock(&tensor.0.leaf);
    match state.grad.as_ref() {
        Some(existing) => existing.add_assign_untracked(&grad),
        None => {
            state.grad = Some(if grad.is_sole_owner() { grad } else { grad.contiguous_copy()? });
            Ok(())
        }
    }
}

/// A leaf's gradient after its hooks (if it has any).
fn leaf_hooked<T: Element>(leaf: &Tensor<T>, grad: Tensor<T>) -> Result<Tensor<T>> {
    let hooks = crate::sync::lock(&leaf.0.leaf).hooks.clone();
    if hooks.is_empty() {
        return Ok(grad);
    }
    run_hooks(&hooks, grad, leaf.shape())
}

/// A node's complete gradient after its output's hooks, kept for `.grad` when it asked for `retain_grad`.
fn node_hooked<T: Element>(node: &Arc<dyn Node<T>>, grad: Tensor<T>) -> Result<Tensor<T>> {
    let meta = node.meta();
    let grad = if meta.hooked.load(Ordering::Acquire) {
        let hooks = crate::sync::lock(&meta.state).hooks.clone();
        let shape = grad.shape().to_vec();
        run_hooks(&hooks, grad, &shape)?
    } else {
        grad
    };
    if meta.retain.load(Ordering::Relaxed) {
        crate::sync::lock(&meta.state).retained = Some(grad.clone());
    }
    Ok(grad)
}

/// A leaf and the gradient gathered for it during one backward pass.
type LeafGrad<T> = (Tensor<T>, Option<Tensor<T>>);
/// A node whose incoming gradient is complete, with that gradient (`None` when none reached it).
type ReadyNode<T> = (Arc<dyn Node<T>>, Option<Tensor<T>>);

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
    fn needed_nodes(&self, roots: &[Arc<dyn Node<T>>]) -> SmallMap<bool> {
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
pub(super) fn run<T: Element>(
    roots: &[(&Tensor<T>, Tensor<T>)],
    target: Target<'_, T>,
    sweep: &Sweep,
) -> Result<Vec<Option<Tensor<T>>>> {
    let _grad_mode = GradModeGuard::new(sweep.create_graph);
    let mut captures = match target {
        Target::Accumulate => None,
        Target::Capture(inputs) => Some(Captures { inputs, found: vec![None; inputs.len()] }),
    };

    // Seed the roots' nodes (or, for a root that is a leaf, the leaf itself).
    let mut grads: SmallMap<Option<Tensor<T>>> = SmallMap::default();
    let mut pending: SmallMap<usize> = SmallMap::default();
    let mut leaf_grads: SmallVec<[LeafGrad<T>; 4]> = SmallVec::new();
    let mut root_nodes: SmallVec<[Arc<dyn Node<T>>; 2]> = SmallVec::new();
    for (root, seed) in roots {
        match root.grad_fn() {
            Some(node) => {
                let id = node_id(node);
                if grads.get(id).is_none() {
                    root_nodes.push(Arc::clone(node));
                }
                accumulate(grads.entry(id), seed.clone())?;
            }
            None => add_leaf_grad(&mut leaf_grads, root, seed.clone())?,
        }
    }

    // Count, for every node reachable from the roots, how many edges lead into it, so each node runs only
    // once all the gradient flowing into it has arrived.
    let mut stack: SmallVec<[Arc<dyn Node<T>>; 8]> = root_nodes.iter().cloned().collect();
    for node in &root_nodes {
        pending.insert(node_id(node), 0);
    }
    while let Some(node) = stack.pop() {
        for edge in node.meta().edges.iter().flatten() {
            if let Edge::Node(child) = edge {
                let count = pending.entry(node_id(child));
                *count += 1;
                if *count == 1 && grads.get(node_id(child)).is_none() {
                    stack.push(Arc::clone(child));
                }
            }
        }
    }
    let needed = captures.as_ref().map(|c| c.needed_nodes(&root_nodes));

    let mut ready: SmallVec<[ReadyNode<T>; 8]> = SmallVec::new();
    for node in &root_nodes {
        let id = node_id(node);
        if pending.get(id) == Some(&0) {
            ready.push((Arc::clone(node), grads.remove(id).flatten()));
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
    let mut finished: SmallVec<[(Tensor<T>, Tensor<T>); 4]> = SmallVec::new();
    for (leaf, grad) in leaf_grads {
        if let Some(grad) = grad {
            let grad = if leaf.has_hooks() { leaf_hooked(&leaf, grad)? } else { grad };
            finished.push((leaf, grad));
        }
    }
    match captures {
        Some(mut captures) => {
            for (leaf, grad) in &finished {
                captures.capture(grad, |x| x.is_leaf() && x.id() == leaf.id());
            }
            Ok(captures.found)
        }
        None => {
            for (leaf, grad) in finished {
                accumulate_into_grad(&leaf, grad, sweep.create_graph)?;
            }
            Ok(Vec::new())
        }
    }
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

    fn get(&self, key: usize) -> Option<&V> {
        match self {
            SmallMap::Small(items) => items.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            SmallMap::Large(map) => map.get(&key),
        }
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
