//! `allclose` and `equal` against libtorch's on values near the tolerance, zeros of both signs, the
//! infinities and NaN, broadcast shapes and shapes that differ, in f32 and f64.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn compare_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod parity {
    use crate::common::torch::{to_tch, Both};
    use torchlet::Tensor;

    const SPECIAL: [f64; 9] =
        [0.0, -0.0, 1.0, 1.0 + 1e-6, 1.0 + 2e-5, 1e-9, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];

    fn tensor<T: Both>(values: &[f64], shape: &[usize]) -> Tensor<T> {
        Tensor::from_vec(values.iter().map(|&v| T::from_f64(v).unwrap()).collect(), shape).unwrap()
    }

    fn compare<T: Both>() {
        let mut checked = 0;
        for &a in &SPECIAL {
            for &b in &SPECIAL {
                let (x, y) = (tensor::<T>(&[a, 2.0], &[2]), tensor::<T>(&[b, 2.0], &[2]));
                for (rtol, atol) in [(1e-5, 1e-8), (0.0, 0.0), (1e-3, 0.0), (0.0, 1e-3)] {
                    for equal_nan in [false, true] {
                        let ours = x.allclose(&y, rtol, atol, equal_nan).unwrap();
                        let theirs = to_tch(&x).allclose(&to_tch(&y), rtol, atol, equal_nan);
                        assert_eq!(ours, theirs, "allclose({a}, {b}, rtol {rtol}, atol {atol}, equal_nan {equal_nan})");
                        checked += 1;
                    }
                }
                assert_eq!(x.equal(&y).unwrap(), to_tch(&x).equal(&to_tch(&y)), "equal({a}, {b})");
            }
        }
        // Broadcasting in allclose; none in equal, where shapes that differ are simply unequal.
        let (row, col) = (tensor::<T>(&[1.0, 2.0, 3.0], &[1, 3]), tensor::<T>(&[1.0, 1.0], &[2, 1]));
        assert_eq!(
            row.allclose(&col, 1e-5, 1e-8, false).unwrap(),
            to_tch(&row).allclose(&to_tch(&col), 1e-5, 1e-8, false)
        );
        let ones = tensor::<T>(&[1.0, 1.0], &[2]);
        let (flat, column) = (ones.clone(), ones.reshape(&[2, 1]).unwrap());
        assert_eq!(flat.equal(&column).unwrap(), to_tch(&flat).equal(&to_tch(&column)));
        assert!(flat.allclose(&column, 1e-5, 1e-8, false).unwrap());
        assert!(checked > 600);
    }

    #[test]
    fn allclose_and_equal_match_libtorch() {
        compare::<f32>();
        compare::<f64>();
    }
}
