//! The ops past the first set: activations, the softmax family, selections, joins, comparisons, clamps and
//! the statistics reductions, forward and backward on a CUDA device against the CPU.

use super::*;
use torchlet::{cat, stack, where_, GeluApproximate};

fn activation_cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case("relu", &[&[4, 5]], |x| x[0].relu()),
        case("sigmoid", &[&[4, 5]], |x| x[0].sigmoid()),
        case("tanh", &[&[4, 5]], |x| x[0].tanh()),
        case("silu", &[&[4, 5]], |x| x[0].silu()),
        case("gelu (erf)", &[&[4, 5]], |x| x[0].gelu(GeluApproximate::None)),
        case("gelu (tanh)", &[&[4, 5]], |x| x[0].gelu(GeluApproximate::Tanh)),
        case("elu", &[&[4, 5]], |x| x[0].elu(c(1.3))),
        case("leaky_relu", &[&[4, 5]], |x| x[0].leaky_relu(c(0.02))),
        case("softplus", &[&[4, 5]], |x| x[0].softplus(c(2.0), c(1.5))),
        case("sign", &[&[4, 5]], |x| x[0].sign()),
        positive(case("log1p", &[&[4, 5]], |x| x[0].log1p())),
        case("clamp both", &[&[4, 5]], |x| x[0].clamp(Some(c(-0.5)), Some(c(0.7)))),
        case("clamp min", &[&[4, 5]], |x| x[0].clamp(Some(c(-0.5)), None)),
        case("maximum broadcast", &[&[4, 5], &[5]], |x| x[0].maximum(&x[1])),
        case("minimum broadcast", &[&[4, 1], &[5]], |x| x[0].minimum(&x[1])),
        case("relu of a transposed view", &[&[5, 4]], |x| x[0].t()?.relu()),
    ]
}

fn softmax_and_reduction_cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case("softmax dim 1", &[&[6, 10]], |x| x[0].softmax(1)),
        case("softmax dim 0", &[&[6, 10]], |x| x[0].softmax(0)),
        case("log_softmax dim -1", &[&[6, 10]], |x| x[0].log_softmax(-1)),
        case("log_softmax dim 0 of [3,4,5]", &[&[3, 4, 5]], |x| x[0].log_softmax(0)),
        case("softmax of a transposed view", &[&[10, 6]], |x| x[0].t()?.softmax(1)),
        case("logsumexp keepdim", &[&[6, 10]], |x| x[0].logsumexp(1, true)),
        case("max", &[&[6, 10]], |x| x[0].max()),
        case("min", &[&[6, 10]], |x| x[0].min()),
        case("max_dim values", &[&[6, 10]], |x| Ok(x[0].max_dim(1, false)?.0)),
        case("min_dim values keepdim", &[&[6, 10]], |x| Ok(x[0].min_dim(0, true)?.0)),
        case("var", &[&[6, 10]], |x| x[0].var(1)),
        case("var_dim 0", &[&[6, 10]], |x| x[0].var_dim(0, 1, false)),
        case("std_dim 1 keepdim", &[&[6, 10]], |x| x[0].std_dim(1, 0, true)),
        case("norm 2", &[&[6, 10]], |x| x[0].norm(2.0)),
        case("norm 1", &[&[6, 10]], |x| x[0].norm(1.0)),
        case("mean_dim -1", &[&[6, 10]], |x| x[0].mean_dim(-1, false)),
        // f32 sums of 1000 terms: the GPU's tree and the CPU's lanes round differently.
        slack(case("sum_dim 1 of [300, 1000]", &[&[300, 1000]], |x| x[0].sum_dim(1, false)), 10.0),
    ]
}

