//! The normalisation layers, Embedding and Unflatten as modules: torch's defaults, names of parameters and
//! buffers inside a `Sequential`, training and evaluation mode passed down by `train()`/`eval()`, the
//! cumulative average of `momentum=None`, and a checkpoint that carries the running statistics and the
//! int64 count of batches. (Values against libtorch: tests/libtorch/norm.rs.) Nothing here draws from the
//! default generator, which other tests of this binary seed and replay.

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::io::{load_checkpoint, load_parameters, save_checkpoint, save_parameters};
use torchlet::nn::{
    BatchNorm1d, BatchNorm2d, BatchNormOptions, Embedding, EmbeddingOptions, Flatten, GroupNorm, LayerNorm, Linear,
    MSELoss, Module, Sequential, Unflatten,
};
use torchlet::optim::{Optimizer, SGD};
use torchlet::{Result, Tensor};

fn names(list: Vec<(String, Tensor<f64>)>) -> Vec<String> {
    list.into_iter().map(|(n, _)| n).collect()
}

#[test]
fn batch_norm_has_torchs_defaults_names_and_initial_state() -> Result<()> {
    let bn = BatchNorm1d::<f64>::new(3);
    assert_eq!(
        bn.options(),
        BatchNormOptions { eps: 1e-5, momentum: Some(0.1), affine: true, track_running_stats: true }
    );
    assert_eq!(format!("{bn:?}"), "BatchNorm1d(3, eps=1e-5, momentum=0.1, affine=true, track_running_stats=true)");
    assert_eq!(names(bn.named_parameters()), ["weight", "bias"]);
    assert_eq!(names(bn.named_buffers()), ["running_mean", "running_var", "num_batches_tracked"]);
    assert_eq!(bn.weight().unwrap().to_vec()?, vec![1.0; 3]);
    assert_eq!(bn.bias().unwrap().to_vec()?, vec![0.0; 3]);
    assert_eq!(bn.running_mean().unwrap().to_vec()?, vec![0.0; 3]);
    assert_eq!(bn.running_var().unwrap().to_vec()?, vec![1.0; 3]);
    assert_eq!(bn.named_buffers()[2].1.shape(), &[] as &[usize], "a 0-D count, as torch's tensor(0)");
    assert!(bn.weight().unwrap().requires_grad() && !bn.running_mean().unwrap().requires_grad());
    let plain =
        BatchNorm2d::<f64>::with_options(2, BatchNormOptions::default().affine(false).track_running_stats(false));
    assert!(plain.named_parameters().is_empty() && plain.named_buffers().is_empty());
    assert_eq!(plain.num_features(), 2);
    Ok(())
}

#[test]
fn eval_and_train_reach_a_batch_norm_inside_a_sequential() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::<f64>::new()
        .add(Linear::with_rng(2, 3, true, &mut rng))
        .add(BatchNorm1d::new(3))
        .add(Linear::with_rng(3, 1, true, &mut rng));
    assert_eq!(names(model.named_buffers()), ["1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    let x = Tensor::randn_with(&[4, 2], &mut rng);
    model.forward(&x)?;
    let count = || model.named_buffers()[2].1.item();
    assert_eq!(count()?, 1.0);
    let stats = model.named_buffers()[0].1.to_vec()?;
    model.eval();
    let (a, b) = (model.forward(&x)?, model.forward(&x.narrow(0, 0, 1)?)?);
    assert_eq!(model.named_buffers()[2].1.item()?, 1.0, "evaluation leaves the statistics alone");
    assert_eq!(model.named_buffers()[0].1.to_vec()?, stats);
    assert_eq!(a.narrow(0, 0, 1)?.to_vec()?, b.to_vec()?, "in evaluation a row does not depend on the batch");
    model.train();
    model.forward(&x)?;
    assert_eq!(model.named_buffers()[2].1.item()?, 2.0);
    Ok(())
}

#[test]
fn momentum_none_keeps_the_plain_average_of_the_batch_statistics() -> Result<()> {
    let bn = BatchNorm1d::<f64>::with_options(2, BatchNormOptions::default().momentum(None));
    let batches = [[[1.0, 2.0], [3.0, 6.0]], [[5.0, 0.0], [7.0, 0.0]], [[0.0, 1.0], [0.0, 3.0]]];
    for b in batches {
        bn.forward(&Tensor::new(b))?;
    }
    // Batch means [2, 4], [6, 0], [0, 2]; unbiased variances [2, 8], [2, 0], [0, 2].
    let (mean, var) = (bn.running_mean().unwrap().to_vec()?, bn.running_var().unwrap().to_vec()?);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    assert!(close(mean[0], 8.0 / 3.0) && close(mean[1], 2.0), "{mean:?}");
    assert!(close(var[0], 4.0 / 3.0) && close(var[1], 10.0 / 3.0), "{var:?}");
    assert_eq!(bn.num_batches_tracked(), Some(3));
    Ok(())
}

#[test]
fn a_checkpoint_carries_running_statistics_and_the_batch_count() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let setup = || {
        let mut rng = StdRng::seed_from_u64(1);
        Sequential::<f32>::new()
            .add(Linear::with_rng(3, 4, true, &mut rng))
            .add(BatchNorm1d::new(4))
            .add(Linear::with_rng(4, 1, true, &mut rng))
    };
    let mut rng = StdRng::seed_from_u64(2);
    let (x, y) = (Tensor::randn_with(&[6, 3], &mut rng), Tensor::randn_with(&[6, 1], &mut rng));
    let step = |model: &Sequential<f32>, opt: &mut SGD<f32>| -> Result<f32> {
        let loss = MSELoss::new().forward(&model.forward(&x)?, &y)?;
        opt.zero_grad();
        loss.backward()?;
        opt.step()?;
        loss.item()
    };
    let model = setup();
    let mut opt = SGD::new(model.parameters(), 0.1)?;
    for _ in 0..3 {
        step(&model, &mut opt)?;
    }
    let path = dir.path().join("ckpt.safetensors");
    save_checkpoint(&path, &model, &opt, None)?;
    let uninterrupted: Vec<f32> = (0..2).map(|_| step(&model, &mut opt)).collect::<Result<_>>()?;

    let resumed = setup();
    let mut opt = SGD::new(resumed.parameters(), 0.1)?;
    load_checkpoint(&path, &resumed, &mut opt, None)?;
    assert_eq!(resumed.named_buffers()[2].1.item()?, 3.0);
    let again: Vec<f32> = (0..2).map(|_| step(&resumed, &mut opt)).collect::<Result<_>>()?;
    assert_eq!(again, uninterrupted);
    assert_eq!(resumed.named_buffers()[0].1.to_vec()?, model.named_buffers()[0].1.to_vec()?);

    let params = dir.path().join("params.safetensors");
    save_parameters(&model, &params)?;
    let fresh = setup();
    load_parameters(&fresh, &params)?;
    assert_eq!(fresh.named_buffers()[2].1.item()?, 5.0);
    Ok(())
}

