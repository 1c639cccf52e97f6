//! Devices: CUDA asked of a machine or build without it, and operands on two devices.
//!
//! Without a usable GPU, constructing a `Device::Cuda(0)` tensor already fails, which is checked here in
//! every build. The mixed-device test needs a GPU: like tests/cuda/ it is `#[ignore]`d, so a machine
//! without one reports it as ignored rather than passed; on a GPU machine run
//! `cargo test --features cuda --test bad_inputs -- --include-ignored` (without a GPU it then fails, saying why).

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

#[test]
#[ignore = "needs a CUDA GPU: cargo test --features cuda --test bad_inputs -- --include-ignored"]
fn mixed_devices() {
    if !torchlet::cuda::is_available() {
        let why = Tensor::<f32>::full_on(&[1], 0.0, Device::Cuda(0)).map(|_| ()).unwrap_err();
        panic!("mixed_devices needs a usable CUDA GPU: {why}");
    }
    let cpu = param(&[1.0, 2.0], &[2]);
    let gpu = Tensor::<f64>::new([3.0, 4.0]).to(Device::Cuda(0)).unwrap();
    let before = snapshot(&[&cpu, &gpu]);
    for (op, result) in [
        ("add", cpu.add(&gpu).map(|_| ())),
        ("sub", gpu.sub(&cpu).map(|_| ())),
        ("mul", cpu.mul(&gpu).map(|_| ())),
        ("div", gpu.div(&cpu).map(|_| ())),
        ("matmul", cpu.matmul(&gpu).map(|_| ())),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::DeviceMismatch { .. }), "{op}: {err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{op}: expected all tensors on the same device, found ")), "{msg}");
        assert!(msg.contains("cpu") && msg.contains("cuda:0"), "{op}: {msg}");
    }
    assert_unchanged(&before, &[&cpu, &gpu]);
    // copy_ is the one op that crosses devices, as in torch; a shape that does not fit is still refused.
    gpu.copy_(&cpu.detach()).unwrap();
    assert_eq!(gpu.to_vec().unwrap(), vec![1.0, 2.0]);
    let err = gpu.copy_(&Tensor::new([1.0, 2.0, 3.0])).unwrap_err().to_string();
    assert!(err.starts_with("copy_: "), "{err}");
}
