//! T1 — simple linear regression (one feature), from scratch and with torchlet's nn/optim, side by side
//! with libtorch when built with `--features tch`.
//!
//! Run: `cargo run --release --example simple_linear_regression [-- --device cuda]`

mod common;
#[path = "common/single_target.rs"]
mod single_target;

fn main() -> torchlet::Result<()> {
    single_target::run(1)
}
