//! The catalogue of bad inputs: every wrong shape, dimension, value, device or file that torchlet can be
//! handed, one test each. Each asserts that the result is a clear error — the message names the operation
//! and the values involved — and nothing else: no panic, and the tensors, models, optimizers and loaders
//! involved are unchanged afterwards (values, version counter, gradient, requires_grad).
//!
//! `cargo test --test bad_inputs` runs them all. The areas:
//! - [`tensors`]: shapes in binary ops and matmul, dims, reshape, item, constructors, in-place ops;
//! - [`autograd`]: backward of a non-scalar, a freed graph, retain_graph, in-place change of a saved tensor;
//! - [`training`]: learning rates, optimizer options, batch size 0, empty and unequal datasets, nn shapes;
//! - [`extremes`]: empty tensors with enormous dims, results and ranges that no memory can hold;
//! - [`devices`]: CUDA without CUDA (operands on two devices need a GPU: tests/cuda/mixed.rs);
//! - [`files`]: malformed, truncated and mismatched parameters files, bad CSV;
//! - [`errors`]: more wrong inputs to ops, each naming the op and the values;
//! - [`conv_errors`]: convolutions and poolings: channels, groups, kernel sizes, padding, strides, ranks;
//! - [`norm_errors`]: batch, layer and group norm, Embedding indices, Unflatten sizes, int64 buffers in files;
//! - [`data_errors`]: the classification generators' wrong configurations;
//! - [`where_errors`]: errors that say where: a container's layer, a label's row, every mismatched key.

mod autograd;
mod conv_errors;
mod data_errors;
mod devices;
mod errors;
mod extremes;
mod files;
mod norm_errors;
mod tensors;
mod training;
mod where_errors;

use torchlet::{Element, Result, Tensor};

/// The error message of a result that must be an error.
pub fn message<T>(result: Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error, got an Ok({})", std::any::type_name::<T>()),
        Err(e) => e.to_string(),
    }
}

/// Everything observable about a tensor that a failed call must leave alone.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    shape: Vec<usize>,
    /// Bit patterns, so NaNs compare equal to themselves.
    bits: Vec<u64>,
    version: u64,
    requires_grad: bool,
    grad: Option<Vec<u64>>,
}

fn bits<T: Element>(t: &Tensor<T>) -> Vec<u64> {
    t.to_vec().unwrap().iter().map(|v| v.to_f64().unwrap().to_bits()).collect()
}

/// A snapshot of each tensor.
pub fn snapshot<T: Element>(tensors: &[&Tensor<T>]) -> Vec<Snapshot> {
    tensors
        .iter()
        .map(|t| Snapshot {
            shape: t.shape().to_vec(),
            bits: bits(t),
            version: t.version(),
            requires_grad: t.requires_grad(),
            grad: t.grad().map(|g| bits(&g)),
        })
        .collect()
}

/// Asserts that the tensors look exactly as in `before`.
#[track_caller]
pub fn assert_unchanged<T: Element>(before: &[Snapshot], tensors: &[&Tensor<T>]) {
    assert_eq!(before, snapshot(tensors).as_slice(), "a failed call changed its operands");
}

/// A leaf that requires grad and already holds a gradient, so a failed call could disturb either.
pub fn param(values: &[f64], shape: &[usize]) -> Tensor<f64> {
    let p = Tensor::from_slice(values, shape).unwrap().requires_grad_(true).unwrap();
    p.set_grad(Some(Tensor::full(shape, 0.5))).unwrap();
    p
}
