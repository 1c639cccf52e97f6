//! Normalisation layers and Embedding against libtorch: BatchNorm1d/2d (training and evaluation, running
//! statistics over several steps with momentum 0.1 and the cumulative average), LayerNorm over one and two
//! dims, GroupNorm with 1, 2 and C groups, Embedding with a padding row and repeated indices, forward and
//! every gradient in f32 and f64; and a state dict with an int64 `num_batches_tracked` moving both ways
//! through safetensors files.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn norm_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{assert_close, shape_of, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::nn::functional::{group_norm, layer_norm};
    use torchlet::nn::{
        BatchNorm1d, BatchNorm2d, BatchNormOptions, Embedding, EmbeddingOptions, LayerNorm, LayerNormOptions, Module,
        Sequential,
    };
    use torchlet::{no_grad, Tensor};

    /// The relative tolerance for results built from sums of `len` terms: in f64 1e-12 (a few thousand
    /// ulps, far above what the two libraries' different summation orders give for these lengths); in f32
    /// `len` ulps, the worst-case rounding of a sum of `len` terms (libtorch accumulates batch norm's
    /// statistics in double, torchlet in f32), and never below the per-op tolerance.
    fn tol<T: Both>(len: usize) -> f64 {
        if T::EPS < 1e-10 {
            1e-12
        } else {
            (len as f64 * T::EPS).max(T::RTOL)
        }
    }

    fn random<T: Both>(shape: &[usize], rng: &mut StdRng) -> Tensor<T> {
        let data = (0..shape.iter().product()).map(|_| T::from_f64(rng.random_range(-2.0..2.0)).unwrap()).collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    fn leaf<T: Both>(t: &Tensor<T>) -> Tensor<T> {
        t.detach().deep_clone().unwrap().requires_grad_(true).unwrap()
    }

    /// Output weights for the loss `Σ w·y`, so that every gradient entry differs.
    fn out_weights<T: Both>(shape: &[usize]) -> Tensor<T> {
        let n: usize = shape.iter().product();
        let w = (0..n).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5 - (i % 3) as f64).unwrap()).collect();
        Tensor::from_vec(w, shape).unwrap()
    }

    /// Compares an output and the gradients of `ours` (torchlet leaves) with `theirs` (tch leaves) after
    /// `Σ w·y` backward in both: the output within `rtol` (and [`assert_close`]'s floor), each gradient
    /// within `rtol` of itself plus `rtol·grad_scale`. A normalisation's input gradient is a difference of
    /// terms of size |∂L/∂y|·|weight|/σ that cancel (exactly, for a batch of two), so its rounding scales
    /// with those terms, not with the small result: `grad_scale` is their size.
    fn compare_with_grads<T: Both>(
        what: &str,
        out: &Tensor<T>,
        torch_out: &tch::Tensor,
        ours: &[&Tensor<T>],
        theirs: &[&tch::Tensor],
        rtol: f64,
        grad_scale: f64,
    ) {
        assert_eq!(out.shape(), shape_of(torch_out).as_slice(), "{what}: output shape");
        assert_close(&out.to_vec().unwrap(), &values::<T>(torch_out), rtol, &format!("{what} forward"));
        let w = out_weights::<T>(out.shape());
        out.mul(&w).unwrap().sum().unwrap().backward().unwrap();
        (torch_out * to_tch(&w)).sum(None).backward();
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            let g = o.grad().unwrap_or_else(|| panic!("{what}: no gradient for input {i}"));
            let (a, b) = (g.to_vec().unwrap(), values::<T>(&t.grad()));
            assert_eq!(a.len(), b.len(), "{what} grad {i}: length");
            for (j, (a, b)) in a.iter().zip(&b).enumerate() {
                let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
                let allowed = rtol * (b.abs() + grad_scale) + 16.0 * T::EPS * b.abs();
                assert!(
                    (a - b).abs() <= allowed,
                    "{what} grad {i}[{j}]: torchlet {a} vs libtorch {b} (allowed {allowed:.3e})"
                );
            }
        }
    }

    /// The size of the terms behind a normalised input's gradient: max |∂L/∂y| (the output weights are at
    /// most 3.25) times max(1, |weight|) over the smallest σ among the groups (`x` viewed as `[groups, -1]`
    /// rows), with `eps`.
    fn grad_scale(x_rows: &tch::Tensor, weight: Option<&tch::Tensor>, eps: f64) -> f64 {
        let var = x_rows.var_dim(Some(&[1i64][..]), false, false).min().to_kind(tch::Kind::Double).double_value(&[]);
        let w = weight.map_or(1.0, |w| w.abs().max().to_kind(tch::Kind::Double).double_value(&[]).max(1.0));
        3.25 * w / (var + eps).sqrt()
    }

    /// weight, bias, running_mean, running_var: each absent without its option.
    type BnState<T> = [Option<Tensor<T>>; 4];

    /// A batch norm layer of either rank, so one test drives both.
    trait Bn<T: Both>: Module<T> {
        fn make(c: usize, options: BatchNormOptions) -> Self;
        fn params(&self) -> BnState<T>;
        fn tracked(&self) -> Option<u64>;
    }

    macro_rules! bn {
        ($ty:ident) => {
            impl<T: Both> Bn<T> for $ty<T> {
                fn make(c: usize, options: BatchNormOptions) -> Self {
                    $ty::with_options(c, options)
                }
                fn params(&self) -> BnState<T> {
                    [self.weight(), self.bias(), self.running_mean(), self.running_var()].map(|t| t.cloned())
                }
                fn tracked(&self) -> Option<u64> {
                    self.num_batches_tracked()
                }
            }
        };
    }
    bn!(BatchNorm1d);
    bn!(BatchNorm2d);

    /// Trains a batch norm layer for `steps` batches of `shape` beside libtorch's `batch_norm` on copies of
    /// its parameters and running statistics, comparing each step's output, the input, weight and bias
    /// gradients and the running statistics; then the same in evaluation mode.
    fn batch_norm_case<T: Both, L: Bn<T>>(shape: &[usize], options: BatchNormOptions, steps: usize, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let c = shape[1];
        let what = format!("{} {shape:?} {options:?}", std::any::type_name::<L>());
        let mut layer = L::make(c, options);
        let [weight, bias, running_mean, running_var] = layer.params();
        let (weight, bias, running_mean, running_var) =
            (weight.as_ref(), bias.as_ref(), running_mean.as_ref(), running_var.as_ref());
        // Parameters other than ones and zeros, so their gradients and effects are seen.
        if let (Some(w), Some(b)) = (weight, bias) {
            no_grad(|| w.copy_(&random::<T>(&[c], &mut rng)).map(|_| ())).unwrap();
            no_grad(|| b.copy_(&random::<T>(&[c], &mut rng)).map(|_| ())).unwrap();
        }
        let tw = weight.map(|w| to_tch(w).set_requires_grad(true));
        let tb = bias.map(|b| to_tch(b).set_requires_grad(true));
        let trm = running_mean.map(to_tch);
        let trv = running_var.map(to_tch);
        let reduction = shape.iter().product::<usize>() / c;
        let rtol = tol::<T>(reduction);
        for step in 1..=steps {
            let x = leaf(&random::<T>(shape, &mut rng).add_scalar(T::from_f64(0.5).unwrap()).unwrap());
            let tx = to_tch(&x).set_requires_grad(true);
            let momentum = options.momentum.unwrap_or(1.0 / step as f64);
            let out = layer.forward(&x).unwrap();
            let torch_out =
                tx.batch_norm(tw.as_ref(), tb.as_ref(), trm.as_ref(), trv.as_ref(), true, momentum, options.eps, false);
            let (mut ours, mut theirs) = (vec![&x], vec![&tx]);
            if let (Some(w), Some(b), Some(tw), Some(tb)) = (weight, bias, &tw, &tb) {
                ours.extend([w, b]);
                theirs.extend([tw, tb]);
            }
            let rows = tx.transpose(0, 1).reshape([c as i64, -1]);
            let scale = grad_scale(&rows, tw.as_ref(), options.eps);
            compare_with_grads(&format!("{what} step {step}"), &out, &torch_out, &ours, &theirs, rtol, scale);
            for t in ours.iter().skip(1) {
                t.zero_grad();
            }
            for t in theirs.iter().skip(1) {
                let _ = t.grad().zero_();
            }
            if let (Some(rm), Some(rv), Some(trm), Some(trv)) = (running_mean, running_var, &trm, &trv) {
                assert_close(&rm.to_vec().unwrap(), &values::<T>(trm), rtol, &format!("{what} running_mean {step}"));
                assert_close(&rv.to_vec().unwrap(), &values::<T>(trv), rtol, &format!("{what} running_var {step}"));
                assert_eq!(layer.tracked(), Some(step as u64));
            }
        }
        layer.eval();
        let x = leaf(&random::<T>(shape, &mut rng));
        let tx = to_tch(&x).set_requires_grad(true);
        let out = layer.forward(&x).unwrap();
        // Without running statistics, evaluation normalises with the batch's, as torch's module does.
        let batch_stats = trm.is_none();
        let torch_out =
            tx.batch_norm(tw.as_ref(), tb.as_ref(), trm.as_ref(), trv.as_ref(), batch_stats, 0.1, options.eps, false);
        let (mut ours, mut theirs) = (vec![&x], vec![&tx]);
        if let (Some(w), Some(b), Some(tw), Some(tb)) = (weight, bias, &tw, &tb) {
            ours.extend([w, b]);
            theirs.extend([tw, tb]);
        }
        let scale =
            match &trv {
                Some(v) => 3.25 / (v.min().to_kind(tch::Kind::Double).double_value(&[]) + options.eps).sqrt(),
                None => grad_scale(&tx.transpose(0, 1).reshape([c as i64, -1]), None, options.eps),
            } * tw.as_ref().map_or(1.0, |w| w.abs().max().to_kind(tch::Kind::Double).double_value(&[]).max(1.0));
        compare_with_grads(&format!("{what} eval"), &out, &torch_out, &ours, &theirs, rtol, scale);
        if let Some(rm) = running_mean {
            assert_close(&rm.to_vec().unwrap(), &values::<T>(trm.as_ref().unwrap()), rtol, "running_mean after eval");
        }
    }

    fn batch_norm_all<T: Both>() {
        let o = BatchNormOptions::default;
        batch_norm_case::<T, BatchNorm1d<T>>(&[2, 3], o(), 4, 1);
        batch_norm_case::<T, BatchNorm1d<T>>(&[7, 5], o().momentum(None), 5, 2);
        batch_norm_case::<T, BatchNorm1d<T>>(&[5, 4, 7], o(), 3, 3);
        batch_norm_case::<T, BatchNorm1d<T>>(&[2, 3, 1], o().momentum(None).eps(1e-3), 4, 4);
        batch_norm_case::<T, BatchNorm1d<T>>(&[1, 3, 2], o().momentum(Some(0.3)), 3, 5);
        batch_norm_case::<T, BatchNorm1d<T>>(&[4, 3], o().affine(false), 3, 6);
        batch_norm_case::<T, BatchNorm1d<T>>(&[4, 3, 2], o().track_running_stats(false), 2, 7);
        batch_norm_case::<T, BatchNorm2d<T>>(&[2, 3, 4, 5], o(), 3, 8);
        batch_norm_case::<T, BatchNorm2d<T>>(&[3, 2, 5, 3], o().momentum(None), 4, 9);
        batch_norm_case::<T, BatchNorm2d<T>>(&[1, 4, 1, 2], o(), 2, 10);
        batch_norm_case::<T, BatchNorm2d<T>>(&[2, 1, 3, 3], o().affine(false).track_running_stats(false), 2, 11);
    }

    #[test]
    fn batch_norm_matches_libtorch_f32() {
        batch_norm_all::<f32>();
    }

    #[test]
    fn batch_norm_matches_libtorch_f64() {
        batch_norm_all::<f64>();
    }

    fn layer_norm_case<T: Both>(shape: &[usize], normalized: &[usize], affine: bool, bias: bool, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let what = format!("layer_norm {shape:?} over {normalized:?} affine {affine} bias {bias}");
        let x = leaf(&random::<T>(shape, &mut rng));
        let w = affine.then(|| leaf(&random::<T>(normalized, &mut rng)));
        let b = (affine && bias).then(|| leaf(&random::<T>(normalized, &mut rng)));
        let (tx, tw, tb) = (
            to_tch(&x).set_requires_grad(true),
            w.as_ref().map(|w| to_tch(w).set_requires_grad(true)),
            b.as_ref().map(|b| to_tch(b).set_requires_grad(true)),
        );
        let out = layer_norm(&x, normalized, w.as_ref(), b.as_ref(), 1e-5).unwrap();
        let dims: Vec<i64> = normalized.iter().map(|&d| d as i64).collect();
        let torch_out = tx.layer_norm(dims.as_slice(), tw.as_ref(), tb.as_ref(), 1e-5, false);
        let mut ours = vec![&x];
        ours.extend(w.iter().chain(b.iter()));
        let mut theirs = vec![&tx];
        theirs.extend(tw.iter().chain(tb.iter()));
        let rows = shape.iter().product::<usize>() / normalized.iter().product::<usize>();
        let len = normalized.iter().product::<usize>().max(rows);
        let scale = grad_scale(&tx.reshape([rows as i64, -1]), tw.as_ref(), 1e-5);
        compare_with_grads(&what, &out, &torch_out, &ours, &theirs, tol::<T>(len), scale);
    }

    fn layer_norm_all<T: Both>() {
        layer_norm_case::<T>(&[4, 6], &[6], true, true, 1);
        layer_norm_case::<T>(&[2, 3, 5], &[5], true, false, 2);
        layer_norm_case::<T>(&[2, 3, 5], &[3, 5], true, true, 3);
        layer_norm_case::<T>(&[3, 4, 7], &[4, 7], false, false, 4);
        layer_norm_case::<T>(&[7], &[7], true, true, 5);
        layer_norm_case::<T>(&[2, 1, 3, 2], &[3, 2], true, true, 6);
    }

    #[test]
    fn layer_norm_matches_libtorch_f32() {
        layer_norm_all::<f32>();
    }

    #[test]
    fn layer_norm_matches_libtorch_f64() {
        layer_norm_all::<f64>();
    }

    #[test]
    fn layer_norm_module_is_the_functional_form_with_its_parameters() {
        let ln = LayerNorm::<f64>::with_options(&[3, 2], LayerNormOptions::default().eps(1e-3)).unwrap();
        let x = random::<f64>(&[4, 3, 2], &mut StdRng::seed_from_u64(0));
        let torch_out = to_tch(&x).layer_norm([3i64, 2], None::<tch::Tensor>, None::<tch::Tensor>, 1e-3, false);
        assert_close(&ln.forward(&x).unwrap().to_vec().unwrap(), &values::<f64>(&torch_out), 1e-12, "LayerNorm");
    }

    fn group_norm_case<T: Both>(shape: &[usize], groups: usize, affine: bool, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let c = shape[1];
        let what = format!("group_norm {shape:?} groups {groups} affine {affine}");
        let x = leaf(&random::<T>(shape, &mut rng));
        let w = affine.then(|| leaf(&random::<T>(&[c], &mut rng)));
        let b = affine.then(|| leaf(&random::<T>(&[c], &mut rng)));
        let (tx, tw, tb) = (
            to_tch(&x).set_requires_grad(true),
            w.as_ref().map(|w| to_tch(w).set_requires_grad(true)),
            b.as_ref().map(|b| to_tch(b).set_requires_grad(true)),
        );
        let out = group_norm(&x, groups, w.as_ref(), b.as_ref(), 1e-5).unwrap();
        let torch_out = tx.group_norm(groups as i64, tw.as_ref(), tb.as_ref(), 1e-5, false);
        let mut ours = vec![&x];
        ours.extend(w.iter().chain(b.iter()));
        let mut theirs = vec![&tx];
        theirs.extend(tw.iter().chain(tb.iter()));
        let len = (shape.iter().product::<usize>() / shape[0] / groups).max(shape.iter().product::<usize>() / c);
        let scale = grad_scale(&tx.reshape([(shape[0] * groups) as i64, -1]), tw.as_ref(), 1e-5);
        compare_with_grads(&what, &out, &torch_out, &ours, &theirs, tol::<T>(len), scale);
    }

    fn group_norm_all<T: Both>() {
        group_norm_case::<T>(&[2, 6, 5], 1, true, 1);
        group_norm_case::<T>(&[2, 6, 5], 2, true, 2);
        group_norm_case::<T>(&[2, 6, 5], 6, true, 3);
        group_norm_case::<T>(&[3, 4, 3, 2], 2, false, 4);
        group_norm_case::<T>(&[2, 4], 2, true, 5);
        group_norm_case::<T>(&[1, 3, 7], 3, true, 6);
    }

    #[test]
    fn group_norm_matches_libtorch_f32() {
        group_norm_all::<f32>();
    }

    #[test]
    fn group_norm_matches_libtorch_f64() {
        group_norm_all::<f64>();
    }

    fn embedding_case<T: Both>(padding_idx: Option<isize>) {
        let mut rng = StdRng::seed_from_u64(5);
        let options = EmbeddingOptions { padding_idx, ..Default::default() };
        let emb = Embedding::<T>::with_rng(6, 4, options, &mut rng).unwrap();
        if let Some(p) = emb.padding_idx() {
            assert!(emb.weight().to_vec2().unwrap()[p].iter().all(|&v| v == T::zero()), "padding row starts at 0");
        }
        // The padding row given other values, to see that they come out as they are and get no gradient.
        no_grad(|| emb.weight().copy_(&random::<T>(&[6, 4], &mut rng)).map(|_| ())).unwrap();
        let idx = [[1.0, 3.0, 1.0], [5.0, 0.0, 3.0]];
        let indices = Tensor::<T>::new(idx.map(|r| r.map(|v| T::from_f64(v).unwrap())));
        let tweight = to_tch(emb.weight()).set_requires_grad(true);
        let tidx = tch::Tensor::from_slice(&[1i64, 3, 1, 5, 0, 3]).reshape([2, 3]);
        let out = emb.forward(&indices).unwrap();
        let torch_out =
            tch::Tensor::embedding(&tweight, &tidx, emb.padding_idx().map_or(-1, |p| p as i64), false, false);
        let what = format!("embedding padding_idx {padding_idx:?}");
        compare_with_grads(&what, &out, &torch_out, &[emb.weight()], &[&tweight], 0.0, 0.0);
        if let Some(p) = emb.padding_idx() {
            assert!(emb.weight().grad().unwrap().to_vec2().unwrap()[p].iter().all(|&v| v == T::zero()));
        }
    }

    #[test]
    fn embedding_matches_libtorch() {
        for p in [None, Some(3), Some(-1), Some(0)] {
            embedding_case::<f32>(p);
            embedding_case::<f64>(p);
        }
    }

    /// A `state_dict` of `Sequential(BatchNorm1d(3))` trained in libtorch, written by tch with
    /// `num_batches_tracked` as int64, loads into torchlet and gives libtorch's evaluation output; the file
    /// torchlet writes back has the same names, dtypes (int64 included) and values.
    fn state_dict_round_trip<T: Both>(kind: tch::Kind) {
        let dir = tempfile::tempdir().unwrap();
        let theirs_path = dir.path().join("theirs.safetensors");
        tch::manual_seed(3);
        let opts = (kind, tch::Device::Cpu);
        let (weight, bias) = (tch::Tensor::randn([3], opts), tch::Tensor::randn([3], opts));
        let (running_mean, running_var) = (tch::Tensor::zeros([3], opts), tch::Tensor::ones([3], opts));
        for _ in 0..3 {
            let x = tch::Tensor::randn([5, 3], opts);
            let _ = x.batch_norm(
                Some(&weight),
                Some(&bias),
                Some(&running_mean),
                Some(&running_var),
                true,
                0.1,
                1e-5,
                false,
            );
        }
        let tracked = tch::Tensor::from(3i64);
        tch::Tensor::write_safetensors(
            &[
                ("0.weight", &weight),
                ("0.bias", &bias),
                ("0.running_mean", &running_mean),
                ("0.running_var", &running_var),
                ("0.num_batches_tracked", &tracked),
            ],
            &theirs_path,
        )
        .unwrap();

        let mut model = Sequential::<T>::new().add(BatchNorm1d::new(3));
        torchlet::io::load_parameters(&model, &theirs_path).unwrap();
        let state: Vec<(String, Tensor<T>)> = model.named_buffers();
        assert_eq!(state[2].0, "0.num_batches_tracked");
        assert_eq!(state[2].1.item().unwrap(), T::from_f64(3.0).unwrap());
        model.eval();
        let x = tch::Tensor::randn([4, 3], opts);
        let torch_out =
            x.batch_norm(Some(&weight), Some(&bias), Some(&running_mean), Some(&running_var), false, 0.1, 1e-5, false);
        let ours = model.forward(&Tensor::from_vec(values::<T>(&x), &[4, 3]).unwrap()).unwrap();
        assert_close(&ours.to_vec().unwrap(), &values::<T>(&torch_out), tol::<T>(5), "loaded BatchNorm1d");

        let ours_path = dir.path().join("ours.safetensors");
        torchlet::io::save_parameters(&model, &ours_path).unwrap();
        let read = tch::Tensor::read_safetensors(&ours_path).unwrap();
        for (name, original) in [
            ("0.weight", &weight),
            ("0.bias", &bias),
            ("0.running_mean", &running_mean),
            ("0.running_var", &running_var),
            ("0.num_batches_tracked", &tracked),
        ] {
            let (_, t) = read.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("tch did not find {name}"));
            assert_eq!(t.kind(), original.kind(), "{name}");
            assert_eq!(t.size(), original.size(), "{name}");
            assert!(t.equal(original), "{name}: the same values");
        }
    }

    #[test]
    fn a_torch_state_dict_with_int64_buffers_moves_both_ways_f32() {
        state_dict_round_trip::<f32>(tch::Kind::Float);
    }

    #[test]
    fn a_torch_state_dict_with_int64_buffers_moves_both_ways_f64() {
        state_dict_round_trip::<f64>(tch::Kind::Double);
    }
}
