//! Zero-size tensors.

use super::harness::*;
use super::noncontiguous::{binary_ops, unary_ops};

pub(crate) fn zero_size<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut value = uniform(&mut rng, -2.0, 2.0);
    for shape in [&[0][..], &[3, 0], &[0, 4]] {
        let rank = shape.len() as i64;
        let x = [leaf::<T>(shape, Lay::Contiguous, &mut value)];
        let pair = [x[0].clone(), leaf::<T>(shape, Lay::Contiguous, &mut value)];
        let name = |op: &str| format!("{op} of {shape:?}");
        for (op, ours, theirs) in unary_ops::<T>() {
            parity(&name(op), &x, &*ours, &*theirs);
        }
        for (op, ours, theirs) in binary_ops::<T>() {
            parity(&name(op), &pair, &*ours, &*theirs);
        }
        parity(&name("sum"), &x, &|x| x[0].sum(), &|x| x[0].sum(None));
        parity(&name("mean"), &x, &|x| x[0].mean(), &|x| x[0].mean(None));
        parity(&name("var"), &x, &|x| x[0].var(1), &|x| x[0].var_correction(None::<&[i64]>, 1, false));
        both_fail(&name("max"), x[0].0.max(), x[0].1.f_max());
        both_fail(&name("min"), x[0].0.min(), x[0].1.f_min());
        for d in -rank..rank {
            let di = d as isize;
            let name = |op: &str| name(&format!("{op}({d})"));
            parity(&name("sum_dim"), &x, &|x| x[0].sum_dim(di, false), &|x| x[0].sum_dim_intlist(d, false, None));
            parity(&name("mean_dim"), &x, &|x| x[0].mean_dim(di, true), &|x| x[0].mean_dim(d, true, None));
            parity(&name("softmax"), &x, &|x| x[0].softmax(di), &|x| x[0].softmax(d, None));
            parity(&name("log_softmax"), &x, &|x| x[0].log_softmax(di), &|x| x[0].log_softmax(d, None));
            let size = shape[d.rem_euclid(rank) as usize];
            if size == 0 {
                both_fail(&name("max_dim"), x[0].0.max_dim(di, false), x[0].1.f_max_dim(d, false));
                both_fail(&name("argmax"), x[0].0.argmax(di, false), x[0].1.f_argmax(d, false));
            } else {
                parity(&name("max_dim"), &x, &|x| Ok(x[0].max_dim(di, false)?.0), &|x| x[0].max_dim(d, false).0);
                parity(&name("min_dim"), &x, &|x| Ok(x[0].min_dim(di, true)?.0), &|x| x[0].min_dim(d, true).0);
            }
        }
    }
    // Matrix products with an empty dimension: k = 0 gives zeros.
    for (m, k, n) in [(3, 0, 4), (0, 3, 4), (3, 4, 0), (0, 0, 0)] {
        let a = leaf::<T>(&[m, k], Lay::Contiguous, &mut value);
        let b = leaf::<T>(&[k, n], Lay::Transposed, &mut value);
        let v = leaf::<T>(&[k], Lay::Contiguous, &mut value);
        let mm = |x: &[tch::Tensor]| x[0].matmul(&x[1]);
        let ours = |x: &[Tensor<T>]| x[0].matmul(&x[1]);
        parity(&format!("mm [{m}, {k}] by [{k}, {n}]"), &[a.clone(), b], &ours, &mm);
        parity(&format!("mv [{m}, {k}] by [{k}]"), &[a, v.clone()], &ours, &mm);
        parity(&format!("dot [{k}]"), &[v.clone(), v], &ours, &mm);
    }
    // Joining with empty parts.
    let full = leaf::<T>(&[2, 3], Lay::Contiguous, &mut value);
    let rows = leaf::<T>(&[0, 3], Lay::Contiguous, &mut value);
    let cols = leaf::<T>(&[2, 0], Lay::Contiguous, &mut value);
    let join = |x: &[Tensor<T>]| x.to_vec();
    let their_join = |x: &[tch::Tensor]| x.iter().map(|t| t.shallow_clone()).collect::<Vec<_>>();
    parity("cat of [2, 3] and [0, 3] on 0", &[full.clone(), rows.clone()], &|x| cat(&join(x), 0), &|x| {
        tch::Tensor::cat(&their_join(x), 0)
    });
    parity("cat of [0, 3], [2, 3] on 0", &[rows.clone(), full.clone()], &|x| cat(&join(x), 0), &|x| {
        tch::Tensor::cat(&their_join(x), 0)
    });
    parity("cat of [2, 0] and [2, 3] on 1", &[cols.clone(), full], &|x| cat(&join(x), 1), &|x| {
        tch::Tensor::cat(&their_join(x), 1)
    });
    parity("cat of [0, 3] twice on 1", &[rows.clone(), rows.clone()], &|x| cat(&join(x), 1), &|x| {
        tch::Tensor::cat(&their_join(x), 1)
    });
    for d in 0..3 {
        parity(
            &format!("stack of [0, 3] twice on {d}"),
            &[rows.clone(), rows.clone()],
            &|x| stack(&join(x), d),
            &|x| tch::Tensor::stack(&their_join(x), d as i64),
        );
        parity(
            &format!("stack of [2, 0] twice on {d}"),
            &[cols.clone(), cols.clone()],
            &|x| stack(&join(x), d),
            &|x| tch::Tensor::stack(&their_join(x), d as i64),
        );
    }
}

#[test]
fn zero_size_tensors() {
    zero_size::<f32>(15);
    zero_size::<f64>(16);
    report("zero_size_tensors");
}
