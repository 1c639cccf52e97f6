//! `nn`: layers, losses, containers, gradient clipping, and the metrics.

#[path = "../common/mod.rs"]
mod common;

mod clip_grad;
mod conv_layers;
mod norm_layers;
mod layers;
mod linear_and_losses;
mod metrics;
mod metrics_classification;
mod torch_defaults;
