//! Every wrong input gives a clear error naming the op and the values, and changes nothing.

use torchlet::{Device, Tensor};

fn t(shape: &[usize]) -> Tensor<f32> {
    Tensor::ones(shape)
}

fn message<T: std::fmt::Debug>(result: torchlet::Result<T>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn binary_ops_name_the_shapes_that_do_not_broadcast() {
    let (a, b) = (t(&[2, 3]), t(&[4]));
    for (op, result) in [("add", a.add(&b)), ("sub", a.sub(&b)), ("mul", a.mul(&b)), ("div", a.div(&b))] {
        assert_eq!(
            message(result),
            format!("{op}: shapes [2, 3] and [4] cannot be broadcast together (dim 1: 3 vs 4)")
        );
    }
}

#[test]
#[should_panic(expected = "mul: shapes [2, 3] and [4] cannot be broadcast together")]
fn operators_panic_with_the_same_message() {
    let _ = &t(&[2, 3]) * &t(&[4]);
}

#[test]
fn matmul_names_the_shapes_that_do_not_fit() {
    assert_eq!(message(t(&[3, 4]).matmul(&t(&[5, 2]))), "matmul: shapes [3, 4] and [5, 2] cannot be multiplied");
    assert_eq!(message(t(&[3]).matmul(&t(&[4]))), "matmul: shapes [3] and [4] cannot be multiplied");
    assert_eq!(message(t(&[2, 3]).matmul(&t(&[2]))), "matmul: shapes [2, 3] and [2] cannot be multiplied");
    assert_eq!(message(t(&[2]).matmul(&t(&[3, 2]))), "matmul: shapes [2] and [3, 2] cannot be multiplied");
    assert!(message(t(&[2, 2, 2]).matmul(&t(&[2, 2]))).contains("only 1-D and 2-D operands"));
}

#[test]
fn reductions_and_views_check_their_dims() {
    let x = t(&[2, 3]);
    assert_eq!(
        message(x.sum_dim(2, false)),
        "sum: dimension 2 is out of range for shape [2, 3] (expected a dim in [-2, 1])"
    );
    assert!(message(x.mean_dim(-3, true)).starts_with("mean: dimension -3 is out of range"));
    assert!(message(x.transpose(0, 5)).starts_with("transpose: dimension 5"));
    assert!(message(x.unsqueeze(4)).starts_with("unsqueeze: dimension 4"));
    assert_eq!(message(x.reshape(&[4])), "reshape: shape [2, 3] (6 elements) cannot be reshaped to [4] (4 elements)");
    assert_eq!(message(x.narrow(1, 2, 2)), "narrow: start (2) + length (2) exceeds size 3 of dim 1 in shape [2, 3]");
    assert_eq!(
        message(x.index_select(0, &[0, 2])),
        "index_select: index 2 is out of bounds for dim 0 with size 2 (shape [2, 3])"
    );
    assert_eq!(message(x.expand(&[3, 3])), "expand: shape [2, 3] cannot be expanded to [3, 3]");
    assert!(message(t(&[2, 2, 2]).t()).contains("<= 2 dimensions"));
}

#[test]
fn constructors_and_accessors_reject_bad_values() {
    assert_eq!(
        message(Tensor::<f32>::from_vec(vec![1.0; 5], &[2, 3])),
        "from_vec: 5 elements cannot fill shape [2, 3] (6 elements)"
    );
    assert_eq!(message(t(&[2]).item()), "item: a tensor with 2 elements (shape [2]) cannot be converted to a scalar");
    assert!(message(t(&[2]).to_vec2()).contains("expected a 2-D tensor, got shape [2]"));
    assert!(message(Tensor::<f32>::arange(0.0, 1.0, 0.0)).starts_with("arange: step 0"));
    assert!(message(t(&[2]).set_grad(Some(t(&[3])))).contains("gradient of shape [3] for a tensor of shape [2]"));
    let non_leaf = &t(&[1]).requires_grad_(true).unwrap() * 2.0;
    assert!(message(non_leaf.requires_grad_(false)).contains("only change requires_grad flags of leaf tensors"));
}

#[test]
fn in_place_ops_check_shapes_and_write_nothing_on_error() {
    let x = t(&[2, 3]);
    assert_eq!(
        message(x.add_(&t(&[3, 3]))),
        "add_: source of shape [3, 3] cannot be broadcast to the destination's shape [2, 3]"
    );
    // torch also refuses to grow the destination by broadcasting.
    assert!(message(t(&[3]).copy_(&t(&[2, 3]))).starts_with("copy_: source of shape [2, 3]"));
    assert_eq!(x.to_vec().unwrap(), vec![1.0; 6]);
    assert_eq!(x.version(), 0);
}

#[test]
fn cuda_without_cuda_is_an_error_not_a_panic() {
    if torchlet::cuda::is_available() {
        // With a GPU, only an ordinal past the last device is missing.
        let missing = Device::Cuda(torchlet::cuda::device_count());
        assert!(message(t(&[2]).to(missing)).starts_with("CUDA: "));
        return;
    }
    let err = message(t(&[2]).to(Device::Cuda(0)));
    assert!(err.starts_with("CUDA: "), "{err}");
    assert!(Tensor::<f64>::full_on(&[2], 1.0, Device::Cuda(3)).is_err());
    assert!(message("gpu".parse::<Device>()).contains("unknown device \"gpu\""));
}
