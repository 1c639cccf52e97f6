//! `nn`: Linear's init, shapes, values and gradients; MSELoss's reductions and errors; cross-entropy's mean
//! when the samples that count weigh nothing.

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::functional::mse_loss;
use torchlet::nn::{CrossEntropyLoss, Linear, MSELoss, Module, Reduction};
use torchlet::{Result, Tensor};

/// Mean and (population) variance.
fn moments(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
}

#[test]
fn linear_init_is_uniform_within_one_over_sqrt_in() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(2024);
    for in_features in [1usize, 3, 16] {
        let bound = 1.0 / (in_features as f64).sqrt();
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        while biases.len() < 50_000 {
            let layer = Linear::<f64>::with_rng(in_features, 50, true, &mut rng);
            weights.extend(layer.weight().to_vec()?);
            biases.extend(layer.bias().unwrap().to_vec()?);
        }
        for (name, xs) in [("weight", &weights), ("bias", &biases)] {
            assert!(xs.iter().all(|x| x.abs() <= bound), "{name} outside ±{bound} for in = {in_features}");
            // A uniform sample comes close to both ends.
            let (lo, hi) = xs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            assert!(lo < -0.999 * bound && hi > 0.999 * bound, "{name}: range [{lo}, {hi}] vs ±{bound}");
            let (mean, var) = moments(xs);
            let expected_var = bound * bound / 3.0;
            let mean_sd = (expected_var / xs.len() as f64).sqrt();
            assert!(mean.abs() < 5.0 * mean_sd, "{name}: mean {mean} for in = {in_features}");
            assert!((var / expected_var - 1.0).abs() < 0.03, "{name}: var {var} vs {expected_var}");
        }
    }
    Ok(())
}

#[test]
fn linear_init_is_reproducible_and_f32_works() -> Result<()> {
    let a = Linear::<f32>::with_rng(4, 3, true, &mut StdRng::seed_from_u64(5));
    let b = Linear::<f32>::with_rng(4, 3, true, &mut StdRng::seed_from_u64(5));
    let c = Linear::<f32>::with_rng(4, 3, true, &mut StdRng::seed_from_u64(6));
    assert_eq!(a.weight().to_vec()?, b.weight().to_vec()?);
    assert_eq!(a.bias().unwrap().to_vec()?, b.bias().unwrap().to_vec()?);
    assert_ne!(a.weight().to_vec()?, c.weight().to_vec()?);
    assert!(a.weight().to_vec()?.iter().all(|w| w.abs() <= 0.5));
    Ok(())
}

#[test]
fn linear_with_no_inputs_has_a_zero_bias() -> Result<()> {
    let layer = Linear::<f64>::with_rng(0, 3, true, &mut StdRng::seed_from_u64(0));
    assert_eq!(layer.weight().shape(), &[3, 0]);
    assert_eq!(layer.bias().unwrap().to_vec()?, vec![0.0; 3]);
    assert_eq!(layer.forward(&Tensor::zeros(&[2, 0]))?.to_vec2()?, vec![vec![0.0; 3]; 2]);
    Ok(())
}

#[test]
fn linear_parameters_are_leaves_with_torch_names() -> Result<()> {
    let mut layer = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    let named = layer.named_parameters();
    assert_eq!(named.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["weight", "bias"]);
    assert_eq!(named[0].1.shape(), &[2, 3]);
    assert_eq!(named[1].1.shape(), &[2]);
    for p in layer.parameters() {
        assert!(p.is_leaf() && p.requires_grad());
    }
    let no_bias = Linear::<f64>::with_rng(3, 2, false, &mut StdRng::seed_from_u64(0));
    assert!(no_bias.bias().is_none());
    assert_eq!(no_bias.parameters().len(), 1);
    assert_eq!(format!("{no_bias:?}"), "Linear(in_features=3, out_features=2, bias=false)");
    // A linear layer computes the same in both modes.
    let x = Tensor::new([[1.0, -2.0, 0.5]]);
    let before = layer.forward(&x)?.to_vec()?;
    layer.eval();
    assert_eq!(layer.forward(&x)?.to_vec()?, before);
    layer.train();
    Ok(())
}

