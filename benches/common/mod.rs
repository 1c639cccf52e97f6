//! Shared by the benches: criterion settings sized for a small machine, the thread count both libraries
//! get, and the T5 data.
//!
//! Thread counts: matrixmultiply (torchlet's GEMM, feature `threading`) reads `MATMUL_NUM_THREADS` once,
//! defaulting to the number of physical cores and capping at 4. libtorch is given the same number here
//! ([`set_libtorch_threads`]), so both GEMMs run on as many threads. torchlet's other kernels are
//! whatever the library does (the rows' notes say so); libtorch's elementwise kernels use its intra-op pool.

#![allow(dead_code)] // each bench uses a different part

use criterion::Criterion;
use std::time::Duration;
use torchlet::{Result, Tensor};

/// Criterion settings for this suite: 10 samples, 1 s warm-up, 3 s of measurement per benchmark.
pub fn criterion() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

/// The number of threads matrixmultiply uses: `MATMUL_NUM_THREADS` if set, else the machine's cores
/// (matrixmultiply counts physical cores; on an SMT machine set `MATMUL_NUM_THREADS`), capped at 4 as
/// matrixmultiply caps it.
pub fn gemm_threads() -> usize {
    let env = std::env::var("MATMUL_NUM_THREADS").ok().and_then(|s| s.parse::<usize>().ok());
    let n = env.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    n.clamp(1, 4)
}

/// Gives libtorch's intra-op pool as many threads as matrixmultiply has ([`gemm_threads`]).
pub fn set_libtorch_threads() {
    #[cfg(feature = "tch")]
    tch::set_num_threads(gemm_threads() as i32);
}

/// The T5 learning rate.
pub const T5_LR: f64 = 1e-4;

/// T5's `X = [[1, 2], [3, 4], [5, 6]]` and `y = X [10, 20]ᵀ` (`[3, 1]`).
pub fn t5_data<T: torchlet::Element>() -> Result<(Tensor<T>, Tensor<T>)> {
    let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = x.matmul(&Tensor::new([[10.0], [20.0]]))?;
    Ok((cast(&x)?, cast(&y)?))
}

/// `t` in another element type.
pub fn cast<T: torchlet::Element>(t: &Tensor<f64>) -> Result<Tensor<T>> {
    Tensor::from_vec(t.to_vec()?.into_iter().map(T::from_f64_lossy).collect(), t.shape())
}

/// libtorch's element kind for `T`.
#[cfg(feature = "tch")]
pub fn kind<T: torchlet_tutorials::libtorch::TchElement>() -> tch::Kind {
    T::KIND
}

/// A `tch::nn::linear` in its own `VarStore` (kind of `T`) holding copies of `weight` `[out, in]` and
/// `bias`, with libtorch's SGD at `lr` over it: `torch.nn.Linear` + `torch.optim.SGD`.
#[cfg(feature = "tch")]
pub fn tch_linear<T: torchlet_tutorials::libtorch::TchElement>(
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    lr: f64,
) -> Result<(tch::nn::VarStore, tch::nn::Linear, tch::nn::Optimizer)> {
    use tch::nn::OptimizerConfig;
    use torchlet_tutorials::libtorch::to_tch;
    let (out, inp) = (weight.shape()[0] as i64, weight.shape()[1] as i64);
    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let config = tch::nn::LinearConfig { bias: bias.is_some(), ..Default::default() };
    let mut linear = tch::nn::linear(vs.root(), inp, out, config);
    vs.set_kind(T::KIND);
    tch::no_grad(|| -> Result<()> {
        linear.ws.copy_(&to_tch(weight)?);
        if let (Some(ours), Some(theirs)) = (bias, linear.bs.as_mut()) {
            theirs.copy_(&to_tch(ours)?);
        }
        Ok(())
    })?;
    let optimizer = tch::nn::Sgd::default().build(&vs, lr).expect("libtorch SGD");
    Ok((vs, linear, optimizer))
}

/// One libtorch training step of `nn.Linear` + `F.mse_loss` + SGD (`zero_grad`, `backward`, `step`); returns
/// the loss, read back as the torchlet side reads its own.
#[cfg(feature = "tch")]
pub fn tch_linear_step(
    linear: &tch::nn::Linear,
    opt: &mut tch::nn::Optimizer,
    x: &tch::Tensor,
    y: &tch::Tensor,
) -> f64 {
    let loss = x.linear(&linear.ws, linear.bs.as_ref()).mse_loss(y, tch::Reduction::Mean);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss.double_value(&[])
}

