use rand::{rngs::StdRng, SeedableRng};
use torchlet::nn::{Linear, MSELoss, Module};
use torchlet::optim::SGD;
use torchlet::Tensor;
fn main() -> torchlet::Result<()> {
    let x = Tensor::<f32>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = Tensor::<f32>::new([[50.0], [110.0], [170.0]]);
    let model = Linear::<f32>::new(2, 1, false, &mut StdRng::seed_from_u64(0));
    model.set_weight(&Tensor::zeros(&[1, 2]))?;
    let mut opt = SGD::new(model.parameters(), 1e-4)?;
    let loss_fn = MSELoss::new();
    let t = std::time::Instant::now();
    for _ in 0..1_000_000 {
        let loss = loss_fn.forward(&model.forward(&x)?, &y)?;
        opt.zero_grad();
        loss.backward()?;
        opt.step()?;
    }
    println!("{:?} in {:?}", model.weight().to_vec()?, t.elapsed());
    // step alone
    let t = std::time::Instant::now();
    for _ in 0..1_000_000 {
        opt.step()?;
    }
    println!("step only (no grad => skipped) {:?}", t.elapsed());
    let loss = loss_fn.forward(&model.forward(&x)?, &y)?;
    loss.backward()?;
    let mut opt2 = SGD::new(model.parameters(), 0.0)?;
    let t = std::time::Instant::now();
    for _ in 0..1_000_000 {
        opt2.step()?;
    }
    println!("step with grad {:?}", t.elapsed());
    Ok(())
}
