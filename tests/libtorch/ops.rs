//! Op-level parity with libtorch: every op's forward and backward on random shapes (broadcasting
//! included), in f32 and f64.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn op_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{parity, random, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A random shape of rank 0..=3 and another that broadcasts with it.
    fn broadcast_pair(rng: &mut StdRng) -> (Vec<usize>, Vec<usize>) {
        let a: Vec<usize> = (0..rng.random_range(0..=3)).map(|_| rng.random_range(1..5)).collect();
        let drop = rng.random_range(0..=a.len());
        let b: Vec<usize> = a[drop..].iter().map(|&d| if rng.random_bool(0.4) { 1 } else { d }).collect();
        if rng.random_bool(0.5) {
            (a, b)
        } else {
            (b, a)
        }
    }

    fn binary_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..25 {
            let (sa, sb) = broadcast_pair(&mut rng);
            let (a, b) = (random::<T>(&sa, -2.0, 2.0, &mut rng), random::<T>(&sb, 0.5, 2.0, &mut rng));
            let ab = [a, b];
            parity("add", &ab, T::RTOL, &|x| x[0].add(&x[1]), &|x| &x[0] + &x[1]);
            parity("sub", &ab, T::RTOL, &|x| x[0].sub(&x[1]), &|x| &x[0] - &x[1]);
            parity("mul", &ab, T::RTOL, &|x| x[0].mul(&x[1]), &|x| &x[0] * &x[1]);
            parity("div", &ab, T::RTOL, &|x| x[0].div(&x[1]), &|x| &x[0] / &x[1]);
        }
    }

    fn unary_and_scalar_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..15 {
            let (shape, _) = broadcast_pair(&mut rng);
            let x = [random::<T>(&shape, -2.0, 2.0, &mut rng)];
            let pos = [random::<T>(&shape, 0.5, 3.0, &mut rng)];
            parity("neg", &x, T::RTOL, &|x| x[0].neg(), &|x| -&x[0]);
            parity("square", &x, T::RTOL, &|x| x[0].square(), &|x| x[0].square());
            parity("exp", &x, T::RTOL, &|x| x[0].exp(), &|x| x[0].exp());
            parity("abs", &x, T::RTOL, &|x| x[0].abs(), &|x| x[0].abs());
            parity("powi", &x, T::RTOL, &|x| x[0].powi(3), &|x| x[0].pow_tensor_scalar(3));
            parity("sqrt", &pos, T::RTOL, &|x| x[0].sqrt(), &|x| x[0].sqrt());
            parity("log", &pos, T::RTOL, &|x| x[0].log(), &|x| x[0].log());
            parity("powf", &pos, T::RTOL, &|x| x[0].powf(T::from_f64(1.7).unwrap()), &|x| x[0].pow_tensor_scalar(1.7));
            let c = T::from_f64(1.5).unwrap();
            parity("add_scalar", &x, T::RTOL, &|x| x[0].add_scalar(c), &|x| &x[0] + 1.5);
            parity("sub_scalar", &x, T::RTOL, &|x| x[0].sub_scalar(c), &|x| &x[0] - 1.5);
            parity("rsub_scalar", &x, T::RTOL, &|x| x[0].rsub_scalar(c), &|x| x[0].g_mul_scalar(-1.0) + 1.5);
            parity("mul_scalar", &x, T::RTOL, &|x| x[0].mul_scalar(c), &|x| &x[0] * 1.5);
            parity("div_scalar", &x, T::RTOL, &|x| x[0].div_scalar(c), &|x| &x[0] / 1.5);
            parity("rdiv_scalar", &pos, T::RTOL, &|x| x[0].rdiv_scalar(c), &|x| x[0].reciprocal() * 1.5);
        }
    }

    fn matmul_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..15 {
            let (m, k, n) = (rng.random_range(1..40), rng.random_range(1..40), rng.random_range(1..40));
            let a = random::<T>(&[m, k], -1.0, 1.0, &mut rng);
            let b = random::<T>(&[k, n], -1.0, 1.0, &mut rng);
            let v = random::<T>(&[k], -1.0, 1.0, &mut rng);
            let u = random::<T>(&[k], -1.0, 1.0, &mut rng);
            let mm = |x: &[tch::Tensor]| x[0].matmul(&x[1]);
            parity("mm", &[a.clone(), b.clone()], T::RTOL, &|x| x[0].matmul(&x[1]), &mm);
            parity("mv", &[a.clone(), v.clone()], T::RTOL, &|x| x[0].matmul(&x[1]), &mm);
            parity("vm", &[v.clone(), b.clone()], T::RTOL, &|x| x[0].matmul(&x[1]), &mm);
            parity("dot", &[v, u], T::RTOL, &|x| x[0].matmul(&x[1]), &mm);
            parity("mm of transposes", &[b, a], T::RTOL, &|x| x[0].t()?.matmul(&x[1].t()?), &|x| {
                x[0].tr().matmul(&x[1].tr())
            });
        }
    }

    fn reductions_and_views<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..15 {
            let (r, c) = (rng.random_range(1..6), rng.random_range(1..6));
            let x = [random::<T>(&[r, c], -2.0, 2.0, &mut rng)];
            let dim = rng.random_range(-2i64..2);
            let d = dim as isize;
            parity("sum", &x, T::RTOL, &|x| x[0].sum(), &|x| x[0].sum(None));
            parity("mean", &x, T::RTOL, &|x| x[0].mean(), &|x| x[0].mean(None));
            for keep in [false, true] {
                parity("sum_dim", &x, T::RTOL, &|x| x[0].sum_dim(d, keep), &|x| x[0].sum_dim_intlist(dim, keep, None));
                parity("mean_dim", &x, T::RTOL, &|x| x[0].mean_dim(d, keep), &|x| x[0].mean_dim(dim, keep, None));
            }
            let (ri, ci) = (r as i64, c as i64);
            parity("t", &x, T::RTOL, &|x| x[0].t(), &|x| x[0].tr());
            parity("reshape of t", &x, T::RTOL, &|x| x[0].t()?.reshape(&[r * c]), &|x| x[0].tr().reshape([ri * ci]));
            parity("unsqueeze", &x, T::RTOL, &|x| x[0].unsqueeze(d), &|x| x[0].unsqueeze(dim));
            parity("squeeze", &x, T::RTOL, &|x| x[0].unsqueeze(0)?.squeeze(), &|x| x[0].unsqueeze(0).squeeze());
            parity("expand", &x, T::RTOL, &|x| x[0].unsqueeze(0)?.expand(&[3, r, c]), &|x| {
                x[0].unsqueeze(0).expand([3, ri, ci], false)
            });
            parity("narrow", &x, T::RTOL, &|x| x[0].narrow(0, r / 2, r - r / 2), &|x| {
                x[0].narrow(0, ri / 2, ri - ri / 2)
            });
            let picks: Vec<usize> = (0..5).map(|_| rng.random_range(0..r)).collect();
            let index = tch::Tensor::from_slice(&picks.iter().map(|&i| i as i64).collect::<Vec<_>>());
            parity("index_select", &x, T::RTOL, &|x| x[0].index_select(0, &picks), &|x| x[0].index_select(0, &index));
        }
    }

    fn fused_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..10 {
            let (m, i, o) = (rng.random_range(1..30), rng.random_range(1..30), rng.random_range(1..10));
            let x = random::<T>(&[m, i], -1.0, 1.0, &mut rng);
            let w = random::<T>(&[o, i], -1.0, 1.0, &mut rng);
            let b = random::<T>(&[o], -1.0, 1.0, &mut rng);
            parity("linear", &[x.clone(), w.clone(), b], T::RTOL, &|t| t[0].linear(&t[1], Some(&t[2])), &|t| {
                t[0].linear(&t[1], Some(&t[2]))
            });
            parity("linear without bias", &[x.clone(), w], T::RTOL, &|t| t[0].linear(&t[1], None), &|t| {
                t[0].linear::<&tch::Tensor>(&t[1], None)
            });
            let target = random::<T>(&[m, i], -1.0, 1.0, &mut rng);
            let pair = [x, target];
            use torchlet::nn::Reduction;
            for (ours, theirs) in [
                (Reduction::Mean, tch::Reduction::Mean),
                (Reduction::Sum, tch::Reduction::Sum),
                (Reduction::None, tch::Reduction::None),
            ] {
                parity("mse_loss", &pair, T::RTOL, &|t| torchlet::nn::functional::mse_loss(&t[0], &t[1], ours), &|t| {
                    t[0].mse_loss(&t[1], theirs)
                });
            }
        }
    }

    #[test]
    fn fused_linear_and_mse_loss() {
        fused_ops::<f32>(9);
        fused_ops::<f64>(10);
    }

    #[test]
    fn binary_ops_with_broadcasting() {
        binary_ops::<f32>(1);
        binary_ops::<f64>(2);
    }

    #[test]
    fn unary_and_scalar() {
        unary_and_scalar_ops::<f32>(3);
        unary_and_scalar_ops::<f64>(4);
    }

    #[test]
    fn matmul_every_rank() {
        matmul_ops::<f32>(5);
        matmul_ops::<f64>(6);
    }

    #[test]
    fn reductions_views_and_indexing() {
        reductions_and_views::<f32>(7);
        reductions_and_views::<f64>(8);
    }
}
