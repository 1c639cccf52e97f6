//! Finite-difference gradient checks in f64 for every differentiable op, on random shapes (broadcasting
//! included), driven by proptest.

use crate::common;

use crate::prop_gradcheck as check;
use common::gradcheck;
use proptest::prelude::*;
use torchlet::nn::Reduction;
use torchlet::Tensor;

/// A tensor of `shape` with values in `[lo, hi]`.
fn tensor_in(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n = shape.iter().product::<usize>();
    proptest::collection::vec(lo..hi, n).prop_map(move |v| Tensor::from_vec(v, &shape).unwrap())
}

fn shape(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..4, 0..=max_rank)
}

/// Two shapes that broadcast together: the second drops some leading dims and sets some dims to 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
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
}

fn pair_in(lo: f64, hi: f64) -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    broadcast_pair().prop_flat_map(move |(a, b)| (tensor_in(a, lo, hi), tensor_in(b, lo, hi)))
}

fn one_in(lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    shape(3).prop_flat_map(move |s| tensor_in(s, lo, hi))
}

/// A 2-D tensor and a valid dim of it.
fn matrix_and_dim() -> impl Strategy<Value = (Tensor<f64>, isize)> {
    (1usize..5, 1usize..5).prop_flat_map(|(r, c)| (tensor_in(vec![r, c], -2.0, 2.0), -2isize..2))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn add((a, b) in pair_in(-2.0, 2.0)) { check(&[a, b], |x| x[0].add(&x[1]))? }

    #[test]
    fn sub((a, b) in pair_in(-2.0, 2.0)) { check(&[a, b], |x| x[0].sub(&x[1]))? }

    #[test]
    fn mul((a, b) in pair_in(-2.0, 2.0)) { check(&[a, b], |x| x[0].mul(&x[1]))? }

    #[test]
    fn div((a, b) in pair_in(0.5, 2.0)) { check(&[a, b], |x| x[0].div(&x[1]))? }

    #[test]
    fn scalar_arithmetic(a in one_in(0.5, 2.0), c in -3.0f64..3.0) {
        check(std::slice::from_ref(&a), |x| x[0].add_scalar(c))?;
        check(std::slice::from_ref(&a), |x| x[0].sub_scalar(c))?;
        check(std::slice::from_ref(&a), |x| x[0].rsub_scalar(c))?;
        check(std::slice::from_ref(&a), |x| x[0].mul_scalar(c))?;
        check(std::slice::from_ref(&a), |x| x[0].div_scalar(c + 4.0))?;
        check(&[a], |x| x[0].rdiv_scalar(c))?;
    }

    #[test]
    fn unary(a in one_in(-2.0, 2.0), p in 0.5f64..3.0) {
        check(std::slice::from_ref(&a), |x| x[0].neg())?;
        check(std::slice::from_ref(&a), |x| x[0].square())?;
        check(std::slice::from_ref(&a), |x| x[0].exp())?;
        check(std::slice::from_ref(&a), |x| x[0].powi(3))?;
        let positive = a.abs().unwrap().add_scalar(0.5).unwrap();
        check(std::slice::from_ref(&positive), |x| x[0].sqrt())?;
        check(std::slice::from_ref(&positive), |x| x[0].log())?;
        check(std::slice::from_ref(&positive), |x| x[0].powf(p))?;
        // |x| has a kink at 0: keep the inputs away from it.
        check(&[positive.neg().unwrap()], |x| x[0].abs())?;
        check(&[positive], |x| x[0].abs())?;
    }

    #[test]
    fn matmul_all_ranks(m in 1usize..5, k in 1usize..5, n in 1usize..5, seed in any::<u64>()) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let a = Tensor::<f64>::randn_with(&[m, k], &mut rng);
        let b = Tensor::<f64>::randn_with(&[k, n], &mut rng);
        let v = Tensor::<f64>::randn_with(&[k], &mut rng);
        let u = Tensor::<f64>::randn_with(&[k], &mut rng);
        check(&[a.clone(), b.clone()], |x| x[0].matmul(&x[1]))?;
        check(&[a.clone(), v.clone()], |x| x[0].matmul(&x[1]))?;
        check(&[v.clone(), b.clone()], |x| x[0].matmul(&x[1]))?;
        check(&[v, u], |x| x[0].matmul(&x[1]))?;
        // Transposed operands reach the GEMM as strides.
        check(&[b, a], |x| x[0].t()?.matmul(&x[1].t()?))?;
    }

    #[test]
    fn reductions((a, dim) in matrix_and_dim(), keepdim in any::<bool>()) {
        check(std::slice::from_ref(&a), |x| x[0].sum())?;
        check(std::slice::from_ref(&a), |x| x[0].mean())?;
        check(std::slice::from_ref(&a), |x| x[0].sum_dim(dim, keepdim))?;
        check(&[a], |x| x[0].mean_dim(dim, keepdim))?;
    }

    #[test]
    fn views((a, dim) in matrix_and_dim()) {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        check(std::slice::from_ref(&a), |x| x[0].t())?;
        check(std::slice::from_ref(&a), |x| x[0].transpose(0, 1)?.contiguous())?;
        check(std::slice::from_ref(&a), |x| x[0].reshape(&[c, r]))?;
        check(std::slice::from_ref(&a), |x| x[0].t()?.reshape(&[r * c]))?;
        check(std::slice::from_ref(&a), |x| x[0].unsqueeze(dim)?.squeeze())?;
        check(std::slice::from_ref(&a), |x| x[0].unsqueeze(0)?.expand(&[3, r, c]))?;
        check(std::slice::from_ref(&a), |x| x[0].deep_clone())?;
        let size = a.shape()[if dim < 0 { (dim + 2) as usize } else { dim as usize }];
        check(&[a], |x| x[0].narrow(dim, size / 2, size - size / 2))?;
    }

    #[test]
    fn index_select_with_repeats((a, dim) in matrix_and_dim(), picks in proptest::collection::vec(0usize..100, 0..6)) {
        let size = a.shape()[if dim < 0 { (dim + 2) as usize } else { dim as usize }];
        let indices: Vec<usize> = picks.iter().map(|p| p % size).collect();
        check(&[a], |x| x[0].index_select(dim, &indices))?;
    }

    #[test]
    fn a_tensor_times_itself((a, b) in pair_in(-2.0, 2.0)) {
        // x * x sends its whole gradient along one edge: leaves and inner nodes must both still get it.
        check(std::slice::from_ref(&a), |x| x[0].mul(&x[0]))?;
        check(&[a, b], |x| { let h = x[0].add(&x[1])?; h.mul(&h)?.mul(&x[0]) })?;
    }

    #[test]
    fn composite_graph_with_shared_inputs((a, b) in pair_in(0.5, 2.0)) {
        // a is used on several paths: its gradient must sum all of them.
        check(&[a, b], |x| x[0].mul(&x[1])?.add(&x[0].square()?)?.div(&x[0])?.exp()?.mean_dim(0, true))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn fused_linear(batch in 1usize..5, inputs in 1usize..5, outputs in 1usize..4, seed in any::<u64>()) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let x = Tensor::<f64>::randn_with(&[batch, inputs], &mut rng);
        let w = Tensor::<f64>::randn_with(&[outputs, inputs], &mut rng);
        let b = Tensor::<f64>::randn_with(&[outputs], &mut rng);
        let v = Tensor::<f64>::randn_with(&[inputs], &mut rng);
        check(&[x.clone(), w.clone(), b.clone()], |t| t[0].linear(&t[1], Some(&t[2])))?;
        check(&[x, w.clone()], |t| t[0].linear(&t[1], None))?;
        check(&[v, w, b], |t| t[0].linear(&t[1], Some(&t[2])))?;
    }

    #[test]
    fn fused_mse_loss((a, _) in pair_in(-2.0, 2.0), seed in any::<u64>()) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let target = Tensor::<f64>::randn_with(a.shape(), &mut rng);
        for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
            check(&[a.clone(), target.clone()], |t| torchlet::nn::functional::mse_loss(&t[0], &t[1], reduction))?;
        }
    }
}

#[test]
fn the_checker_catches_a_wrong_gradient() {
    // detach() cuts the gradient of one path, so backward differs from finite differences: the checker
    // must notice, or every test above proves nothing.
    let x = Tensor::new([1.0, 2.0]);
    let result = gradcheck(&[x], |x| x[0].square()?.add(&x[0].detach().square()?));
    assert!(result.is_err(), "gradcheck accepted a gradient that is off by half");
}