#[test]
fn linear_forward_shapes_for_input_of_any_rank() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(1);
    for bias in [true, false] {
        let layer = Linear::<f64>::with_rng(4, 3, bias, &mut rng);
        assert_eq!(layer.forward(&Tensor::zeros(&[4]))?.shape(), &[3]);
        assert_eq!(layer.forward(&Tensor::zeros(&[7, 4]))?.shape(), &[7, 3]);
        assert_eq!(layer.forward(&Tensor::zeros(&[0, 4]))?.shape(), &[0, 3]);
        assert_eq!(layer.forward(&Tensor::zeros(&[2, 3, 4]))?.shape(), &[2, 3, 3]);
        assert_eq!(layer.forward(&Tensor::zeros(&[2, 1, 5, 4]))?.shape(), &[2, 1, 5, 3]);
        assert_eq!(layer.forward(&Tensor::zeros(&[2, 0, 4]))?.shape(), &[2, 0, 3]);
    }
    Ok(())
}

#[test]
fn linear_on_batched_input_is_linear_on_its_rows_with_the_same_gradients() -> Result<()> {
    // [2, 3, in] through the layer against the [6, in] rows through a twin layer: same values, and the
    // same gradients for the parameters and the input.
    let mut rng = StdRng::seed_from_u64(4);
    let layer = Linear::<f64>::with_rng(4, 5, true, &mut rng);
    let twin = Linear::from_parameters(layer.weight(), layer.bias())?;
    let x = Tensor::<f64>::randn_with(&[2, 3, 4], &mut rng).requires_grad_(true)?;
    let rows = x.detach().reshape(&[6, 4])?.requires_grad_(true)?;
    let weights = Tensor::<f64>::randn_with(&[6, 5], &mut rng);
    let y = layer.forward(&x)?;
    assert_eq!(y.shape(), &[2, 3, 5]);
    y.mul(&weights.reshape(&[2, 3, 5])?)?.sum()?.backward()?;
    let y_rows = twin.forward(&rows)?;
    y_rows.mul(&weights)?.sum()?.backward()?;
    assert_eq!(y.to_vec()?, y_rows.to_vec()?);
    let grad = |t: &Tensor<f64>| t.grad().unwrap().to_vec().unwrap();
    assert_eq!(grad(&x), grad(&rows));
    assert_eq!(grad(layer.weight()), grad(twin.weight()));
    assert_eq!(grad(layer.bias().unwrap()), grad(twin.bias().unwrap()));
    // A 1-D [in] input is one row: [out], gradient [in].
    let v = Tensor::<f64>::randn_with(&[4], &mut rng).requires_grad_(true)?;
    let out = layer.forward(&v)?;
    assert_eq!(out.shape(), &[5]);
    out.sum()?.backward()?;
    let column_sums = layer.weight().sum_dim(0, false)?.to_vec()?;
    assert_eq!(v.grad().unwrap().shape(), &[4]);
    for (g, e) in grad(&v).iter().zip(&column_sums) {
        assert!((g - e).abs() < 1e-14, "d/dv Σ(W v + b) = Σ_o W[o]: {g} vs {e}");
    }
    Ok(())
}

#[test]
fn linear_forward_matches_a_hand_computation() -> Result<()> {
    let layer = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    let (w, b) = ([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], [0.1, -0.2]);
    layer.set_weight(&Tensor::new(w))?;
    layer.set_bias(&Tensor::new(b))?;
    let x = [[1.0, 2.0, 3.0], [-4.0, 0.5, 6.0]];
    let expected: Vec<Vec<f64>> =
        x.iter().map(|row| (0..2).map(|o| (0..3).map(|i| row[i] * w[o][i]).sum::<f64>() + b[o]).collect()).collect();
    let got = layer.forward(&Tensor::new(x))?.to_vec2()?;
    for (g, e) in got.iter().flatten().zip(expected.iter().flatten()) {
        assert!((g - e).abs() < 1e-14, "{got:?} vs {expected:?}");
    }
    // A 1-D input is one row.
    let row = layer.forward(&Tensor::new(x[1]))?.to_vec()?;
    assert!((row[0] - expected[1][0]).abs() < 1e-14 && (row[1] - expected[1][1]).abs() < 1e-14);
    Ok(())
}

