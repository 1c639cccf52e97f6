//! Gradients of gradients on a CUDA device: the `create_graph` gradient and the derivative of it, against
//! the same computation on the CPU, in f32 and f64.

use super::*;
use torchlet::autograd::{grad_with, GradOptions};
use torchlet::nn::functional as F;
use torchlet::nn::Reduction;
use torchlet::{where_, GeluApproximate};

fn second_order_cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case("tanh", &[&[4, 5]], |x| x[0].tanh()),
        case("sigmoid", &[&[4, 5]], |x| x[0].sigmoid()),
        case("exp", &[&[4, 5]], |x| x[0].exp()),
        positive(case("sqrt · log", &[&[4, 5]], |x| x[0].sqrt()?.mul(&x[0].log()?))),
        positive(case("c / x", &[&[6]], |x| x[0].rdiv_scalar(c(2.0)))),
        case("relu · x", &[&[4, 5]], |x| x[0].relu()?.mul(&x[0])),
        case("leaky_relu²", &[&[4, 5]], |x| x[0].leaky_relu(c(0.1))?.square()),
        case("abs · x", &[&[4, 5]], |x| x[0].abs()?.mul(&x[0])),
        case("gelu", &[&[4, 5]], |x| x[0].gelu(GeluApproximate::None)),
        case("gelu tanh", &[&[4, 5]], |x| x[0].gelu(GeluApproximate::Tanh)),
        case("silu", &[&[4, 5]], |x| x[0].silu()),
        case("softplus", &[&[4, 5]], |x| x[0].softplus(c(2.0), c(1.5))),
        case("elu", &[&[4, 5]], |x| x[0].elu(c(1.3))),
        case("clamp · x", &[&[4, 5]], |x| x[0].clamp(Some(c(-0.5)), Some(c(0.7)))?.mul(&x[0])),
        case("mul, div broadcast", &[&[3, 4], &[4]], |x| x[0].mul(&x[1])?.div(&x[1].square()?.add_scalar(c(1.0))?)),
        case("maximum · x", &[&[3, 4], &[4]], |x| x[0].maximum(&x[1])?.mul(&x[0])),
        case("linear, tanh", &[&[3, 4], &[2, 4], &[2]], |x| x[0].linear(&x[1], Some(&x[2]))?.tanh()),
        case("matmul²", &[&[3, 4], &[4, 2]], |x| x[0].matmul(&x[1])?.square()),
        case("sum_dim, mean", &[&[3, 4]], |x| x[0].square()?.sum_dim(1, true)?.mul(&x[0].mean()?)),
        case("views", &[&[3, 4]], |x| x[0].t()?.narrow(0, 1, 2)?.reshape(&[6])?.expand(&[2, 6])?.exp()),
        case("index_select", &[&[3, 4]], |x| x[0].index_select(1, &[3, 0, 3])?.square()),
        case("cat", &[&[3, 4], &[2, 4]], |x| torchlet::cat(&[x[0].square()?, x[1].clone()], 0)?.tanh()),
        case("where", &[&[3, 4]], |x| {
            let cond = x[0].detach().gt(&Tensor::scalar(T::zero()).to(x[0].device())?)?;
            where_(&cond, &x[0].square()?, &x[0].exp()?)
        }),
        case("log_softmax", &[&[3, 5]], |x| x[0].log_softmax(1)),
        case("norm 2", &[&[3, 4]], |x| x[0].norm(2.0)),
        case("cross_entropy", &[&[4, 3]], |x| F::cross_entropy(&x[0], &[2usize, 0, 1, 1][..])),
        case("mse", &[&[3, 4], &[3, 4]], |x| F::mse_loss(&x[0].tanh()?, &x[1], Reduction::Mean)),
    ]
}

/// Runs each case on both devices: `g = ∂(Σ u·f)/∂x` with `create_graph`, then `∂(Σ_i v_i·g_i)/∂x`;
/// compares both.
fn run_second_order<T: Element>(dev: Device) {
    let mut rng = StdRng::seed_from_u64(11);
    for case in second_order_cases::<T>() {
        let (lo, hi) = if case.positive { (0.5, 2.0) } else { (-2.0, 2.0) };
        let cpu: Vec<Tensor<T>> = case
            .shapes
            .iter()
            .map(|s| Tensor::rand_uniform_with(s, c(lo), c(hi), &mut rng).requires_grad_(true).unwrap())
            .collect();
        let gpu: Vec<Tensor<T>> =
            cpu.iter().map(|t| t.detach().to(dev).unwrap().requires_grad_(true).unwrap()).collect();
        let what = &case.name;
        let out = (case.f)(&cpu).unwrap();
        let upstream = Tensor::<T>::rand_uniform_with(out.shape(), c(-1.0), c(1.0), &mut rng);
        let weights: Vec<Tensor<T>> =
            cpu.iter().map(|x| Tensor::rand_uniform_with(x.shape(), c(-1.0), c(1.0), &mut rng)).collect();
        let derivatives = |inputs: &[Tensor<T>], device: Device| -> (Vec<Tensor<T>>, Vec<Tensor<T>>) {
            let refs: Vec<&Tensor<T>> = inputs.iter().collect();
            let out = (case.f)(inputs).unwrap_or_else(|e| panic!("{what} on {device}: {e}"));
            let up = upstream.to(device).unwrap();
            let options = GradOptions::new().grad_outputs(&[&up]).create_graph(true).allow_unused(true);
            let first = grad_with(&[&out], &refs, &options).unwrap_or_else(|e| panic!("{what} on {device}: {e}"));
            let mut total = Tensor::full_on(&[], T::zero(), device).unwrap();
            for (g, v) in first.iter().zip(&weights) {
                if let Some(g) = g {
                    total = total.add(&g.mul(&v.to(device).unwrap()).unwrap().sum().unwrap()).unwrap();
                }
            }
            let zeros = |x: &Tensor<T>| x.zeros_like().unwrap();
            let second = if total.requires_grad() {
                grad_with(&[&total], &refs, &GradOptions::new().allow_unused(true))
                    .unwrap_or_else(|e| panic!("{what} second derivative on {device}: {e}"))
                    .into_iter()
                    .zip(inputs)
                    .map(|(g, x)| g.unwrap_or_else(|| zeros(x)))
                    .collect()
            } else {
                inputs.iter().map(zeros).collect()
            };
            let first = first.into_iter().zip(inputs).map(|(g, x)| g.unwrap_or_else(|| zeros(x))).collect();
            (first, second)
        };
        let (first_cpu, second_cpu) = derivatives(&cpu, Device::Cpu);
        let (first_gpu, second_gpu) = derivatives(&gpu, dev);
        let tol = tol::<T>() * case.slack;
        for (i, (a, b)) in first_cpu.iter().zip(&first_gpu).enumerate() {
            assert_close(&format!("{what} first derivative {i}"), a, b, tol);
        }
        for (i, (a, b)) in second_cpu.iter().zip(&second_gpu).enumerate() {
            assert_close(&format!("{what} second derivative {i}"), a, b, tol);
        }
    }
}

pub fn cuda_vs_cpu_second_derivatives(dev: Device) {
    run_second_order::<f32>(dev);
    run_second_order::<f64>(dev);
}
