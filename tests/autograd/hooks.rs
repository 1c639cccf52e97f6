//! Gradient hooks on tensors (`register_hook`) and forward hooks on modules, with torch's semantics: a leaf's
//! hook sees its gradient before it is accumulated, a non-leaf's when its gradient is complete; either may
//! replace it; handles remove them.

use std::sync::{Arc, Mutex};
use torchlet::autograd::{grad, grad_with, GradOptions};
use torchlet::nn::{Hooked, Linear, Module, ReLU, Sequential};
use torchlet::Tensor;

fn leaf(values: &[f64]) -> Tensor<f64> {
    Tensor::from_slice(values, &[values.len()]).unwrap().requires_grad_(true).unwrap()
}

/// A log of the gradients a hook saw.
type Log = Arc<Mutex<Vec<Vec<f64>>>>;

fn watcher(log: &Log) -> impl Fn(&Tensor<f64>) -> torchlet::Result<Option<Tensor<f64>>> + Send + Sync + 'static {
    let log = Arc::clone(log);
    move |g| {
        log.lock().unwrap().push(g.to_vec()?);
        Ok(None)
    }
}

#[test]
fn a_leaf_hook_sees_the_whole_gradient_once_before_accumulation_and_may_replace_it() {
    let x = leaf(&[1.0, 2.0]);
    x.set_grad(Some(Tensor::new([100.0, 100.0]))).unwrap();
    let log = Log::default();
    x.register_hook(watcher(&log)).unwrap();
    let halving = x.register_hook(|g| Ok(Some(g.mul_scalar(0.5)?))).unwrap();
    // x is used twice: the hook runs once, on the sum of both paths (2x + 3).
    let y = x.square().unwrap().add(&x.mul_scalar(3.0).unwrap()).unwrap().sum().unwrap();
    y.backward().unwrap();
    assert_eq!(*log.lock().unwrap(), vec![vec![5.0, 7.0]], "the first hook saw the gathered gradient");
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![102.5, 103.5], "the replacement was accumulated");
    halving.remove();
    x.mul_scalar(2.0).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![104.5, 105.5], "a removed hook runs no more");
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn a_non_leaf_hook_changes_what_flows_on_and_what_retain_grad_keeps() {
    let x = leaf(&[1.0, 2.0]);
    let h = x.mul_scalar(3.0).unwrap();
    h.retain_grad();
    let log = Log::default();
    h.register_hook(watcher(&log)).unwrap();
    h.register_hook(|g| Ok(Some(g.neg()?))).unwrap();
    h.square().unwrap().sum().unwrap().backward().unwrap();
    // dL/dh = 2h = [6, 12], negated by the second hook; x gets 3 · that.
    assert_eq!(*log.lock().unwrap(), vec![vec![6.0, 12.0]]);
    assert_eq!(h.grad().unwrap().to_vec().unwrap(), vec![-6.0, -12.0], "retain_grad keeps the hooked gradient");
    assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![-18.0, -36.0]);
}

#[test]
fn hooks_run_in_grad_on_the_requested_tensors() {
    let x = leaf(&[1.0, -1.0]);
    let h = x.exp().unwrap();
    h.register_hook(|g| Ok(Some(g.mul_scalar(10.0)?))).unwrap();
    x.register_hook(|g| Ok(Some(g.add_scalar(1.0)?))).unwrap();
    let y = h.sum().unwrap();
    let g = grad_with(&[&y], &[&h, &x], &GradOptions::new().retain_graph(true)).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_vec().unwrap(), vec![10.0, 10.0]);
    let e = x.detach().exp().unwrap().to_vec().unwrap();
    assert_eq!(g[1].as_ref().unwrap().to_vec().unwrap(), vec![10.0 * e[0] + 1.0, 10.0 * e[1] + 1.0]);
    assert!(x.grad().is_none());
    // Only h requested: the sweep stops at h, and x's hooks do not run.
    let log = Log::default();
    x.register_hook(watcher(&log)).unwrap();
    let _ = grad(&[&y], &[&h]).unwrap();
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn a_hook_that_fails_or_changes_the_shape_stops_backward_and_leaves_grad_alone() {
    let (x, w) = (leaf(&[1.0, 2.0]), leaf(&[3.0, 4.0]));
    x.register_hook(|_| Err(torchlet::Error::invalid("my_hook", "refused"))).unwrap();
    let err = x.mul(&w).unwrap().sum().unwrap().backward().unwrap_err();
    assert_eq!(err.to_string(), "my_hook: refused");
    assert!(x.grad().is_none() && w.grad().is_none(), "no leaf got a partial gradient");
    let y = leaf(&[1.0, 2.0]);
    y.register_hook(|g| Ok(Some(g.sum()?))).unwrap();
    let err = y.square().unwrap().sum().unwrap().backward().unwrap_err();
    assert_eq!(
        err.to_string(),
        "register_hook: a hook returned a gradient of shape [] for a tensor of shape [2]; a hook may change the \
         gradient's values, not its shape"
    );
}

