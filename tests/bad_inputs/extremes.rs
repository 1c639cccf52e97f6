//! Extreme shapes and sizes: empty tensors with enormous dims, results that no memory can hold, ranges of
//! more elements than exist. Each gives the right answer or a clear error, never a panic or a wrapped count.

use super::message;
use rand::SeedableRng;
use torchlet::data::{make_regression, MakeRegression};
use torchlet::nn::init;
use torchlet::{Device, Tensor};

const HUGE: usize = usize::MAX;

/// `[0, usize::MAX, 2]`: no elements, whatever its other dims.
fn huge_empty() -> Tensor<f32> {
    Tensor::from_vec(vec![], &[0, HUGE, 2]).unwrap()
}

#[test]
fn an_empty_tensor_with_a_huge_dim_goes_through_ops_that_keep_it_empty() {
    let x = huge_empty();
    assert!(x.is_contiguous());
    assert_eq!(x.numel(), 0);
    assert_eq!(x.sum().unwrap().item().unwrap(), 0.0);
    assert!(x.mean().unwrap().item().unwrap().is_nan(), "the mean of no elements is NaN, as in torch");
    for y in [x.add(&x).unwrap(), x.mul_scalar(2.0).unwrap(), x.exp().unwrap(), x.relu().unwrap()] {
        assert_eq!(y.shape(), &[0, HUGE, 2]);
        assert!(y.to_vec().unwrap().is_empty());
    }
    assert_eq!(x.transpose(0, 2).unwrap().shape(), &[2, HUGE, 0]);
    assert_eq!(x.transpose(0, 2).unwrap().contiguous().unwrap().shape(), &[2, HUGE, 0]);
    assert_eq!(x.narrow(1, 5, 3).unwrap().shape(), &[0, 3, 2]);
    assert_eq!(x.unsqueeze(0).unwrap().shape(), &[1, 0, HUGE, 2]);
    assert_eq!(x.reshape(&[0]).unwrap().shape(), &[0]);
    assert_eq!(x.sum_dim(2, false).unwrap().shape(), &[0, HUGE]);
    assert_eq!(x.softmax(-1).unwrap().shape(), &[0, HUGE, 2]);

    let leaf = huge_empty().requires_grad_(true).unwrap();
    leaf.exp().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(leaf.grad().unwrap().shape(), &[0, HUGE, 2]);
}

#[test]
fn reducing_away_the_empty_dim_of_a_huge_shape_is_an_error() {
    let x = huge_empty();
    for m in [message(x.sum_dim(0, false)), message(x.mean_dim(0, true)), message(x.sum_dim(-3, true))] {
        assert!(m.starts_with("sum:") && m.contains(&format!("[1, {HUGE}, 2]")), "{m}");
    }
}

#[test]
fn a_shape_of_more_elements_than_memory_can_hold_is_an_error() {
    // Refused where the shape is made, as no buffer of that many elements (of 8 bytes, the widest element)
    // fits in one allocation's `isize::MAX` bytes.
    let one = Tensor::<f32>::ones(&[1, 1]);
    let m = message(one.expand(&[1 << 40, 1 << 22]));
    assert!(m.starts_with("expand:") && m.contains("[1099511627776, 4194304]"), "{m}");
    let m = message(one.expand(&[HUGE, 2]));
    assert!(m.starts_with("expand:") && m.contains(&format!("[{HUGE}, 2]")), "{m}");
    // Each operand fits; their broadcast does not.
    let col = one.expand(&[1 << 33, 1]).unwrap();
    let row = one.expand(&[1, 1 << 33]).unwrap();
    let m = message(col.add(&row));
    assert!(m.starts_with("add:") && m.contains("[8589934592, 8589934592]"), "{m}");
    let m = message(col.mul(&row));
    assert!(m.starts_with("mul:"), "{m}");
}

#[test]
fn constructors_of_more_elements_than_memory_can_hold() {
    let m = message(Tensor::<f32>::full_on(&[HUGE, 2], 0.0, Device::Cpu));
    assert!(m.starts_with("full:") && m.contains(&format!("[{HUGE}, 2]")), "{m}");
    let m = message(Tensor::<f64>::full_on(&[1 << 40, 1 << 20], 0.0, Device::Cpu));
    assert!(m.starts_with("full:"), "{m}");
    // The infallible constructors panic with the same message (their `# Panics` section), never abort.
    let panic = std::panic::catch_unwind(|| Tensor::<f32>::zeros(&[HUGE, 2])).unwrap_err();
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("zeros") && text.contains(&format!("[{HUGE}, 2]")), "{text}");
}

