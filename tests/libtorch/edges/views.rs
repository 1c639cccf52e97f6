//! Views, reductions and indexing on rank 1, 3 and 4.

use super::harness::*;

pub(crate) fn views_and_indexing<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for shape in [&[2, 3, 4][..], &[2, 3, 2, 4]] {
        let rank = shape.len() as i64;
        for lay in LAYS {
            let x = [leaf::<T>(shape, lay, &mut uniform(&mut rng, -2.0, 2.0))];
            for a in -rank..rank {
                for b in -rank..rank {
                    let name = format!("transpose({a}, {b}) of {shape:?} {lay:?}");
                    parity(&name, &x, &|x| x[0].transpose(a as isize, b as isize), &|x| x[0].transpose(a, b));
                }
            }
            for d in -rank..rank {
                let size = shape[d.rem_euclid(rank) as usize];
                let (start, len) = (size / 2, size - size / 2);
                let name = format!("narrow({d}) of {shape:?} {lay:?}");
                parity(&name, &x, &|x| x[0].narrow(d as isize, start, len), &|x| {
                    x[0].narrow(d, start as i64, len as i64)
                });
                let picks: Vec<usize> = (0..5).map(|_| rng.random_range(0..size)).collect();
                let (index, p) = (indices(&picks), picks.clone());
                let name = format!("index_select({d}, {picks:?}) of {shape:?} {lay:?}");
                parity(&name, &x, &|x| x[0].index_select(d as isize, &p), &|x| x[0].index_select(d, &index));
            }
        }
    }
    let shape = [2, 1, 3, 1];
    for lay in LAYS {
        let x = [leaf::<T>(&shape, lay, &mut uniform(&mut rng, -2.0, 2.0))];
        for d in -4i64..4 {
            let name = format!("squeeze_dim({d}) of {shape:?} {lay:?}");
            parity(&name, &x, &|x| x[0].squeeze_dim(d as isize), &|x| x[0].squeeze_dim(d));
        }
    }
}

pub(crate) fn linear_batched<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for shape in [&[2, 3, 4][..], &[2, 2, 3, 4]] {
        for lay in LAYS {
            let mut value = uniform(&mut rng, -1.0, 1.0);
            let x = leaf::<T>(shape, lay, &mut value);
            let w = leaf::<T>(&[5, 4], lay, &mut value);
            let b = leaf::<T>(&[5], lay, &mut value);
            let name = format!("linear of {shape:?} {lay:?}");
            parity(&name, &[x, w.clone(), b], &|t| t[0].linear(&t[1], Some(&t[2])), &|t| {
                t[0].linear(&t[1], Some(&t[2]))
            });
            let x = leaf::<T>(shape, lay, &mut value);
            parity(&format!("{name} without bias"), &[x, w], &|t| t[0].linear(&t[1], None), &|t| {
                t[0].linear::<&tch::Tensor>(&t[1], None)
            });
        }
    }
}

/// Every reduction of `x` (values from `value`), whole and along every dim, keepdim both ways.
pub(crate) fn reductions_of<T: Both>(what: &str, shape: &[usize], lay: Lay, value: &mut dyn FnMut() -> f64) {
    let x = [leaf::<T>(shape, lay, value)];
    let rank = shape.len() as i64;
    let name = |op: &str| format!("{op} of {what} {shape:?} {lay:?}");
    parity(&name("sum"), &x, &|x| x[0].sum(), &|x| x[0].sum(None));
    parity(&name("mean"), &x, &|x| x[0].mean(), &|x| x[0].mean(None));
    parity(&name("max"), &x, &|x| x[0].max(), &|x| x[0].max());
    parity(&name("min"), &x, &|x| x[0].min(), &|x| x[0].min());
    for correction in [0, 1] {
        let c = correction as i64;
        parity(&name(&format!("var({correction})")), &x, &|x| x[0].var(correction), &|x| {
            x[0].var_correction(None::<&[i64]>, c, false)
        });
        parity(&name(&format!("std({correction})")), &x, &|x| x[0].std(correction), &|x| {
            x[0].std_correction(None::<&[i64]>, c, false)
        });
    }
    for d in -rank..rank {
        let di = d as isize;
        for keep in [false, true] {
            let name = |op: &str| name(&format!("{op}({d}, keepdim={keep})"));
            parity(&name("sum_dim"), &x, &|x| x[0].sum_dim(di, keep), &|x| x[0].sum_dim_intlist(d, keep, None));
            parity(&name("mean_dim"), &x, &|x| x[0].mean_dim(di, keep), &|x| x[0].mean_dim(d, keep, None));
            parity(&name("max_dim"), &x, &|x| Ok(x[0].max_dim(di, keep)?.0), &|x| x[0].max_dim(d, keep).0);
            parity(&name("min_dim"), &x, &|x| Ok(x[0].min_dim(di, keep)?.0), &|x| x[0].min_dim(d, keep).0);
            let k = kind::<T>();
            parity(&name("max_dim indices"), &x, &|x| Ok(x[0].max_dim(di, keep)?.1), &|x| {
                x[0].max_dim(d, keep).1.to_kind(k)
            });
            parity(&name("argmax"), &x, &|x| x[0].argmax(di, keep), &|x| x[0].argmax(d, keep).to_kind(k));
            parity(&name("argmin"), &x, &|x| x[0].argmin(di, keep), &|x| x[0].argmin(d, keep).to_kind(k));
            parity(&name("logsumexp"), &x, &|x| x[0].logsumexp(di, keep), &|x| x[0].logsumexp([d], keep));
            for correction in [0, 1] {
                let c = correction as i64;
                parity(
                    &name(&format!("var_dim(correction={correction})")),
                    &x,
                    &|x| x[0].var_dim(di, correction, keep),
                    &|x| x[0].var_correction(d, c, keep),
                );
                parity(
                    &name(&format!("std_dim(correction={correction})")),
                    &x,
                    &|x| x[0].std_dim(di, correction, keep),
                    &|x| x[0].std_correction(d, c, keep),
                );
            }
        }
        parity(&name(&format!("softmax({d})")), &x, &|x| x[0].softmax(di), &|x| x[0].softmax(d, None));
        parity(&name(&format!("log_softmax({d})")), &x, &|x| x[0].log_softmax(di), &|x| x[0].log_softmax(d, None));
    }
}

pub(crate) fn reductions<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for shape in [&[5][..], &[2, 3, 4], &[2, 3, 1, 4]] {
        for lay in LAYS {
            reductions_of::<T>("random", shape, lay, &mut uniform(&mut rng, -2.0, 2.0));
            // Whole numbers in {-1, 0, 1}: ties for max/min (torch's gradient of the whole-tensor forms is
            // shared evenly; the dim forms pick the first index).
            reductions_of::<T>("tied", shape, lay, &mut || rng.random_range(-1i32..=1) as f64);
        }
    }
}

#[test]
fn views_and_indexing_on_every_dim() {
    views_and_indexing::<f32>(3);
    views_and_indexing::<f64>(4);
    report("views_and_indexing_on_every_dim");
}

#[test]
fn linear_with_batched_input() {
    linear_batched::<f32>(5);
    linear_batched::<f64>(6);
    report("linear_with_batched_input");
}

#[test]
fn reductions_on_rank_1_3_and_4() {
    reductions::<f32>(7);
    reductions::<f64>(8);
    report("reductions_on_rank_1_3_and_4");
}
