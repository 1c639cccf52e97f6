//! Second derivatives in f64 against finite differences of the first derivative (`gradgradcheck`), for
//! every differentiable op, on random shapes (broadcasting included), driven by proptest. Values stay away
//! from the kinks (relu at 0, |x| at 0, clamp bounds), where finite differences are meaningless; the
//! libtorch parity tests pin torch's values there.

#![allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads as the one-input list every check takes.

use crate::common::gradgradcheck;
use crate::prop_gradgradcheck as check;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::functional::{self as F, AvgPool2dOptions, Conv1dOptions, Conv2dOptions, MaxPool2dOptions};
use torchlet::nn::{CrossEntropyLoss, Dropout, Module, Reduction};
use torchlet::{cat, stack, where_, GeluApproximate, Tensor};

/// A tensor of `shape` with values in `[lo, hi]`.
fn tensor_in(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n = shape.iter().product::<usize>();
    proptest::collection::vec(lo..hi, n).prop_map(move |v| Tensor::from_vec(v, &shape).unwrap())
}

fn shape(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..4, 0..=max_rank)
}

/// Two shapes that broadcast together: the second drops some leading dims and sets some dims to 1.
fn pair_in(lo: f64, hi: f64) -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    shape(3)
        .prop_flat_map(|a| {
            let rank = a.len();
            (Just(a), 0..=rank, proptest::collection::vec(any::<bool>(), rank))
        })
        .prop_map(|(a, drop, ones)| {
            let b: Vec<usize> = a.iter().zip(&ones).skip(drop).map(|(&d, &one)| if one { 1 } else { d }).collect();
            (a, b)
        })
        .prop_flat_map(|(a, b)| prop_oneof![Just((a.clone(), b.clone())), Just((b, a))])
        .prop_flat_map(move |(a, b)| (tensor_in(a, lo, hi), tensor_in(b, lo, hi)))
}

/// A `[rows, cols]` tensor with values of magnitude in `[0.1, 2]` and either sign: away from the kinks at 0.
fn matrix() -> impl Strategy<Value = Tensor<f64>> {
    (1usize..4, 2usize..5).prop_flat_map(|(r, c)| {
        proptest::collection::vec((0.1f64..2.0, any::<bool>()), r * c).prop_map(move |v| {
            Tensor::from_vec(v.into_iter().map(|(m, s)| if s { m } else { -m }).collect(), &[r, c]).unwrap()
        })
    })
}

