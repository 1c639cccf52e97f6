//! The optimizers' hyperparameters as torch's parameter group (`opt.state_dict()["param_groups"][0]`), and
//! back with the constructors' checks.

use crate::error::{Error, Result};

use super::state_dict::{put, Reader, StateDict};
use super::{AdamConfig, RmsPropConfig, SgdConfig};

/// Keys of torch's parameter groups that carry nothing here: the parameters' indices (the optimizer's own
/// order) and torch's choices of implementation, which give the same values.
const IGNORED: [&str; 5] = ["params", "foreach", "differentiable", "fused", "capturable"];

/// The error of a config check, under `op` (the loading method) rather than the constructor's name.
fn under(op: &'static str) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::InvalidArgument { msg, .. } => Error::invalid(op, msg),
        e => e,
    }
}

/// Refuses a `flag` that differs from the optimizer's own: it decides which state entries exist.
fn same_flag(r: &Reader<'_>, op: &str, flag: &str, given: bool, own: bool) -> Result<()> {
    if given == own {
        return Ok(());
    }
    Err(r.invalid(flag, format!("{given}, but this {op} was made with {flag} {own}, which keeps other state")))
}

pub(crate) fn sgd_group(c: &SgdConfig) -> StateDict {
    let mut g = StateDict::new();
    put(&mut g, "lr", c.lr);
    put(&mut g, "momentum", c.momentum);
    put(&mut g, "dampening", c.dampening);
    put(&mut g, "weight_decay", c.weight_decay);
    put(&mut g, "nesterov", c.nesterov);
    put(&mut g, "maximize", c.maximize);
    g
}

pub(crate) fn sgd_from_group(group: &StateDict) -> Result<SgdConfig> {
    const OP: &str = "SGD::load_param_group";
    const KEYS: [&str; 6] = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"];
    let r = Reader::new(OP, "SGD's parameter group", group, &KEYS, &IGNORED)?;
    let config = SgdConfig {
        lr: r.f64("lr")?,
        momentum: r.f64("momentum")?,
        dampening: r.f64("dampening")?,
        weight_decay: r.f64("weight_decay")?,
        nesterov: r.bool("nesterov")?,
        maximize: r.bool("maximize")?,
    };
    config.validate().map_err(under(OP))?;
    Ok(config)
}

pub(crate) fn adam_group(c: &AdamConfig) -> StateDict {
    let mut g = StateDict::new();
    put(&mut g, "lr", c.lr);
    put(&mut g, "betas", vec![c.betas.0, c.betas.1]);
    put(&mut g, "eps", c.eps);
    put(&mut g, "weight_decay", c.weight_decay);
    put(&mut g, "amsgrad", c.amsgrad);
    put(&mut g, "maximize", c.maximize);
    g
}

/// `name` is "Adam" or "AdamW"; `own` is the optimizer's configuration, whose `amsgrad` must not change.
pub(crate) fn adam_from_group(
    op: &'static str,
    name: &'static str,
    own: &AdamConfig,
    group: &StateDict,
) -> Result<AdamConfig> {
    const KEYS: [&str; 6] = ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"];
    let r = Reader::new(op, &format!("{name}'s parameter group"), group, &KEYS, &IGNORED)?;
    let betas = r.f64_list("betas", 2)?;
    let config = AdamConfig {
        lr: r.f64("lr")?,
        betas: (betas[0], betas[1]),
        eps: r.f64("eps")?,
        weight_decay: r.f64("weight_decay")?,
        amsgrad: r.bool("amsgrad")?,
        maximize: r.bool("maximize")?,
    };
    config.validate(op)?;
    same_flag(&r, name, "amsgrad", config.amsgrad, own.amsgrad)?;
    Ok(config)
}

pub(crate) fn rmsprop_group(c: &RmsPropConfig) -> StateDict {
    let mut g = StateDict::new();
    put(&mut g, "lr", c.lr);
    put(&mut g, "alpha", c.alpha);
    put(&mut g, "eps", c.eps);
    put(&mut g, "weight_decay", c.weight_decay);
    put(&mut g, "momentum", c.momentum);
    put(&mut g, "centered", c.centered);
    put(&mut g, "maximize", c.maximize);
    g
}

/// `own` is the optimizer's configuration, whose `centered` must not change.
pub(crate) fn rmsprop_from_group(own: &RmsPropConfig, group: &StateDict) -> Result<RmsPropConfig> {
    const OP: &str = "RMSprop::load_param_group";
    const KEYS: [&str; 7] = ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"];
    let r = Reader::new(OP, "RMSprop's parameter group", group, &KEYS, &IGNORED)?;
    let config = RmsPropConfig {
        lr: r.f64("lr")?,
        alpha: r.f64("alpha")?,
        eps: r.f64("eps")?,
        weight_decay: r.f64("weight_decay")?,
        momentum: r.f64("momentum")?,
        centered: r.bool("centered")?,
        maximize: r.bool("maximize")?,
    };
    config.validate().map_err(under(OP))?;
    same_flag(&r, "RMSprop", "centered", config.centered, own.centered)?;
    Ok(config)
}
