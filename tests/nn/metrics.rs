//! `metrics`: the tutorials' modified MAPE (with its reference values) and the L2 distance.

use torchlet::metrics::{l2_distance, mape};
use torchlet::{Result, Tensor};

#[test]
fn mape_reference_values() -> Result<()> {
    let a = Tensor::<f64>::full(&[3, 3], 2.0);
    let zero = &a * 0.0;
    assert_eq!(mape(&a, &a)?, 0.0);
    assert_eq!(mape(&zero, &a)?, 100.0);
    assert_eq!(mape(&-&a, &a)?, 200.0);
    assert_eq!(mape(&a, &zero)?, 200.0);
    let a32 = Tensor::<f32>::full(&[3, 3], 2.0);
    assert_eq!((mape(&a32, &a32)?, mape(&(&a32 * 0.0), &a32)?, mape(&-&a32, &a32)?), (0.0f32, 100.0, 200.0));
    Ok(())
}

#[test]
fn mape_mixes_relative_and_absolute_terms() -> Result<()> {
    // |(4 - 5)/4| = 0.25, |(-2 - -1)/-2| = 0.5, and |3| for the zero truth: 100 (0.25 + 0.5 + 3) / 3.
    let pred = Tensor::<f64>::new([5.0, -1.0, 3.0]);
    let truth = Tensor::new([4.0, -2.0, 0.0]);
    assert!((mape(&pred, &truth)? - 125.0).abs() < 1e-12);
    // Two scalars, as the tutorials compare biases.
    assert_eq!(mape(&Tensor::scalar(0.75), &Tensor::scalar(1.0))?, 25.0);
    assert_eq!(mape(&Tensor::new([0.75]), &Tensor::new([1.0]))?, 25.0);
    // A tiny relative difference stays tiny: the tutorials expect ~1e-16 between equal models.
    let m = mape(&Tensor::new([1.0 + f64::EPSILON]), &Tensor::new([1.0]))?;
    assert!(m > 0.0 && m < 1e-13);
    Ok(())
}

#[test]
fn metric_errors_name_the_op_and_the_shapes() {
    let err = mape(&Tensor::<f64>::zeros(&[3]), &Tensor::zeros(&[3, 1])).unwrap_err().to_string();
    assert_eq!(err, "mape: shapes [3] and [3, 1] must match");
    let err = mape(&Tensor::scalar(1.0), &Tensor::new([1.0])).unwrap_err().to_string();
    assert_eq!(err, "mape: shapes [] and [1] must match");
    let err = mape(&Tensor::<f64>::zeros(&[0, 2]), &Tensor::zeros(&[0, 2])).unwrap_err().to_string();
    assert_eq!(err, "mape: cannot average over empty tensors of shape [0, 2]");
    let err = l2_distance(&Tensor::<f32>::zeros(&[2, 3]), &Tensor::zeros(&[3, 2])).unwrap_err().to_string();
    assert_eq!(err, "l2_distance: shapes [2, 3] and [3, 2] must match");
}

#[test]
fn l2_distance_values() -> Result<()> {
    assert_eq!(
        l2_distance(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]), &Tensor::new([[1.0, 0.0], [0.0, 4.0]]))?,
        13f64.sqrt()
    );
    assert_eq!(l2_distance(&Tensor::scalar(-1.5), &Tensor::scalar(1.5))?, 3.0);
    assert_eq!(l2_distance(&Tensor::<f32>::zeros(&[0]), &Tensor::zeros(&[0]))?, 0.0);
    let a = Tensor::<f32>::new([1.0, 1.0]);
    assert_eq!(l2_distance(&a, &a)?, 0.0f32);
    // Strided views read in logical order.
    let m = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(l2_distance(&m.t()?, &Tensor::new([[1.0, 3.0], [2.0, 4.0]]))?, 0.0);
    Ok(())
}
