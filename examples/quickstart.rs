//! The smallest torchlet program: learn `w` in `y = X w` by gradient descent, with autograd.
//!
//! Run: `cargo run --release --example quickstart`

use torchlet::{no_grad, Tensor};

fn main() -> torchlet::Result<()> {
    let x = Tensor::<f32>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = Tensor::new([[50.0], [110.0], [170.0]]);
    let w = Tensor::zeros(&[2, 1]).requires_grad_(true)?;
    for epoch in 0..=20_000 {
        let loss = (&y - &x.matmul(&w)?).square()?.mean()?;
        loss.backward()?;
        let grad = w.grad().expect("w requires grad");
        no_grad(|| w.sub_(&(&grad * 1e-2)))?;
        grad.zero_()?;
        if epoch % 5000 == 0 {
            println!("epoch {epoch:>5}: loss {:.3e}", loss.item()?);
        }
    }
    println!("w = {w} (true value [[10], [20]])");
    Ok(())
}