#[test]
fn linear_and_mse_gradients_match_the_analytic_formula() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(9);
    let (n, fin, fout) = (5, 3, 2);
    let layer = Linear::<f64>::with_rng(fin, fout, true, &mut rng);
    let x = Tensor::<f64>::randn_with(&[n, fin], &mut rng);
    let y = Tensor::<f64>::randn_with(&[n, fout], &mut rng);
    let loss = MSELoss::new().forward(&layer.forward(&x)?, &y)?;
    loss.backward()?;

    let (xv, yv) = (x.to_vec2()?, y.to_vec2()?);
    let (wv, bv) = (layer.weight().to_vec2()?, layer.bias().unwrap().to_vec()?);
    // ŷ = x Wᵀ + b, L = Σ(ŷ - y)² / (n·out)  ⇒  D = 2(ŷ - y)/(n·out), dW = Dᵀ x, db = Σ_rows D.
    let d: Vec<Vec<f64>> = (0..n)
        .map(|r| {
            (0..fout)
                .map(|o| {
                    let y_hat = (0..fin).map(|i| xv[r][i] * wv[o][i]).sum::<f64>() + bv[o];
                    2.0 * (y_hat - yv[r][o]) / (n * fout) as f64
                })
                .collect()
        })
        .collect();
    let expected_loss: f64 =
        d.iter().flatten().map(|v| (v * (n * fout) as f64 / 2.0).powi(2)).sum::<f64>() / (n * fout) as f64;
    assert!((loss.item()? - expected_loss).abs() < 1e-12);
    let dw = layer.weight().grad().unwrap().to_vec2()?;
    for o in 0..fout {
        for i in 0..fin {
            let e: f64 = (0..n).map(|r| d[r][o] * xv[r][i]).sum();
            assert!((dw[o][i] - e).abs() < 1e-12, "dW[{o}][{i}] = {} vs {e}", dw[o][i]);
        }
    }
    let db = layer.bias().unwrap().grad().unwrap().to_vec()?;
    for o in 0..fout {
        let e: f64 = (0..n).map(|r| d[r][o]).sum();
        assert!((db[o] - e).abs() < 1e-12, "db[{o}] = {} vs {e}", db[o]);
    }
    layer.zero_grad();
    assert!(layer.weight().grad().is_none() && layer.bias().unwrap().grad().is_none());
    Ok(())
}

#[test]
fn from_parameters_copies_and_set_weight_keeps_the_parameter() -> Result<()> {
    let w = Tensor::new([[1.0, 2.0]]);
    let layer = Linear::from_parameters(&w, Some(&Tensor::new([3.0])))?;
    assert!(layer.weight().is_leaf() && layer.weight().requires_grad() && !w.requires_grad());
    let before = layer.weight().clone();
    layer.set_weight(&Tensor::new([[5.0, 6.0]]))?;
    assert_eq!(w.to_vec()?, vec![1.0, 2.0], "the argument is copied, not shared");
    assert_eq!(before.to_vec()?, vec![5.0, 6.0], "set_weight writes into the same parameter");
    assert_eq!(layer.forward(&Tensor::new([1.0, 1.0]))?.to_vec()?, vec![14.0]);
    Ok(())
}

#[test]
fn linear_errors_name_the_op_and_the_shapes() {
    let layer = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    let msg = |r: Result<Tensor<f64>>| r.unwrap_err().to_string();
    assert_eq!(
        msg(layer.forward(&Tensor::zeros(&[4, 2]))),
        "Linear: input of shape [4, 2] has 2 features, but in_features is 3"
    );
    assert_eq!(
        msg(layer.forward(&Tensor::zeros(&[2, 4, 2]))),
        "Linear: input of shape [2, 4, 2] has 2 features, but in_features is 3"
    );
    assert_eq!(
        msg(layer.forward(&Tensor::scalar(1.0))),
        "Linear: expected an input of shape [*, in_features] with at least one dim, got shape []"
    );
    let err = layer.set_weight(&Tensor::zeros(&[3, 2])).unwrap_err().to_string();
    assert_eq!(err, "Linear::set_weight: weight of shape [3, 2] for a layer whose weight has shape [2, 3]");
    let err = layer.set_bias(&Tensor::zeros(&[3])).unwrap_err().to_string();
    assert_eq!(err, "Linear: bias must have shape [2] (out_features), got [3]");
    let no_bias = Linear::<f64>::with_rng(3, 2, false, &mut StdRng::seed_from_u64(0));
    let err = no_bias.set_bias(&Tensor::zeros(&[2])).unwrap_err().to_string();
    assert_eq!(err, "Linear::set_bias: the layer was built with bias = false");
    let err = Linear::from_parameters(&Tensor::<f64>::zeros(&[3]), None).err().unwrap().to_string();
    assert_eq!(err, "Linear: weight must be 2-D [out_features, in_features], got shape [3]");
}

