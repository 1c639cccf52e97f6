//! Parity with libtorch (feature `tch`): every op forward and backward, the edges (in-place, views,
//! non-contiguous, zero-size, non-finite), the optimizers, and safetensors files both ways. Without the
//! feature each module reports one ignored placeholder.

#[path = "../common/mod.rs"]
mod common;

mod adam;
mod compare;
mod conv;
mod edges;
mod higher_order;
mod higher_order_models;
mod io;
mod layers;
mod norm;
mod ops;
mod optim;
mod pool;
mod small_models;
