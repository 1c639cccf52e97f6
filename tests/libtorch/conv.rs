//! Convolutions against libtorch: conv1d and conv2d forward and backward (input, weight and bias
//! gradients) in f32 and f64, over strides, asymmetric padding, "same"/"valid", dilation, groups
//! (depthwise included), odd sizes, a batch of one, an empty batch and unbatched inputs.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn conv_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{parity, random, shape_of, to_tch, Both};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use torchlet::nn::functional::{conv1d, conv2d, Conv1dOptions, Conv2dOptions, Padding};
    use torchlet::Tensor;

    /// One conv2d case: input `[N, C, H, W]` (or `[C, H, W]` when `n` is `None`), `out` channels, a kernel,
    /// and the options.
    struct Case {
        n: Option<usize>,
        c: usize,
        hw: [usize; 2],
        out: usize,
        kernel: [usize; 2],
        opts: Conv2dOptions,
        bias: bool,
    }

    fn cases() -> Vec<Case> {
        let o = Conv2dOptions::default;
        let case = |n, c, hw, out, kernel, opts, bias| Case { n, c, hw, out, kernel, opts, bias };
        vec![
            case(Some(2), 3, [7, 6], 4, [3, 3], o(), true),
            case(Some(2), 3, [8, 7], 5, [3, 2], o().stride([2, 3]).padding([1, 0]), true),
            case(Some(3), 2, [9, 8], 3, [2, 3], o().stride(3).padding([0, 1]), true),
            case(Some(1), 4, [9, 9], 6, [3, 3], o().stride([1, 2]).padding([2, 1]).dilation(2).groups(2), false),
            case(Some(2), 4, [6, 5], 4, [3, 3], o().padding(1).groups(4), true),
            case(Some(2), 3, [5, 5], 6, [2, 2], o().stride(3).padding(1).groups(3), true),
            case(Some(0), 3, [5, 5], 2, [3, 3], o().padding(1), true),
            case(None, 3, [5, 6], 2, [3, 2], o().stride(2), true),
            case(Some(2), 2, [6, 7], 3, [2, 4], o().padding(Padding::Same).dilation([1, 2]), true),
            case(Some(2), 2, [6, 7], 3, [3, 3], o().padding(Padding::Valid), false),
            case(Some(1), 1, [1, 1], 1, [1, 1], o(), true),
            case(Some(2), 5, [11, 13], 7, [5, 4], o().stride([2, 1]).padding([2, 1]).dilation([1, 2]), true),
        ]
    }

    /// The longest sum behind any output or gradient entry: a tolerance of that many ulps bounds the
    /// rounding of two libraries that add the same terms in different orders.
    fn sum_length(c: &Case, out_hw: [usize; 2]) -> f64 {
        let taps = c.kernel[0] * c.kernel[1];
        let per_output = c.c / c.opts.groups * taps + 1;
        let per_weight = c.n.unwrap_or(1) * out_hw[0] * out_hw[1];
        let per_input = c.out / c.opts.groups * taps;
        per_output.max(per_weight).max(per_input) as f64
    }

    fn conv2d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for (k, c) in cases().into_iter().enumerate() {
            let mut shape: Vec<usize> = c.n.into_iter().collect();
            shape.extend([c.c, c.hw[0], c.hw[1]]);
            let x = random::<T>(&shape, -1.0, 1.0, &mut rng);
            let w = random::<T>(&[c.out, c.c / c.opts.groups, c.kernel[0], c.kernel[1]], -1.0, 1.0, &mut rng);
            let mut inputs = vec![x, w];
            if c.bias {
                inputs.push(random::<T>(&[c.out], -1.0, 1.0, &mut rng));
            }
            let opts = c.opts;
            let ours = move |x: &[Tensor<T>]| conv2d(&x[0], &x[1], x.get(2), &opts);
            let i64s = |v: [usize; 2]| v.map(|d| d as i64);
            let (stride, dilation, groups) = (i64s(opts.stride), i64s(opts.dilation), opts.groups as i64);
            let theirs = move |x: &[tch::Tensor]| match opts.padding {
                Padding::Explicit(p) => x[0].conv2d(&x[1], x.get(2), stride, i64s(p), dilation, groups),
                Padding::Same => x[0].conv2d_padding(&x[1], x.get(2), stride, "same", dilation, groups),
                Padding::Valid => x[0].conv2d_padding(&x[1], x.get(2), stride, "valid", dilation, groups),
            };
            let out_shape = shape_of(&theirs(&inputs.iter().map(to_tch).collect::<Vec<_>>()));
            let out_hw = [out_shape[out_shape.len() - 2], out_shape[out_shape.len() - 1]];
            let rtol = sum_length(&c, out_hw) * T::EPS;
            parity(&format!("conv2d case {k}"), &inputs, rtol, &ours, &theirs);
        }
    }

    fn conv1d_cases<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let o = Conv1dOptions::default;
        // (batch, channels, length, out channels, kernel, options, bias)
        let cases = [
            (Some(2), 3, 9, 4, 3, o(), true),
            (Some(3), 4, 10, 6, 2, o().stride(2).padding(1).groups(2), true),
            (Some(1), 3, 11, 3, 3, o().stride(3).dilation(2).padding(1).groups(3), false),
            (Some(0), 2, 5, 2, 3, o(), true),
            (None, 2, 7, 3, 4, o().padding(Padding::Same), true),
            (Some(2), 2, 7, 3, 4, o().padding(Padding::Valid).dilation(2), true),
        ];
        for (k, (n, c, len, out, kernel, opts, bias)) in cases.into_iter().enumerate() {
            let mut shape: Vec<usize> = n.into_iter().collect();
            shape.extend([c, len]);
            let mut inputs = vec![
                random::<T>(&shape, -1.0, 1.0, &mut rng),
                random::<T>(&[out, c / opts.groups, kernel], -1.0, 1.0, &mut rng),
            ];
            if bias {
                inputs.push(random::<T>(&[out], -1.0, 1.0, &mut rng));
            }
            let ours = move |x: &[Tensor<T>]| conv1d(&x[0], &x[1], x.get(2), &opts);
            let (stride, dilation, groups) = ([opts.stride[0] as i64], [opts.dilation[0] as i64], opts.groups as i64);
            let theirs = move |x: &[tch::Tensor]| match opts.padding {
                Padding::Explicit(p) => x[0].conv1d(&x[1], x.get(2), stride, [p[0] as i64], dilation, groups),
                Padding::Same => x[0].conv1d_padding(&x[1], x.get(2), stride, "same", dilation, groups),
                Padding::Valid => x[0].conv1d_padding(&x[1], x.get(2), stride, "valid", dilation, groups),
            };
            let longest = (c / opts.groups * kernel + 1).max(n.unwrap_or(1) * len).max(out / opts.groups * kernel);
            parity(&format!("conv1d case {k}"), &inputs, longest as f64 * T::EPS, &ours, &theirs);
        }
    }

    #[test]
    fn conv2d_matches_libtorch_f64() {
        conv2d_cases::<f64>(1);
    }

    #[test]
    fn conv2d_matches_libtorch_f32() {
        conv2d_cases::<f32>(2);
    }

    #[test]
    fn conv1d_matches_libtorch_f64() {
        conv1d_cases::<f64>(3);
    }

    #[test]
    fn conv1d_matches_libtorch_f32() {
        conv1d_cases::<f32>(4);
    }
}
