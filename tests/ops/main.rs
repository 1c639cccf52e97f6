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
mod gradgradcheck;
mod kernel_emulation;
mod threads;

use proptest::test_runner::TestCaseError;
use torchlet::Tensor;

/// [`common::gradcheck`] as a proptest case: a mismatch fails the case with its message.
pub(crate) fn prop_gradcheck(
    inputs: &[Tensor<f64>],
    f: impl Fn(&[Tensor<f64>]) -> torchlet::Result<Tensor<f64>>,
) -> Result<(), TestCaseError> {
    common::gradcheck(inputs, f).map_err(TestCaseError::fail)
}

/// [`common::gradgradcheck`] as a proptest case: a mismatch fails the case with its message.
pub(crate) fn prop_gradgradcheck(
    inputs: &[Tensor<f64>],
    f: impl Fn(&[Tensor<f64>]) -> torchlet::Result<Tensor<f64>>,
) -> Result<(), TestCaseError> {
    common::gradgradcheck(inputs, f).map_err(TestCaseError::fail)
}
