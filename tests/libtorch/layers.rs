//! Embedding's `max_norm` and Dropout2d against libtorch: the rows a lookup renormalises (every norm type,
//! a padding row, repeated indices), the lookup and its gradient, in f32 and f64; and the shape of
//! Dropout2d's masks on 3-D and 4-D inputs, which libtorch's `feature_dropout` (torch's `dropout2d`) draws
//! per `x[n, c]`.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn layer_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{assert_close, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::nn::{Dropout2d, Embedding, EmbeddingOptions, Module};
    use torchlet::Tensor;

    /// A table whose rows' norms spread around 1.5, none within 1 % of it, so both libraries take the same
    /// side of `norm > max_norm` for every row whatever the last bit of their norms.
    fn table<T: Both>(rows: usize, dim: usize, norm_type: f64, rng: &mut StdRng) -> Tensor<T> {
        // The largest magnitude is below the range's end: the ∞-norm needs the wider range to pass 1.5.
        let end = if norm_type.is_infinite() { 3.0 } else { 1.5 };
        let mut data = Vec::with_capacity(rows * dim);
        while data.len() < rows * dim {
            let row: Vec<f64> = (0..dim).map(|_| rng.random_range(-end..end)).collect();
            let norm = match norm_type {
                f64::INFINITY => row.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                p => row.iter().map(|v| v.abs().powf(p)).sum::<f64>().powf(1.0 / p),
            };
            if (norm / 1.5 - 1.0).abs() > 0.01 {
                data.extend(row.into_iter().map(|v| T::from_f64(v).unwrap()));
            }
        }
        Tensor::from_vec(data, &[rows, dim]).unwrap()
    }

    fn embedding_max_norm_case<T: Both>(norm_type: f64, padding_idx: Option<isize>, seed: u64) {
        let what = format!("embedding max_norm 1.5, norm_type {norm_type}, padding_idx {padding_idx:?}");
        let mut rng = StdRng::seed_from_u64(seed);
        let weight = table::<T>(8, 5, norm_type, &mut rng);
        let options = EmbeddingOptions { padding_idx, max_norm: Some(1.5), norm_type };
        let emb = Embedding::from_pretrained(&weight, false, options).unwrap();
        let idx = [[1usize, 3, 1], [5, 0, 3], [7, 7, 2]];
        let indices = Tensor::<T>::new(idx.map(|r| r.map(|v| T::from_f64(v as f64).unwrap())));
        let out = emb.forward(&indices).unwrap();

        let tidx = tch::Tensor::from_slice(&idx.concat().iter().map(|&v| v as i64).collect::<Vec<_>>()).reshape([3, 3]);
        let mut tweight = to_tch(&weight);
        tch::no_grad(|| {
            let _ = tweight.embedding_renorm_(&tidx, 1.5, norm_type);
        });
        let tweight = tweight.set_requires_grad(true);
        let padding = emb.padding_idx().map_or(-1, |p| p as i64);
        let torch_out = tch::Tensor::embedding(&tweight, &tidx, padding, false, false);

        let ours = emb.weight().to_vec().unwrap();
        assert_close(&ours, &values::<T>(&tweight.detach()), T::RTOL, &format!("{what}: renormalised table"));
        let changed = ours.iter().zip(weight.to_vec().unwrap()).filter(|(a, b)| *a != b).count();
        assert!(changed >= 5, "{what}: some looked-up row is over the bound ({changed} entries changed)");
        assert_close(&out.to_vec().unwrap(), &values::<T>(&torch_out), T::RTOL, &format!("{what}: lookup"));

        let w: Vec<T> = (0..out.numel()).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5).unwrap()).collect();
        let w = Tensor::from_vec(w, out.shape()).unwrap();
        out.mul(&w).unwrap().sum().unwrap().backward().unwrap();
        (torch_out * to_tch(&w)).sum(None).backward();
        let grad = emb.weight().grad().unwrap().to_vec().unwrap();
        assert_close(&grad, &values::<T>(&tweight.grad()), T::RTOL, &format!("{what}: gradient"));
    }

    #[test]
    fn embedding_max_norm_matches_libtorch() {
        for (k, norm_type) in [2.0, 1.0, f64::INFINITY, 3.0].into_iter().enumerate() {
            for padding_idx in [None, Some(0), Some(3)] {
                embedding_max_norm_case::<f32>(norm_type, padding_idx, k as u64);
                embedding_max_norm_case::<f64>(norm_type, padding_idx, k as u64);
            }
        }
    }

    /// Whether each plane `x[n, c]` of a dropped-out tensor of ones is all 0 or all `1/(1 - p)`, and whether
    /// some channel is kept in one sample and dropped in another (the samples drawn apart).
    fn planes_and_samples(y: &[f64], shape: &[usize], scale: f64) -> (bool, bool) {
        let (n, c) = (shape[0], shape[1]);
        let plane = y.len() / (n * c);
        let first = |i: usize, j: usize| y[(i * c + j) * plane];
        let whole = (0..n * c).all(|k| {
            let p = &y[k * plane..(k + 1) * plane];
            p.iter().all(|&v| v == 0.0) || p.iter().all(|&v| (v - scale).abs() < 1e-12)
        });
        let apart = (0..c).any(|j| (0..n).any(|i| first(i, j) == 0.0) && (0..n).any(|i| first(i, j) != 0.0));
        (whole, apart)
    }

    #[test]
    fn dropout2d_draws_one_mask_per_sample_and_channel_as_libtorch() {
        tch::manual_seed(0);
        for shape in [[30usize, 20, 6].as_slice(), &[10, 12, 3, 4]] {
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            let ones = tch::Tensor::ones(dims.as_slice(), (tch::Kind::Double, tch::Device::Cpu));
            let theirs = values::<f64>(&ones.feature_dropout(0.5, true));
            let ours = Dropout2d::with_seed(0.5, 1).unwrap().forward(&Tensor::<f64>::ones(shape)).unwrap();
            let ours = ours.to_vec().unwrap();
            assert_eq!(planes_and_samples(&theirs, shape, 2.0), (true, true), "libtorch on {shape:?}");
            assert_eq!(planes_and_samples(&ours, shape, 2.0), (true, true), "torchlet on {shape:?}");
        }
    }
}
