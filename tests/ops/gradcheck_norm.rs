//! Finite-difference gradient checks in f64 for batch, layer and group normalisation (input, weight and
//! bias) and for Embedding's weight, on random shapes, driven by proptest.

use crate::prop_gradcheck as check;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::functional::{batch_norm, embedding, group_norm, layer_norm};
use torchlet::Tensor;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batch_norm_gradients(
        n in 1usize..4, c in 1usize..4, l in prop_oneof![Just(None), (1usize..4).prop_map(Some)],
        training in any::<bool>(), affine in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut shape = vec![n, c];
        shape.extend(l);
        prop_assume!(!training || shape.iter().product::<usize>() / c > 1);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut inputs = vec![Tensor::randn_with(&shape, &mut rng)];
        if affine {
            inputs.push(Tensor::randn_with(&[c], &mut rng));
            inputs.push(Tensor::randn_with(&[c], &mut rng));
        }
        let mean = Tensor::randn_with(&[c], &mut rng);
        let var = Tensor::<f64>::rand_with(&[c], &mut rng).add_scalar(0.5).unwrap();
        // Fresh running statistics for each evaluation: training updates them in place.
        check(&inputs, |x| {
            let (m, v) = (mean.deep_clone()?, var.deep_clone()?);
            batch_norm(&x[0], Some(&m), Some(&v), x.get(1), x.get(2), training, 0.1, 1e-5)
        })?;
    }

    #[test]
    fn layer_norm_gradients(
        lead in proptest::collection::vec(1usize..4, 0..3), normalized in proptest::collection::vec(1usize..4, 1..3),
        affine in any::<bool>(), seed in any::<u64>(),
    ) {
        prop_assume!(normalized.iter().product::<usize>() > 1);
        let mut rng = StdRng::seed_from_u64(seed);
        let shape = [lead, normalized.clone()].concat();
        let mut inputs = vec![Tensor::randn_with(&shape, &mut rng)];
        if affine {
            inputs.push(Tensor::randn_with(&normalized, &mut rng));
            inputs.push(Tensor::randn_with(&normalized, &mut rng));
        }
        check(&inputs, |x| layer_norm(&x[0], &normalized, x.get(1), x.get(2), 1e-5))?;
    }

    #[test]
    fn group_norm_gradients(
        n in 1usize..3, groups in 1usize..4, per_group in 1usize..3, l in 1usize..4, affine in any::<bool>(),
        seed in any::<u64>(),
    ) {
        prop_assume!(per_group * l > 1);
        let c = groups * per_group;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut inputs = vec![Tensor::randn_with(&[n, c, l], &mut rng)];
        if affine {
            inputs.push(Tensor::randn_with(&[c], &mut rng));
            inputs.push(Tensor::randn_with(&[c], &mut rng));
        }
        check(&inputs, |x| group_norm(&x[0], groups, x.get(1), x.get(2), 1e-5))?;
    }

    #[test]
    fn embedding_gradients(
        rows in 1usize..5, dim in 1usize..4, picks in proptest::collection::vec(0usize..100, 1..7),
        seed in any::<u64>(),
    ) {
        // Without a padding row: that row's values reach the output but, by design, no gradient reaches
        // them, which finite differences would see (the libtorch parity test checks the padding row).
        let mut rng = StdRng::seed_from_u64(seed);
        let indices: Vec<f64> = picks.iter().map(|p| (p % rows) as f64).collect();
        let indices = Tensor::from_vec(indices, &[picks.len()]).unwrap();
        let weight = Tensor::randn_with(&[rows, dim], &mut rng);
        check(&[weight], |w| embedding(&indices, &w[0], None))?;
    }
}
