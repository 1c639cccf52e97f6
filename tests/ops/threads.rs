//! Thread safety: models trained on two threads at once get exactly what each gets alone, and grad mode
//! (`no_grad` / `enable_grad`) is per thread, as in torch.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;
use torchlet::data::{make_regression, DataLoader, MakeRegression, TensorDataset};
use torchlet::nn::Linear;
use torchlet::{enable_grad, is_grad_enabled, no_grad, Element, Result, Tensor};
use torchlet_tutorials::regression::{fit, AutodiffLinear, ManualLinear, Regressor, TensorLinear};

/// Everything that tensors, models and loaders need to move between threads or be shared by them.
#[test]
fn tensors_models_and_loaders_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Tensor<f32>>();
    send_sync::<Linear<f64>>();
    send_sync::<AutodiffLinear<f32>>();
    send_sync::<TensorLinear<f64>>();
    send_sync::<DataLoader<f32>>();
}

/// The bits of every per-epoch loss and of the final parameters.
type Outcome = (Vec<u64>, Vec<u64>);

fn bits<T: Element>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.to_f64().unwrap().to_bits()).collect()
}

/// T3-like: 5 features, 3 targets, f32, nn.Linear + MSELoss + SGD over shuffled batches.
fn train_autodiff(wait: Option<&Barrier>) -> Result<Outcome> {
    let config =
        MakeRegression { n_samples: 400, n_features: 5, n_targets: 3, noise: 1.0, seed: 1, ..Default::default() };
    let data = make_regression::<f32>(&config)?;
    let ds = || TensorDataset::new(vec![data.x.clone(), data.y.clone()]);
    let mut train = DataLoader::new(ds()?, 16)?.shuffle(true).seed(3);
    let mut valid = DataLoader::new(ds()?, 400)?;
    let linear = Linear::with_rng(5, 3, true, &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5));
    let mut model = AutodiffLinear::new(linear, 1e-2)?;
    if let Some(barrier) = wait {
        barrier.wait(); // both threads start training together
    }
    let history = fit(&mut model, &mut train, &mut valid, 40, |_, _, _| {})?;
    let params = [model.linear().weight().to_vec()?, model.linear().bias().unwrap().to_vec()?].concat();
    Ok((bits(&[history.train, history.valid].concat()), bits(&params)))
}

/// T5 ways 1 and 2 in f64 on the same data, alternating steps: raw-tensor autograd and hand-derived gradients.
fn train_tensor_and_manual(wait: Option<&Barrier>) -> Result<Outcome> {
    let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = x.matmul(&Tensor::new([[10.0], [20.0]]))?;
    let mut autograd = TensorLinear::new(Tensor::zeros(&[1, 2]), None, 1e-3)?;
    let mut manual = ManualLinear::from_parameters(Tensor::zeros(&[2, 1]), None, 1e-3)?;
    if let Some(barrier) = wait {
        barrier.wait();
    }
    let mut losses = Vec::new();
    for _ in 0..20_000 {
        losses.push(autograd.train_step(&x, &y)?);
        losses.push(manual.train_step(&x, &y)?);
    }
    let params = [autograd.weight().to_vec()?, manual.weight().to_vec()?].concat();
    Ok((bits(&losses), bits(&params)))
}

#[test]
fn two_models_trained_on_two_threads_at_once_match_each_trained_alone() {
    let alone = (train_autodiff(None).unwrap(), train_tensor_and_manual(None).unwrap());
    for round in 0..3 {
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let first = thread::spawn(move || train_autodiff(Some(&b)));
        let b = Arc::clone(&barrier);
        let second = thread::spawn(move || train_tensor_and_manual(Some(&b)));
        let together = (first.join().unwrap().unwrap(), second.join().unwrap().unwrap());
        assert!(together.0 == alone.0, "round {round}: the nn model trained beside another differs from alone");
        assert!(together.1 == alone.1, "round {round}: the tensor models trained beside another differ from alone");
    }
}