#[test]
fn mse_reductions() -> Result<()> {
    let input = Tensor::new([[1.0, 2.0], [3.0, 5.0]]);
    let target = Tensor::new([[0.0, 2.0], [1.0, 1.0]]);
    // Squared differences: 1, 0, 4, 16.
    assert_eq!(MSELoss::new().forward(&input, &target)?.item()?, 21.0 / 4.0);
    assert_eq!(MSELoss::with_reduction(Reduction::Sum).forward(&input, &target)?.item()?, 21.0);
    let none = MSELoss::with_reduction(Reduction::None).forward(&input, &target)?;
    assert_eq!(none.to_vec2()?, vec![vec![1.0, 0.0], vec![4.0, 16.0]]);
    assert_eq!(mse_loss(&input, &target, Reduction::Mean)?.shape(), &[] as &[usize]);
    let f32_loss = mse_loss(&Tensor::<f32>::new([1.0, 3.0]), &Tensor::new([0.0, 0.0]), Reduction::Mean)?;
    assert_eq!(f32_loss.item()?, 5.0f32);
    Ok(())
}

#[test]
fn mse_mean_gradient_is_two_diff_over_numel() -> Result<()> {
    let input = Tensor::new([[1.0, 2.0], [3.0, 5.0]]).requires_grad_(true)?;
    let target = Tensor::new([[0.0, 2.0], [1.0, 1.0]]);
    mse_loss(&input, &target, Reduction::Mean)?.backward()?;
    assert_eq!(input.grad().unwrap().to_vec()?, vec![0.5, 0.0, 1.0, 2.0]);
    Ok(())
}

#[test]
fn mse_shape_mismatch_is_an_error_not_a_broadcast() {
    let err = MSELoss::new().forward(&Tensor::<f64>::zeros(&[4, 1]), &Tensor::zeros(&[4])).unwrap_err().to_string();
    assert!(err.starts_with("mse_loss: input shape [4, 1] and target shape [4] differ"), "{err}");
}

/// Trains a digits classifier (GELU, tanh, SiLU, cross-entropy, Adam; every CPU kernel family in one step)
/// for three epochs; returns every step's loss and the trained parameters, as raw bits.
fn train_digits<T: torchlet::Element>() -> Result<(Vec<u64>, Vec<u64>)> {
    use torchlet::nn::{CrossEntropyLoss, Sequential, SiLU, Tanh, GELU};
    use torchlet::optim::{Adam, Optimizer};
    let data = torchlet::data::load_digits::<T>()?;
    let mut rng = StdRng::seed_from_u64(7);
    let model = Sequential::new()
        .add(Linear::with_rng(64, 48, true, &mut rng))
        .add(GELU::new(torchlet::GeluApproximate::None))
        .add(Linear::with_rng(48, 32, true, &mut rng))
        .add(Tanh)
        .add(Linear::with_rng(32, 32, true, &mut rng))
        .add(SiLU)
        .add(Linear::with_rng(32, 10, true, &mut rng));
    let mut opt = Adam::new(model.parameters(), 1e-2)?;
    let bits =
        |t: &Tensor<T>| -> Result<Vec<u64>> { Ok(t.to_vec()?.iter().map(|v| v.to_f64().unwrap().to_bits()).collect()) };
    let mut losses = Vec::new();
    for _epoch in 0..3 {
        for start in (0..data.y.numel()).step_by(256) {
            let n = 256.min(data.y.numel() - start);
            let x = data.x.narrow(0, start, n)?.div_scalar(T::from_f64(16.0).unwrap())?;
            let loss = CrossEntropyLoss::new().forward(&model.forward(&x)?, &data.y.narrow(0, start, n)?)?;
            opt.zero_grad();
            loss.backward()?;
            opt.step()?;
            losses.extend(bits(&loss)?);
        }
    }
    let mut params = Vec::new();
    for p in model.parameters() {
        params.extend(bits(&p)?);
    }
    Ok((losses, params))
}

