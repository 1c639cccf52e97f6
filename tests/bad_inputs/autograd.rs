//! Autograd misuse: backward of a non-scalar, through a freed graph, after an in-place change of a tensor
//! saved for backward, and in-place writes autograd cannot follow.

use super::{assert_unchanged, message, param, snapshot};
use torchlet::{no_grad, Tensor};

#[test]
fn backward_of_a_non_scalar() {
    let w = param(&[1.0, 2.0], &[2]);
    let y = &w * 3.0;
    let before = snapshot(&[&w]);
    assert_eq!(
        message(y.backward()),
        "backward: grad can be implicitly created only for scalar outputs, got shape [2]; \
         pass a gradient with backward_with"
    );
    assert_eq!(
        message(y.backward_with(&Tensor::new([1.0]))),
        "backward: gradient has shape [1] but the output has shape [2]"
    );
    assert_unchanged(&before, &[&w]);
    // The graph was not consumed by the failed calls: a correct call still works.
    y.backward_with(&Tensor::new([1.0, 10.0])).unwrap();
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![3.5, 30.5]);
}

#[test]
fn backward_of_a_tensor_without_history() {
    let x = Tensor::<f64>::new([1.0, 2.0]);
    let loss = x.sum().unwrap();
    assert_eq!(message(loss.backward()), "backward: the tensor does not require grad and has no grad_fn");
    let w = param(&[1.0], &[1]);
    let cut = no_grad(|| w.square().unwrap().sum().unwrap());
    let before = snapshot(&[&w]);
    assert_eq!(message(cut.backward()), "backward: the tensor does not require grad and has no grad_fn");
    assert_unchanged(&before, &[&w]);
}

#[test]
fn backward_twice_through_a_freed_graph() {
    let w = param(&[2.0], &[1]);
    let loss = w.square().unwrap().sum().unwrap();
    loss.backward().unwrap();
    let after_first = snapshot(&[&w]);
    let err = message(loss.backward());
    assert!(err.starts_with("backward: trying to backward through the graph a second time"), "{err}");
    assert!(err.contains("SumBackward0 was already freed"), "names the freed node: {err}");
    assert!(err.contains("use backward_retain_graph the first time"), "says what to do: {err}");
    assert_unchanged(&after_first, &[&w]);
}

#[test]
fn retain_graph_allows_exactly_the_backwards_asked_for() {
    let w = param(&[2.0], &[1]);
    w.zero_grad();
    let loss = w.square().unwrap().sum().unwrap();
    loss.backward_retain_graph(None).unwrap();
    loss.backward_retain_graph(None).unwrap();
    loss.backward().unwrap(); // the last one frees
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![12.0], "three backwards of w² at 2 accumulate 3 × 4");
    let before = snapshot(&[&w]);
    assert!(message(loss.backward()).contains("second time"));
    assert_unchanged(&before, &[&w]);
}

#[test]
fn in_place_change_of_a_tensor_saved_for_backward() {
    let x = param(&[1.0, 2.0], &[2]);
    let w = Tensor::<f64>::new([3.0, 4.0]);
    let loss = x.mul(&w).unwrap().sum().unwrap();
    w.sub_(&Tensor::new([1.0, 1.0])).unwrap(); // w was saved by mul for x's gradient
    let before = snapshot(&[&x, &w]);
    assert_eq!(
        message(loss.backward()),
        "MulBackward0: one of the tensors needed for gradient computation has been modified by an in-place \
         operation: a tensor of shape [2] is at version 1; expected version 0"
    );
    assert_unchanged(&before, &[&x, &w]);
}

#[test]
fn in_place_change_of_a_leaf_that_requires_grad_outside_no_grad() {
    let w = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&w]);
    // The scalar form reports itself as `add_`, torch's name for both.
    assert_eq!(
        message(w.add_scalar_(1.0)),
        "add_: a leaf tensor of shape [2] that requires grad is being used in an in-place operation; \
         wrap the update in no_grad"
    );
    let h = &w * 2.0;
    let err = message(h.mul_scalar_(2.0));
    assert!(err.starts_with("mul_: in-place operations on tensors that require grad are not recorded"), "{err}");
    let plain = Tensor::<f64>::zeros(&[2]);
    let err = message(plain.add_(&w));
    assert!(err.starts_with("add_: in-place operations on tensors that require grad"), "a tracked source too: {err}");
    assert_unchanged(&before, &[&w]);
    assert_eq!(plain.to_vec().unwrap(), vec![0.0, 0.0]);
}

#[test]
fn requires_grad_false_on_a_non_leaf() {
    let w = param(&[1.0], &[1]);
    let h = &w * 2.0;
    let err = message(h.clone().requires_grad_(false));
    assert!(err.starts_with("requires_grad_: you can only change requires_grad flags of leaf tensors"), "{err}");
    assert!(h.requires_grad());
}