fn randn(shape: &[usize], rng: &mut StdRng) -> Tensor<f64> {
    Tensor::randn_with(shape, rng)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn arithmetic((a, b) in pair_in(0.5, 2.0), c in -3.0f64..3.0) {
        check(&[a.clone(), b.clone()], |x| x[0].add(&x[1]))?;
        check(&[a.clone(), b.clone()], |x| x[0].sub(&x[1]))?;
        check(&[a.clone(), b.clone()], |x| x[0].mul(&x[1]))?;
        check(&[a.clone(), b.clone()], |x| x[0].div(&x[1]))?;
        // Random values have no ties.
        check(&[a.clone(), b.clone()], |x| x[0].maximum(&x[1])?.mul(&x[0]))?;
        check(&[a.clone(), b.clone()], |x| x[0].minimum(&x[1])?.square())?;
        // x · x sends both halves along one edge; (a + b)² · a mixes paths.
        check(&[a.clone()], |x| x[0].mul(&x[0]))?;
        check(&[a.clone(), b.clone()], |x| { let h = x[0].add(&x[1])?; h.mul(&h)?.mul(&x[0]) })?;
        check(&[a.clone(), b], |x| x[0].div(&x[0].add(&x[1])?)?.exp())?;
        check(&[a.clone()], |x| x[0].add_scalar(c)?.square())?;
        check(&[a.clone()], |x| x[0].sub_scalar(c)?.mul_scalar(c)?.square())?;
        check(&[a.clone()], |x| x[0].rsub_scalar(c)?.div_scalar(c + 4.0)?.powi(3))?;
        check(&[a], |x| x[0].rdiv_scalar(c))?;
    }

    #[test]
    fn unary(a in matrix(), p in 0.5f64..3.0) {
        let positive = a.abs().unwrap().add_scalar(0.5).unwrap();
        check(&[a.clone()], |x| x[0].neg()?.mul(&x[0]))?;
        check(&[a.clone()], |x| x[0].square())?;
        check(&[a.clone()], |x| x[0].exp())?;
        check(&[a.clone()], |x| x[0].powi(3))?;
        check(&[a.clone()], |x| x[0].powf(0.0)?.mul(&x[0]))?;
        check(&[a.clone()], |x| x[0].abs()?.mul(&x[0]))?;
        check(&[a.clone()], |x| x[0].sign()?.add(&x[0].square()?))?;
        check(&[positive.clone()], |x| x[0].sqrt())?;
        check(&[positive.clone()], |x| x[0].log())?;
        check(&[positive.clone()], |x| x[0].log1p())?;
        check(&[positive.clone()], |x| x[0].sin()?.mul(&x[0].cos()?))?;
        check(&[positive], |x| x[0].powf(p))?;
    }

    #[test]
    fn activations(a in matrix()) {
        check(&[a.clone()], |x| x[0].tanh())?;
        check(&[a.clone()], |x| x[0].sigmoid())?;
        // relu and the clamps are piecewise linear: their second derivative is 0, through a product it is not.
        check(&[a.clone()], |x| x[0].relu()?.mul(&x[0]))?;
        check(&[a.clone()], |x| x[0].leaky_relu(0.1)?.square())?;
        check(&[a.clone()], |x| x[0].clamp(Some(-1.05), Some(1.05))?.mul(&x[0]))?;
        check(&[a.clone()], |x| x[0].gelu(GeluApproximate::None))?;
        check(&[a.clone()], |x| x[0].gelu(GeluApproximate::Tanh))?;
        check(&[a.clone()], |x| x[0].silu())?;
        check(&[a.clone()], |x| x[0].softplus(1.0, 20.0))?;
        check(&[a.clone()], |x| x[0].softplus(2.0, 1.0))?;
        check(&[a], |x| x[0].elu(1.3))?;
    }

    #[test]
    fn matmul_and_linear(m in 1usize..4, k in 1usize..4, n in 1usize..4, seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (a, b) = (randn(&[m, k], &mut rng), randn(&[k, n], &mut rng));
        let (v, u) = (randn(&[k], &mut rng), randn(&[k], &mut rng));
        // A product is bilinear: its second derivative lives in the cross terms, seen through a square.
        check(&[a.clone(), b.clone()], |x| x[0].matmul(&x[1])?.square())?;
        check(&[a.clone(), v.clone()], |x| x[0].matmul(&x[1])?.square())?;
        check(&[v.clone(), b.clone()], |x| x[0].matmul(&x[1])?.tanh())?;
        check(&[v.clone(), u], |x| x[0].matmul(&x[1])?.exp())?;
        check(&[b.clone(), a.clone()], |x| x[0].t()?.matmul(&x[1].t()?)?.square())?;
        let (w, bias) = (randn(&[n, k], &mut rng), randn(&[n], &mut rng));
        check(&[a.clone(), w.clone(), bias.clone()], |x| x[0].linear(&x[1], Some(&x[2]))?.tanh())?;
        check(&[a, w.clone()], |x| x[0].linear(&x[1], None)?.square())?;
        check(&[v, w, bias], |x| x[0].linear(&x[1], Some(&x[2]))?.sigmoid())?;
    }

    #[test]
    fn reductions(a in matrix(), dim in -2isize..2, keepdim in any::<bool>()) {
        check(&[a.clone()], |x| x[0].sum()?.square())?;
        check(&[a.clone()], |x| x[0].mean()?.exp())?;
        check(&[a.clone()], |x| x[0].sum_dim(dim, keepdim)?.square())?;
        check(&[a.clone()], |x| x[0].mean_dim(dim, keepdim)?.tanh())?;
        // Distinct values even where shrinking made them equal: a tie has no derivative to check.
        let ramp = Tensor::arange(0.0, a.numel() as f64, 1.0).unwrap().mul_scalar(0.013).unwrap();
        let distinct = a.add(&ramp.reshape(a.shape()).unwrap()).unwrap();
        check(&[distinct.clone()], |x| x[0].max_dim(dim, keepdim)?.0.square())?;
        check(&[distinct], |x| x[0].min()?.mul(&x[0].max()?))?;
        // Bessel's correction over a dim of one is 0/0 (torch's NaN too): population variance here.
        check(&[a.clone()], |x| x[0].var_dim(dim, 0, keepdim))?;
        check(&[a.clone()], |x| x[0].std_dim(dim, 0, keepdim))?;
        check(&[a.clone()], |x| x[0].norm(2.0))?;
        check(&[a.clone()], |x| x[0].norm(1.0)?.square())?;
        check(&[a], |x| x[0].logsumexp(dim, keepdim))?;
    }

    #[test]
    fn views_and_joins(a in matrix(), dim in -2isize..2, picks in proptest::collection::vec(0usize..100, 1..6)) {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        check(&[a.clone()], |x| x[0].t()?.square())?;
        check(&[a.clone()], |x| x[0].transpose(0, 1)?.contiguous()?.exp())?;
        check(&[a.clone()], |x| x[0].reshape(&[c, r])?.tanh())?;
        check(&[a.clone()], |x| x[0].unsqueeze(dim)?.squeeze()?.square())?;
        check(&[a.clone()], |x| x[0].unsqueeze(0)?.expand(&[3, r, c])?.mul(&x[0])?.sum_dim(0, false))?;
        check(&[a.clone()], |x| x[0].deep_clone()?.square())?;
        check(&[a.clone()], |x| x[0].flatten(0, -1)?.sigmoid())?;
        let d = if dim < 0 { (dim + 2) as usize } else { dim as usize };
        let size = a.shape()[d];
        check(&[a.clone()], |x| x[0].narrow(dim, size / 2, size - size / 2)?.square())?;
        check(&[a.clone()], |x| x[0].split(1, dim)?.into_iter().last().unwrap().exp())?;
        let indices: Vec<usize> = picks.iter().map(|p| p % size).collect();
        check(&[a.clone()], |x| x[0].index_select(dim, &indices)?.square())?;
        check(&[a.clone(), a.mul_scalar(0.5).unwrap()], |x| cat(&[x[0].clone(), x[1].square()?], dim)?.tanh())?;
        check(&[a.clone(), a.mul_scalar(-0.5).unwrap()], |x| stack(&[x[0].clone(), x[1].clone()], 0)?.square())?;
        check(&[a], |x| x[0].to(torchlet::Device::Cpu)?.square())?;
    }

    #[test]
    fn softmax_and_selection(a in matrix(), dim in 0isize..2) {
        check(&[a.clone()], |x| x[0].softmax(dim))?;
        check(&[a.clone()], |x| x[0].log_softmax(dim))?;
        let cols = a.shape()[1];
        let rows = a.shape()[0];
        let idx = Tensor::from_vec((0..rows * 2).map(|i| (i % cols) as f64).collect(), &[rows, 2]).unwrap();
        check(&[a.clone()], |x| x[0].gather(1, &idx)?.square())?;
        check(&[a.clone(), a.t().unwrap().t().unwrap()], |x| {
            let cond = x[0].detach().gt(&Tensor::scalar(0.0))?;
            where_(&cond, &x[0].square()?, &x[1].mul(&x[0])?)
        })?;
        // A broadcast operand of where: its gradient is summed back to its shape.
        check(&[a.clone(), a.sum_dim(0, true).unwrap()], |x| {
            let cond = x[0].detach().gt(&Tensor::scalar(0.0))?;
            where_(&cond, &x[0], &x[1].exp()?)?.square()
        })?;
    }

    #[test]
    fn losses(x in matrix(), y in matrix(), seed in any::<u64>()) {
        let (n, c) = (x.shape()[0], x.shape()[1]);
        let labels: Vec<usize> = (0..n).map(|i| (i * 7) % c).collect();
        let probs = x.detach().mul_scalar(-1.3).unwrap().softmax(1).unwrap();
        let weight = Tensor::from_vec((0..c).map(|i| 0.5 + i as f64 * 0.25).collect(), &[c]).unwrap();
        for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
            let ce = CrossEntropyLoss {
                reduction, label_smoothing: 0.1, weight: Some(weight.clone()), ..CrossEntropyLoss::new()
            };
            check(&[x.clone()], |t| ce.forward(&t[0], &labels))?;
            check(&[x.clone()], |t| ce.forward(&t[0], &probs))?;
            check(&[x.clone()], |t| F::nll_loss(&t[0].log_softmax(1)?, &labels, Some(&weight), None, reduction))?;
            let bce = |t: &[Tensor<f64>]| F::binary_cross_entropy(&t[0], &t[1], Some(&probs), reduction);
            check(&[x.sigmoid().unwrap(), probs.clone()], bce)?;
            let pos_weight = weight.clone();
            let with_logits = |t: &[Tensor<f64>]| {
                F::binary_cross_entropy_with_logits(&t[0], &probs, Some(&probs), Some(&pos_weight), reduction)
            };
            check(&[x.clone()], with_logits)?;
            check(&[x.clone(), probs.clone()], |t| F::mse_loss(&t[0], &t[1], reduction))?;
            if x.shape() == y.shape() {
                check(&[x.clone(), y.clone()], |t| F::l1_loss(&t[0].square()?, &t[1], reduction))?;
                check(&[x.clone(), y.clone()], |t| F::huber_loss(&t[0], &t[1], reduction, 0.5))?;
                check(&[x.clone(), y.clone()], |t| F::smooth_l1_loss(&t[0], &t[1], reduction, 0.5))?;
            }
        }
        // Dropout's mask is fixed by its seed, the same in every evaluation.
        check(&[x], |t| Dropout::with_seed(0.4, seed)?.forward(&t[0])?.square())?;
    }

    #[test]
    fn normalization_and_embedding(n in 2usize..4, c in 1usize..4, l in 1usize..4, seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (x, w, b) = (randn(&[n, c, l], &mut rng), randn(&[c], &mut rng), randn(&[c], &mut rng));
        let (mean, var) = (randn(&[c], &mut rng), Tensor::<f64>::rand_with(&[c], &mut rng).add_scalar(0.5).unwrap());
        check(&[x.clone(), w.clone(), b.clone()], |t| {
            let (m, v) = (mean.deep_clone()?, var.deep_clone()?);
            F::batch_norm(&t[0], Some(&m), Some(&v), Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5)
        })?;
        let (lw, lb) = (randn(&[l], &mut rng), randn(&[l], &mut rng));
        check(&[x.clone(), lw, lb], |t| F::layer_norm(&t[0], &[l], Some(&t[1]), Some(&t[2]), 1e-5))?;
        check(&[randn(&[n, 2 * c, l], &mut rng)], |t| F::group_norm(&t[0], 2, None, None, 1e-5))?;
        let table = randn(&[5, c], &mut rng);
        let idx = Tensor::from_vec(vec![1.0, 4.0, 1.0], &[3]).unwrap();
        check(&[table], |t| F::embedding(&idx, &t[0], None)?.square())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// The convolutions and poolings are compositions of the ops above (im2col and col2im, each the other's
    /// backward, linear, index_select, sums), so their second derivatives come with them.
    #[test]
    fn convolution_and_pooling(seed in any::<u64>(), stride in 1usize..3, pad in 0usize..2) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (x, w, b) = (randn(&[1, 2, 4, 4], &mut rng), randn(&[2, 2, 2, 2], &mut rng), randn(&[2], &mut rng));
        let opts = Conv2dOptions::default().stride(stride).padding(pad);
        check(&[x.clone(), w, b], |t| F::conv2d(&t[0], &t[1], Some(&t[2]), &opts)?.tanh())?;
        let (x1, w1) = (randn(&[2, 5], &mut rng), randn(&[3, 2, 2], &mut rng));
        check(&[x1, w1], |t| F::conv1d(&t[0], &t[1], None, &Conv1dOptions::default())?.square())?;
        check(&[x.clone()], |t| F::max_pool2d(&t[0], &MaxPool2dOptions::new(2))?.square())?;
        check(&[x.clone()], |t| F::adaptive_avg_pool2d(&t[0], 1)?.exp())?;
        check(&[x.clone()], |t| F::avg_pool2d(&t[0], &AvgPool2dOptions::new(2).stride(stride).padding(pad.min(1)))?.square())?;
        // Two groups with dilation 2.
        let wg = randn(&[4, 1, 2, 2], &mut rng);
        let grouped = Conv2dOptions::default().groups(2).dilation(2).padding(pad);
        check(&[x, wg], |t| F::conv2d(&t[0], &t[1], None, &grouped)?.tanh())?;
    }
}

#[test]
fn the_checker_catches_a_wrong_second_derivative() {
    // x · detach(x): its first derivative has the right value at every point but carries no graph, so its
    // derivative comes out 0 where finite differences of it give r · v. The checker must notice.
    let x = Tensor::new([1.0, -2.0]);
    let result = gradgradcheck(&[x.clone()], |t| t[0].mul(&t[0].detach()));
    assert!(result.is_err(), "gradgradcheck accepted a first derivative whose graph is cut");
    assert!(gradgradcheck(&[x], |t| t[0].mul(&t[0])).is_ok());
}
