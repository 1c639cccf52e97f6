//! PyTorch's autograd semantics: accumulation, zero_grad, no_grad, detach, version counters, graph freeing.

use crate::common;

use torchlet::{enable_grad, is_grad_enabled, no_grad, Tensor};

fn leaf(values: &[f64]) -> Tensor<f64> {
    Tensor::from_slice(values, &[values.len()]).unwrap().requires_grad_(true).unwrap()
}

#[test]
fn gradients_accumulate_across_backward_calls_until_zeroed() {
    let w = leaf(&[1.0, -2.0]);
    for _ in 0..2 {
        w.square().unwrap().sum().unwrap().backward().unwrap();
    }
    // d/dw sum(w²) = 2w, twice.
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![4.0, -8.0]);

    w.grad().unwrap().zero_().unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![0.0, 0.0], "grad().zero_() zeroes the stored gradient");
    w.square().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![2.0, -4.0]);

    w.zero_grad();
    assert!(w.grad().is_none(), "zero_grad clears the gradient, as torch's set_to_none default");
    w.square().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![2.0, -4.0]);
}

#[test]
fn a_stored_gradient_does_not_alias_other_tensors() {
    // The gradient of a + b reaches both leaves as the same tensor; accumulating into one must not
    // change the other.
    let (a, b) = (leaf(&[1.0]), leaf(&[2.0]));
    a.add(&b).unwrap().sum().unwrap().backward().unwrap();
    a.square().unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(a.grad().unwrap().to_vec().unwrap(), vec![3.0]);
    assert_eq!(b.grad().unwrap().to_vec().unwrap(), vec![1.0]);
}

#[test]
fn no_grad_records_nothing_and_is_scoped_to_the_thread() {
    let w = leaf(&[1.0]);
    let y = no_grad(|| {
        assert!(!is_grad_enabled());
        let inner = enable_grad(|| &w * 2.0);
        assert!(inner.requires_grad(), "enable_grad re-enables recording inside no_grad");
        std::thread::spawn(|| assert!(is_grad_enabled(), "no_grad on one thread leaks into another")).join().unwrap();
        &w * 3.0
    });
    assert!(is_grad_enabled());
    assert!(!y.requires_grad() && y.is_leaf());
    assert!(y.sum().unwrap().backward().is_err());
}

#[test]
fn detach_shares_data_but_cuts_the_graph() {
    let w = leaf(&[1.0, 2.0]);
    let d = w.detach();
    assert!(!d.requires_grad());
    let loss = w.mul(&d).unwrap().sum().unwrap();
    loss.backward().unwrap();
    // Only the tracked factor contributes: d/dw (w * const) = const = w's values.
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![1.0, 2.0]);
    no_grad(|| d.mul_scalar_(10.0).unwrap());
    assert_eq!(w.to_vec().unwrap(), vec![10.0, 20.0], "detach shares storage, as in torch");
}

#[test]
fn an_in_place_change_of_a_saved_tensor_fails_backward() {
    let x = leaf(&[1.0, 2.0]);
    let w = leaf(&[3.0, 4.0]);
    let loss = x.mul(&w).unwrap().sum().unwrap();
    no_grad(|| w.sub_(&Tensor::new([1.0, 1.0])).unwrap());
    let err = loss.backward().unwrap_err().to_string();
    assert!(err.contains("modified by an in-place operation"), "{err}");
    assert!(err.contains("version 1; expected version 0"), "{err}");
    assert!(x.grad().is_none(), "a failed backward must not leave partial gradients behind");
}

#[test]
fn in_place_ops_on_leaves_that_require_grad_need_no_grad() {
    let w = leaf(&[1.0]);
    let err = w.add_scalar_(1.0).unwrap_err().to_string();
    assert!(err.contains("leaf tensor of shape [1] that requires grad"), "{err}");
    assert_eq!(w.to_vec().unwrap(), vec![1.0], "a refused in-place op writes nothing");
    no_grad(|| w.add_scalar_(1.0).unwrap());
    assert_eq!(w.to_vec().unwrap(), vec![2.0]);
}

#[test]
fn backward_of_a_non_scalar_needs_a_gradient() {
    let w = leaf(&[1.0, 2.0]);
    let y = &w * 3.0;
    let err = y.backward().unwrap_err().to_string();
    assert!(err.contains("grad can be implicitly created only for scalar outputs, got shape [2]"), "{err}");
    y.backward_with(&Tensor::new([1.0, 10.0])).unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![3.0, 30.0]);
    let err = y.backward_with(&Tensor::new([1.0])).unwrap_err().to_string();
    assert!(err.contains("gradient has shape [1] but the output has shape [2]"), "{err}");
}

#[test]
fn broadcasting_backward_reduces_to_each_input_shape() {
    let a = Tensor::<f64>::ones(&[3, 1]).requires_grad_(true).unwrap();
    let b = Tensor::<f64>::ones(&[4]).requires_grad_(true).unwrap();
    a.add(&b).unwrap().sum().unwrap().backward().unwrap();
    let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
    assert_eq!((ga.shape(), gb.shape()), (&[3, 1][..], &[4][..]));
    assert_eq!(ga.to_vec().unwrap(), vec![4.0; 3]);
    assert_eq!(gb.to_vec().unwrap(), vec![3.0; 4]);
}

