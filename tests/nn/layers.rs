//! Containers, dropout and activation layers: torch's parameter names, train/eval passed on to children,
//! dropout's statistics and scaling, and a whole MLP classifier trained the PyTorch way.

use rand::{rngs::StdRng, SeedableRng};
use torchlet::nn::{CrossEntropyLoss, Dropout, Flatten, Linear, Module, ModuleList, ReLU, Sequential, Tanh};
use torchlet::optim::SGD;
use torchlet::{Result, Tensor};

#[test]
fn sequential_names_parameters_by_position_as_torch() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Sequential::<f64>::new()
        .add(Flatten::new())
        .add(Linear::with_rng(4, 3, true, &mut rng))
        .add(ReLU)
        .add(Linear::with_rng(3, 2, false, &mut rng));
    let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.weight"]);
    assert_eq!(model.len(), 4);
    let mut list = ModuleList::<f64>::new();
    list.push(Linear::with_rng(2, 2, true, &mut rng));
    list.push(Tanh);
    list.push(Linear::with_rng(2, 1, true, &mut rng));
    let names: Vec<String> = list.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
}

#[test]
fn dropout_scales_kept_values_and_is_the_identity_in_eval() -> Result<()> {
    let n = 100_000;
    let x = Tensor::<f64>::ones(&[n]);
    let mut model = Sequential::new().add(Dropout::with_seed(0.3, 7)?);
    let y = model.forward(&x)?.to_vec()?;
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
    assert!((kept - 0.7).abs() < 0.01, "kept fraction {kept}");
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-15));
    // The mean is preserved in expectation.
    let mean = y.iter().sum::<f64>() / n as f64;
    assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    // eval() reaches the dropout inside the container.
    model.eval();
    assert_eq!(model.forward(&x)?.to_vec()?, x.to_vec()?);
    model.train();
    assert_ne!(model.forward(&x)?.to_vec()?, x.to_vec()?);
    // p = 1 drops everything; p outside [0, 1] is an error naming it.
    assert!(Module::<f64>::forward(&Dropout::with_seed(1.0, 0)?, &x)?.to_vec()?.iter().all(|&v| v == 0.0));
    let err = Dropout::with_seed(1.5, 0).unwrap_err().to_string();
    assert!(err.contains("between 0 and 1, but got 1.5"), "{err}");
    Ok(())
}

#[test]
fn an_mlp_classifier_learns_the_pytorch_way() -> Result<()> {
    // Two interleaved classes on a line: separable only with the hidden layer.
    let mut rng = StdRng::seed_from_u64(3);
    let xs: Vec<f64> = (0..40).map(|i| i as f64 / 10.0 - 2.0).collect();
    let labels: Vec<usize> = xs.iter().map(|&x| usize::from(x.abs() < 1.0)).collect();
    let x = Tensor::from_vec(xs, &[40, 1])?;
    let model = Sequential::new()
        .add(Linear::with_rng(1, 16, true, &mut rng))
        .add(ReLU)
        .add(Linear::with_rng(16, 2, true, &mut rng));
    let mut opt = SGD::new(model.parameters(), 0.5)?;
    let loss_fn = CrossEntropyLoss::new();
    let first = loss_fn.forward(&model.forward(&x)?, &labels)?.item()?;
    for _ in 0..500 {
        let loss = loss_fn.forward(&model.forward(&x)?, &labels)?;
        opt.zero_grad();
        loss.backward()?;
        opt.step()?;
    }
    let logits = model.forward(&x)?;
    let last = loss_fn.forward(&logits, &labels)?.item()?;
    let predicted = logits.argmax(1, false)?.to_vec()?;
    let correct = predicted.iter().zip(&labels).filter(|(p, &l)| **p as usize == l).count();
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(correct >= 38, "{correct} of 40 correct");
    Ok(())
}
