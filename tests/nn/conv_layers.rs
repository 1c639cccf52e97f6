//! The convolution and pooling layers: torch's default init bounds and draw order, parameter names,
//! constructor errors, and forwards that are their functional ops.

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::functional::{
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool2d, AvgPool1dOptions, AvgPool2dOptions,
    Conv1dOptions, Conv2dOptions, MaxPool2dOptions,
};
use torchlet::nn::init::uniform;
use torchlet::nn::{AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d, Module};
use torchlet::Tensor;

#[test]
fn conv2d_init_draws_the_weight_then_the_bias_from_u_of_one_over_root_fan_in() {
    let opts = Conv2dOptions::default().groups(2);
    let conv = Conv2d::<f64>::with_rng(4, 6, [3, 2], opts, true, &mut StdRng::seed_from_u64(5)).unwrap();
    assert_eq!(conv.weight().shape(), &[6, 2, 3, 2]);
    // fan_in = in/groups · kH · kW = 2 · 3 · 2 = 12.
    let bound = 1.0 / 12f64.sqrt();
    let mut rng = StdRng::seed_from_u64(5);
    let weight: Tensor<f64> = uniform(&[6, 2, 3, 2], -bound, bound, &mut rng);
    let bias: Tensor<f64> = uniform(&[6], -bound, bound, &mut rng);
    let close = |a: &Tensor<f64>, b: &Tensor<f64>| {
        a.to_vec().unwrap().iter().zip(b.to_vec().unwrap()).all(|(x, y)| (x - y).abs() <= 1e-15 * bound)
    };
    assert!(close(conv.weight(), &weight));
    assert!(close(conv.bias().unwrap(), &bias));
    assert!(conv.weight().is_leaf() && conv.weight().requires_grad());
    let names: Vec<String> = conv.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    let no_bias = Conv1d::<f32>::with_rng(3, 2, 4, Conv1dOptions::default(), false, &mut rng).unwrap();
    assert_eq!(no_bias.named_parameters().len(), 1);
    assert!(no_bias.weight().to_vec().unwrap().iter().all(|w| w.abs() <= 1.0 / 12f32.sqrt()));
}

#[test]
fn conv_layers_refuse_groups_that_do_not_divide_the_channels() {
    let mut rng = StdRng::seed_from_u64(0);
    let err = Conv2d::<f32>::with_rng(3, 4, 3, Conv2dOptions::default().groups(2), true, &mut rng).err().unwrap();
    assert_eq!(
        err.to_string(),
        "Conv2d: in_channels must be divisible by groups (in_channels 3, out_channels 4, groups 2)"
    );
    let err = Conv1d::<f32>::with_rng(4, 3, 3, Conv1dOptions::default().groups(2), true, &mut rng).err().unwrap();
    assert_eq!(
        err.to_string(),
        "Conv1d: out_channels must be divisible by groups (in_channels 4, out_channels 3, groups 2)"
    );
    let same = Conv2dOptions::default().padding(torchlet::nn::functional::Padding::Same).stride(2);
    assert!(Conv2d::<f32>::with_rng(3, 4, 3, same, true, &mut rng).is_err());
    assert!(Conv2d::from_parameters(&Tensor::<f32>::ones(&[4, 3, 3]), None, Conv2dOptions::default()).is_err());
}

#[test]
fn layers_forward_their_functional_ops() {
    let mut rng = StdRng::seed_from_u64(1);
    let x = Tensor::<f64>::randn_with(&[2, 4, 7, 6], &mut rng);
    let opts = Conv2dOptions::default().stride([2, 1]).padding([1, 2]).dilation(2).groups(2);
    let conv = Conv2d::with_rng(4, 6, 3, opts, true, &mut rng).unwrap();
    let expected = conv2d(&x, conv.weight(), conv.bias(), &opts).unwrap();
    assert_eq!(conv.forward(&x).unwrap().to_vec().unwrap(), expected.to_vec().unwrap());
    let copy = Conv2d::from_parameters(conv.weight(), conv.bias(), opts).unwrap();
    assert_eq!(copy.forward(&x).unwrap().to_vec().unwrap(), expected.to_vec().unwrap());

    let x1 = Tensor::<f64>::randn_with(&[2, 3, 9], &mut rng);
    let conv1 = Conv1d::with_rng(3, 2, 3, Conv1dOptions::default().stride(2), false, &mut rng).unwrap();
    let expected = conv1d(&x1, conv1.weight(), None, &Conv1dOptions::default().stride(2)).unwrap();
    assert_eq!(conv1.forward(&x1).unwrap().to_vec().unwrap(), expected.to_vec().unwrap());

    let max = MaxPool2dOptions::new(3).stride(2).padding(1).ceil_mode(true);
    assert_eq!(
        MaxPool2d::with_options(max).forward(&x).unwrap().to_vec().unwrap(),
        max_pool2d(&x, &max).unwrap().to_vec().unwrap()
    );
    let avg = AvgPool2dOptions::new([2, 3]).padding([1, 1]).count_include_pad(false);
    assert_eq!(
        AvgPool2d::with_options(avg).forward(&x).unwrap().to_vec().unwrap(),
        avg_pool2d(&x, &avg).unwrap().to_vec().unwrap()
    );
    assert_eq!(
        AvgPool1d::new(2).forward(&x1).unwrap().to_vec().unwrap(),
        avg_pool1d(&x1, &AvgPool1dOptions::new(2)).unwrap().to_vec().unwrap()
    );
    assert_eq!(MaxPool1d::new(3).forward(&x1).unwrap().shape(), &[2, 3, 3]);
    assert_eq!(
        AdaptiveAvgPool2d::new([3, 2]).forward(&x).unwrap().to_vec().unwrap(),
        adaptive_avg_pool2d(&x, [3, 2]).unwrap().to_vec().unwrap()
    );
    // Layers without parameters have none to hand an optimizer.
    assert!(Module::<f64>::parameters(&MaxPool2d::new(2)).is_empty());
}

#[test]
fn a_small_cnn_trains_end_to_end() {
    let mut rng = StdRng::seed_from_u64(2);
    let conv = Conv2d::<f64>::with_rng(1, 2, 3, Conv2dOptions::default().padding(1), true, &mut rng).unwrap();
    let x = Tensor::<f64>::randn_with(&[4, 1, 6, 6], &mut rng);
    let target = Tensor::<f64>::randn_with(&[4, 2, 1, 1], &mut rng);
    let loss_at = |conv: &Conv2d<f64>| -> Tensor<f64> {
        let pooled = MaxPool2d::new(2).forward(&conv.forward(&x).unwrap().relu().unwrap()).unwrap();
        let y = AdaptiveAvgPool2d::new(1).forward(&pooled).unwrap();
        y.sub(&target).unwrap().square().unwrap().mean().unwrap()
    };
    let first = loss_at(&conv).item().unwrap();
    for _ in 0..20 {
        conv.zero_grad();
        loss_at(&conv).backward().unwrap();
        for p in conv.parameters() {
            torchlet::no_grad(|| p.add_scaled_(&p.grad().unwrap(), -0.1).map(|_| ())).unwrap();
        }
    }
    let last = loss_at(&conv).item().unwrap();
    assert!(last < first, "the loss went from {first} to {last}");
}
