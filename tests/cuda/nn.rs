//! The layers, losses, optimizers and data pipeline on a CUDA device against the CPU: fused `linear` and
//! `mse_loss`, the classification losses, SGD/Adam/AdamW/RMSprop steps, batches from a DataLoader, and the
//! regression tutorials' training loops (hand-written gradients and autograd) epoch by epoch.

use super::*;
use torchlet::data::{make_regression, DataLoader, MakeRegression, TensorDataset};
use torchlet::nn::{functional as F, Dropout, Linear, Module, Reduction};
use torchlet::optim::{Adam, AdamConfig, AdamW, Optimizer, RMSprop, RmsPropConfig, SgdConfig, SGD};
use torchlet_tutorials::regression::{AutodiffLinear, ManualLinear, Regressor};

fn loss_cases<T: Element>() -> Vec<Case<T>> {
    let labels = [2usize, 0, 4, 1, 1, 3];
    vec![
        case("linear (fused) with bias", &[&[8, 3], &[2, 3], &[2]], |x| x[0].linear(&x[1], Some(&x[2]))),
        case("linear (fused) without bias", &[&[8, 3], &[2, 3]], |x| x[0].linear(&x[1], None)),
        case("linear (fused) of a narrowed batch", &[&[10, 3], &[1, 3], &[1]], |x| {
            x[0].narrow(0, 3, 7)?.linear(&x[1], Some(&x[2]))
        }),
        case("linear (fused) on [2, 4, 3]", &[&[2, 4, 3], &[5, 3], &[5]], |x| x[0].linear(&x[1], Some(&x[2]))),
        case("mse_loss mean", &[&[8, 3], &[8, 3]], |x| F::mse_loss(&x[0], &x[1], Reduction::Mean)),
        case("mse_loss sum", &[&[8, 1], &[8, 1]], |x| F::mse_loss(&x[0], &x[1], Reduction::Sum)),
        case("mse_loss none", &[&[8, 3], &[8, 3]], |x| F::mse_loss(&x[0], &x[1], Reduction::None)),
        case("l1_loss", &[&[8, 3], &[8, 3]], |x| F::l1_loss(&x[0], &x[1], Reduction::Mean)),
        case("huber_loss", &[&[8, 3], &[8, 3]], |x| F::huber_loss(&x[0], &x[1], Reduction::Mean, 0.8)),
        case("smooth_l1_loss", &[&[8, 3], &[8, 3]], |x| F::smooth_l1_loss(&x[0], &x[1], Reduction::Sum, 0.5)),
        case("cross_entropy on indices", &[&[6, 5]], move |x| F::cross_entropy(&x[0], &labels[..])),
        case("cross_entropy on probabilities", &[&[6, 5], &[6, 5]], |x| {
            F::cross_entropy(&x[0], &x[1].detach().softmax(1)?)
        }),
        case("nll_loss of log_softmax", &[&[6, 5]], move |x| {
            F::nll_loss(&x[0].log_softmax(1)?, &labels, None, None, Reduction::Mean)
        }),
        case("binary_cross_entropy", &[&[6, 2], &[6, 2]], |x| {
            F::binary_cross_entropy(&x[0].sigmoid()?, &x[1].detach().sigmoid()?, None, Reduction::Mean)
        }),
        case("binary_cross_entropy_with_logits", &[&[6, 2], &[6, 2]], |x| {
            F::binary_cross_entropy_with_logits(&x[0], &x[1].detach().sigmoid()?, None, None, Reduction::Mean)
        }),
    ]
}

pub(crate) fn cuda_vs_cpu_linear_and_losses_and_backward(dev: Device) {
    run_cases::<f32>(dev, loss_cases());
    run_cases::<f64>(dev, loss_cases());
}

