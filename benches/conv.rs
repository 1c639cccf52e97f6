//! A 3×3 convolution with padding 1, forward and backward (the output summed, then `backward()`, so the
//! input, weight and bias gradients are all computed), f32: torchlet's `conv2d` beside libtorch's at two
//! sizes, and a 2×2 max pooling of the larger output. Before timing (and in criterion's `--test` pass) both
//! sides run once from the same tensors; their outputs and gradients must agree.
//!
//! - `conv2d_t10`: the second convolution of the digits CNN, `[128, 16, 8, 8]` → 32 channels.
//! - `conv2d_32x32x64`: a mid-sized layer, `[8, 64, 32, 32]` → 64 channels.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::nn::functional::{conv2d, max_pool2d, Conv2dOptions, MaxPool2dOptions};
use torchlet::{Result, Tensor};

/// The comparison's tolerances (relative, absolute): each output sums `9·C_in` products and each weight
/// gradient `N·H·W` of them, in orders that differ between im2col + GEMM and oneDNN's direct kernels; an
/// absolute floor scaled to the values (the gradients of a sum are O(N·H·W)).
#[cfg(feature = "tch")]
const TOLERANCES: (f64, f64) = (1e-4, 1e-3);

struct Case {
    name: &'static str,
    input: [usize; 4],
    out_channels: usize,
    pool: bool,
}

fn forward_backward(x: &Tensor<f32>, w: &Tensor<f32>, b: &Tensor<f32>, pool: bool) -> Result<f32> {
    let opts = Conv2dOptions::default().padding(1);
    let mut y = conv2d(x, w, Some(b), &opts)?;
    if pool {
        y = max_pool2d(&y, &MaxPool2dOptions::new(2))?;
    }
    let total = y.sum()?;
    total.backward()?;
    total.item()
}

fn bench_case(c: &mut Criterion, case: &Case) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(3);
    let [n, cin, h, wd] = case.input;
    let x = Tensor::<f32>::randn_with(&[n, cin, h, wd], &mut rng).requires_grad_(true)?;
    let w =
        Tensor::<f32>::randn_with(&[case.out_channels, cin, 3, 3], &mut rng).mul_scalar(0.1)?.requires_grad_(true)?;
    let b = Tensor::<f32>::randn_with(&[case.out_channels], &mut rng).requires_grad_(true)?;
    let total = forward_backward(&x, &w, &b, case.pool)?;
    common::assert_finite(case.name, "output", &[f64::from(total)]);
    #[cfg(feature = "tch")]
    let (tx, tw, tb) = {
        use torchlet_tutorials::libtorch::to_tch;
        let leaf = |t: &Tensor<f32>| -> Result<tch::Tensor> { Ok(to_tch(t)?.set_requires_grad(true)) };
        let (tx, tw, tb) = (leaf(&x)?, leaf(&w)?, leaf(&b)?);
        let theirs = tch_forward_backward(&tx, &tw, &tb, case.pool);
        let (rtol, atol) = TOLERANCES;
        common::assert_close(case.name, "summed output", &[f64::from(total)], &[theirs], rtol, atol);
        let ours = common::flat(&[x.grad().unwrap(), w.grad().unwrap(), b.grad().unwrap()])?;
        let grads = [tx.grad(), tw.grad(), tb.grad()];
        common::assert_close(
            case.name,
            "gradients",
            &ours,
            &common::flat_tch(&grads.iter().collect::<Vec<_>>()),
            rtol,
            atol,
        );
        (tx, tw, tb)
    };
    common::twin_skipped(case.name);
    let mut group = c.benchmark_group(case.name);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("torchlet", |bench| {
        bench.iter(|| {
            [&x, &w, &b].iter().for_each(|p| p.zero_grad());
            forward_backward(black_box(&x), &w, &b, case.pool).unwrap()
        })
    });
    #[cfg(feature = "tch")]
    group.bench_function("libtorch", |bench| {
        bench.iter(|| {
            for p in [&tx, &tw, &tb] {
                let mut g = p.grad();
                if g.defined() {
                    let _ = g.zero_();
                }
            }
            tch_forward_backward(black_box(&tx), &tw, &tb, case.pool)
        })
    });
    group.finish();
    Ok(())
}

#[cfg(feature = "tch")]
fn tch_forward_backward(x: &tch::Tensor, w: &tch::Tensor, b: &tch::Tensor, pool: bool) -> f64 {
    let mut y = x.conv2d(w, Some(b), [1, 1], [1, 1], [1, 1], 1);
    if pool {
        y = y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
    }
    let total = y.sum(tch::Kind::Float);
    total.backward();
    total.double_value(&[])
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    let cases = [
        Case { name: "conv2d_t10_f32", input: [128, 16, 8, 8], out_channels: 32, pool: false },
        Case { name: "conv2d_32x32x64_f32", input: [8, 64, 32, 32], out_channels: 64, pool: false },
        Case { name: "conv2d_32x32x64_maxpool_f32", input: [8, 64, 32, 32], out_channels: 64, pool: true },
    ];
    for case in &cases {
        bench_case(c, case).expect("convolution benchmark failed");
    }
}

criterion_group! {
    name = conv;
    config = common::criterion();
    targets = benches
}
criterion_main!(conv);
