//! Tensor ops: shapes that do not broadcast or multiply, dims out of range, wrong element counts.

use super::{assert_unchanged, message, param, snapshot};
use std::panic::{catch_unwind, AssertUnwindSafe};
use torchlet::{no_grad, Tensor};

/// Two parameters whose shapes [2, 3] and [4] do not broadcast.
fn operands() -> (Tensor<f64>, Tensor<f64>) {
    (param(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]), param(&[7.0, 8.0, 9.0, 10.0], &[4]))
}

macro_rules! binary_shape_mismatch {
    ($($test:ident: $method:ident names $op:literal;)*) => {$(
        #[test]
        fn $test() {
            let (a, b) = operands();
            let before = snapshot(&[&a, &b]);
            assert_eq!(
                message(a.$method(&b)),
                concat!($op, ": shapes [2, 3] and [4] cannot be broadcast together (dim 1: 3 vs 4)")
            );
            // Leading dims are named too when the ranks differ.
            let c = param(&[0.0; 12], &[3, 1, 4]);
            assert_eq!(
                message(c.$method(&a)),
                concat!($op, ": shapes [3, 1, 4] and [2, 3] cannot be broadcast together (dim 2: 4 vs 3)")
            );
            assert_unchanged(&before, &[&a, &b]);
        }
    )*};
}

binary_shape_mismatch! {
    add_shapes_that_do_not_broadcast: add names "add";
    sub_shapes_that_do_not_broadcast: sub names "sub";
    mul_shapes_that_do_not_broadcast: mul names "mul";
    div_shapes_that_do_not_broadcast: div names "div";
}

#[test]
fn operators_panic_with_the_fallible_twins_message() {
    let (a, b) = operands();
    for (op, result) in [
        ("add", catch_unwind(AssertUnwindSafe(|| &a + &b))),
        ("sub", catch_unwind(AssertUnwindSafe(|| &a - &b))),
        ("mul", catch_unwind(AssertUnwindSafe(|| &a * &b))),
        ("div", catch_unwind(AssertUnwindSafe(|| &a / &b))),
    ] {
        let payload = result.err().unwrap_or_else(|| panic!("`{op}` operator did not panic"));
        let text = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains(&format!("{op}: shapes [2, 3] and [4] cannot be broadcast together")), "{text}");
    }
}

#[test]
fn matmul_shapes_that_do_not_multiply() {
    let cases: [(&[usize], &[usize]); 4] = [(&[3, 4], &[5, 2]), (&[3], &[4]), (&[2, 3], &[2]), (&[2], &[3, 2])];
    for (l, r) in cases {
        let (a, b) = (param(&vec![1.0; l.iter().product()], l), param(&vec![1.0; r.iter().product()], r));
        let before = snapshot(&[&a, &b]);
        assert_eq!(message(a.matmul(&b)), format!("matmul: shapes {l:?} and {r:?} cannot be multiplied"));
        assert_unchanged(&before, &[&a, &b]);
    }
    let (a, b) = (param(&[1.0; 8], &[2, 2, 2]), param(&[1.0; 4], &[2, 2]));
    let err = message(a.matmul(&b));
    assert!(err.starts_with("matmul: ") && err.contains("only 1-D and 2-D operands"), "{err}");
    // mm is matmul restricted to 2-D operands, and reports as matmul.
    assert_eq!(message(param(&[1.0; 2], &[2]).mm(&b)), "matmul: shapes [2] and [2, 2] cannot be multiplied");
}