pub(crate) fn cuda_binary_cross_entropy_refuses_what_the_cpu_refuses(dev: Device) {
    // The range check runs on the device (a min and a max); the message is the CPU's, naming an extreme.
    let target = Tensor::<f32>::new([0.0, 1.0, 1.0]).to(dev).unwrap();
    let bce = |x: [f32; 3]| {
        F::binary_cross_entropy(&Tensor::new(x).to(dev).unwrap(), &target, None, Reduction::Mean).map(|_| ())
    };
    let message = |x| bce(x).unwrap_err().to_string();
    let expected =
        |v: &str| format!("binary_cross_entropy: all elements of input should be between 0 and 1, found {v}");
    assert_eq!(message([0.5, 1.5, 0.25]), expected("1.5"));
    assert_eq!(message([0.5, -0.25, 2.0]), expected("-0.25"));
    assert_eq!(message([0.5, f32::NAN, 0.25]), expected("NaN"));
    bce([0.0, 1.0, 0.5]).unwrap();
}

/// Five steps of `optimizer` on a small MLP's parameters, on `device`; returns the parameters.
fn optimize<T: Element, O: Optimizer<T>>(
    device: Device,
    make: impl Fn(Vec<Tensor<T>>) -> Result<O>,
) -> Result<Vec<Tensor<T>>> {
    let mut rng = StdRng::seed_from_u64(21);
    let layer1 = Linear::<T>::with_rng(4, 6, true, &mut rng).to(device)?;
    let layer2 = Linear::<T>::with_rng(6, 3, true, &mut rng).to(device)?;
    let x = Tensor::<T>::rand_uniform_with(&[16, 4], c(-1.0), c(1.0), &mut rng).to(device)?;
    let labels: Vec<usize> = (0..16).map(|i| (i * 7) % 3).collect();
    let params: Vec<Tensor<T>> = layer1.parameters().into_iter().chain(layer2.parameters()).collect();
    let mut opt = make(params.clone())?;
    for _ in 0..5 {
        opt.zero_grad();
        let logits = layer2.forward(&layer1.forward(&x)?.relu()?)?;
        F::cross_entropy(&logits, &labels)?.backward()?;
        opt.step()?;
    }
    Ok(params)
}

fn optimizers_agree<T: Element>(dev: Device) {
    fn compare<T: Element, O: Optimizer<T>>(name: &str, dev: Device, make: impl Fn(Vec<Tensor<T>>) -> Result<O>) {
        let cpu = optimize(Device::Cpu, &make).unwrap_or_else(|e| panic!("{name} on the CPU: {e}"));
        let gpu = optimize(dev, &make).unwrap_or_else(|e| panic!("{name} on {dev}: {e}"));
        for (i, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
            assert_close(&format!("{name}: parameter {i} after 5 steps"), a, b, tol::<T>() * 10.0);
        }
    }
    compare::<T, _>("SGD", dev, |p| SGD::new(p, 0.1));
    let sgd = SgdConfig::new(0.1).momentum(0.9).nesterov(true).weight_decay(0.01);
    compare::<T, _>("SGD nesterov", dev, |p| SGD::with_config(p, sgd));
    compare::<T, _>("Adam", dev, |p| Adam::new(p, 0.01));
    let amsgrad = AdamConfig::new(0.01).amsgrad(true).weight_decay(0.1);
    compare::<T, _>("Adam amsgrad", dev, |p| Adam::with_config(p, amsgrad));
    compare::<T, _>("AdamW", dev, |p| AdamW::new(p, 0.01));
    let centered = RmsPropConfig::new(0.01).centered(true).momentum(0.5);
    compare::<T, _>("RMSprop centered", dev, |p| RMSprop::with_config(p, centered));
}

pub(crate) fn cuda_vs_cpu_optimizer_steps(dev: Device) {
    optimizers_agree::<f32>(dev);
    optimizers_agree::<f64>(dev);
}

