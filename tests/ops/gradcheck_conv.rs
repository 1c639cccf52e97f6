//! Finite-difference gradient checks in f64 for the convolutions and poolings, on random geometries
//! (strides, padding, dilation, groups, ceil_mode), driven by proptest.

use crate::prop_gradcheck as check;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use torchlet::nn::functional::{
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d, AvgPool1dOptions,
    AvgPool2dOptions, Conv1dOptions, Conv2dOptions, MaxPool1dOptions, MaxPool2dOptions, Padding,
};
use torchlet::Tensor;

/// Distinct values 0.05 apart, shuffled: no finite-difference step of 1e-6 can change which entry of a
/// window is the maximum.
fn distinct(shape: &[usize], seed: u64) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let mut values: Vec<f64> = (0..n).map(|i| i as f64 * 0.05 - 1.0).collect();
    values.shuffle(&mut StdRng::seed_from_u64(seed));
    Tensor::from_vec(values, shape).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn conv2d_gradients(
        n in 1usize..3, groups in 1usize..3, per_group in 1usize..3, out_per_group in 1usize..3,
        h in 3usize..7, w in 3usize..7, kh in 1usize..4, kw in 1usize..4,
        stride in (1usize..4, 1usize..4), pad in (0usize..3, 0usize..3), dilation in (1usize..3, 1usize..3),
        bias in any::<bool>(), seed in any::<u64>(),
    ) {
        let opts = Conv2dOptions::default().stride([stride.0, stride.1]).padding([pad.0, pad.1])
            .dilation([dilation.0, dilation.1]).groups(groups);
        prop_assume!(h + 2 * pad.0 > dilation.0 * (kh - 1) && w + 2 * pad.1 > dilation.1 * (kw - 1));
        let mut rng = StdRng::seed_from_u64(seed);
        let x = Tensor::randn_with(&[n, groups * per_group, h, w], &mut rng);
        let weight = Tensor::randn_with(&[groups * out_per_group, per_group, kh, kw], &mut rng);
        let mut inputs = vec![x, weight];
        if bias {
            inputs.push(Tensor::randn_with(&[groups * out_per_group], &mut rng));
        }
        check(&inputs, |x| conv2d(&x[0], &x[1], x.get(2), &opts))?;
    }

    #[test]
    fn conv1d_gradients(
        channels in 1usize..4, out in 1usize..4, len in 2usize..9, kernel in 1usize..4,
        same in any::<bool>(), dilation in 1usize..3, seed in any::<u64>(),
    ) {
        prop_assume!(len > dilation * (kernel - 1));
        let opts = if same { Conv1dOptions::default().padding(Padding::Same) } else { Conv1dOptions::default().stride(2) };
        let opts = opts.dilation(dilation);
        let mut rng = StdRng::seed_from_u64(seed);
        let inputs = [Tensor::randn_with(&[channels, len], &mut rng), Tensor::randn_with(&[out, channels, kernel], &mut rng),
            Tensor::randn_with(&[out], &mut rng)];
        check(&inputs, |x| conv1d(&x[0], &x[1], Some(&x[2]), &opts))?;
    }

    #[test]
    fn max_pool_gradients(
        h in 2usize..7, w in 2usize..7, kh in 1usize..4, kw in 1usize..4, stride in (1usize..4, 1usize..4),
        pad in (0usize..2, 0usize..2), dilation in (1usize..3, 1usize..3), ceil in any::<bool>(), seed in any::<u64>(),
    ) {
        let pad = (pad.0.min(kh / 2), pad.1.min(kw / 2));
        prop_assume!(h + 2 * pad.0 > dilation.0 * (kh - 1) && w + 2 * pad.1 > dilation.1 * (kw - 1));
        let opts = MaxPool2dOptions::new([kh, kw]).stride([stride.0, stride.1]).padding([pad.0, pad.1])
            .dilation([dilation.0, dilation.1]).ceil_mode(ceil);
        check(&[distinct(&[2, 2, h, w], seed)], |x| max_pool2d(&x[0], &opts))?;
        let opts1 = MaxPool1dOptions::new(kw).stride(stride.1).padding(pad.1).dilation(dilation.1).ceil_mode(ceil);
        check(&[distinct(&[2, w], seed)], |x| max_pool1d(&x[0], &opts1))?;
    }

    #[test]
    fn avg_pool_gradients(
        h in 2usize..7, w in 2usize..7, kh in 1usize..4, kw in 1usize..4, stride in (1usize..4, 1usize..4),
        pad in (0usize..2, 0usize..2), ceil in any::<bool>(), include in any::<bool>(), divisor in 0usize..4,
        seed in any::<u64>(),
    ) {
        let pad = (pad.0.min(kh / 2), pad.1.min(kw / 2));
        prop_assume!(h + 2 * pad.0 >= kh && w + 2 * pad.1 >= kw);
        let mut opts = AvgPool2dOptions::new([kh, kw]).stride([stride.0, stride.1]).padding([pad.0, pad.1])
            .ceil_mode(ceil).count_include_pad(include);
        if divisor > 0 {
            opts = opts.divisor_override(divisor);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        check(&[Tensor::randn_with(&[2, 2, h, w], &mut rng)], |x| avg_pool2d(&x[0], &opts))?;
        let opts1 = AvgPool1dOptions::new(kw).stride(stride.1).padding(pad.1).ceil_mode(ceil).count_include_pad(include);
        check(&[Tensor::randn_with(&[2, w], &mut rng)], |x| avg_pool1d(&x[0], &opts1))?;
    }

    #[test]
    fn adaptive_avg_pool_gradients(h in 1usize..8, w in 1usize..8, oh in 1usize..5, ow in 1usize..5, seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        check(&[Tensor::randn_with(&[2, 2, h, w], &mut rng)], |x| adaptive_avg_pool2d(&x[0], [oh, ow]))?;
    }
}
