//! `autograd::grad` and `create_graph`: gradients of chosen tensors without touching `.grad`, intermediate
//! inputs, unused inputs, retained and freed graphs, gradients of gradients to the third order, torch's
//! values at the kinks, and `.grad` that carries a graph.

use torchlet::autograd::{grad, grad_with, BackwardOptions, GradOptions};
use torchlet::{no_grad, Tensor};

fn leaf(values: &[f64]) -> Tensor<f64> {
    Tensor::from_slice(values, &[values.len()]).unwrap().requires_grad_(true).unwrap()
}

fn only(grads: Vec<Option<Tensor<f64>>>) -> Tensor<f64> {
    assert_eq!(grads.len(), 1);
    grads.into_iter().next().unwrap().expect("a gradient")
}

fn values(t: &Tensor<f64>) -> Vec<f64> {
    t.to_vec().unwrap()
}

fn with_graph() -> GradOptions<f64> {
    GradOptions::new().create_graph(true)
}

#[test]
fn grad_returns_gradients_without_touching_dot_grad() {
    let (x, w) = (leaf(&[1.0, 2.0]), leaf(&[3.0, -1.0]));
    w.set_grad(Some(Tensor::new([10.0, 10.0]))).unwrap();
    let y = x.mul(&w).unwrap().sum().unwrap();
    let g = grad(&[&y], &[&x, &w]).unwrap();
    assert_eq!(values(g[0].as_ref().unwrap()), vec![3.0, -1.0]);
    assert_eq!(values(g[1].as_ref().unwrap()), vec![1.0, 2.0]);
    assert!(x.grad().is_none(), "grad does not accumulate");
    assert_eq!(values(&w.grad().unwrap()), vec![10.0, 10.0], "grad leaves an existing .grad alone");
    assert!(g[0].as_ref().unwrap().grad_fn_name().is_none(), "without create_graph the result has no graph");
}

#[test]
fn grad_with_respect_to_an_intermediate_tensor() {
    // y = Σ (3x)², h = 3x: dy/dh = 2h, captured at h's node; x's own gradient through it is 18x.
    let x = leaf(&[1.0, -2.0]);
    let h = x.mul_scalar(3.0).unwrap();
    let y = h.square().unwrap().sum().unwrap();
    let g = grad_with(&[&y], &[&h, &x], &GradOptions::new().retain_graph(true)).unwrap();
    assert_eq!(values(g[0].as_ref().unwrap()), vec![6.0, -12.0]);
    assert_eq!(values(g[1].as_ref().unwrap()), vec![18.0, -36.0]);
    // Only h asked for: the sweep stops at h's node, so an in-place change below it does not matter.
    let saved_below = Tensor::new([2.0, 2.0]);
    let h2 = x.mul(&saved_below).unwrap(); // MulBackward0 saved `saved_below` for x's gradient
    let y2 = h2.exp().unwrap().sum().unwrap();
    no_grad(|| saved_below.add_scalar_(1.0).map(|_| ())).unwrap();
    let g = only(grad(&[&y2], &[&h2]).unwrap());
    assert_eq!(values(&g), values(&h2.exp().unwrap()));
}

#[test]
fn the_output_itself_and_several_outputs() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.square().unwrap().sum().unwrap();
    assert_eq!(values(&only(grad(&[&y], &[&y]).unwrap())), vec![1.0], "dy/dy = 1");
    assert_eq!(values(&only(grad(&[&x.sum().unwrap()], &[&x]).unwrap())), vec![1.0, 1.0]);
    // Two outputs: the gradients of both add, each from its own seed.
    let (a, b) = (x.square().unwrap(), x.exp().unwrap().sum().unwrap());
    let seed = Tensor::new([1.0, 10.0]);
    let options = GradOptions::new().grad_outputs(&[&seed, &Tensor::scalar(2.0)]);
    let g = only(grad_with(&[&a, &b], &[&x], &options).unwrap());
    let e = values(&x.detach().exp().unwrap());
    assert_eq!(values(&g), vec![2.0 + 2.0 * e[0], 40.0 + 2.0 * e[1]]);
}

