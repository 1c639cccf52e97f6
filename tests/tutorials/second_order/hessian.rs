//! T11a: Hessian-vector products of T8's training loss by double backward against central differences of
//! gradients (which must converge to them at second order), the hand-derived forward-over-reverse product of
//! a two-layer tanh net against the double backward's, the Hessian's symmetry, and (feature `tch`) all of
//! them against libtorch's double backward. Seeds as the `hessian_vector_product` example's.

use super::max_rel;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::{Linear, Module};
use torchlet::Tensor;
use torchlet_tutorials::hessian::{
    dot, finite_difference_hvp, hessian_vector_product, network, random_direction, relative_error, training_loss,
    TanhNet, FD_EPS, TANH_NET,
};
use torchlet_tutorials::mlp::{mlp_data, mlp_linears, AutodiffMlp, BATCH, EPOCHS, LAYERS, LR};
use torchlet_tutorials::regression::fit;
use torchlet_tutorials::{Activation, Layers, Split};

const SEED: u64 = 2024;
const DIRECTION_SEED: u64 = 11;

/// A network's layers, activations and the point's name.
struct Point {
    what: &'static str,
    linears: Vec<Linear<f64>>,
    activations: Vec<Activation>,
}

/// T8's training of copies of `linears` (SGD, batches of 333, 32 epochs).
fn trained(linears: &[Linear<f64>], activations: &[Activation], data: &Split<f64>) -> Vec<Linear<f64>> {
    let copies = linears.iter().map(|l| Linear::from_parameters(l.weight(), l.bias()).unwrap()).collect();
    let mut model = AutodiffMlp::new(copies, activations, LR).unwrap();
    let (mut train, mut valid) = data.loaders(BATCH, data.y_valid.shape()[0], None).unwrap();
    fit(&mut model, &mut train, &mut valid, EPOCHS, |_, _, _| {}).unwrap();
    model.linears().unwrap()
}

/// T8's MLP, then the tanh net, each at its initial parameters and after T8's training.
fn points(data: &Split<f64>) -> Vec<Point> {
    let mlp: Vec<Activation> = LAYERS.iter().map(|l| l.2).collect();
    let tanh: Vec<Activation> = TANH_NET.iter().map(|l| l.2).collect();
    let mlp_init = mlp_linears::<f64, _>(&mut StdRng::seed_from_u64(SEED));
    let mut rng = StdRng::seed_from_u64(SEED);
    let tanh_init: Vec<Linear<f64>> =
        TANH_NET.iter().map(|&(i, o, _)| Linear::with_rng(i, o, true, &mut rng)).collect();
    let (mlp_trained, tanh_trained) = (trained(&mlp_init, &mlp, data), trained(&tanh_init, &tanh, data));
    vec![
        Point { what: "T8 initial", linears: mlp_init, activations: mlp.clone() },
        Point { what: "T8 trained", linears: mlp_trained, activations: mlp },
        Point { what: "tanh initial", linears: tanh_init, activations: tanh.clone() },
        Point { what: "tanh trained", linears: tanh_trained, activations: tanh },
    ]
}

fn direction(net: &dyn Module<f64>, seed: u64) -> Vec<Tensor<f64>> {
    random_direction(&net.parameters(), &mut StdRng::seed_from_u64(seed)).unwrap()
}

// Central differences err by O(ε²) (truncation) plus the gradients' rounding over ε. With |v| = 1, at ε = 1e-2
// and 1e-3 the truncation dominates: measured 1.3e-7 and 1.3e-9 for T8 at its initial parameters, 5.9e-8 and
// 5.9e-10 after training, 1.5e-6 and 1.5e-8 (1.7e-6 and 1.7e-8 trained) for the tanh net, ratios of
// 100.0 ± 0.5. A wrong H v would leave the error flat at its own size instead. At FD_EPS = 1e-4, measured
// 3.9e-11, 5.8e-11, 1.5e-10 and 1.7e-10 (the tanh net's optimum is nearer 3e-5).
const FD_AT_EPS: f64 = 1e-9;

#[test]
fn t11a_double_backward_matches_finite_differences_at_second_order() {
    let data = mlp_data(SEED).unwrap();
    let (x, y) = (&data.x_train, &data.y_train);
    for point in points(&data) {
        let net = network(&point.linears, &point.activations).unwrap();
        let v = direction(&net, DIRECTION_SEED);
        let hv = hessian_vector_product(&net, x, y, &v).unwrap().hv;
        let error = |eps: f64| {
            let fd = finite_difference_hvp(&point.linears, &point.activations, (x, y), &v, eps).unwrap();
            relative_error(&fd, &hv).unwrap()
        };
        let (coarse, fine, at_eps) = (error(1e-2), error(1e-3), error(FD_EPS));
        println!(
            "T11a {}: finite differences at 1e-2 {coarse:.2e}, 1e-3 {fine:.2e}, {FD_EPS:e} {at_eps:.2e}",
            point.what
        );
        assert!((80.0..125.0).contains(&(coarse / fine)), "{}: not second order: {coarse:e}, {fine:e}", point.what);
        assert!(at_eps <= FD_AT_EPS, "{}: {at_eps:e}", point.what);
    }
}