#[test]
fn an_empty_batch_passes_through_and_leaves_the_statistics_alone() -> Result<()> {
    let bn = BatchNorm1d::<f64>::new(3);
    let x = Tensor::<f64>::zeros(&[0, 3]).requires_grad_(true)?;
    let y = bn.forward(&x)?;
    assert_eq!(y.shape(), &[0, 3]);
    y.sum()?.backward()?;
    assert_eq!(x.grad().unwrap().shape(), &[0, 3]);
    assert_eq!(bn.running_mean().unwrap().to_vec()?, vec![0.0; 3]);
    assert_eq!(bn.running_var().unwrap().to_vec()?, vec![1.0; 3]);
    assert_eq!(bn.num_batches_tracked(), Some(1), "torch counts it all the same");
    Ok(())
}

#[test]
fn layer_and_group_norm_have_torchs_defaults() -> Result<()> {
    let ln = LayerNorm::<f64>::new(&[2, 3])?;
    assert_eq!((ln.normalized_shape(), ln.eps()), (&[2, 3][..], 1e-5));
    assert_eq!(names(ln.named_parameters()), ["weight", "bias"]);
    assert_eq!(ln.weight().unwrap().shape(), &[2, 3]);
    assert_eq!(format!("{ln:?}"), "LayerNorm([2, 3], eps=1e-5, elementwise_affine=true)");
    let gn = GroupNorm::<f64>::new(2, 6)?;
    assert_eq!((gn.num_groups(), gn.num_channels()), (2, 6));
    assert_eq!(names(gn.named_parameters()), ["weight", "bias"]);
    assert_eq!(gn.bias().unwrap().to_vec()?, vec![0.0; 6]);
    // GroupNorm with one channel per group and no spatial dims normalises each value alone: all zero.
    let y = GroupNorm::<f64>::new(3, 3)?.forward(&Tensor::new([[1.0, 2.0, 3.0]]))?;
    assert_eq!(y.to_vec()?, vec![0.0; 3]);
    Ok(())
}

#[test]
fn embedding_draws_standard_normals_and_zeroes_the_padding_row() -> Result<()> {
    let emb = Embedding::<f64>::with_rng(
        200,
        50,
        EmbeddingOptions::default().padding_idx(-2),
        &mut StdRng::seed_from_u64(4),
    )?;
    assert_eq!((emb.num_embeddings(), emb.embedding_dim(), emb.padding_idx()), (200, 50, Some(198)));
    assert_eq!(format!("{emb:?}"), "Embedding(200, 50, padding_idx=198)");
    let rows = emb.weight().to_vec2()?;
    assert!(rows[198].iter().all(|&v| v == 0.0));
    let all: Vec<f64> = rows.concat();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / all.len() as f64;
    assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {mean}, var {var}");
    let out = emb.forward(&Tensor::new([[[3.0]], [[198.0]]]))?;
    assert_eq!(out.shape(), &[2, 1, 1, 50]);
    assert_eq!(emb.forward(&Tensor::scalar(7.0))?.shape(), &[50], "a 0-D index gives one row");
    assert_eq!(emb.forward(&Tensor::<f64>::zeros(&[0, 3]))?.shape(), &[0, 3, 50]);
    Ok(())
}

#[test]
fn unflatten_undoes_flatten() -> Result<()> {
    let x = Tensor::<f64>::randn_with(&[2, 3, 4, 5], &mut StdRng::seed_from_u64(5));
    assert_eq!((Flatten::new().start_dim, Flatten::new().end_dim), (1, -1));
    let flat = Module::<f64>::forward(&Flatten::with_dims(1, 2), &x)?;
    assert_eq!(flat.shape(), &[2, 12, 5]);
    let back = Module::<f64>::forward(&Unflatten::new(1, &[3, -1]), &flat)?;
    assert_eq!(back.shape(), x.shape());
    assert_eq!(back.to_vec()?, x.to_vec()?);
    Ok(())
}
