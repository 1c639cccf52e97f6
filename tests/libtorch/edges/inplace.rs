//! In-place ops on strided and broadcast views.

use super::harness::*;

/// Where an in-place op writes: a `[3, 4]` view of a base buffer, made the same way in both libraries.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dst {
    Contiguous,
    /// Columns 1..5 of a `[3, 6]` buffer.
    Narrowed,
    /// The transpose of a `[4, 3]` buffer.
    Transposed,
    /// A `[4]` buffer expanded to `[3, 4]`: several elements share one location.
    Broadcast,
}

/// The base buffer and the `[3, 4]` destination view, in both libraries.
pub(crate) fn destination<T: Both>(dst: Dst, rng: &mut StdRng) -> (Tensor<T>, Tensor<T>, tch::Tensor, tch::Tensor) {
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
pub(crate) fn sources<T: Both>(rng: &mut StdRng) -> Vec<(&'static str, Tensor<T>, tch::Tensor)> {
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

pub(crate) type InPlace<'a, T> = dyn Fn(&Tensor<T>, &Tensor<T>) -> Result<()> + 'a;
pub(crate) type TheirInPlace<'a> =
    dyn Fn(&mut tch::Tensor, &tch::Tensor) -> std::result::Result<(), tch::TchError> + 'a;

pub(crate) type InPlaceOp<'a, T> = (&'static str, Box<InPlace<'a, T>>, Box<TheirInPlace<'a>>);

pub(crate) fn inplace<'a, T: Both>(
    name: &'static str,
    ours: impl Fn(&Tensor<T>, &Tensor<T>) -> Result<()> + 'a,
    theirs: impl Fn(&mut tch::Tensor, &tch::Tensor) -> std::result::Result<(), tch::TchError> + 'a,
) -> InPlaceOp<'a, T> {
    (name, Box::new(ours), Box::new(theirs))
}

pub(crate) fn inplace_ops<T: Both>(seed: u64) {
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
        inplace("add_(scalar)", move |d, _| d.add_scalar_(c).map(drop), move |d, _| d.f_add_(&scalar(1.5)).map(drop)),
        inplace("mul_(scalar)", move |d, _| d.mul_scalar_(c).map(drop), move |d, _| d.f_mul_(&scalar(1.5)).map(drop)),
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
                // Both refuse a write through a broadcast view, except fill_ and zero_, whose one value is
                // the same however often a location is written.
                match (&result, &their_result) {
                    (Ok(()), Ok(())) => close(&base.to_vec().unwrap(), &values::<T>(&their_base), &name, None),
                    (Err(_), Err(_)) => {
                        assert_eq!(base.to_vec().unwrap(), before, "{name}: a refused write changed the destination")
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

/// torch's `addcmul_`, `addcdiv_` and `lerp_` (the optimizers' state updates) into the same destinations
/// from the same sources, each source taking either operand's place; a fixed contiguous `[3, 4]` tensor is
/// the other. tch has no `value` argument, so libtorch is given `value · t1` for `t1`, the product torchlet
/// rounds first too.
fn compound_inplace_ops<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (value, k) = (-0.7, T::from_f64(-0.7).unwrap());
    let Leaf(other, their_other) = leaf::<T>(&[3, 4], Lay::Contiguous, &mut uniform(&mut rng, 0.5, 2.0));
    let (other, their_other) = (other.detach(), their_other.detach());
    let (o, to) = (&other, &their_other);
    // The weight as a 0-D tensor: tch's `Scalar` panics on drop after a failed op.
    let lerp = |w: f64| {
        let (ours, theirs) = (T::from_f64(w).unwrap(), tch::Tensor::from(w).to_kind(kind::<T>()));
        inplace(
            "lerp_",
            move |d: &Tensor<T>, s: &Tensor<T>| d.lerp_(s, ours).map(drop),
            move |d, s| d.f_lerp_tensor_(s, &theirs).map(drop),
        )
    };
    let ops: Vec<InPlaceOp<'_, T>> = vec![
        inplace(
            "addcmul_(src, other)",
            move |d, s| d.addcmul_(s, o, k).map(drop),
            move |d, s| d.f_addcmul_(&(s * value), to).map(drop),
        ),
        inplace(
            "addcmul_(other, src)",
            move |d, s| d.addcmul_(o, s, k).map(drop),
            move |d, s| d.f_addcmul_(&(to * value), s).map(drop),
        ),
        inplace(
            "addcdiv_(src, other)",
            move |d, s| d.addcdiv_(s, o, k).map(drop),
            move |d, s| d.f_addcdiv_(&(s * value), to).map(drop),
        ),
        inplace(
            "addcdiv_(other, src)",
            move |d, s| d.addcdiv_(o, s, k).map(drop),
            move |d, s| d.f_addcdiv_(&(to * value), s).map(drop),
        ),
        lerp(0.3),
        lerp(0.8),
    ];
    for dst in [Dst::Contiguous, Dst::Narrowed, Dst::Transposed, Dst::Broadcast] {
        for (src_name, src, their_src) in sources::<T>(&mut rng) {
            for (op, ours, theirs) in &ops {
                let name = format!("{op} of a {src_name} {:?} source into a {dst:?} [3, 4]", src.shape());
                let (base, view, their_base, mut their_view) = destination::<T>(dst, &mut rng);
                let before = base.to_vec().unwrap();
                match (ours(&view, &src), theirs(&mut their_view, &their_src)) {
                    (Ok(()), Ok(())) => close(&base.to_vec().unwrap(), &values::<T>(&their_base), &name, None),
                    (Err(_), Err(_)) => {
                        assert_eq!(base.to_vec().unwrap(), before, "{name}: a refused write changed the destination")
                    }
                    (result, their_result) => panic!("{name}: torchlet {result:?}, libtorch {their_result:?}"),
                }
            }
        }
    }
}

#[test]
fn compound_inplace_ops_on_strided_and_broadcast_views() {
    compound_inplace_ops::<f32>(3);
    compound_inplace_ops::<f64>(4);
    report("compound_inplace_ops_on_strided_and_broadcast_views");
}
