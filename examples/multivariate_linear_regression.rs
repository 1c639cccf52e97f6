//! T2 — multivariate linear regression (four features, three informative), from scratch and with
//! torchlet's nn/optim, side by side with libtorch when built with `--features tch`.
//!
//! Run: `cargo run --release --example multivariate_linear_regression [-- --device cuda]`

mod common;
#[path = "common/single_target.rs"]
mod single_target;

fn main() -> torchlet::Result<()> {
    single_target::run(4)
}
