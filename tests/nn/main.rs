//! `nn`: layers, losses, containers, gradient clipping, and the metrics.

#[path = "../common/mod.rs"]
mod common;

mod clip_grad;
mod conv_layers;
mod dropout2d;
mod embedding_max_norm;
mod layers;
mod linear_and_losses;
mod metrics;
mod metrics_classification;
mod norm_layers;
mod torch_defaults;
