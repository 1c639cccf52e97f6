//! The tutorials' models (shared/TUTORIALS.md), apart from the library's building blocks: each tutorial's
//! model written with hand-derived gradients, the same model with torchlet's `nn` + autograd, and (feature
//! `tch`) its libtorch twin, all behind one interface so that the examples and the parity tests train them
//! side by side.

#[cfg(feature = "tch")]
pub mod libtorch;
pub mod regression;