#[test]
fn the_graph_is_freed_by_backward_unless_retained() {
    let w = leaf(&[2.0]);
    let loss = w.square().unwrap().sum().unwrap();
    loss.backward().unwrap();
    let err = loss.backward().unwrap_err().to_string();
    assert!(err.contains("backward through the graph a second time"), "{err}");

    let loss = w.square().unwrap().sum().unwrap();
    w.zero_grad();
    loss.backward_retain_graph(None).unwrap();
    loss.backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![8.0]);
}

#[test]
fn non_leaf_gradients_are_kept_only_when_asked() {
    let w = leaf(&[1.0, 2.0]);
    let h = &w * 2.0;
    let kept = &w * 3.0;
    kept.retain_grad();
    h.add(&kept).unwrap().square().unwrap().sum().unwrap().backward().unwrap();
    assert!(h.grad().is_none());
    // d/dk sum((h + k)²) = 2 (h + k) = 2 * 5w
    assert_eq!(kept.grad().unwrap().to_vec().unwrap(), vec![10.0, 20.0]);
}

#[test]
fn views_share_storage_and_versions() {
    let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]);
    let t = x.t().unwrap();
    assert!(!t.is_contiguous());
    t.narrow(0, 0, 1).unwrap().fill_(0.0).unwrap();
    assert_eq!(x.to_vec().unwrap(), vec![0.0, 2.0, 0.0, 4.0]);
    assert_eq!(x.version(), 1, "a write through a view bumps the base's version");
}

#[test]
fn fill_and_zero_write_through_a_broadcast_view_as_torch() {
    // Every element of the view gets the same value, so a location the view repeats is well defined:
    // torch allows fill_ and zero_ here, and refuses the in-place ops whose result would depend on how
    // often a repeated location is written.
    let base = Tensor::<f64>::new([[1.0], [2.0]]);
    let view = base.expand(&[2, 3]).unwrap().t().unwrap();
    view.fill_(7.0).unwrap();
    assert_eq!(base.to_vec().unwrap(), vec![7.0, 7.0]);
    assert_eq!(view.to_vec().unwrap(), vec![7.0; 6]);
    view.narrow(1, 1, 1).unwrap().zero_().unwrap();
    assert_eq!(base.to_vec().unwrap(), vec![7.0, 0.0]);
    assert_eq!(base.version(), 2, "each write through the view bumps the base's version");
    let err = view.add_scalar_(1.0).unwrap_err().to_string();
    assert!(err.contains("more than one element of the written-to tensor"), "{err}");
    assert_eq!(base.to_vec().unwrap(), vec![7.0, 0.0], "a refused write leaves the base as it was");
    // A huge broadcast view of one element is one write.
    let one = Tensor::<f32>::zeros(&[1]);
    one.expand(&[1 << 40]).unwrap().fill_(3.0).unwrap();
    assert_eq!(one.to_vec().unwrap(), vec![3.0]);
}

#[test]
fn a_long_training_loop_does_not_grow_memory() {
    // Every step builds a graph, runs backward and drops it: if nodes formed cycles or the saved tensors
    // outlived the step, resident memory would climb by hundreds of bytes a step.
    let x = Tensor::<f32>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = Tensor::<f32>::new([[50.0], [110.0], [170.0]]);
    let w = Tensor::<f32>::zeros(&[2, 1]).requires_grad_(true).unwrap();
    let step = || {
        let loss = (&y - &x.matmul(&w).unwrap()).square().unwrap().mean().unwrap();
        loss.backward().unwrap();
        let grad = w.grad().unwrap();
        no_grad(|| w.sub_(&(&grad * 1e-4)).unwrap());
        grad.zero_().unwrap();
    };
    (0..20_000).for_each(|_| step());
    let before = common::resident_bytes();
    (0..200_000).for_each(|_| step());
    let grown = common::resident_bytes().saturating_sub(before);
    assert!(grown < 1 << 20, "resident memory grew by {grown} bytes over 200k steps");
}

#[test]
fn a_classifier_loss_records_torchs_nodes_and_gradient() -> torchlet::Result<()> {
    let logits = leaf(&[2.0, -1.0, 0.5, 0.0, 3.0, -2.0]);
    let x = logits.reshape(&[2, 3])?;
    assert_eq!(x.log_softmax(1)?.grad_fn_name(), Some("LogSoftmaxBackward0"));
    assert_eq!(x.softmax(-1)?.grad_fn_name(), Some("SoftmaxBackward0"));
    assert_eq!(x.softmax(0)?.grad_fn_name(), Some("SoftmaxBackward0"));
    // A 0-dim tensor is one slice of one element: softmax 1 and log-softmax 0, even at 0 itself.
    let zero = Tensor::<f64>::scalar(0.0);
    assert_eq!((zero.softmax(0)?.item()?, zero.log_softmax(-1)?.item()?), (1.0, 0.0));
    let loss = torchlet::nn::functional::cross_entropy(&x, &[0, 2][..])?;
    assert_eq!(loss.grad_fn_name(), Some("NllLossBackward0"));
    loss.backward()?;
    // d/dx mean(-log softmax(x)[t]) = (softmax(x) - onehot(t)) / N, from the definition row by row.
    let rows = [[2.0f64, -1.0, 0.5], [0.0, 3.0, -2.0]];
    let mut want = Vec::new();
    for (row, target) in rows.iter().zip([0, 2]) {
        let total: f64 = row.iter().map(|v| v.exp()).sum();
        want.extend((0..3).map(|j| (row[j].exp() / total - f64::from(j == target)) / 2.0));
    }
    let got = logits.grad().expect("a gradient").to_vec()?;
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-15), "{got:?} against {want:?}");
    Ok(())
}
