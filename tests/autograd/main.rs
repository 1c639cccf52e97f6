//! Autograd: PyTorch's semantics (accumulation, no_grad, detach, version counters, retained graphs) and
//! flat memory over long runs.

#[path = "../common/mod.rs"]
mod common;

mod memory;
mod semantics;
