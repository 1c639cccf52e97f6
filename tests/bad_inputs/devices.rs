//! Devices: CUDA asked of a machine or build without it. Without a usable GPU, constructing a
//! `Device::Cuda(0)` tensor already fails, which is checked here in every build. Operands on two devices
//! need a GPU: that test is in tests/cuda/mixed.rs, with the other GPU tests.

use super::{assert_unchanged, message, param, snapshot};
use torchlet::{Device, Error, Tensor};

#[test]
fn cuda_requested_without_cuda() {
    let n = torchlet::cuda::device_count();
    // Without a GPU `cuda:0` is the device asked for in vain; with one, the first ordinal past the last.
    let missing = Device::Cuda(n);
    let x = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&x]);
    for result in [Tensor::<f64>::full_on(&[2], 1.0, missing).map(|_| ()), x.to(missing).map(|_| ())] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Cuda(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("CUDA: ") && msg.contains(&format!("cuda:{n}")), "names the device: {msg}");
        if !cfg!(feature = "cuda") {
            assert_eq!(
                msg,
                format!("CUDA: device cuda:{n} requested, but torchlet was built without the `cuda` feature")
            );
        }
    }
    assert_unchanged(&before, &[&x]);
    assert_eq!(
        message("gpu".parse::<Device>()),
        "Device::from_str: unknown device \"gpu\" (expected cpu, cuda or cuda:N)"
    );
}