pub(crate) fn cuda_dataloader_batches_and_dropout(dev: Device) {
    let mut rng = StdRng::seed_from_u64(8);
    let x = Tensor::<f64>::rand_uniform_with(&[50, 3], -1.0, 1.0, &mut rng);
    let y = Tensor::<f64>::rand_uniform_with(&[50, 1], -1.0, 1.0, &mut rng);
    let batches = |device: Device| -> Vec<Vec<Tensor<f64>>> {
        // A narrowed view (an offset into the buffer), as the tutorials' train/valid split gives.
        let (x, y) = (x.to(device).unwrap().narrow(0, 7, 40).unwrap(), y.to(device).unwrap().narrow(0, 7, 40).unwrap());
        let data = TensorDataset::new(vec![x, y]).unwrap();
        let mut loader = DataLoader::new(data, 12).unwrap().shuffle(true).seed(3);
        loader.iter().map(|b| b.unwrap()).collect()
    };
    let (cpu, gpu) = (batches(Device::Cpu), batches(dev));
    assert_eq!(cpu.len(), gpu.len());
    for (i, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        for (j, (ta, tb)) in a.iter().zip(b).enumerate() {
            assert_close(&format!("batch {i} tensor {j}"), ta, tb, 0.0);
        }
    }
    let mut drop = Dropout::with_seed(0.25, 1).unwrap();
    let ones = Tensor::<f32>::full_on(&[4000], 1.0, dev).unwrap().requires_grad_(true).unwrap();
    let out = Module::<f32>::forward(&drop, &ones).unwrap();
    assert_eq!(out.device(), dev);
    let values = out.to_vec().unwrap();
    assert!(values.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6), "dropout values");
    let kept = values.iter().filter(|&&v| v != 0.0).count() as f64 / 4000.0;
    assert!((kept - 0.75).abs() < 0.04, "dropout kept {kept}");
    out.sum().unwrap().backward().unwrap();
    assert_close("dropout grad is the mask", &out.detach(), &ones.grad().unwrap(), 1e-6);
    Module::<f32>::eval(&mut drop);
    assert_close("dropout in eval", &ones.detach(), &Module::<f32>::forward(&drop, &ones).unwrap(), 0.0);
}

/// T2/T3's loop: both regression models, trained in mini-batches from a shuffled DataLoader over a narrowed
/// split, on `device`; returns the per-step losses of both and the final weights.
fn regression_run(device: Device, n_features: usize, n_targets: usize) -> (Vec<f64>, Tensor<f64>, Tensor<f64>) {
    let config = MakeRegression {
        n_samples: 300,
        n_features,
        n_informative: n_features.min(3),
        n_targets,
        bias: 0.5,
        noise: 1.0,
        seed: 4,
        ..Default::default()
    };
    let data = make_regression::<f64>(&config).unwrap();
    let (x, y) = (data.x.to(device).unwrap(), data.y.to(device).unwrap());
    // ManualLinear::multi_output takes targets [n, 1] for one target.
    let y = if y.rank() == 1 { y.unsqueeze(1).unwrap() } else { y };
    let (x_train, y_train) = (x.narrow(0, 40, 200).unwrap(), y.narrow(0, 40, 200).unwrap());
    let mut rng = StdRng::seed_from_u64(12);
    let linear = Linear::<f64>::with_rng(n_features, n_targets, true, &mut rng).to(device).unwrap();
    let mut manual = ManualLinear::multi_output(n_features, n_targets, 0.01, &mut rng).unwrap().to(device).unwrap();
    manual.copy_from_linear(&linear).unwrap();
    let mut auto = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias()).unwrap(), 0.01).unwrap();
    let mut loader =
        DataLoader::new(TensorDataset::new(vec![x_train, y_train]).unwrap(), 33).unwrap().shuffle(true).seed(9);
    let mut losses = Vec::new();
    for _ in 0..4 {
        for batch in loader.iter() {
            let batch = batch.unwrap();
            losses.push(manual.train_step(&batch[0], &batch[1]).unwrap());
            losses.push(auto.train_step(&batch[0], &batch[1]).unwrap());
        }
    }
    (losses, manual.weight().clone(), auto.linear().weight().clone())
}