// The Hessian is symmetric, so uᵀ(H v) = vᵀ(H u) for any two directions: measured ≤ 6.6e-17 of |H v| apart.
#[test]
fn t11a_hessian_vector_products_are_symmetric() {
    let data = mlp_data(SEED).unwrap();
    let (x, y) = (&data.x_train, &data.y_train);
    for point in points(&data) {
        let net = network(&point.linears, &point.activations).unwrap();
        let (u, v) = (direction(&net, DIRECTION_SEED), direction(&net, DIRECTION_SEED + 1));
        let hv = hessian_vector_product(&net, x, y, &v).unwrap().hv;
        let hu = hessian_vector_product(&net, x, y, &u).unwrap().hv;
        let (uhv, vhu) = (dot(&hv, &u).unwrap(), dot(&hu, &v).unwrap());
        let scale = dot(&hv, &hv).unwrap().sqrt().max(dot(&hu, &hu).unwrap().sqrt());
        let gap = (uhv - vhu).abs() / scale;
        println!("T11a {}: u.Hv {uhv:.6e}, v.Hu {vhu:.6e}, apart by {gap:.1e} of |Hv|", point.what);
        assert!(gap <= 1e-15, "{}: {uhv:e} vs {vhu:e}", point.what);
    }
}

// By hand and by double backward the products are the same sums in a different order: measured 8.4e-17 at
// the initial parameters and 4.0e-16 after training (the gradients 1.2e-16 and 6.2e-16).
const HAND_RTOL: f64 = 1e-14;

#[test]
fn t11a_forward_over_reverse_by_hand_matches_double_backward() {
    let data = mlp_data(SEED).unwrap();
    let (x, y) = (&data.x_train, &data.y_train);
    for point in points(&data).into_iter().filter(|p| p.linears.len() == 2) {
        let net = network(&point.linears, &point.activations).unwrap();
        let v = direction(&net, DIRECTION_SEED);
        let autograd = hessian_vector_product(&net, x, y, &v).unwrap();
        let hand = TanhNet::new(&point.linears[0], &point.linears[1]).unwrap();
        let hv = relative_error(&hand.hessian_vector_product(x, y, &v).unwrap(), &autograd.hv).unwrap();
        let g = relative_error(&hand.gradient(x, y).unwrap(), &autograd.gradient).unwrap();
        let loss = max_rel(&[hand.loss(x, y).unwrap()], &[training_loss(&net, x, y).unwrap().item().unwrap()]);
        println!("T11a {} by hand: Hv {hv:.1e}, gradient {g:.1e}, loss {loss:.1e}", point.what);
        assert!(hv <= HAND_RTOL && g <= HAND_RTOL && loss <= HAND_RTOL, "{}: {hv:e} {g:e} {loss:e}", point.what);
    }
}

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn hessian_vector_products_match_libtorch() {}

#[cfg(feature = "tch")]
mod libtorch {
    use super::*;
    use torchlet_tutorials::libtorch::tch_hessian_vector_product;

    // libtorch's double backward of the same loss at the same θ: measured ≤ 9.2e-16 on H v and ≤ 9.6e-16 on
    // the gradient, at all four points.
    const RTOL: f64 = 1e-14;

    #[test]
    fn t11a_double_backward_matches_libtorch() {
        super::super::libtorch_single_threaded();
        let data = mlp_data(SEED).unwrap();
        let (x, y) = (&data.x_train, &data.y_train);
        for point in points(&data) {
            let net = network(&point.linears, &point.activations).unwrap();
            let v = direction(&net, DIRECTION_SEED);
            let ours = hessian_vector_product(&net, x, y, &v).unwrap();
            let theirs = tch_hessian_vector_product(&point.linears, &point.activations, (x, y), &v).unwrap();
            let hv = relative_error(&ours.hv, &theirs.hv).unwrap();
            let g = relative_error(&ours.gradient, &theirs.gradient).unwrap();
            println!("T11a {} against libtorch: Hv {hv:.1e}, gradient {g:.1e}", point.what);
            assert!(hv <= RTOL && g <= RTOL, "{}: {hv:e} {g:e}", point.what);
        }
    }
}
