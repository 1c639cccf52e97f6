//! Parity with libtorch at the edges, in f32 and f64: in-place ops on strided and broadcast views, views
//! and reductions on rank 1, 3 and 4, non-contiguous inputs and leaves, zero-size tensors, NaN and the
//! infinities (gradients included), and SGD against libtorch's own optimizer.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn edge_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod common;

#[cfg(feature = "tch")]
mod edges {
    use super::common::torch::{assert_close, shape_of, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::cell::Cell;
    use torchlet::nn::functional as F;
    use torchlet::nn::Reduction;
    use torchlet::{cat, no_grad, stack, GeluApproximate, Result, Tensor};

    type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'a;
    type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

    thread_local! {
        /// Per type (f32, f64): the largest share of the tolerance any element used, and the largest
        /// relative difference among elements not dominated by cancellation (|theirs| ≥ 1e-3 of the
        /// tensor's largest), for the report each test prints (`--nocapture`).
        static WORST: Cell<[f64; 4]> = const { Cell::new([0.0; 4]) };
    }

    /// [`assert_close`] at the type's tolerance, remembering the worst differences.
    fn close<T: Both>(ours: &[T], theirs: &[T], what: &str) {
        assert_close(ours, theirs, T::RTOL, what);
        let scale = theirs.iter().map(|v| v.to_f64().unwrap().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let at = if T::EPS == f64::EPSILON { 2 } else { 0 };
        let mut worst = WORST.with(Cell::get);
        for (a, b) in ours.iter().zip(theirs) {
            let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
            if a != b && a.is_finite() && b.is_finite() {
                let allowed = T::RTOL * b.abs() + 16.0 * T::EPS * scale;
                worst[at] = worst[at].max((a - b).abs() / allowed);
                if b.abs() >= 1e-3 * scale {
                    worst[at + 1] = worst[at + 1].max((a - b).abs() / b.abs());
                }
            }
        }
        WORST.with(|w| w.set(worst));
    }

    fn report(test: &str) {
        let [f32_used, f32_rel, f64_used, f64_rel] = WORST.with(|w| w.replace([0.0; 4]));
        eprintln!(
            "{test}: f32 worst relative difference {f32_rel:.2e} ({:.0}% of the tolerance at most), \
             f64 {f64_rel:.2e} ({:.0}%)",
            f32_used * 100.0,
            f64_used * 100.0
        );
    }

    /// How a leaf lies in memory; both libraries get the same layout.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Lay {
        Contiguous,
        /// The last two dims transposed: a `[.., c, r]` buffer seen as `[.., r, c]` (rank < 2: `Narrowed`).
        Transposed,
        /// A window of the last dim of a wider buffer: `[.., n + 3]` narrowed to `[.., n]` from 1.
        Narrowed,
    }

    const LAYS: [Lay; 3] = [Lay::Contiguous, Lay::Transposed, Lay::Narrowed];

    /// The same leaf in both libraries.
    struct Leaf<T: Both>(Tensor<T>, tch::Tensor);

    impl<T: Both> Clone for Leaf<T> {
        fn clone(&self) -> Self {
            Leaf(self.0.clone(), self.1.shallow_clone())
        }
    }

    /// A leaf of `shape` in both libraries, laid out as `lay`, its buffer filled by `value`.
    fn leaf<T: Both>(shape: &[usize], lay: Lay, value: &mut dyn FnMut() -> f64) -> Leaf<T> {
        let rank = shape.len();
        let lay = match lay {
            Lay::Transposed if rank >= 2 => Lay::Transposed,
            Lay::Transposed | Lay::Narrowed if rank >= 1 => Lay::Narrowed,
            _ => Lay::Contiguous,
        };
        let mut buffer = shape.to_vec();
        match lay {
            Lay::Contiguous => {}
            Lay::Transposed => buffer.swap(rank - 2, rank - 1),
            Lay::Narrowed => buffer[rank - 1] += 3,
        }
        let data: Vec<T> = (0..buffer.iter().product()).map(|_| T::from_f64(value()).unwrap()).collect();
        let ours = Tensor::from_vec(data.clone(), &buffer).unwrap();
        let dims: Vec<i64> = buffer.iter().map(|&d| d as i64).collect();
        let theirs = tch::Tensor::from_slice(&data).reshape(&dims);
        let last = shape.last().copied().unwrap_or(0);
        let (ours, theirs) = match lay {
            Lay::Contiguous => (ours, theirs),
            Lay::Transposed => (ours.transpose(-2, -1).unwrap(), theirs.transpose(-2, -1)),
            Lay::Narrowed => (ours.narrow(-1, 1, last).unwrap(), theirs.narrow(-1, 1, last as i64)),
        };
        Leaf(ours.detach().requires_grad_(true).unwrap(), theirs.detach().set_requires_grad(true))
    }

    fn uniform(rng: &mut StdRng, lo: f64, hi: f64) -> impl FnMut() -> f64 + '_ {
        move || rng.random_range(lo..hi)
    }