/// One libtorch step of T5's tensor-autograd way: `sum(d·d)/n` with `d = x wᵀ - y`, backward, then under
/// no_grad `w -= lr · w.grad` and `w.grad.zero_()`; returns the loss.
#[cfg(feature = "tch")]
pub fn tch_tensor_step(w: &mut tch::Tensor, x: &tch::Tensor, y: &tch::Tensor, lr: f64) -> f64 {
    let diff = x.matmul(&w.tr()) - y;
    let loss = (&diff * &diff).sum(None) / diff.numel() as f64;
    loss.backward();
    tch::no_grad(|| {
        let mut grad = w.grad();
        let _ = w.g_sub_(&(&grad * lr));
        let _ = grad.zero_();
    });
    loss.double_value(&[])
}

/// Says loudly, on stderr, that `workload` runs without its libtorch twin (built without `--features tch`):
/// neither its speed nor its result is compared with libtorch's.
pub fn twin_skipped(workload: &str) {
    if !cfg!(feature = "tch") {
        eprintln!("!!! {workload}: libtorch twin SKIPPED (built without --features tch): torchlet alone, unchecked");
    }
}

/// The largest `|ours - theirs| / (atol + rtol |theirs|)` over the elements: at most 1 means within tolerance.
fn worst_ratio(ours: &[f64], theirs: &[f64], rtol: f64, atol: f64) -> (f64, usize) {
    ours.iter().zip(theirs).enumerate().fold((0.0, 0), |(worst, at), (i, (a, b))| {
        let d = (a - b).abs();
        let r = if d == 0.0 { 0.0 } else { d / (atol + rtol * b.abs()) };
        // NaN on either side counts as a failure.
        if r.is_nan() || r > worst {
            (if r.is_nan() { f64::INFINITY } else { r }, i)
        } else {
            (worst, at)
        }
    })
}

/// Fails (panics, so the bench fails) unless torchlet's `ours` and libtorch's `theirs` have the same length and
/// agree element by element within `atol + rtol |theirs|`. Prints the largest relative difference on stderr,
/// so a run shows how far inside its tolerance each comparison is.
pub fn assert_close(workload: &str, what: &str, ours: &[f64], theirs: &[f64], rtol: f64, atol: f64) {
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{workload}: {what}: torchlet has {} values, libtorch {}",
        ours.len(),
        theirs.len()
    );
    let (ratio, at) = worst_ratio(ours, theirs, rtol, atol);
    let max_rel =
        ours.iter().zip(theirs).map(|(a, b)| (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)).fold(0.0, f64::max);
    let max_abs = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(
        ratio <= 1.0,
        "{workload}: {what}: torchlet and libtorch differ beyond rtol {rtol:e} + atol {atol:e}: element {at} is {} vs {} (largest abs diff {max_abs:e})",
        ours.get(at).copied().unwrap_or(f64::NAN),
        theirs.get(at).copied().unwrap_or(f64::NAN),
    );
    eprintln!(
        "parity {workload}: {what}: {} values agree with libtorch, largest diff {max_abs:.2e} abs / {max_rel:.2e} rel (tolerance rtol {rtol:e}, atol {atol:e})",
        ours.len()
    );
}

/// Fails unless every value is finite: the check a workload gets when there is no twin to compare with.
pub fn assert_finite(workload: &str, what: &str, values: &[f64]) {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        panic!("{workload}: {what}: element {i} is {}", values[i]);
    }
}

/// All the values of `tensors`, flattened in order, as f64.
pub fn flat<T: torchlet::Element>(tensors: &[Tensor<T>]) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for t in tensors {
        out.extend(t.to_vec()?.into_iter().map(|v| v.to_f64().unwrap_or(f64::NAN)));
    }
    Ok(out)
}

/// All the values of libtorch tensors, flattened in order, as f64.
#[cfg(feature = "tch")]
pub fn flat_tch(tensors: &[&tch::Tensor]) -> Vec<f64> {
    let mut out = Vec::new();
    for t in tensors {
        let t = t.detach().to_kind(tch::Kind::Double).flatten(0, -1);
        out.extend(Vec::<f64>::try_from(&t).expect("libtorch tensor to Vec<f64>"));
    }
    out
}