fn selection_and_join_cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case("gather dim 1", &[&[4, 5]], |x| {
            let index = [0.0, 4.0, 1.0, 1.0, 3.0, 2.0, 4.0, 0.0].map(c::<T>);
            x[0].gather(1, &Tensor::from_slice(&index, &[4, 2])?.to(x[0].device())?)
        }),
        case("where_", &[&[4, 5], &[4, 5], &[4, 5]], |x| where_(&x[0].gt(&x[1])?.detach(), &x[1], &x[2])),
        case("cat dim 0", &[&[2, 3], &[4, 3]], |x| cat(&[x[0].clone(), x[1].clone()], 0)),
        case("cat dim 1", &[&[3, 2], &[3, 4]], |x| cat(&[x[0].clone(), x[1].clone()], 1)),
        case("stack dim 1", &[&[3, 2], &[3, 2]], |x| stack(&[x[0].clone(), x[1].clone()], 1)),
        case("split then mul", &[&[6, 3]], |x| {
            let parts = x[0].split(2, 0)?;
            parts[0].mul(&parts[2])
        }),
        case("chunk dim 1", &[&[3, 6]], |x| x[0].chunk(3, 1)?[1].square()),
        case("flatten", &[&[2, 3, 4]], |x| x[0].flatten(1, 2)?.square()),
        case("index_select of a narrowed view (offset)", &[&[10, 3]], |x| {
            x[0].narrow(0, 4, 6)?.index_select(0, &[5, 0, 2])
        }),
        case("comparisons into arithmetic", &[&[4, 5], &[5]], |x| {
            let masks = [x[0].gt(&x[1])?, x[0].lt(&x[1])?, x[0].ge(&x[1])?, x[0].le(&x[1])?, x[0].ne(&x[1])?];
            let mut out = x[0].mul_scalar(c(1.0))?;
            for (i, m) in masks.iter().enumerate() {
                out = out.add(&m.mul_scalar(c(i as f64 + 1.0))?)?;
            }
            Ok(out)
        }),
    ]
}

pub(crate) fn cuda_vs_cpu_activations_and_backward(dev: Device) {
    run_cases::<f32>(dev, activation_cases());
    run_cases::<f64>(dev, activation_cases());
}

pub(crate) fn cuda_vs_cpu_softmax_and_statistics_and_backward(dev: Device) {
    run_cases::<f32>(dev, softmax_and_reduction_cases());
    run_cases::<f64>(dev, softmax_and_reduction_cases());
}

pub(crate) fn cuda_vs_cpu_selections_joins_and_backward(dev: Device) {
    run_cases::<f32>(dev, selection_and_join_cases());
    run_cases::<f64>(dev, selection_and_join_cases());
}

pub(crate) fn cuda_vs_cpu_argmax_one_hot_arange(dev: Device) {
    let mut rng = StdRng::seed_from_u64(5);
    let x = Tensor::<f32>::rand_uniform_with(&[7, 9], -1.0, 1.0, &mut rng);
    let g = x.to(dev).unwrap();
    for dim in [0, 1] {
        let (cpu, gpu) = (x.argmax(dim, false).unwrap(), g.argmax(dim, false).unwrap());
        assert_close(&format!("argmax dim {dim}"), &cpu, &gpu, 0.0);
        let (cpu, gpu) = (x.argmin(dim, true).unwrap(), g.argmin(dim, true).unwrap());
        assert_close(&format!("argmin dim {dim}"), &cpu, &gpu, 0.0);
        let (cpu, gpu) = (x.max_dim(dim, false).unwrap().1, g.max_dim(dim, false).unwrap().1);
        assert_close(&format!("max_dim indices dim {dim}"), &cpu, &gpu, 0.0);
    }
    let labels = Tensor::new([2.0f32, 0.0, 4.0, 4.0]);
    let (cpu, gpu) = (labels.one_hot(5).unwrap(), labels.to(dev).unwrap().one_hot(5).unwrap());
    assert_close("one_hot", &cpu, &gpu, 0.0);
}

pub(crate) fn cuda_to_is_differentiable_both_ways(dev: Device) {
    let x = Tensor::new([1.0f64, -2.0, 3.0]).requires_grad_(true).unwrap();
    let on_gpu = x.to(dev).unwrap();
    assert_eq!(on_gpu.grad_fn_name(), Some("ToCopyBackward0"));
    let back = on_gpu.square().unwrap().to(Device::Cpu).unwrap();
    back.sum().unwrap().backward().unwrap();
    let grad = x.grad().unwrap();
    assert_eq!(grad.device(), Device::Cpu);
    assert_eq!(grad.to_vec().unwrap(), vec![2.0, -4.0, 6.0]);
}