#[test]
fn sum_over_a_dim_out_of_range() {
    let x = param(&[1.0; 6], &[2, 3]);
    let before = snapshot(&[&x]);
    assert_eq!(
        message(x.sum_dim(2, false)),
        "sum: dimension 2 is out of range for shape [2, 3] (expected a dim in [-2, 1])"
    );
    assert_eq!(
        message(x.sum_dim(-3, true)),
        "sum: dimension -3 is out of range for shape [2, 3] (expected a dim in [-2, 1])"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn mean_over_a_dim_out_of_range() {
    let x = param(&[1.0; 6], &[2, 3]);
    let before = snapshot(&[&x]);
    assert_eq!(
        message(x.mean_dim(5, false)),
        "mean: dimension 5 is out of range for shape [2, 3] (expected a dim in [-2, 1])"
    );
    let s = Tensor::<f64>::scalar(1.0);
    assert_eq!(
        message(s.mean_dim(1, false)),
        "mean: dimension 1 is out of range for shape [] (expected a dim in [-1, 0])"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn views_over_a_dim_out_of_range() {
    let x = param(&[1.0; 6], &[2, 3]);
    let before = snapshot(&[&x]);
    assert!(message(x.transpose(0, 2)).starts_with("transpose: dimension 2 is out of range for shape [2, 3]"));
    assert!(message(x.unsqueeze(3)).starts_with("unsqueeze: dimension 3 is out of range for shape [2, 3]"));
    assert!(message(x.squeeze_dim(-3)).starts_with("squeeze: dimension -3 is out of range for shape [2, 3]"));
    assert!(message(x.narrow(2, 0, 1)).starts_with("narrow: dimension 2 is out of range for shape [2, 3]"));
    assert_eq!(message(x.narrow(1, 2, 2)), "narrow: start (2) + length (2) exceeds size 3 of dim 1 in shape [2, 3]");
    assert_eq!(
        message(x.index_select(0, &[0, 2])),
        "index_select: index 2 is out of bounds for dim 0 with size 2 (shape [2, 3])"
    );
    assert_eq!(message(x.expand(&[3, 3])), "expand: shape [2, 3] cannot be expanded to [3, 3]");
    assert!(message(param(&[1.0; 8], &[2, 2, 2]).t()).contains("<= 2 dimensions"));
    assert_unchanged(&before, &[&x]);
}

#[test]
fn reshape_to_the_wrong_number_of_elements() {
    let x = param(&[1.0; 6], &[2, 3]);
    let before = snapshot(&[&x]);
    assert_eq!(message(x.reshape(&[4])), "reshape: shape [2, 3] (6 elements) cannot be reshaped to [4] (4 elements)");
    assert_eq!(
        message(x.t().unwrap().reshape(&[7, 1])),
        "reshape: shape [3, 2] (6 elements) cannot be reshaped to [7, 1] (7 elements)"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn item_of_a_non_scalar() {
    let x = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&x]);
    assert_eq!(message(x.item()), "item: a tensor with 2 elements (shape [2]) cannot be converted to a scalar");
    assert_eq!(
        message(Tensor::<f32>::zeros(&[0, 3]).item()),
        "item: a tensor with 0 elements (shape [0, 3]) cannot be converted to a scalar"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn constructors_with_inconsistent_sizes() {
    assert_eq!(
        message(Tensor::<f32>::from_vec(vec![1.0; 5], &[2, 3])),
        "from_vec: 5 elements cannot fill shape [2, 3] (6 elements)"
    );
    assert_eq!(message(Tensor::<f64>::new([1.0, 2.0]).to_vec2()), "to_vec2: expected a 2-D tensor, got shape [2]");
    assert!(message(Tensor::<f32>::arange(0.0, 1.0, 0.0)).starts_with("arange: step 0 cannot go from 0 to 1"));
    assert!(message(Tensor::<f32>::arange(0.0, 1.0, f32::NAN)).starts_with("arange: step NaN"));
}

#[test]
fn in_place_ops_whose_source_does_not_fit_the_destination() {
    let x = Tensor::<f64>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let src = Tensor::<f64>::ones(&[3, 3]);
    let before = snapshot(&[&x, &src]);
    for (op, result) in [
        ("add_", x.add_(&src).map(|_| ())),
        ("sub_", x.sub_(&src).map(|_| ())),
        ("mul_", x.mul_(&src).map(|_| ())),
        ("div_", x.div_(&src).map(|_| ())),
        ("copy_", x.copy_(&src).map(|_| ())),
    ] {
        assert_eq!(
            message(result),
            format!("{op}: source of shape [3, 3] cannot be broadcast to the destination's shape [2, 3]")
        );
    }
    // Broadcasting may stretch the source, never grow the destination (as torch).
    assert!(message(Tensor::<f64>::ones(&[3]).copy_(&x)).starts_with("copy_: source of shape [2, 3]"));
    assert_unchanged(&before, &[&x, &src]);
}

#[test]
fn a_gradient_of_the_wrong_shape() {
    let w = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&w]);
    assert_eq!(
        message(w.set_grad(Some(Tensor::zeros(&[3])))),
        "set_grad: gradient of shape [3] for a tensor of shape [2]"
    );
    assert_unchanged(&before, &[&w]);
    no_grad(|| assert!(w.grad().is_some()));
}

#[test]
fn compound_in_place_updates_whose_sources_do_not_fit() {
    let x = Tensor::<f64>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let (fits, misfit) = (Tensor::<f64>::ones(&[3]), Tensor::<f64>::ones(&[3, 3]));
    let before = snapshot(&[&x, &fits, &misfit]);
    for (op, result) in [
        ("addcmul_", x.addcmul_(&misfit, &fits, 1.0).map(|_| ())),
        ("addcmul_", x.addcmul_(&fits, &misfit, 1.0).map(|_| ())),
        ("addcdiv_", x.addcdiv_(&misfit, &fits, 1.0).map(|_| ())),
        ("addcdiv_", x.addcdiv_(&fits, &misfit, 1.0).map(|_| ())),
        ("lerp_", x.lerp_(&misfit, 0.5).map(|_| ())),
    ] {
        assert_eq!(
            message(result),
            format!("{op}: source of shape [3, 3] cannot be broadcast to the destination's shape [2, 3]")
        );
    }
    // A destination with several elements at one address is refused, as by the other in-place ops.
    let expanded = Tensor::<f64>::ones(&[3]).expand(&[2, 3]).unwrap();
    assert!(message(expanded.addcmul_(&x, &x, 1.0)).starts_with("addcmul_: "));
    assert!(message(expanded.lerp_(&x, 0.5)).starts_with("lerp_: "));
    assert_unchanged(&before, &[&x, &fits, &misfit]);
}

#[test]
fn allclose_with_a_negative_or_nan_tolerance() {
    let (a, b) = (param(&[1.0, 2.0], &[2]), param(&[1.0, 2.0], &[2]));
    let before = snapshot(&[&a, &b]);
    assert_eq!(
        message(a.allclose(&b, -1e-5, 1e-8, false)),
        "allclose: rtol must be greater than or equal to zero, got -0.00001"
    );
    assert_eq!(
        message(a.allclose(&b, 1e-5, f64::NAN, false)),
        "allclose: atol must be greater than or equal to zero, got NaN"
    );
    assert_eq!(
        message(a.allclose(&Tensor::new([1.0, 2.0, 3.0]), 1e-5, 1e-8, false)),
        "allclose: shapes [2] and [3] cannot be broadcast together (dim 0: 2 vs 3)"
    );
    assert_unchanged(&before, &[&a, &b]);
}
