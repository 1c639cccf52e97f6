//! `data` and `io`: datasets, loaders, scikit-learn's generators, the digits and MNIST, safetensors and CSV.

#[path = "../common/mod.rs"]
mod common;

mod classification;
mod io;
mod loader;
mod mnist;
mod toy_sets;