#[test]
fn allow_unused_gives_none() {
    let (x, unused) = (leaf(&[1.0]), leaf(&[5.0]));
    let y = x.exp().unwrap().sum().unwrap();
    let g = grad_with(&[&y], &[&x, &unused], &GradOptions::new().allow_unused(true)).unwrap();
    assert!(g[0].is_some() && g[1].is_none());
}

#[test]
fn second_and_third_derivatives_of_tanh_sigmoid_exp_and_a_product() {
    let x = leaf(&[-1.5, -0.3, 0.0, 0.7, 2.0]);
    let xs = values(&x);
    // Each derivative, with the graph kept, then differentiated again: up to the third.
    let derivatives = |f: &dyn Fn(&Tensor<f64>) -> Tensor<f64>| -> [Vec<f64>; 3] {
        let mut current = f(&x).sum().unwrap();
        let mut out: [Vec<f64>; 3] = Default::default();
        for slot in &mut out {
            let g = only(grad_with(&[&current], &[&x], &with_graph()).unwrap());
            *slot = values(&g);
            current = g.sum().unwrap();
        }
        out
    };
    let close = |ours: &[f64], exact: &dyn Fn(f64) -> f64, what: &str| {
        for (o, &x) in ours.iter().zip(&xs) {
            let e = exact(x);
            assert!((o - e).abs() <= 1e-14 * (1.0 + e.abs()), "{what} at {x}: {o} vs {e}");
        }
    };
    let [d1, d2, d3] = derivatives(&|x| x.tanh().unwrap());
    close(&d1, &|x| 1.0 - x.tanh().powi(2), "tanh'");
    close(&d2, &|x| -2.0 * x.tanh() * (1.0 - x.tanh().powi(2)), "tanh''");
    close(&d3, &|x| -2.0 * (1.0 - x.tanh().powi(2)) * (1.0 - 3.0 * x.tanh().powi(2)), "tanh'''");
    let s = |x: f64| 1.0 / (1.0 + (-x).exp());
    let [d1, d2, d3] = derivatives(&|x| x.sigmoid().unwrap());
    close(&d1, &|x| s(x) * (1.0 - s(x)), "sigmoid'");
    close(&d2, &|x| s(x) * (1.0 - s(x)) * (1.0 - 2.0 * s(x)), "sigmoid''");
    close(&d3, &|x| s(x) * (1.0 - s(x)) * (1.0 - 6.0 * s(x) + 6.0 * s(x) * s(x)), "sigmoid'''");
    let [d1, d2, d3] = derivatives(&|x| x.exp().unwrap());
    for d in [d1, d2, d3] {
        close(&d, &f64::exp, "exp");
    }
    // x · x · x through mul: 3x², 6x, 6.
    let [d1, d2, d3] = derivatives(&|x| x.mul(x).unwrap().mul(x).unwrap());
    close(&d1, &|x| 3.0 * x * x, "(x³)'");
    close(&d2, &|x| 6.0 * x, "(x³)''");
    close(&d3, &|_| 6.0, "(x³)'''");
}

#[test]
fn kinks_have_torchs_second_derivatives() {
    // relu and |x|: the second derivative is 0 everywhere, at 0 included; relu's is a defined zero.
    let x = leaf(&[-1.0, -0.0, 0.0, 2.0]);
    for (name, f) in [("relu", Tensor::relu as fn(&Tensor<f64>) -> _), ("abs", Tensor::abs)] {
        let g = only(grad_with(&[&f(&x).unwrap().sum().unwrap()], &[&x], &with_graph()).unwrap());
        let expected_first = if name == "relu" { vec![0.0, 0.0, 0.0, 1.0] } else { vec![-1.0, 0.0, 0.0, 1.0] };
        assert_eq!(values(&g), expected_first, "{name}'");
        let h = only(grad(&[&g.sum().unwrap()], &[&x]).unwrap());
        assert_eq!(values(&h), vec![0.0; 4], "{name}''");
    }
    // leaky relu: slope c below 0 (and at 0), then 0.
    let g = only(grad_with(&[&x.leaky_relu(0.1).unwrap().sum().unwrap()], &[&x], &with_graph()).unwrap());
    assert_eq!(values(&g), vec![0.1, 0.1, 0.1, 1.0]);
    assert_eq!(values(&only(grad(&[&g.sum().unwrap()], &[&x]).unwrap())), vec![0.0; 4]);
}

