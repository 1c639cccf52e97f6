//! Finite-difference gradient checks in f64 beyond the 2-D cases of tests/gradcheck.rs: views, reductions
//! and indexing on every dim of rank-3 and rank-4 tensors, `linear` on batched input, and leaves that are
//! strided views (a transposed or narrowed buffer, detached), whose gradients must keep the leaf's shape.

use crate::common;

use common::{gradcheck, gradcheck_leaves};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::nn::functional as F;
use torchlet::nn::Reduction;
use torchlet::{cat, GeluApproximate, Result, Tensor};

/// How a leaf lies in memory.
#[derive(Clone, Copy, Debug)]
enum Lay {
    Contiguous,
    /// A `[.., c, r]` buffer transposed to `[.., r, c]`.
    Transposed,
    /// The last dim a window of a buffer 3 wider.
    Narrowed,
}

const LAYS: [Lay; 3] = [Lay::Contiguous, Lay::Transposed, Lay::Narrowed];

/// A leaf of `shape` laid out as `lay`, with distinct values (no ties for max and min) spread over
/// [lo, hi].
fn leaf(shape: &[usize], lay: Lay, lo: f64, hi: f64, rng: &mut StdRng) -> Tensor<f64> {
    let rank = shape.len();
    let mut buffer = shape.to_vec();
    match lay {
        Lay::Transposed if rank >= 2 => buffer.swap(rank - 2, rank - 1),
        Lay::Narrowed if rank >= 1 => buffer[rank - 1] += 3,
        _ => {}
    }
    let n: usize = buffer.iter().product();
    let data: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * (i as f64 + rng.random_range(0.1..0.9)) / n as f64).collect();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let data = order.iter().map(|&i| data[i]).collect();
    let t = Tensor::from_vec(data, &buffer).unwrap();
    let t = match lay {
        Lay::Transposed if rank >= 2 => t.transpose(-2, -1).unwrap(),
        Lay::Narrowed if rank >= 1 => t.narrow(-1, 1, shape[rank - 1]).unwrap(),
        _ => t,
    };
    t.detach().requires_grad_(true).unwrap()
}

/// Checks `f` at fresh leaves of `shapes` in every layout.
fn check(what: &str, shapes: &[&[usize]], lo: f64, hi: f64, f: impl Fn(&[Tensor<f64>]) -> Result<Tensor<f64>>) {
    let mut rng = StdRng::seed_from_u64(what.len() as u64);
    for lay in LAYS {
        let leaves: Vec<Tensor<f64>> = shapes.iter().map(|s| leaf(s, lay, lo, hi, &mut rng)).collect();
        gradcheck_leaves(&leaves, &f).unwrap_or_else(|e| panic!("{what} ({lay:?}): {e}"));
    }
}

#[test]
fn views_on_every_dim_of_rank_3_and_4() {
    for shape in [&[2, 3, 4][..], &[2, 1, 3, 2]] {
        let rank = shape.len() as isize;
        for a in -rank..rank {
            for b in -rank..rank {
                check(&format!("transpose({a}, {b}) of {shape:?}"), &[shape], -2.0, 2.0, |x| x[0].transpose(a, b));
            }
            let size = shape[a.rem_euclid(rank) as usize];
            check(&format!("narrow({a}) of {shape:?}"), &[shape], -2.0, 2.0, |x| {
                x[0].narrow(a, size / 2, size - size / 2)
            });
            let picks: Vec<usize> = (0..4).map(|i| (i * 7 + 1) % size).collect();
            check(&format!("index_select({a}) of {shape:?}"), &[shape], -2.0, 2.0, |x| x[0].index_select(a, &picks));
            check(&format!("squeeze_dim({a}) of {shape:?}"), &[shape], -2.0, 2.0, |x| x[0].squeeze_dim(a));
            check(&format!("unsqueeze({a}) of {shape:?}"), &[shape], -2.0, 2.0, |x| x[0].unsqueeze(a));
        }
        check(&format!("flatten of {shape:?}"), &[shape], -2.0, 2.0, |x| x[0].flatten(1, -1));
        check(&format!("cat of {shape:?} with itself"), &[shape, shape], -2.0, 2.0, |x| cat(x, -1));
    }
}

