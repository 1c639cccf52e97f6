//! The tutorials' models: hand-derived and autograd twins against each other, and (feature `tch`, the
//! `libtorch::` modules) against libtorch epoch by epoch.

#[path = "../common/mod.rs"]
mod common;

mod classification;
mod cnn;
mod regression;
mod resnet;
mod second_order;