    /// Runs an op in both libraries on the same leaves, then backward with the same output weights, and
    /// compares the outputs and every leaf's gradient (shape and values).
    fn parity<T: Both>(name: &str, leaves: &[Leaf<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
        let (our_leaves, their_leaves): (Vec<Tensor<T>>, Vec<tch::Tensor>) =
            leaves.iter().map(|Leaf(a, b)| (a.clone(), b.shallow_clone())).unzip();
        let out = ours(&our_leaves).unwrap_or_else(|e| panic!("{name}: {e}"));
        let torch_out = theirs(&their_leaves);
        assert_eq!(out.shape(), shape_of(&torch_out).as_slice(), "{name}: output shape");
        close(&out.to_vec().unwrap(), &values::<T>(&torch_out), &format!("{name} forward"));
        if !torch_out.requires_grad() {
            assert!(!out.requires_grad(), "{name}: libtorch's output has no history, ours does");
            return;
        }

        let n = out.numel();
        let weights: Vec<T> = (0..n).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5).unwrap()).collect();
        let w = Tensor::from_vec(weights, out.shape()).unwrap();
        out.mul(&w).unwrap().sum().unwrap().backward().unwrap_or_else(|e| panic!("{name} backward: {e}"));
        (torch_out * to_tch(&w)).sum(None).backward();
        for (i, (ours, theirs)) in our_leaves.iter().zip(&their_leaves).enumerate() {
            let theirs = theirs.grad();
            let zeros = vec![T::zero(); ours.numel()];
            let expected = if theirs.defined() { values::<T>(&theirs) } else { zeros.clone() };
            let got = match ours.grad() {
                Some(g) => {
                    assert_eq!(g.shape(), ours.shape(), "{name}: gradient shape of input {i}");
                    g.to_vec().unwrap()
                }
                None => zeros,
            };
            close(&got, &expected, &format!("{name} grad {i}"));
        }
        // The leaves are reused: clear what this op accumulated.
        for (ours, theirs) in our_leaves.iter().zip(&their_leaves) {
            ours.zero_grad();
            let mut g = theirs.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// Both libraries refuse, or neither does.
    fn both_fail<A, B: std::fmt::Debug>(name: &str, ours: Result<A>, theirs: std::result::Result<B, tch::TchError>) {
        match (ours, theirs) {
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) => panic!("{name}: libtorch refuses ({e}), torchlet accepts"),
            (Err(e), Ok(_)) => panic!("{name}: torchlet refuses ({e}), libtorch accepts"),
            (Ok(_), Ok(t)) => panic!("{name}: both accept, expected both to refuse: {t:?}"),
        }
    }

    fn kind<T: Both>() -> tch::Kind {
        <T as tch::kind::Element>::KIND
    }

    fn indices(picks: &[usize]) -> tch::Tensor {
        tch::Tensor::from_slice(&picks.iter().map(|&i| i as i64).collect::<Vec<_>>())
    }

    // ---------------------------------------------------------------------------------------------
    // In-place ops on strided and broadcast views.

    /// Where an in-place op writes: a `[3, 4]` view of a base buffer, made the same way in both libraries.
    #[derive(Clone, Copy, Debug)]
    enum Dst {
        Contiguous,
        /// Columns 1..5 of a `[3, 6]` buffer.
        Narrowed,
        /// The transpose of a `[4, 3]` buffer.
        Transposed,
        /// A `[4]` buffer expanded to `[3, 4]`: several elements share one location.
        Broadcast,
    }

    /// The base buffer and the `[3, 4]` destination view, in both libraries.
    fn destination<T: Both>(dst: Dst, rng: &mut StdRng) -> (Tensor<T>, Tensor<T>, tch::Tensor, tch::Tensor) {
        let base_shape: &[usize] = match dst {
            Dst::Contiguous => &[3, 4],
            Dst::Narrowed => &[3, 6],
            Dst::Transposed => &[4, 3],
            Dst::Broadcast => &[4],
        };
        let Leaf(ours, theirs) = leaf::<T>(base_shape, Lay::Contiguous, &mut uniform(rng, -2.0, 2.0));
        let (ours, theirs) = (ours.detach(), theirs.detach());
        let (view, their_view) = match dst {
            Dst::Contiguous => (ours.clone(), theirs.shallow_clone()),
            Dst::Narrowed => (ours.narrow(1, 1, 4).unwrap(), theirs.narrow(1, 1, 4)),
            Dst::Transposed => (ours.t().unwrap(), theirs.tr()),
            Dst::Broadcast => {
                (ours.unsqueeze(0).unwrap().expand(&[3, 4]).unwrap(), theirs.unsqueeze(0).expand([3, 4], false))
            }
        };
        (ours, view, theirs, their_view)
    }