/// The CPU kernels' builds (`torchlet::cpu`: AVX-512, AVX2 and the baseline, as far as the CPU has them)
/// train to the same bits, loss by loss, not only op by op. (Other tests of this binary running meanwhile
/// see the switch too; that is harmless exactly when what this test checks holds.)
#[test]
fn training_gives_the_same_bits_on_every_cpu_instruction_set() -> Result<()> {
    use torchlet::cpu::{self, Isa};
    let chosen = cpu::isa();
    let mut runs = Vec::new();
    for isa in [Isa::Avx512, Isa::Avx2, Isa::Baseline] {
        let got = cpu::set_isa(isa);
        if got != isa {
            eprintln!("NOTE: this CPU lacks {isa:?}: that run uses the {got:?} build");
        }
        runs.push((isa, train_digits::<f32>()?, train_digits::<f64>()?));
    }
    cpu::set_isa(chosen);
    let (_, widest32, widest64) = &runs[0];
    for (isa, run32, run64) in &runs[1..] {
        for (dtype, widest, run) in [("f32", widest32, run32), ("f64", widest64, run64)] {
            assert_eq!(widest.0.len(), 24, "{dtype}: three epochs of 8 batches");
            assert_eq!(widest.0, run.0, "{dtype}: the losses differ between AVX-512 and {isa:?}");
            assert_eq!(widest.1, run.1, "{dtype}: the trained parameters differ between AVX-512 and {isa:?}");
            let (first, last) = (f64::from_bits(widest.0[0]), f64::from_bits(widest.0[23]));
            assert!(last < 0.8 * first, "{dtype}: the model did not train ({first} -> {last})");
        }
    }
    Ok(())
}

/// `TORCHLET_CPU_ISA=baseline` holds the kernels to the baseline build from the first call: checked in a
/// child process of this test binary, whose environment is set before any kernel runs.
#[test]
fn the_environment_variable_selects_the_baseline_kernels() {
    const TEST: &str = "the_environment_variable_selects_the_baseline_kernels";
    if std::env::var_os("TORCHLET_CPU_ISA_CHILD").is_some() {
        assert_eq!(torchlet::cpu::isa(), torchlet::cpu::Isa::Baseline);
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        // The test's full name in this binary: its module's path without the crate's name, then its own.
        .args([
            "--exact",
            &format!("{}::{TEST}", module_path!().split_once("::").map_or("", |(_, m)| m)),
            "--test-threads",
            "1",
        ])
        .env("TORCHLET_CPU_ISA", "baseline")
        .env("TORCHLET_CPU_ISA_CHILD", "1")
        .status()
        .unwrap();
    assert!(status.success(), "the child process with TORCHLET_CPU_ISA=baseline failed");
}

#[test]
fn cross_entropy_mean_over_zero_total_weight_is_nan_with_torchs_gradient() -> Result<()> {
    // torch divides by the total weight of the samples not ignored: 0/0 here, so the loss is NaN, and its
    // backward gives each counted sample weight · (1/0) = 0 · ∞ = NaN (the whole row, through log-softmax);
    // ignored samples get 0.
    let logits = Tensor::<f64>::new([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [-2.0, 0.0, 1.0]]);
    let weight = Tensor::new([0.0, 4.0, 0.0]);
    let cases = [
        ("every sample weighs 0", [0, 2, 0], None, 0.0, [true; 3]),
        ("the rest weighs 0", [0, 2, 0], Some(2), 0.0, [true, false, true]),
        ("every sample ignored", [1, 1, 1], Some(1), 0.0, [false; 3]),
        ("with label smoothing", [0, 2, 0], None, 0.1, [true; 3]),
        ("with label smoothing, one ignored", [0, 2, 0], Some(2), 0.1, [true, false, true]),
    ];
    for (what, target, ignore_index, label_smoothing, nan_rows) in cases {
        let loss_fn = CrossEntropyLoss {
            weight: Some(weight.clone()),
            ignore_index,
            reduction: Reduction::Mean,
            label_smoothing,
        };
        let x = logits.detach().requires_grad_(true)?;
        let loss = loss_fn.forward(&x, &target[..])?;
        assert!(loss.item()?.is_nan(), "{what}: loss {}", loss.item()?);
        loss.backward()?;
        for (row, nan) in x.grad().unwrap().to_vec2()?.iter().zip(nan_rows) {
            let expected = if nan { "NaN" } else { "0" };
            assert!(
                row.iter().all(|g| if nan { g.is_nan() } else { *g == 0.0 }),
                "{what}: row {row:?}, expected {expected}"
            );
        }
    }
    Ok(())
}