#[test]
fn a_hook_needs_a_tensor_that_requires_grad() {
    let err = Tensor::<f64>::new([1.0]).register_hook(|_| Ok(None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "register_hook: cannot register a hook on a tensor that doesn't require gradient (shape [1])"
    );
}

#[test]
fn hooks_see_gradients_with_their_graph_under_create_graph() {
    // A hook that squares the gradient: with create_graph the result is differentiated through the hook.
    let x = leaf(&[1.5]);
    let h = x.square().unwrap(); // dh/dx = 2x
    h.register_hook(|g| Ok(Some(g.mul(g)?))).unwrap();
    let y = h.mul(&x).unwrap().sum().unwrap(); // dy/dh = x, hooked to x²; dy/dx directly = h = x²
    let g = grad_with(&[&y], &[&x], &GradOptions::new().create_graph(true)).unwrap().remove(0).unwrap();
    assert_eq!(g.to_vec().unwrap(), vec![9.0]); // x² · 2x + x² = 2x³ + x²
    let g2 = grad(&[&g.sum().unwrap()], &[&x]).unwrap().remove(0).unwrap();
    assert_eq!(g2.to_vec().unwrap(), vec![16.5]); // 6x² + 2x
}

#[test]
fn forward_hooks_on_a_module_and_on_the_layers_of_a_sequential() {
    let linear = Linear::from_parameters(&Tensor::new([[1.0, -1.0]]), Some(&Tensor::new([0.5]))).unwrap();
    let hooked = Hooked::new(linear);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    let handle = hooked.register_forward_hook(move |module, input, output| {
        log.lock().unwrap().push(format!("{} {:?} -> {:?}", module.type_name(), input.shape(), output.shape()));
        Ok(None)
    });
    let x = Tensor::new([[2.0, 1.0], [0.0, 3.0]]);
    assert_eq!(hooked.forward(&x).unwrap().to_vec().unwrap(), vec![1.5, -2.5]);
    handle.remove();
    hooked.forward(&x).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec!["Linear [2, 2] -> [2, 1]".to_string()]);
    assert_eq!(hooked.parameters().len(), 2, "the wrapped module's parameters");

    // In a Sequential: a hook on layer 1 (the ReLU) replaces its output, which the next layer gets; a hook
    // on the whole model sees the model's input and final output.
    let model = Sequential::new()
        .add(Linear::from_parameters(&Tensor::new([[1.0], [-1.0]]), None).unwrap())
        .add(ReLU)
        .add(Linear::from_parameters(&Tensor::new([[1.0, 1.0]]), None).unwrap());
    let x = Tensor::new([[2.0]]);
    assert_eq!(model.forward(&x).unwrap().to_vec().unwrap(), vec![2.0]);
    let plus_one = model.register_layer_forward_hook(1, |_, _, out| Ok(Some(out.add_scalar(1.0)?))).unwrap();
    let outputs: Arc<Mutex<Vec<Vec<f64>>>> = Arc::default();
    let log = Arc::clone(&outputs);
    let _whole = model.register_forward_hook(move |module, input, output| {
        assert_eq!(module.type_name(), "Sequential");
        log.lock().unwrap().push([input.to_vec()?, output.to_vec()?].concat());
        Ok(None)
    });
    assert_eq!(model.forward(&x).unwrap().to_vec().unwrap(), vec![4.0], "relu [2, 0] + 1, summed");
    plus_one.remove();
    assert_eq!(model.forward(&x).unwrap().to_vec().unwrap(), vec![2.0]);
    assert_eq!(*outputs.lock().unwrap(), vec![vec![2.0, 4.0], vec![2.0, 2.0]]);
    let err = model.register_layer_forward_hook(3, |_, _, _| Ok(None)).unwrap_err();
    assert_eq!(err.to_string(), "register_layer_forward_hook: index 3 is out of range for a Sequential of 3 layers");
    // A hook's error comes back naming the layer, as a layer's own error does.
    model.register_layer_forward_hook(2, |_, _, _| Err(torchlet::Error::invalid("probe", "stop"))).unwrap();
    let err = model.forward(&x).unwrap_err();
    assert_eq!(err.to_string(), "Sequential[2] (Linear): probe: stop");
}