#[test]
fn backward_with_create_graph_accumulates_a_gradient_with_a_graph() {
    let x = leaf(&[1.0, 3.0]);
    let options = BackwardOptions::new().create_graph(true);
    x.powi(3).unwrap().sum().unwrap().backward_with_options(&options).unwrap();
    let first = x.grad().unwrap();
    assert_eq!(values(&first), vec![3.0, 27.0]);
    assert!(first.requires_grad(), "the accumulated gradient carries its graph");
    // A second create_graph backward adds out of place, keeping the graph: .grad = 3x² + 2x.
    x.square().unwrap().sum().unwrap().backward_with_options(&options).unwrap();
    let total = x.grad().unwrap();
    assert_eq!(values(&total), vec![5.0, 33.0]);
    assert_eq!(values(&first), vec![3.0, 27.0], "the first gradient was not changed in place");
    // d/dx Σ (3x² + 2x) = 6x + 2, from the graph that .grad holds.
    let h = only(grad(&[&total.sum().unwrap()], &[&x]).unwrap());
    assert_eq!(values(&h), vec![8.0, 20.0]);
    // Without create_graph, accumulation is in place and plain, as before.
    let y = leaf(&[2.0]);
    y.square().unwrap().sum().unwrap().backward().unwrap();
    assert!(!y.grad().unwrap().requires_grad());
}

#[test]
fn a_gradient_penalty_trains_through_the_gradient() {
    // loss = (‖∇ₓ f‖² − 1)², f = Σ w·x²: the penalty's gradient reaches w through the first gradient.
    let x = leaf(&[0.5, -1.0]);
    let w = leaf(&[2.0, 3.0]);
    let f = w.mul(&x.square().unwrap()).unwrap().sum().unwrap();
    let gx = only(grad_with(&[&f], &[&x], &with_graph()).unwrap()); // 2 w x = [2, -6]
    let penalty = gx.square().unwrap().sum().unwrap().sub_scalar(1.0).unwrap().square().unwrap();
    penalty.backward().unwrap();
    // d/dw (Σ 4w²x² − 1)² = 2 (Σ 4w²x² − 1) · 8 w x² = 2 · 39 · [4, 24]
    assert_eq!(values(&w.grad().unwrap()), vec![312.0, 1872.0]);
    assert_eq!(values(&x.grad().unwrap()), vec![1248.0, -5616.0]); // 2 · 39 · 8 w² x
}

#[test]
fn create_graph_retains_by_default_and_a_freed_graph_is_reported() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.exp().unwrap().sum().unwrap();
    let g = only(grad_with(&[&y], &[&x], &with_graph()).unwrap());
    // retain_graph defaulted to create_graph: the first graph runs again.
    assert_eq!(values(&only(grad(&[&y], &[&x]).unwrap())), values(&g));
    let err = grad(&[&y], &[&x]).unwrap_err().to_string();
    assert!(err.starts_with("grad: trying to backward through the graph a second time"), "{err}");
    // With retain_graph off, a create_graph backward frees the graph: the second derivative through the
    // exp node (which saved its output) is then an error, not a wrong number.
    let z = x.exp().unwrap().sum().unwrap();
    let g = only(grad_with(&[&z], &[&x], &with_graph().retain_graph(false)).unwrap());
    let err = grad(&[&g.sum().unwrap()], &[&x]).unwrap_err().to_string();
    assert!(err.contains("ExpBackward0 was already freed"), "{err}");
}
