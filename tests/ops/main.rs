//! Tensor ops and their kernels: gradients against finite differences, property-based fuzzing, the CPU
//! emulation of the CUDA kernels, and thread safety.

#[path = "../common/mod.rs"]
mod common;

mod fuzz;
mod gradcheck;
mod gradcheck_conv;
mod gradcheck_edges;
mod gradcheck_norm;
mod gradcheck_small_models;
mod kernel_emulation;
mod threads;
