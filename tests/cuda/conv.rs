//! The convolutions and poolings, composed from device-generic ops, forward and backward on a CUDA device
//! against the CPU.

use super::*;
use torchlet::nn::functional::{
    adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d, AvgPool2dOptions, Conv1dOptions,
    Conv2dOptions, MaxPool1dOptions, MaxPool2dOptions, Padding,
};

fn conv_and_pool_cases<T: Element>() -> Vec<Case<T>> {
    let strided = Conv2dOptions::default().stride([2, 1]).padding([1, 2]).dilation(2).groups(2);
    vec![
        slack(
            case("conv2d", &[&[2, 3, 7, 6], &[4, 3, 3, 3], &[4]], |x| {
                conv2d(&x[0], &x[1], Some(&x[2]), &Conv2dOptions::default())
            }),
            4.0,
        ),
        slack(
            case("conv2d strided, dilated, grouped", &[&[2, 4, 9, 8], &[6, 2, 3, 2]], move |x| {
                conv2d(&x[0], &x[1], None, &strided)
            }),
            4.0,
        ),
        slack(
            case("conv1d same", &[&[3, 7], &[2, 3, 4], &[2]], |x| {
                conv1d(&x[0], &x[1], Some(&x[2]), &Conv1dOptions::default().padding(Padding::Same))
            }),
            4.0,
        ),
        case("max_pool2d", &[&[2, 3, 7, 6]], |x| {
            max_pool2d(&x[0], &MaxPool2dOptions::new(3).stride(2).padding(1).ceil_mode(true))
        }),
        case("max_pool1d dilated", &[&[2, 3, 9]], |x| max_pool1d(&x[0], &MaxPool1dOptions::new(2).dilation(2))),
        case("avg_pool2d", &[&[2, 3, 7, 6]], |x| {
            avg_pool2d(&x[0], &AvgPool2dOptions::new(3).stride(2).padding(1).count_include_pad(false))
        }),
        case("adaptive_avg_pool2d", &[&[2, 3, 7, 5]], |x| adaptive_avg_pool2d(&x[0], [3, 2])),
    ]
}

pub(crate) fn cuda_vs_cpu_convolutions_and_poolings(dev: Device) {
    run_cases::<f32>(dev, conv_and_pool_cases());
    run_cases::<f64>(dev, conv_and_pool_cases());
}