#[test]
fn reductions_on_every_dim_of_rank_1_3_and_4() {
    for shape in [&[5][..], &[2, 3, 4], &[2, 3, 1, 2]] {
        let rank = shape.len() as isize;
        let name = |op: &str| format!("{op} of {shape:?}");
        check(&name("sum"), &[shape], -2.0, 2.0, |x| x[0].sum());
        check(&name("mean"), &[shape], -2.0, 2.0, |x| x[0].mean());
        check(&name("max"), &[shape], -2.0, 2.0, |x| x[0].max());
        check(&name("min"), &[shape], -2.0, 2.0, |x| x[0].min());
        check(&name("var"), &[shape], -2.0, 2.0, |x| x[0].var(1));
        check(&name("std"), &[shape], -2.0, 2.0, |x| x[0].std(0));
        check(&name("norm"), &[shape], -2.0, 2.0, |x| x[0].norm(2.0));
        for d in -rank..rank {
            for keep in [false, true] {
                let name = |op: &str| name(&format!("{op}({d}, keepdim={keep})"));
                check(&name("sum_dim"), &[shape], -2.0, 2.0, |x| x[0].sum_dim(d, keep));
                check(&name("mean_dim"), &[shape], -2.0, 2.0, |x| x[0].mean_dim(d, keep));
                check(&name("max_dim"), &[shape], -2.0, 2.0, |x| Ok(x[0].max_dim(d, keep)?.0));
                check(&name("min_dim"), &[shape], -2.0, 2.0, |x| Ok(x[0].min_dim(d, keep)?.0));
                check(&name("logsumexp"), &[shape], -2.0, 2.0, |x| x[0].logsumexp(d, keep));
                // A dim of size 1 has variance 0 with correction 0, where the std has no derivative.
                if shape[d.rem_euclid(rank) as usize] > 1 {
                    check(&name("var_dim"), &[shape], -2.0, 2.0, |x| x[0].var_dim(d, 1, keep));
                    check(&name("std_dim"), &[shape], -2.0, 2.0, |x| x[0].std_dim(d, 0, keep));
                }
            }
            check(&name(&format!("softmax({d})")), &[shape], -2.0, 2.0, |x| x[0].softmax(d));
            check(&name(&format!("log_softmax({d})")), &[shape], -2.0, 2.0, |x| x[0].log_softmax(d));
        }
    }
}

#[test]
fn linear_with_batched_input() {
    for shape in [&[2, 3, 4][..], &[2, 1, 3, 4]] {
        check(&format!("linear of {shape:?}"), &[shape, &[5, 4], &[5]], -1.0, 1.0, |t| t[0].linear(&t[1], Some(&t[2])));
        check(&format!("linear of {shape:?} without bias"), &[shape, &[5, 4]], -1.0, 1.0, |t| t[0].linear(&t[1], None));
    }
}

#[test]
fn strided_leaves_through_elementwise_ops() {
    for shape in [&[3, 4][..], &[2, 3, 4]] {
        let name = |op: &str| format!("{op} of {shape:?}");
        check(&name("exp"), &[shape], -2.0, 2.0, |x| x[0].exp());
        check(&name("square"), &[shape], -2.0, 2.0, |x| x[0].square());
        check(&name("tanh"), &[shape], -2.0, 2.0, |x| x[0].tanh());
        check(&name("sigmoid"), &[shape], -2.0, 2.0, |x| x[0].sigmoid());
        check(&name("gelu"), &[shape], -2.0, 2.0, |x| x[0].gelu(GeluApproximate::None));
        check(&name("softplus"), &[shape], -2.0, 2.0, |x| x[0].softplus(1.0, 20.0));
        check(&name("log"), &[shape], 0.5, 3.0, |x| x[0].log());
        check(&name("sqrt"), &[shape], 0.5, 3.0, |x| x[0].sqrt());
        check(&name("powf"), &[shape], 0.5, 3.0, |x| x[0].powf(1.7));
        check(&name("relu away from 0"), &[shape], 0.5, 3.0, |x| x[0].neg()?.relu()?.add(&x[0].relu()?));
        for op in ["add", "sub", "mul", "div", "maximum", "minimum"] {
            let f = |a: &Tensor<f64>, b: &Tensor<f64>| match op {
                "add" => a.add(b),
                "sub" => a.sub(b),
                "mul" => a.mul(b),
                "div" => a.div(b),
                "maximum" => a.maximum(b),
                _ => a.minimum(b),
            };
            let last = &shape[shape.len() - 1..];
            check(&name(op), &[shape, shape], 0.5, 3.0, |x| f(&x[0], &x[1]));
            check(&name(&format!("{op} with a {last:?}")), &[shape, last], 0.5, 3.0, |x| f(&x[0], &x[1]));
        }
    }
}