    /// The sources of an in-place op into `[3, 4]`: strided, broadcast, of lower rank, and two that do
    /// not fit.
    fn sources<T: Both>(rng: &mut StdRng) -> Vec<(&'static str, Tensor<T>, tch::Tensor)> {
        let mut make = |name, buffer: &[usize], view: &dyn Fn(Tensor<T>, tch::Tensor) -> (Tensor<T>, tch::Tensor)| {
            let Leaf(a, b) = leaf::<T>(buffer, Lay::Contiguous, &mut uniform(rng, 0.5, 2.0));
            let (a, b) = view(a.detach(), b.detach());
            (name, a, b)
        };
        vec![
            make("contiguous", &[3, 4], &|a, b| (a, b)),
            make("transposed", &[4, 3], &|a, b| (a.t().unwrap(), b.tr())),
            make("narrowed columns", &[3, 7], &|a, b| (a.narrow(1, 2, 4).unwrap(), b.narrow(1, 2, 4))),
            make("narrowed rows", &[5, 4], &|a, b| (a.narrow(0, 1, 3).unwrap(), b.narrow(0, 1, 3))),
            make("expanded", &[3, 1], &|a, b| (a.expand(&[3, 4]).unwrap(), b.expand([3, 4], false))),
            make("lower rank", &[4], &|a, b| (a, b)),
            make("row", &[1, 4], &|a, b| (a, b)),
            make("column", &[3, 1], &|a, b| (a, b)),
            make("0-D", &[], &|a, b| (a, b)),
            make("transposed row", &[4, 1], &|a, b| (a.t().unwrap(), b.tr())),
            make("too few rows", &[2, 4], &|a, b| (a, b)),
            make("higher rank", &[2, 3, 4], &|a, b| (a, b)),
        ]
    }

    type InPlace<'a, T> = dyn Fn(&Tensor<T>, &Tensor<T>) -> Result<()> + 'a;
    type TheirInPlace<'a> = dyn Fn(&mut tch::Tensor, &tch::Tensor) -> std::result::Result<(), tch::TchError> + 'a;

