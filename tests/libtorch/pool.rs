//! Poolings against libtorch: max_pool1d/2d (values, indices, gradients; ties, NaN and ±∞), avg_pool1d/2d
//! (padding, ceil_mode, count_include_pad, divisor_override) and adaptive_avg_pool2d, in f32 and f64.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn pool_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod parity {
    use crate::common::torch::{parity, random, shape_of, to_tch, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::nn::functional::{
        adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d_with_indices, max_pool2d_with_indices,
        AvgPool1dOptions, AvgPool2dOptions, MaxPool1dOptions, MaxPool2dOptions,
    };
    use torchlet::Tensor;

    /// Values from a small set, so that windows hold ties; with `specials`, some NaN and ±∞ among them.
    fn tied<T: Both>(shape: &[usize], specials: bool, rng: &mut StdRng) -> Tensor<T> {
        let data = (0..shape.iter().product())
            .map(|_| {
                let v = match rng.random_range(0..10) {
                    7 if specials => f64::NAN,
                    8 if specials => f64::INFINITY,
                    9 if specials => f64::NEG_INFINITY,
                    k => (k % 3) as f64 - 1.0,
                };
                T::from_f64(v).unwrap()
            })
            .collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    /// (input shape, kernel, stride, padding, dilation, ceil_mode)
    type MaxCase = (Vec<usize>, [usize; 2], [usize; 2], [usize; 2], [usize; 2], bool);

    fn max_cases() -> Vec<MaxCase> {
        vec![
            (vec![2, 3, 7, 6], [2, 2], [2, 2], [0, 0], [1, 1], false),
            (vec![2, 2, 7, 6], [3, 2], [2, 1], [1, 0], [1, 1], true),
            (vec![1, 3, 9, 8], [3, 3], [1, 2], [1, 1], [2, 2], false),
            (vec![2, 2, 5, 5], [3, 3], [3, 3], [1, 1], [1, 1], true),
            (vec![0, 2, 5, 5], [2, 2], [1, 1], [1, 0], [1, 1], false),
            (vec![3, 6, 5], [2, 3], [1, 3], [1, 1], [1, 1], true),
            (vec![1, 1, 4, 4], [4, 4], [1, 1], [2, 2], [1, 1], false),
            (vec![2, 1, 6, 7], [2, 3], [3, 2], [0, 1], [2, 1], true),
        ]
    }

    fn max_pool2d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for (k, (shape, kernel, stride, padding, dilation, ceil)) in max_cases().into_iter().enumerate() {
            let opts = MaxPool2dOptions::new(kernel).stride(stride).padding(padding).dilation(dilation).ceil_mode(ceil);
            let i64s = |v: [usize; 2]| v.map(|d| d as i64);
            let theirs = move |x: &tch::Tensor| {
                x.max_pool2d_with_indices(i64s(kernel), i64s(stride), i64s(padding), i64s(dilation), ceil)
            };
            for (what, x) in [
                ("random", random::<T>(&shape, -1.0, 1.0, &mut rng)),
                ("ties", tied(&shape, false, &mut rng)),
                ("specials", tied(&shape, true, &mut rng)),
            ] {
                let name = format!("max_pool2d case {k} ({what})");
                let (_, ours_idx) = max_pool2d_with_indices(&x, &opts).unwrap();
                let (_, their_idx) = theirs(&to_tch(&x));
                assert_eq!(ours_idx.shape(), shape_of(&their_idx).as_slice(), "{name}: indices shape");
                let their_idx: Vec<f64> =
                    Vec::<i64>::try_from(&their_idx.flatten(0, -1)).unwrap().iter().map(|&i| i as f64).collect();
                let ours_idx: Vec<f64> = ours_idx.to_vec().unwrap().iter().map(|v| v.to_f64().unwrap()).collect();
                assert_eq!(ours_idx, their_idx, "{name}: indices");
                // Values and gradients are picked, not computed: they must agree exactly.
                parity(&name, &[x], 0.0, &|x| max_pool2d_with_indices(&x[0], &opts).map(|r| r.0), &|x| theirs(&x[0]).0);
            }
        }
    }

    fn max_pool1d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        // (input shape, kernel, stride, padding, dilation, ceil_mode)
        let cases = [
            (vec![2, 3, 9], 3, 2, 1, 1, false),
            (vec![2, 2, 10], 2, 3, 1, 2, true),
            (vec![3, 7], 4, 1, 2, 1, true),
            (vec![0, 2, 6], 2, 2, 0, 1, false),
        ];
        for (k, (shape, kernel, stride, padding, dilation, ceil)) in cases.into_iter().enumerate() {
            let opts = MaxPool1dOptions::new(kernel).stride(stride).padding(padding).dilation(dilation).ceil_mode(ceil);
            let (ki, si, pi, di) = ([kernel as i64], [stride as i64], [padding as i64], [dilation as i64]);
            for (what, x) in [("ties", tied::<T>(&shape, false, &mut rng)), ("specials", tied(&shape, true, &mut rng))]
            {
                let name = format!("max_pool1d case {k} ({what})");
                let (_, ours_idx) = max_pool1d_with_indices(&x, &opts).unwrap();
                let (_, their_idx) = to_tch(&x).max_pool1d_with_indices(ki, si, pi, di, ceil);
                let their_idx: Vec<i64> = Vec::<i64>::try_from(&their_idx.flatten(0, -1)).unwrap();
                let ours_idx: Vec<i64> = ours_idx.to_vec().unwrap().iter().map(|v| v.to_i64().unwrap()).collect();
                assert_eq!(ours_idx, their_idx, "{name}: indices");
                parity(&name, &[x], 0.0, &|x| max_pool1d_with_indices(&x[0], &opts).map(|r| r.0), &|x| {
                    x[0].max_pool1d_with_indices(ki, si, pi, di, ceil).0
                });
            }
        }
    }

    fn avg_pool2d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        // (input shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        let cases = [
            (vec![2, 3, 7, 6], [2, 2], [2, 2], [0, 0], false, true, None),
            (vec![2, 2, 7, 6], [3, 2], [2, 1], [1, 0], true, true, None),
            (vec![2, 2, 7, 6], [3, 2], [2, 1], [1, 1], true, false, None),
            (vec![1, 3, 5, 5], [3, 3], [3, 3], [1, 1], true, true, None),
            (vec![1, 3, 5, 5], [3, 3], [3, 3], [1, 1], true, false, None),
            (vec![2, 2, 6, 5], [3, 3], [1, 2], [1, 1], false, true, Some(5)),
            (vec![0, 2, 5, 5], [2, 2], [1, 1], [1, 0], false, true, None),
            (vec![3, 6, 5], [2, 3], [1, 3], [1, 1], true, false, None),
            (vec![2, 2, 4, 4], [4, 4], [1, 1], [2, 2], false, false, None),
        ];
        for (k, (shape, kernel, stride, padding, ceil, include, divisor)) in cases.into_iter().enumerate() {
            let mut opts = AvgPool2dOptions::new(kernel)
                .stride(stride)
                .padding(padding)
                .ceil_mode(ceil)
                .count_include_pad(include);
            if let Some(d) = divisor {
                opts = opts.divisor_override(d);
            }
            let i64s = |v: [usize; 2]| v.map(|d| d as i64);
            let divisor = divisor.map(|d| d as i64);
            let x = random::<T>(&shape, -1.0, 1.0, &mut rng);
            // A window's sum and the sums of overlapping windows' gradients: at most 16 terms each.
            let rtol = 16.0 * T::EPS;
            parity(&format!("avg_pool2d case {k}"), &[x], rtol, &|x| avg_pool2d(&x[0], &opts), &|x| {
                x[0].avg_pool2d(i64s(kernel), i64s(stride), i64s(padding), ceil, include, divisor)
            });
        }
    }

    fn avg_pool1d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let cases = [
            (vec![2, 3, 9], 3, 2, 1, false, true),
            (vec![2, 2, 10], 4, 3, 2, true, false),
            (vec![3, 7], 2, 1, 1, true, true),
        ];
        for (k, (shape, kernel, stride, padding, ceil, include)) in cases.into_iter().enumerate() {
            let opts = AvgPool1dOptions::new(kernel)
                .stride(stride)
                .padding(padding)
                .ceil_mode(ceil)
                .count_include_pad(include);
            let x = random::<T>(&shape, -1.0, 1.0, &mut rng);
            let (ki, si, pi) = ([kernel as i64], [stride as i64], [padding as i64]);
            parity(&format!("avg_pool1d case {k}"), &[x], 8.0 * T::EPS, &|x| avg_pool1d(&x[0], &opts), &|x| {
                x[0].avg_pool1d(ki, si, pi, ceil, include)
            });
        }
    }

    fn adaptive_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let cases = [
            (vec![2, 3, 7, 5], [3, 2]),
            (vec![1, 2, 5, 5], [5, 5]),
            (vec![2, 2, 4, 6], [3, 4]),
            (vec![2, 3, 3], [5, 4]),
            (vec![2, 2, 9, 8], [1, 1]),
            (vec![0, 2, 4, 4], [2, 2]),
        ];
        for (k, (shape, out)) in cases.into_iter().enumerate() {
            let x = random::<T>(&shape, -1.0, 1.0, &mut rng);
            let o = out.map(|d| d as i64);
            // Windows of up to 72 entries summed in different orders.
            parity(
                &format!("adaptive_avg_pool2d case {k}"),
                &[x],
                72.0 * T::EPS,
                &|x| adaptive_avg_pool2d(&x[0], out),
                &|x| x[0].adaptive_avg_pool2d(o),
            );
        }
    }

    #[test]
    fn max_pool2d_matches_libtorch_with_ties_nan_and_infinities() {
        max_pool2d_cases::<f64>(11);
        max_pool2d_cases::<f32>(12);
    }

    #[test]
    fn max_pool1d_matches_libtorch_with_ties_nan_and_infinities() {
        max_pool1d_cases::<f64>(13);
        max_pool1d_cases::<f32>(14);
    }

    #[test]
    fn avg_pool2d_matches_libtorch() {
        avg_pool2d_cases::<f64>(15);
        avg_pool2d_cases::<f32>(16);
    }

    #[test]
    fn avg_pool1d_matches_libtorch() {
        avg_pool1d_cases::<f64>(17);
        avg_pool1d_cases::<f32>(18);
    }

    #[test]
    fn adaptive_avg_pool2d_matches_libtorch() {
        adaptive_cases::<f64>(19);
        adaptive_cases::<f32>(20);
    }
}
