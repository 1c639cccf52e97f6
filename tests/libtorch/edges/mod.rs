//! Parity with libtorch at the edges, in f32 and f64: in-place ops on strided and broadcast views, views
//! and reductions on rank 1, 3 and 4, non-contiguous inputs and leaves, zero-size tensors, NaN and the
//! infinities (gradients included), and SGD against libtorch's own optimizer.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn edge_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod harness;

#[cfg(feature = "tch")]
mod inplace;
#[cfg(feature = "tch")]
mod noncontiguous;
#[cfg(feature = "tch")]
mod nonfinite;
#[cfg(feature = "tch")]
mod sgd;
#[cfg(feature = "tch")]
mod views;
#[cfg(feature = "tch")]
mod zero_size;