pub(crate) fn cuda_vs_cpu_regression_tutorial_loops(dev: Device) {
    for (features, targets) in [(1, 1), (5, 1), (3, 2)] {
        let (cpu, gpu) = (regression_run(Device::Cpu, features, targets), regression_run(dev, features, targets));
        for (step, (a, b)) in cpu.0.iter().zip(&gpu.0).enumerate() {
            let what = if step % 2 == 0 { "hand-written" } else { "autograd" };
            assert!(
                (a - b).abs() <= 1e-10 * a.abs().max(1.0),
                "{features} features, {targets} targets: {what} loss at step {} is {b} on {dev}, {a} on the CPU",
                step / 2
            );
        }
        assert_close(&format!("{features}x{targets} hand-written weight"), &cpu.1, &gpu.1, 1e-10);
        assert_close(&format!("{features}x{targets} autograd weight"), &cpu.2, &gpu.2, 1e-10);
    }
}

fn norm_cases<T: Element>() -> Vec<Case<T>> {
    // Running statistics made afresh on the input's device for each run, as training updates them in place.
    let stats = |x: &Tensor<T>, c: usize| -> Result<(Tensor<T>, Tensor<T>)> {
        Ok((Tensor::zeros(&[c]).to(x.device())?, Tensor::ones(&[c]).to(x.device())?))
    };
    let eps = 1e-5;
    vec![
        case("batch_norm training [4, 3, 5]", &[&[4, 3, 5], &[3], &[3]], move |x| {
            let (m, v) = stats(&x[0], 3)?;
            let y = F::batch_norm(&x[0], Some(&m), Some(&v), Some(&x[1]), Some(&x[2]), true, 0.1, eps)?;
            // The updated running statistics join the output, so they are compared too.
            y.flatten(0, -1)?.add(&m.add(&v)?.sum()?)
        }),
        case("batch_norm eval [2, 3, 2, 2]", &[&[2, 3, 2, 2], &[3], &[3]], move |x| {
            let (m, v) = stats(&x[0], 3)?;
            F::batch_norm(
                &x[0],
                Some(&m.add_scalar(T::from_f64_lossy(0.25))?),
                Some(&v),
                Some(&x[1]),
                Some(&x[2]),
                false,
                0.1,
                eps,
            )
        }),
        case("layer_norm over [3, 4]", &[&[2, 3, 4], &[3, 4], &[3, 4]], move |x| {
            F::layer_norm(&x[0], &[3, 4], Some(&x[1]), Some(&x[2]), eps)
        }),
        case("group_norm 2 groups", &[&[2, 4, 5], &[4], &[4]], move |x| {
            F::group_norm(&x[0], 2, Some(&x[1]), Some(&x[2]), eps)
        }),
        case("embedding with padding_idx", &[&[5, 3]], |x| {
            let idx = Tensor::<T>::from_vec([1.0, 4.0, 1.0, 0.0].map(T::from_f64_lossy).to_vec(), &[2, 2])?
                .to(x[0].device())?;
            F::embedding(&idx, &x[0], Some(0))
        }),
    ]
}

pub(crate) fn cuda_vs_cpu_normalisation_and_embedding(dev: Device) {
    run_cases::<f32>(dev, norm_cases());
    run_cases::<f64>(dev, norm_cases());
    // The layers themselves, moved to the device: a training step updates the buffers there.
    let cpu = torchlet::nn::BatchNorm1d::<f64>::new(3);
    let gpu = cpu.to(dev).unwrap();
    let x = Tensor::<f64>::new([[1.0, 2.0, 3.0], [4.0, 0.0, -1.0]]);
    let (a, b) = (cpu.forward(&x).unwrap(), gpu.forward(&x.to(dev).unwrap()).unwrap());
    assert_eq!(b.device(), dev);
    let (a, b) = (a.to_vec().unwrap(), b.to_vec().unwrap());
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-12 * p.abs().max(1.0)), "{a:?} vs {b:?}");
    assert_eq!(gpu.num_batches_tracked(), Some(1));
    assert_eq!(gpu.running_mean().unwrap().device(), dev);
}
