//! Operands on two devices: refused, naming the op and both devices, with the operands left as they were;
//! `copy_` is the one op that crosses devices, as in torch.

use super::*;

/// Values (as bits), version, and gradient of a tensor, to show a refused call changed nothing.
fn snapshot(t: &Tensor<f64>) -> (Vec<u64>, u64, Option<Vec<u64>>) {
    let bits = |t: &Tensor<f64>| t.to_vec().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    (bits(t), t.version(), t.grad().map(|g| bits(&g)))
}

pub(crate) fn mixed_devices_are_refused_and_leave_the_operands_alone(dev: Device) {
    let cpu = Tensor::new([1.0f64, 2.0]).requires_grad_(true).unwrap();
    cpu.set_grad(Some(Tensor::full(&[2], 0.5))).unwrap();
    let gpu = Tensor::<f64>::new([3.0, 4.0]).to(dev).unwrap();
    let before = (snapshot(&cpu), snapshot(&gpu));
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
    assert_eq!(before, (snapshot(&cpu), snapshot(&gpu)), "a refused call changed its operands");
    // copy_ crosses devices, as in torch; a shape that does not fit is still refused.
    gpu.copy_(&cpu.detach()).unwrap();
    assert_eq!(gpu.to_vec().unwrap(), vec![1.0, 2.0]);
    let err = gpu.copy_(&Tensor::new([1.0, 2.0, 3.0])).unwrap_err().to_string();
    assert!(err.starts_with("copy_: "), "{err}");
}