#[test]
fn a_matmul_whose_result_cannot_be_held_is_an_error() {
    let a = Tensor::<f32>::from_vec(vec![], &[HUGE, 0]).unwrap();
    let b = Tensor::<f32>::from_vec(vec![], &[0, 2]).unwrap();
    let m = message(a.matmul(&b));
    assert!(m.starts_with("matmul:"), "{m}");
    // k = 0 with a result that fits: zeros, as torch gives.
    let a = Tensor::<f32>::from_vec(vec![], &[3, 0]).unwrap();
    let b = Tensor::<f32>::from_vec(vec![], &[0, 2]).unwrap();
    assert_eq!(a.matmul(&b).unwrap().to_vec2().unwrap(), vec![vec![0.0; 2]; 3]);
}

#[test]
fn arange_over_more_elements_than_exist_is_an_error() {
    let m = message(Tensor::<f64>::arange(0.0, 1e30, 1.0));
    assert!(m.starts_with("arange:") && m.contains("1000000000000000000000000000000"), "{m}");
    let m = message(Tensor::<f32>::arange(0.0, f32::MAX, 1e-30));
    assert!(m.starts_with("arange:"), "{m}");
    assert_eq!(Tensor::<f64>::arange(0.0, 3.0, 1.0).unwrap().to_vec().unwrap(), vec![0.0, 1.0, 2.0]);
    assert_eq!(Tensor::<f64>::arange(3.0, 0.0, 1.0).unwrap().numel(), 0, "an empty range, as torch's");
}

#[test]
fn to_vec2_keeps_the_rows_of_a_tensor_with_no_columns() {
    let x = Tensor::<f32>::zeros(&[3, 0]);
    assert_eq!(x.to_vec2().unwrap(), vec![Vec::<f32>::new(); 3]);
    // More rows than memory can hold, even empty ones.
    let m = message(Tensor::<f32>::from_vec(vec![], &[HUGE, 0]).unwrap().to_vec2());
    assert!(m.starts_with("to_vec2:") && m.contains(&HUGE.to_string()), "{m}");
    assert!(Tensor::<f32>::zeros(&[0, 3]).to_vec2().unwrap().is_empty());
}

#[test]
fn narrow_past_the_end_of_usize_is_an_error() {
    let x = Tensor::<f32>::zeros(&[4, 3]);
    let m = message(x.narrow(0, HUGE, 2));
    assert!(m.starts_with("narrow:") && m.contains(&HUGE.to_string()), "{m}");
    let m = message(x.narrow(1, 2, HUGE));
    assert!(m.starts_with("narrow:"), "{m}");
}

#[test]
fn make_regression_with_more_cells_than_memory_can_hold_is_an_error() {
    let config = MakeRegression { n_samples: HUGE / 2, n_features: 4, ..MakeRegression::default() };
    let m = message(make_regression::<f32>(&config));
    assert!(m.starts_with("make_regression:") && m.contains(&(HUGE / 2).to_string()), "{m}");
    let config = MakeRegression { n_samples: 3, n_features: 4, n_targets: HUGE, ..MakeRegression::default() };
    let m = message(make_regression::<f32>(&config));
    assert!(m.starts_with("make_regression:"), "{m}");
}

#[test]
fn init_of_an_empty_tensor_with_huge_dims_does_not_overflow() {
    // torch: initialising a zero-element tensor does nothing; fans that overflow cannot be computed.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let w = init::kaiming_uniform::<f32, _>(&[0, HUGE, 2], 5f64.sqrt(), &mut rng).unwrap();
    assert_eq!((w.shape(), w.numel()), (&[0, HUGE, 2][..], 0));
    let m = message(init::fan_in_and_fan_out(&[3, HUGE, 2]));
    assert!(m.starts_with("fan_in_and_fan_out:") && m.contains(&format!("[3, {HUGE}, 2]")), "{m}");
}

#[test]
fn one_hot_with_more_cells_than_memory_can_hold_is_an_error() {
    let labels = Tensor::<f32>::from_vec(vec![0.0, 1.0], &[2]).unwrap();
    let m = message(labels.one_hot(HUGE));
    assert!(m.starts_with("one_hot:"), "{m}");
}

#[test]
fn cat_along_dims_that_add_up_past_usize_is_an_error() {
    let x = Tensor::<f32>::from_vec(vec![], &[0, HUGE]).unwrap();
    let m = message(torchlet::cat(&[x.clone(), x.clone()], 1));
    assert!(m.starts_with("cat:"), "{m}");
    assert_eq!(torchlet::cat(&[x.clone(), x], 0).unwrap().shape(), &[0, HUGE]);
}