#[test]
fn strided_leaves_through_matmul_and_losses() {
    check("mm", &[&[3, 4], &[4, 5]], -1.0, 1.0, |x| x[0].matmul(&x[1]));
    check("mv", &[&[3, 4], &[4]], -1.0, 1.0, |x| x[0].matmul(&x[1]));
    check("large mm", &[&[9, 30], &[30, 20]], -1.0, 1.0, |x| x[0].matmul(&x[1]));
    let labels = [0, 2, 1, 2];
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        check(&format!("mse_loss {reduction:?}"), &[&[4, 3], &[4, 3]], -1.0, 1.0, |x| {
            F::mse_loss(&x[0], &x[1], reduction)
        });
        check(&format!("nll_loss {reduction:?}"), &[&[4, 3]], -1.0, 1.0, |x| {
            F::nll_loss(&x[0].log_softmax(1)?, &labels, None, None, reduction)
        });
    }
    check("cross_entropy", &[&[4, 3]], -1.0, 1.0, |x| F::cross_entropy(&x[0], &labels[..]));
}

#[test]
fn gradients_of_strided_leaves_keep_the_leaf_shape() {
    // A [3, 5] buffer transposed: the leaf is [5, 3] and strided; its gradient must be [5, 3] too.
    let leaf = Tensor::<f64>::from_vec((0..15).map(f64::from).collect(), &[3, 5])
        .unwrap()
        .t()
        .unwrap()
        .detach()
        .requires_grad_(true)
        .unwrap();
    assert!(!leaf.is_contiguous() && leaf.is_leaf());
    leaf.mul(&leaf).unwrap().sum().unwrap().backward().unwrap();
    let grad = leaf.grad().unwrap();
    assert_eq!(grad.shape(), &[5, 3]);
    let doubled: Vec<f64> = leaf.to_vec().unwrap().iter().map(|v| 2.0 * v).collect();
    assert_eq!(grad.to_vec().unwrap(), doubled);
    // The plain checker agrees (it copies the leaves to contiguous ones).
    gradcheck(&[leaf.detach()], |x| x[0].square()).unwrap();
}

/// Reducing over an empty dim gives one identity per output element, as in torch: sums of zero terms are
/// 0, their means NaN (0/0), and the gradient flows back to an empty leaf of the input's shape.
#[test]
fn reductions_over_an_empty_dim() -> Result<()> {
    for (shape, dim, kept) in [(&[3, 0][..], 1, vec![3]), (&[0, 4][..], 0, vec![4]), (&[2, 0, 3][..], 1, vec![2, 3])] {
        let x = Tensor::<f64>::zeros(shape).requires_grad_(true)?;
        let sum = x.sum_dim(dim, false)?;
        assert_eq!((sum.shape(), sum.to_vec()?), (&kept[..], vec![0.0; kept.iter().product()]), "sum {shape:?}");
        let mean = x.mean_dim(dim, true)?;
        assert!(mean.to_vec()?.iter().all(|m| m.is_nan()), "mean over dim {dim} of {shape:?}");
        sum.sum()?.backward()?;
        assert_eq!(x.grad().expect("a gradient").shape(), shape);
    }
    Ok(())
}