#[test]
fn many_threads_share_one_read_only_tensor() {
    // Tensors are shared handles: eight threads read the same data and build graphs from it at once.
    let x = Tensor::<f64>::from_vec((0..64).map(f64::from).collect(), &[8, 8]).unwrap();
    let expected = x.matmul(&x).unwrap().sum().unwrap().item().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let x = x.clone();
            thread::spawn(move || {
                let w = x.detach().requires_grad_(true).unwrap();
                let total = (0..200).map(|_| w.matmul(&x).unwrap().sum().unwrap().item().unwrap()).sum::<f64>();
                w.matmul(&x).unwrap().sum().unwrap().backward().unwrap();
                (total, w.grad().unwrap().to_vec().unwrap())
            })
        })
        .collect();
    let row_sums: Vec<f64> = x.sum_dim(1, false).unwrap().to_vec().unwrap();
    for h in handles {
        let (total, grad) = h.join().unwrap();
        assert_eq!(total, 200.0 * expected);
        // d/dw sum(w x) = 1 xᵀ: every row of the gradient is x's row sums.
        assert!(grad.chunks(8).all(|row| row == row_sums.as_slice()));
    }
    assert!(x.grad().is_none() && !x.requires_grad(), "the shared tensor itself is untouched");
}

#[test]
fn no_grad_on_one_thread_does_not_affect_another() {
    // Sequenced by barriers so that each check runs while the other thread is inside its scope.
    let entered = Arc::new(Barrier::new(2));
    let checked = Arc::new(Barrier::new(2));
    let (e, c) = (Arc::clone(&entered), Arc::clone(&checked));
    let quiet = thread::spawn(move || {
        no_grad(|| {
            e.wait(); // the other thread now runs while this one is in no_grad
            c.wait();
            let w = Tensor::<f64>::ones(&[2]).requires_grad_(true).unwrap();
            let y = &w * 2.0;
            (is_grad_enabled(), y.requires_grad(), enable_grad(|| (&w * 2.0).requires_grad()))
        })
    });
    entered.wait();
    assert!(is_grad_enabled(), "no_grad on another thread turned grad mode off here");
    let w = Tensor::<f64>::ones(&[2]).requires_grad_(true).unwrap();
    let loss = w.square().unwrap().sum().unwrap();
    assert!(loss.requires_grad(), "ops are recorded here while another thread is in no_grad");
    loss.backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![2.0, 2.0]);
    // And the other way round: this thread's no_grad leaves the other thread's scope as it was.
    no_grad(|| {
        checked.wait();
        assert!(!is_grad_enabled());
    });
    let (enabled, recorded, re_enabled) = quiet.join().unwrap();
    assert!(!enabled && !recorded, "the no_grad thread kept its own mode while the other recorded and backwarded");
    assert!(re_enabled, "enable_grad inside no_grad works per thread");
    assert!(is_grad_enabled());
}

/// Runs `work` on its own thread and waits at most `limit` for it: a deadlock fails the test with `what`
/// instead of hanging the suite (the stuck thread is left behind; the test process exits without it).
fn within<R: Send + 'static>(limit: Duration, what: &str, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, wait) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(work());
    });
    match wait.recv_timeout(limit) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: not finished after {limit:?}, most likely a deadlock"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the worker thread panicked"),
    }
}

#[test]
fn crossed_inplace_updates_on_two_threads_do_not_deadlock() {
    // `a op= b` on one thread while `b op= a` runs on another: each locks its destination for writing and
    // the other tensor for reading, so the two must take the locks in one order. The window for the
    // crossing is a few instructions wide; tiny tensors and a million pairs take it in most runs when the
    // order is destination first.
    const PAIRS: usize = 1_000_000;
    const N: usize = 2;
    let crossed = within(Duration::from_secs(30), "crossed a.add_(&b) / b.add_(&a)", || {
        let (a, b) = (Tensor::<f32>::zeros(&[N]), Tensor::<f32>::zeros(&[N]));
        let start = Arc::new(Barrier::new(2));
        let workers: Vec<_> = [(a.clone(), b.clone()), (b.clone(), a.clone())]
            .into_iter()
            .map(|(dst, src)| {
                let start = Arc::clone(&start);
                thread::spawn(move || -> Result<()> {
                    start.wait();
                    for i in 0..PAIRS {
                        match i % 3 {
                            0 => dst.add_(&src)?,
                            1 => dst.add_scaled_(&src, -1.0)?,
                            _ => dst.copy_(&src.narrow(0, 1, N - 1)?.sum_dim(0, true)?.expand(&[N])?)?,
                        };
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a worker panicked")).collect::<Result<Vec<()>>>()?;
        Ok::<_, torchlet::Error>((a.to_vec()?, b.to_vec()?))
    });
    let (a, b) = crossed.unwrap();
    assert!(a.iter().chain(&b).all(|&v| v == 0.0), "zeros added, subtracted and copied stay zeros: {a:?} {b:?}");
}