#[test]
fn compound_in_place_updates_of_tracked_tensors_outside_no_grad() {
    let w = param(&[1.0, 2.0], &[2]);
    let plain = Tensor::<f64>::ones(&[2]);
    let dst = Tensor::<f64>::zeros(&[2]);
    let before = snapshot(&[&w]);
    let leaf = "a leaf tensor of shape [2] that requires grad is being used in an in-place operation";
    assert!(message(w.addcmul_(&plain, &plain, 1.0)).starts_with(&format!("addcmul_: {leaf}")));
    assert!(message(w.addcdiv_(&plain, &plain, 1.0)).starts_with(&format!("addcdiv_: {leaf}")));
    assert!(message(w.lerp_(&plain, 0.5)).starts_with(&format!("lerp_: {leaf}")));
    // A tracked source in either place.
    let tracked = "in-place operations on tensors that require grad are not recorded";
    assert!(message(dst.addcmul_(&w, &plain, 1.0)).starts_with(&format!("addcmul_: {tracked}")));
    assert!(message(dst.addcdiv_(&plain, &w, 1.0)).starts_with(&format!("addcdiv_: {tracked}")));
    assert!(message(dst.lerp_(&w, 0.5)).starts_with(&format!("lerp_: {tracked}")));
    assert_unchanged(&before, &[&w]);
    assert_eq!(dst.to_vec().unwrap(), vec![0.0, 0.0]);
    // Inside no_grad the same update goes through.
    no_grad(|| w.addcmul_(&plain, &plain, 0.5)).unwrap();
    assert_eq!(w.to_vec().unwrap(), vec![1.5, 2.5]);
}

/// `autograd::grad` misuse: each error names `grad` and says what to do, as torch's messages do.
mod grad_errors {
    use super::super::{assert_unchanged, message, param, snapshot};
    use torchlet::autograd::{grad, grad_with, GradOptions};
    use torchlet::Tensor;

    #[test]
    fn grad_of_a_non_scalar_without_grad_outputs() {
        let x = param(&[1.0, 2.0], &[2]);
        let y = x.square().unwrap();
        let before = snapshot(&[&x]);
        assert_eq!(
            message(grad(&[&y], &[&x])),
            "grad: grad can be implicitly created only for scalar outputs, got shape [2]; pass one with \
             GradOptions::grad_outputs"
        );
        let wrong = Tensor::new([1.0, 1.0, 1.0]);
        assert_eq!(
            message(grad_with(&[&y], &[&x], &GradOptions::new().grad_outputs(&[&wrong]))),
            "grad: grad_outputs[0] has shape [3] but outputs[0] has shape [2]"
        );
        assert_eq!(
            message(grad_with(&[&y], &[&x], &GradOptions::new().grad_outputs(&[&wrong, &wrong]))),
            "grad: grad_outputs has 2 tensors for 1 outputs; give one per output"
        );
        assert_unchanged(&before, &[&x]);
        // The failed calls consumed nothing: a right one still works.
        let g = grad_with(&[&y], &[&x], &GradOptions::new().grad_outputs(&[&Tensor::new([1.0, 10.0])])).unwrap();
        assert_eq!(g[0].as_ref().unwrap().to_vec().unwrap(), vec![2.0, 40.0]);
    }

    #[test]
    fn grad_with_respect_to_a_tensor_that_does_not_require_grad() {
        let x = param(&[1.0, 2.0], &[2]);
        let constant = Tensor::<f64>::new([3.0, 4.0]);
        let y = x.mul(&constant).unwrap().sum().unwrap();
        let before = snapshot(&[&x, &constant]);
        assert_eq!(
            message(grad(&[&y], &[&x, &constant])),
            "grad: One of the differentiated Tensors does not require grad (input 1, shape [2])"
        );
        assert_eq!(
            message(grad(&[&constant.sum().unwrap()], &[&x])),
            "grad: element 0 of outputs does not require grad and does not have a grad_fn"
        );
        assert_eq!(message(grad(&[], &[&x])), "grad: grad requires non-empty outputs and inputs, got 0 and 1");
        assert_unchanged(&before, &[&x, &constant]);
    }

    #[test]
    fn grad_with_respect_to_an_unused_input_without_allow_unused() {
        let (x, unused) = (param(&[1.0, 2.0], &[2]), param(&[5.0], &[1]));
        let y = x.exp().unwrap().sum().unwrap();
        let before = snapshot(&[&x, &unused]);
        assert_eq!(
            message(grad_with(&[&y], &[&x, &unused], &GradOptions::new().retain_graph(true))),
            "grad: One of the differentiated Tensors appears to not have been used in the graph (input 1, shape \
             [1]); set GradOptions::allow_unused(true) if this is the desired behavior"
        );
        assert_unchanged(&before, &[&x, &unused]);
        let g = grad_with(&[&y], &[&x, &unused], &GradOptions::new().allow_unused(true)).unwrap();
        assert!(g[0].is_some() && g[1].is_none());
    }

    #[test]
    fn grad_twice_through_a_freed_graph() {
        let x = param(&[2.0], &[1]);
        let y = x.square().unwrap().sum().unwrap();
        grad(&[&y], &[&x]).unwrap();
        let before = snapshot(&[&x]);
        assert_eq!(
            message(grad(&[&y], &[&x])),
            "grad: trying to backward through the graph a second time (SumBackward0 was already freed); pass \
             GradOptions::retain_graph(true) the first time to keep it"
        );
        // backward after grad: the same graph, the same freed node.
        let err = message(y.backward());
        assert!(err.starts_with("backward: trying to backward through the graph a second time"), "{err}");
        assert_unchanged(&before, &[&x]);
    }
}