    type InPlaceOp<'a, T> = (&'static str, Box<InPlace<'a, T>>, Box<TheirInPlace<'a>>);

    fn inplace<'a, T: Both>(
        name: &'static str,
        ours: impl Fn(&Tensor<T>, &Tensor<T>) -> Result<()> + 'a,
        theirs: impl Fn(&mut tch::Tensor, &tch::Tensor) -> std::result::Result<(), tch::TchError> + 'a,
    ) -> InPlaceOp<'a, T> {
        (name, Box::new(ours), Box::new(theirs))
    }

    fn inplace_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let alpha = -0.3;
        let a = T::from_f64(alpha).unwrap();
        let c = T::from_f64(1.5).unwrap();
        // Scalars as 0-D tensors of the element type where the op can fail: tch's `Scalar` panics on drop
        // after a failed op.
        let scalar = |v: f64| tch::Tensor::from(v).to_kind(kind::<T>());
        let ops: Vec<InPlaceOp<'_, T>> = vec![
            inplace("add_", |d, s| d.add_(s).map(drop), |d, s| d.f_add_(s).map(drop)),
            inplace("sub_", |d, s| d.sub_(s).map(drop), |d, s| d.f_sub_(s).map(drop)),
            inplace("mul_", |d, s| d.mul_(s).map(drop), |d, s| d.f_mul_(s).map(drop)),
            inplace("div_", |d, s| d.div_(s).map(drop), |d, s| d.f_div_(s).map(drop)),
            inplace("copy_", |d, s| d.copy_(s).map(drop), |d, s| d.f_copy_(s)),
            // torch's `add_(src, alpha=a)`; tch has no alpha, so libtorch scales first as torchlet does.
            inplace(
                "add_(alpha)",
                move |d: &Tensor<T>, s: &Tensor<T>| d.add_scaled_(s, a).map(drop),
                move |d: &mut tch::Tensor, s: &tch::Tensor| d.f_add_(&(s * alpha)).map(drop),
            ),
            inplace(
                "add_(scalar)",
                move |d, _| d.add_scalar_(c).map(drop),
                move |d, _| d.f_add_(&scalar(1.5)).map(drop),
            ),
            inplace(
                "mul_(scalar)",
                move |d, _| d.mul_scalar_(c).map(drop),
                move |d, _| d.f_mul_(&scalar(1.5)).map(drop),
            ),
            inplace("fill_", move |d, _| d.fill_(c).map(drop), |d, _| d.f_fill_(1.5).map(drop)),
            inplace("zero_", |d, _| d.zero_().map(drop), |d, _| d.f_zero_().map(drop)),
        ];
        for dst in [Dst::Contiguous, Dst::Narrowed, Dst::Transposed, Dst::Broadcast] {
            for (src_name, src, their_src) in sources::<T>(&mut rng) {
                for (op, ours, theirs) in &ops {
                    let name = format!("{op} of a {src_name} {:?} source into a {dst:?} [3, 4]", src.shape());
                    let (base, view, their_base, mut their_view) = destination::<T>(dst, &mut rng);
                    let before = base.to_vec().unwrap();
                    let (result, their_result) = (ours(&view, &src), theirs(&mut their_view, &their_src));
                    // torch's fill_ and zero_ write a scalar through a broadcast view (its other in-place ops
                    // refuse to); torchlet refuses every write through one.
                    let stricter = matches!(dst, Dst::Broadcast) && matches!(*op, "fill_" | "zero_");
                    match (&result, &their_result) {
                        (Ok(()), Ok(())) => close(&base.to_vec().unwrap(), &values::<T>(&their_base), &name),
                        (Err(_), Err(_)) => {
                            assert_eq!(
                                base.to_vec().unwrap(),
                                before,
                                "{name}: a refused write changed the destination"
                            )
                        }
                        (Err(_), Ok(())) if stricter => {
                            assert_eq!(
                                base.to_vec().unwrap(),
                                before,
                                "{name}: a refused write changed the destination"
                            )
                        }
                        _ => panic!("{name}: torchlet {result:?}, libtorch {their_result:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn inplace_ops_on_strided_and_broadcast_views() {
        inplace_ops::<f32>(1);
        inplace_ops::<f64>(2);
        report("inplace_ops_on_strided_and_broadcast_views");
    }

    // ---------------------------------------------------------------------------------------------
    // Views, reductions and indexing on rank 1, 3 and 4.

    fn views_and_indexing<T: Both>(seed: u64) {
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

    fn linear_batched<T: Both>(seed: u64) {
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
    fn reductions_of<T: Both>(what: &str, shape: &[usize], lay: Lay, value: &mut dyn FnMut() -> f64) {
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

    fn reductions<T: Both>(seed: u64) {
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

    // ---------------------------------------------------------------------------------------------
    // Non-contiguous inputs: leaves that are strided views, and views made inside the op.

    type Op<T> = (&'static str, Box<Ours<'static, T>>, Box<Theirs<'static>>);

    fn op<T: Both>(
        name: &'static str,
        ours: impl Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'static,
        theirs: impl Fn(&[tch::Tensor]) -> tch::Tensor + 'static,
    ) -> Op<T> {
        (name, Box::new(ours), Box::new(theirs))
    }

    fn unary_ops<T: Both>() -> Vec<Op<T>> {
        let t = |v: f64| T::from_f64(v).unwrap();
        vec![
            op("neg", |x| x[0].neg(), |x| -&x[0]),
            op("square", |x| x[0].square(), |x| x[0].square()),
            op("exp", |x| x[0].exp(), |x| x[0].exp()),
            op("abs", |x| x[0].abs(), |x| x[0].abs()),
            op("sign", |x| x[0].sign(), |x| x[0].sign()),
            op("powi", |x| x[0].powi(3), |x| x[0].pow_tensor_scalar(3)),
            op("relu", |x| x[0].relu(), |x| x[0].relu()),
            op("leaky_relu", move |x| x[0].leaky_relu(t(0.01)), |x| x[0].leaky_relu()),
            op("sigmoid", |x| x[0].sigmoid(), |x| x[0].sigmoid()),
            op("tanh", |x| x[0].tanh(), |x| x[0].tanh()),
            op("gelu", |x| x[0].gelu(GeluApproximate::None), |x| x[0].gelu("none")),
            op("gelu tanh", |x| x[0].gelu(GeluApproximate::Tanh), |x| x[0].gelu("tanh")),
            op("silu", |x| x[0].silu(), |x| x[0].silu()),
            op("softplus", move |x| x[0].softplus(t(1.0), t(20.0)), |x| x[0].softplus()),
            op("elu", move |x| x[0].elu(t(1.0)), |x| x[0].elu()),
            op("clamp", move |x| x[0].clamp(Some(t(-0.5)), Some(t(0.7))), |x| x[0].clamp(-0.5, 0.7)),
            op("add_scalar", move |x| x[0].add_scalar(t(1.5)), |x| &x[0] + 1.5),
            op("mul_scalar", move |x| x[0].mul_scalar(t(1.5)), |x| &x[0] * 1.5),
        ]
    }

    /// Ops defined for positive inputs only.
    fn positive_ops<T: Both>() -> Vec<Op<T>> {
        let t = |v: f64| T::from_f64(v).unwrap();
        vec![
            op("sqrt", |x| x[0].sqrt(), |x| x[0].sqrt()),
            op("log", |x| x[0].log(), |x| x[0].log()),
            op("log1p", |x| x[0].log1p(), |x| x[0].log1p()),
            op("powf", move |x| x[0].powf(t(1.7)), |x| x[0].pow_tensor_scalar(1.7)),
            op("rdiv_scalar", move |x| x[0].rdiv_scalar(t(1.5)), |x| x[0].reciprocal() * 1.5),
        ]
    }

    fn binary_ops<T: Both>() -> Vec<Op<T>> {
        vec![
            op("add", |x| x[0].add(&x[1]), |x| &x[0] + &x[1]),
            op("sub", |x| x[0].sub(&x[1]), |x| &x[0] - &x[1]),
            op("mul", |x| x[0].mul(&x[1]), |x| &x[0] * &x[1]),
            op("div", |x| x[0].div(&x[1]), |x| &x[0] / &x[1]),
            op("maximum", |x| x[0].maximum(&x[1]), |x| x[0].maximum(&x[1])),
            op("minimum", |x| x[0].minimum(&x[1]), |x| x[0].minimum(&x[1])),
        ]
    }

    fn noncontiguous_elementwise<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for shape in [&[3, 4][..], &[2, 3, 4], &[5]] {
            for lay in LAYS {
                let x = [leaf::<T>(shape, lay, &mut uniform(&mut rng, -2.0, 2.0))];
                let pos = [leaf::<T>(shape, lay, &mut uniform(&mut rng, 0.5, 3.0))];
                for (op, ours, theirs) in unary_ops::<T>() {
                    parity(&format!("{op} of {shape:?} {lay:?}"), &x, &*ours, &*theirs);
                }
                for (op, ours, theirs) in positive_ops::<T>() {
                    parity(&format!("{op} of {shape:?} {lay:?}"), &pos, &*ours, &*theirs);
                }
                // The same ops on a view made inside the graph: a transpose, then the op.
                if shape.len() >= 2 {
                    for (op, ours, theirs) in unary_ops::<T>() {
                        parity(
                            &format!("{op} of the transpose of {shape:?} {lay:?}"),
                            &x,
                            &|x| ours(&[x[0].transpose(-2, -1)?]),
                            &|x| theirs(&[x[0].transpose(-2, -1)]),
                        );
                    }
                }
            }
            // Two operands in every pair of layouts, one of them broadcast from a lower rank or an expand.
            let last = *shape.last().unwrap();
            for lay_a in LAYS {
                for lay_b in LAYS {
                    let a = leaf::<T>(shape, lay_a, &mut uniform(&mut rng, -2.0, 2.0));
                    let b = leaf::<T>(shape, lay_b, &mut uniform(&mut rng, 0.5, 2.0));
                    let low = leaf::<T>(&[last], lay_b, &mut uniform(&mut rng, 0.5, 2.0));
                    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                    for (op, ours, theirs) in binary_ops::<T>() {
                        let name = format!("{op} of {shape:?} {lay_a:?} and {lay_b:?}");
                        parity(&name, &[a.clone(), b.clone()], &*ours, &*theirs);
                        parity(&format!("{name} [{last}]"), &[a.clone(), low.clone()], &*ours, &*theirs);
                        parity(
                            &format!("{name} [{last}] expanded"),
                            &[a.clone(), low.clone()],
                            &|x| ours(&[x[0].clone(), x[1].expand(shape)?]),
                            &|x| theirs(&[x[0].shallow_clone(), x[1].expand(&dims, false)]),
                        );
                    }
                }
            }
        }
    }

    fn noncontiguous_matmul<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        // Small products take torchlet's direct loop, large ones the GEMM: both with strided operands.
        for (m, k, n) in [(3, 4, 5), (17, 40, 23)] {
            for lay_a in LAYS {
                for lay_b in LAYS {
                    let mut value = uniform(&mut rng, -1.0, 1.0);
                    let a = leaf::<T>(&[m, k], lay_a, &mut value);
                    let b = leaf::<T>(&[k, n], lay_b, &mut value);
                    let v = leaf::<T>(&[k], lay_b, &mut value);
                    let u = leaf::<T>(&[k], lay_a, &mut value);
                    let name = format!("[{m}, {k}] {lay_a:?} by [{k}, {n}] {lay_b:?}");
                    let mm = |x: &[tch::Tensor]| x[0].matmul(&x[1]);
                    let ours = |x: &[Tensor<T>]| x[0].matmul(&x[1]);
                    parity(&format!("mm {name}"), &[a.clone(), b.clone()], &ours, &mm);
                    parity(&format!("mv {name}"), &[a.clone(), v.clone()], &ours, &mm);
                    parity(&format!("vm {name}"), &[v.clone(), b.clone()], &ours, &mm);
                    parity(&format!("dot {name}"), &[u, v], &ours, &mm);
                    parity(
                        &format!("mm of narrowed {name}"),
                        &[a, b],
                        &|x| x[0].narrow(0, 1, m - 1)?.matmul(&x[1].narrow(1, 1, n - 1)?),
                        &|x| x[0].narrow(0, 1, m as i64 - 1).matmul(&x[1].narrow(1, 1, n as i64 - 1)),
                    );
                }
            }
        }
    }

    fn noncontiguous_losses<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (n, c) = (5, 4);
        let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..c)).collect();
        let target = indices(&labels);
        let reductions = [
            (Reduction::Mean, tch::Reduction::Mean),
            (Reduction::Sum, tch::Reduction::Sum),
            (Reduction::None, tch::Reduction::None),
        ];
        for lay in LAYS {
            let x = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, -2.0, 2.0));
            let y = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, -2.0, 2.0));
            let probs_lay = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, 0.05, 0.95));
            let probs = probs_lay.0.detach();
            let their_probs = probs_lay.1.detach();
            let xy = [x.clone(), y];
            let name = |op: &str| format!("{op} of [{n}, {c}] {lay:?}");
            parity(
                &name("cross_entropy by index"),
                std::slice::from_ref(&x),
                &|t| F::cross_entropy(&t[0], &labels[..]),
                &|t| t[0].cross_entropy_loss::<&tch::Tensor>(&target, None, tch::Reduction::Mean, -100, 0.0),
            );
            parity(
                &name("cross_entropy by probabilities"),
                std::slice::from_ref(&x),
                &|t| F::cross_entropy(&t[0], &probs),
                &|t| t[0].cross_entropy_loss::<&tch::Tensor>(&their_probs, None, tch::Reduction::Mean, -100, 0.0),
            );
            for (ours, theirs) in reductions {
                let name = |op: &str| name(&format!("{op} {ours:?}"));
                parity(&name("mse_loss"), &xy, &|t| F::mse_loss(&t[0], &t[1], ours), &|t| t[0].mse_loss(&t[1], theirs));
                parity(&name("l1_loss"), &xy, &|t| F::l1_loss(&t[0], &t[1], ours), &|t| t[0].l1_loss(&t[1], theirs));
                parity(&name("huber_loss"), &xy, &|t| F::huber_loss(&t[0], &t[1], ours, 0.5), &|t| {
                    t[0].huber_loss(&t[1], theirs, 0.5)
                });
                parity(&name("smooth_l1_loss"), &xy, &|t| F::smooth_l1_loss(&t[0], &t[1], ours, 0.5), &|t| {
                    t[0].smooth_l1_loss(&t[1], theirs, 0.5)
                });
                parity(
                    &name("nll_loss"),
                    std::slice::from_ref(&x),
                    &|t| F::nll_loss(&t[0].log_softmax(1)?, &labels, None, None, ours),
                    &|t| t[0].log_softmax(1, None).f_nll_loss::<&tch::Tensor>(&target, None, theirs, -100).unwrap(),
                );
                parity(
                    &name("binary_cross_entropy"),
                    std::slice::from_ref(&probs_lay),
                    &|t| F::binary_cross_entropy(&t[0], &probs, None, ours),
                    &|t| t[0].binary_cross_entropy::<&tch::Tensor>(&their_probs, None, theirs),
                );
                parity(
                    &name("binary_cross_entropy_with_logits"),
                    std::slice::from_ref(&x),
                    &|t| F::binary_cross_entropy_with_logits(&t[0], &probs, None, None, ours),
                    &|t| t[0].binary_cross_entropy_with_logits::<&tch::Tensor>(&their_probs, None, None, theirs),
                );
            }
        }
    }

    #[test]
    fn noncontiguous_unary_and_binary() {
        noncontiguous_elementwise::<f32>(9);
        noncontiguous_elementwise::<f64>(10);
        report("noncontiguous_unary_and_binary");
    }

    #[test]
    fn noncontiguous_matmul_operands() {
        noncontiguous_matmul::<f32>(11);
        noncontiguous_matmul::<f64>(12);
        report("noncontiguous_matmul_operands");
    }

    #[test]
    fn noncontiguous_losses_and_softmax() {
        noncontiguous_losses::<f32>(13);
        noncontiguous_losses::<f64>(14);
        report("noncontiguous_losses_and_softmax");
    }

    // ---------------------------------------------------------------------------------------------
    // Zero-size tensors.

    fn zero_size<T: Both>(seed: u64) {
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

    // ---------------------------------------------------------------------------------------------
    // NaN and the infinities, forward and backward.

    const SPECIAL: [f64; 6] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.5, 2.0];

    /// A `[6, 6]` leaf whose rows are rotations of [`SPECIAL`], so every pair of special values meets in
    /// a binary op of it with its transpose.
    fn special<T: Both>(lay: Lay) -> Leaf<T> {
        let mut i = 0;
        let mut value = || {
            let (row, col) = (i / 6, i % 6);
            i += 1;
            SPECIAL[(row + col) % 6]
        };
        leaf::<T>(&[6, 6], lay, &mut value)
    }

    fn non_finite<T: Both>() {
        for lay in LAYS {
            let x = [special::<T>(lay)];
            let name = |op: &str| format!("{op} of NaN and infinities ({lay:?})");
            // ELU's gradient at NaN is not one thing in libtorch: its vectorised kernel gives NaN, its scalar
            // one (strided inputs, the tail of a row) the incoming gradient.
            for (op, ours, theirs) in unary_ops::<T>().into_iter().chain(positive_ops::<T>()).filter(|o| o.0 != "elu") {
                parity(&name(op), &x, &*ours, &*theirs);
            }
            for (op, ours, theirs) in binary_ops::<T>() {
                parity(&name(op), &x, &|x| ours(&[x[0].clone(), x[0].t()?]), &|x| {
                    theirs(&[x[0].shallow_clone(), x[0].tr()])
                });
            }
            parity(&name("sum"), &x, &|x| x[0].sum(), &|x| x[0].sum(None));
            parity(&name("mean"), &x, &|x| x[0].mean(), &|x| x[0].mean(None));
            parity(&name("max"), &x, &|x| x[0].max(), &|x| x[0].max());
            parity(&name("min"), &x, &|x| x[0].min(), &|x| x[0].min());
            let k = kind::<T>();
            for d in [0i64, 1, -1] {
                let di = d as isize;
                let name = |op: &str| name(&format!("{op}({d})"));
                parity(&name("sum_dim"), &x, &|x| x[0].sum_dim(di, false), &|x| x[0].sum_dim_intlist(d, false, None));
                parity(&name("max_dim"), &x, &|x| Ok(x[0].max_dim(di, false)?.0), &|x| x[0].max_dim(d, false).0);
                parity(&name("min_dim"), &x, &|x| Ok(x[0].min_dim(di, false)?.0), &|x| x[0].min_dim(d, false).0);
                parity(&name("argmax"), &x, &|x| x[0].argmax(di, false), &|x| x[0].argmax(d, false).to_kind(k));
                parity(&name("argmin"), &x, &|x| x[0].argmin(di, false), &|x| x[0].argmin(d, false).to_kind(k));
                parity(&name("softmax"), &x, &|x| x[0].softmax(di), &|x| x[0].softmax(d, None));
                parity(&name("log_softmax"), &x, &|x| x[0].log_softmax(di), &|x| x[0].log_softmax(d, None));
            }
            // A row without NaN but with both infinities: max is +∞; softmax is NaN throughout in libtorch
            // (+∞ - +∞ in the shift), where the limit would be one-hot.
            let rows = |x: &Tensor<T>| x.narrow(0, 1, 1).and_then(|r| r.narrow(1, 0, 5));
            parity(&name("max of a row with one +inf"), &x, &|x| rows(&x[0])?.max(), &|x| {
                x[0].narrow(0, 1, 1).narrow(1, 0, 5).max()
            });
            parity(&name("softmax of a row with one +inf"), &x, &|x| rows(&x[0])?.softmax(1), &|x| {
                x[0].narrow(0, 1, 1).narrow(1, 0, 5).softmax(1, None)
            });
        }
    }

    #[test]
    fn nan_and_infinities() {
        non_finite::<f32>();
        non_finite::<f64>();
        report("nan_and_infinities");
    }

    // ---------------------------------------------------------------------------------------------
    // SGD against libtorch's own (torch::optim::SGD through tch), several parameters, one without a
    // gradient, learning-rate changes between steps.

    use torchlet::optim::{SgdConfig, SGD};

    const SGD_STEPS: usize = 30;

    fn lr_at(step: usize, lr: f64) -> f64 {
        match step {
            0..10 => lr,
            10..20 => lr * 0.3,
            _ => lr * 1.7,
        }
    }

    /// x [8, 3], y [8, 2] and the parameters W1 [5, 3], b1 [5], W2 [2, 5], b2 [2] and an unused [4].
    fn mlp_problem<T: Both>(seed: u64) -> (Tensor<T>, Tensor<T>, Vec<Tensor<T>>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut randn = |shape: &[usize]| Tensor::<T>::randn(shape, &mut rng);
        let (x, y) = (randn(&[8, 3]), randn(&[8, 2]));
        let params = [&[5, 3][..], &[5], &[2, 5], &[2], &[4]].map(&mut randn).to_vec();
        (x, y, params)
    }

    /// MSE of `relu(x·W1ᵀ + b1)·W2ᵀ + b2` (times `sign`), in torchlet.
    fn mlp_loss<T: Both>(p: &[Tensor<T>], x: &Tensor<T>, y: &Tensor<T>, sign: f64) -> Result<Tensor<T>> {
        let hidden = x.matmul(&p[0].t()?)?.add(&p[1])?.relu()?;
        F::mse_loss(&hidden.matmul(&p[2].t()?)?.add(&p[3])?, y, Reduction::Mean)?.mul_scalar(T::from_f64(sign).unwrap())
    }

    /// The same in libtorch, unsigned.
    fn their_mlp_loss(p: &[tch::Tensor], x: &tch::Tensor, y: &tch::Tensor) -> tch::Tensor {
        let hidden = (x.matmul(&p[0].tr()) + &p[1]).relu();
        (hidden.matmul(&p[2].tr()) + &p[3]).mse_loss(y, tch::Reduction::Mean)
    }

    fn fresh<T: Both>(params: &[Tensor<T>]) -> Vec<Tensor<T>> {
        params.iter().map(|p| p.detach().deep_clone().unwrap().requires_grad_(true).unwrap()).collect()
    }

    /// Trains the MLP with torchlet's SGD and libtorch's for [`SGD_STEPS`] steps, changing the learning
    /// rate twice, and compares every parameter after every step. With `maximize`, torchlet ascends the
    /// negated loss while libtorch, which has no `maximize`, descends the loss.
    fn sgd_against_libtorch<T: Both>(config: SgdConfig, seed: u64) {
        let (x, y, init) = mlp_problem::<T>(seed);
        let ours = fresh(&init);
        let mut opt = SGD::with_config(ours.clone(), config).unwrap();

        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        vs.set_kind(kind::<T>());
        let root = vs.root();
        let theirs: Vec<tch::Tensor> =
            init.iter().enumerate().map(|(i, p)| root.var_copy(&format!("p{i}"), &to_tch(p))).collect();
        let sgd = tch::nn::Sgd {
            momentum: config.momentum,
            dampening: config.dampening,
            wd: config.weight_decay,
            nesterov: config.nesterov,
        };
        let mut their_opt = tch::nn::OptimizerConfig::build(sgd, &vs, config.lr).unwrap();
        let (tx, ty) = (to_tch(&x), to_tch(&y));
        let unused = init[4].to_vec().unwrap();
        for step in 0..SGD_STEPS {
            let lr = lr_at(step, config.lr);
            opt.set_lr(lr).unwrap();
            their_opt.set_lr(lr);
            opt.zero_grad();
            mlp_loss(&ours[..4], &x, &y, if config.maximize { -1.0 } else { 1.0 }).unwrap().backward().unwrap();
            opt.step().unwrap();
            their_opt.zero_grad();
            their_mlp_loss(&theirs[..4], &tx, &ty).backward();
            their_opt.step();
            for (i, (p, q)) in ours.iter().zip(&theirs).enumerate() {
                close(
                    &p.to_vec().unwrap(),
                    &values::<T>(&q.detach()),
                    &format!("{config:?} step {step} parameter {i}"),
                );
            }
            assert!(ours[4].grad().is_none(), "the unused parameter got a gradient");
            assert_eq!(ours[4].to_vec().unwrap(), unused, "{config:?} step {step}: the unused parameter moved");
        }
    }

    fn sgd_configs() -> Vec<SgdConfig> {
        let base = SgdConfig::new(0.05);
        vec![
            base,
            base.momentum(0.9),
            base.momentum(0.9).dampening(0.3),
            base.momentum(0.9).nesterov(true),
            base.weight_decay(0.1),
            base.momentum(0.5).weight_decay(0.05).nesterov(true),
            base.momentum(0.8).dampening(0.5).weight_decay(0.2),
        ]
    }

    #[test]
    fn sgd_matches_libtorch_step_by_step() {
        for (i, config) in sgd_configs().into_iter().enumerate() {
            for config in [config, config.maximize(true)] {
                sgd_against_libtorch::<f32>(config, 20 + i as u64);
                sgd_against_libtorch::<f64>(config, 20 + i as u64);
            }
        }
        report("sgd_matches_libtorch_step_by_step");
    }

    /// `maximize` of the negated loss against plain descent of the loss, both in torchlet: negation is exact
    /// in every op of the graph and of the rule, so the two runs must agree to the bit.
    fn maximize_is_descent_of_the_negation<T: Both>(config: SgdConfig, seed: u64) {
        let (x, y, init) = mlp_problem::<T>(seed);
        let (up, down) = (fresh(&init), fresh(&init));
        let mut ascend = SGD::with_config(up.clone(), config.maximize(true)).unwrap();
        let mut descend = SGD::with_config(down.clone(), config.maximize(false)).unwrap();
        for step in 0..SGD_STEPS {
            for (opt, params, sign) in [(&mut ascend, &up, -1.0), (&mut descend, &down, 1.0)] {
                opt.set_lr(lr_at(step, config.lr)).unwrap();
                opt.zero_grad();
                mlp_loss(&params[..4], &x, &y, sign).unwrap().backward().unwrap();
                opt.step().unwrap();
            }
            for (i, (a, b)) in up.iter().zip(&down).enumerate() {
                assert_eq!(a.to_vec().unwrap(), b.to_vec().unwrap(), "{config:?} step {step} parameter {i}");
            }
        }
    }

    #[test]
    fn sgd_maximize_is_descent_of_the_negated_loss() {
        for (i, config) in sgd_configs().into_iter().enumerate() {
            maximize_is_descent_of_the_negation::<f32>(config, 40 + i as u64);
            maximize_is_descent_of_the_negation::<f64>(config, 40 + i as u64);
        }
    }

    /// In-place updates under `no_grad` on a leaf that is a strided view land where torch's do.
    #[test]
    fn no_grad_update_of_a_strided_leaf() {
        let mut count = 0.0;
        let mut value = || {
            count += 1.0;
            count * 0.25
        };
        let Leaf(w, tw) = leaf::<f64>(&[3, 4], Lay::Transposed, &mut value);
        let Leaf(g, tg) = leaf::<f64>(&[4, 3], Lay::Narrowed, &mut value);
        let g = g.detach();
        no_grad(|| w.add_scaled_(&g.t().unwrap(), -0.1)).unwrap();
        let _guard = tch::no_grad_guard();
        let mut tw = tw.shallow_clone();
        let _ = tw.f_add_(&(tg.detach().tr() * -0.1)).unwrap();
        close(&w.to_vec().unwrap(), &values::<f64>(&tw), "no_grad add_ of a transposed source into a transposed leaf");
    }
}
