//! Autograd: PyTorch's semantics (accumulation, no_grad, detach, version counters, retained graphs),
//! `autograd::grad` and gradients of gradients, hooks, and flat memory over long runs.

#[path = "../common/mod.rs"]
mod common;

mod higher_order;
mod hooks;
mod memory;
mod semantics;
