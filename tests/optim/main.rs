//! `optim`: SGD, Adam, AdamW and RMSprop against torch's rules written out by hand, the learning-rate
//! schedulers, state dicts, and checkpoints that resume training exactly.

#[path = "../common/mod.rs"]
mod common;

mod adaptive;
mod checkpoint;
mod lr_scheduler;
mod lr_scheduler_state;
mod sgd;
mod state;
