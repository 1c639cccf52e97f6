// Throwaway smoke test for the `tch` feature setup; to be deleted.
#![cfg(feature = "tch")]
use tch::{Kind, Tensor};

#[test]
fn tch_matmul_backward() {
    let a = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape([2, 3]).set_requires_grad(true);
    let b = Tensor::from_slice(&[0.5f64, -1.0, 2.0]).reshape([3, 1]);
    let y = a.matmul(&b).sum(Kind::Double);
    y.backward();
    let g = a.grad();
    println!("y = {}", f64::try_from(&y).unwrap());
    g.print();
    assert_eq!(g.kind(), Kind::Double);
    let gv: Vec<f64> = Vec::try_from(g.flatten(0, -1)).unwrap();
    assert_eq!(gv, vec![0.5, -1.0, 2.0, 0.5, -1.0, 2.0]);
    println!("cuda available: {}", tch::Cuda::is_available());
}
