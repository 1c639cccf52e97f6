//! Wrong inputs to the convolutions and poolings: each error names the op and the values, as torch's do,
//! and leaves the operands unchanged.

use crate::{assert_unchanged, message, param, snapshot};
use torchlet::nn::functional::{
    adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d, AvgPool2dOptions, Conv1dOptions,
    Conv2dOptions, MaxPool1dOptions, MaxPool2dOptions, Padding,
};
use torchlet::Tensor;

fn ones(shape: &[usize]) -> Tensor<f64> {
    param(&vec![1.0; shape.iter().product()], shape)
}

#[test]
fn conv2d_names_a_wrong_channel_count() {
    let (x, w) = (ones(&[1, 4, 5, 5]), ones(&[8, 3, 3, 3]));
    let before = snapshot(&[&x, &w]);
    assert_eq!(
        message(conv2d(&x, &w, None, &Conv2dOptions::default())),
        "conv2d: Given groups=1, weight of size [8, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 channels, but got 4 channels instead"
    );
    assert_unchanged(&before, &[&x, &w]);
}

#[test]
fn conv2d_refuses_a_kernel_larger_than_the_padded_input() {
    let (x, w) = (ones(&[1, 1, 2, 4]), ones(&[1, 1, 3, 3]));
    assert_eq!(
        message(conv2d(&x, &w, None, &Conv2dOptions::default())),
        "conv2d: Calculated padded input size per channel: (2 x 4). Kernel size: (3 x 3). Kernel size can't be greater than actual input size"
    );
    // Dilation widens the kernel: 2·(3 − 1) + 1 = 5 > 4.
    assert_eq!(
        message(conv2d(&ones(&[1, 1, 4, 4]), &w, None, &Conv2dOptions::default().dilation(2))),
        "conv2d: Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5). Kernel size can't be greater than actual input size"
    );
    assert!(conv2d(&x, &w, None, &Conv2dOptions::default().padding([1, 0])).is_ok());
}

#[test]
fn conv2d_checks_groups() {
    let x = ones(&[1, 4, 5, 5]);
    assert_eq!(
        message(conv2d(&x, &ones(&[3, 2, 3, 3]), None, &Conv2dOptions::default().groups(2))),
        "conv2d: Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [3, 2, 3, 3] instead"
    );
    assert_eq!(
        message(conv2d(&ones(&[1, 3, 5, 5]), &ones(&[4, 1, 3, 3]), None, &Conv2dOptions::default().groups(2))),
        "conv2d: Given groups=2, weight of size [4, 1, 3, 3], expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead"
    );
    assert_eq!(
        message(conv2d(&x, &ones(&[4, 4, 3, 3]), None, &Conv2dOptions::default().groups(0))),
        "conv2d: non-positive groups is not supported"
    );
}

#[test]
fn conv_checks_rank_stride_bias_and_same_padding() {
    let w = ones(&[2, 3, 3, 3]);
    // A 3-D input is an unbatched image, as in torch; 2-D is neither.
    assert_eq!(conv2d(&ones(&[3, 5, 5]), &w, None, &Conv2dOptions::default()).unwrap().shape(), &[2, 3, 3]);
    assert_eq!(
        message(conv2d(&ones(&[3, 5]), &w, None, &Conv2dOptions::default())),
        "conv2d: expected a 3-D (unbatched) or 4-D (batched) input, but got input of size [3, 5]"
    );
    assert_eq!(
        message(conv2d(&ones(&[1, 3, 5, 5]), &w, None, &Conv2dOptions::default().stride([1, 0]))),
        "conv2d: non-positive stride is not supported, got stride [1, 0]"
    );
    assert_eq!(
        message(conv2d(&ones(&[1, 3, 5, 5]), &w, Some(&ones(&[3])), &Conv2dOptions::default())),
        "conv2d: Given weight of size [2, 3, 3, 3], expected bias to be 1-dimensional with 2 elements, but got bias of size [3] instead"
    );
    assert_eq!(
        message(conv2d(&ones(&[1, 3, 5, 5]), &w, None, &Conv2dOptions::default().padding(Padding::Same).stride(2))),
        "conv2d: padding='same' is not supported for strided convolutions"
    );
    assert_eq!(
        message(conv1d(&ones(&[1, 3, 5]), &ones(&[2, 3, 3, 3]), None, &Conv1dOptions::default())),
        "conv1d: expected a 3-D weight [out, in/groups, k...], but got weight of size [2, 3, 3, 3]"
    );
    assert_eq!(
        message(conv1d(&ones(&[1, 3, 5]), &ones(&[2, 3, 3]), None, &Conv1dOptions::default().dilation(0))),
        "conv1d: dilation should be greater than zero, but got dilation [0]"
    );
}

#[test]
fn pooling_checks_padding_stride_and_output_size() {
    let x = ones(&[1, 3, 4, 4]);
    let before = snapshot(&[&x]);
    assert_eq!(
        message(max_pool2d(&x, &MaxPool2dOptions::new(3).padding([2, 1]))),
        "max_pool2d: pad should be at most half of kernel size, but got padding [2, 1] and kernel_size [3, 3]"
    );
    assert_eq!(
        message(avg_pool2d(&x, &AvgPool2dOptions::new(2).padding(2))),
        "avg_pool2d: pad should be at most half of kernel size, but got padding [2, 2] and kernel_size [2, 2]"
    );
    assert_eq!(
        message(max_pool2d(&x, &MaxPool2dOptions::new(2).stride([0, 1]))),
        "max_pool2d: stride should be greater than zero, but got stride [0, 1]"
    );
    assert_eq!(
        message(max_pool1d(&ones(&[2, 5]), &MaxPool1dOptions::new(0))),
        "max_pool1d: kernel size should be greater than zero, but got kernel size [0]"
    );
    assert_eq!(
        message(max_pool2d(&x, &MaxPool2dOptions::new(3).dilation(2))),
        "max_pool2d: Given input size: (3x4x4). Calculated output size: (3x0x0). Output size is too small"
    );
    assert_eq!(
        message(avg_pool2d(&x, &AvgPool2dOptions::new(2).divisor_override(0))),
        "avg_pool2d: divisor must be not zero"
    );
    assert_eq!(
        message(max_pool2d(&ones(&[4, 4]), &MaxPool2dOptions::new(2))),
        "max_pool2d: expected a 3-D (unbatched) or 4-D (batched) input, but got input of size [4, 4]"
    );
    assert_eq!(
        message(adaptive_avg_pool2d(&ones(&[1, 2, 0, 3]), 2)),
        "adaptive_avg_pool2d: expected input to have non-zero size for non-batch dimensions, but got input of size [1, 2, 0, 3]"
    );
    assert_unchanged(&before, &[&x]);
}
