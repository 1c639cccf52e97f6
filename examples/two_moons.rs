//! A two-moons classifier written as a PyTorch user writes one: `manual_seed`, `Sequential(Linear(2, 32),
//! ReLU, Dropout(0.1), Linear(32, 32), ReLU, Linear(32, 2))`, Adam with a cosine schedule, shuffled
//! mini-batches, gradient clipping, train/eval switching, validation accuracy, and a save and reload through
//! safetensors. Only `torchlet` is imported: no `rand`, and the labels go from the data set through the
//! split and the loader into the loss and the accuracy as they are.
//!
//! Run: `cargo run --release --example two_moons`

use torchlet::data::{make_moons, train_test_split, MakeMoons};
use torchlet::io::{load_parameters, save_parameters};
use torchlet::metrics::accuracy;
use torchlet::nn::utils::clip_grad_norm_;
use torchlet::prelude::*;

/// What a run reached: the validation accuracy after each epoch, and whether the reloaded model's
/// validation logits are the trained model's, bit for bit.
pub struct Report {
    pub accuracies: Vec<f64>,
    pub reloaded_identical: bool,
}

/// The model of the program above.
pub fn model() -> Sequential<f32> {
    Sequential::new()
        .add(Linear::new(2, 32))
        .add(ReLU)
        .add(Dropout::new(0.1))
        .add(Linear::new(32, 32))
        .add(ReLU)
        .add(Linear::new(32, 2))
}

/// Trains for `epochs` epochs, printing every `print_every`-th, then saves the model to `path` and reloads
/// it into a fresh one.
pub fn run(epochs: usize, print_every: usize, path: &std::path::Path) -> Result<Report> {
    manual_seed(0);
    let data = make_moons::<f32>(&MakeMoons { n_samples: 1_000, noise: Some(0.1), ..Default::default() })?;
    let [(x_train, x_val), (y_train, y_val)] = train_test_split([&data.x, &data.y], 0.2, true, 0)?;
    let mut loader = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 32)?.shuffle(true);

    let mut model = model();
    let mut opt = Adam::new(model.parameters(), 1e-2)?;
    let mut scheduler = CosineAnnealingLR::new(&mut opt, epochs, 0.0)?;
    let mut accuracies = Vec::new();
    for epoch in 1..=epochs {
        model.train();
        let mut total = 0.0;
        for batch in loader.iter_pairs()? {
            let (xb, yb) = batch?;
            let loss = F::cross_entropy(&model.forward(&xb)?, &yb)?;
            opt.zero_grad();
            loss.backward()?;
            clip_grad_norm_(model.parameters(), 1.0)?;
            opt.step()?;
            total += f64::from(loss.item()?);
        }
        scheduler.step(&mut opt)?;

        model.eval();
        let predicted = no_grad(|| model.forward(&x_val)?.argmax(1, false))?;
        let acc = accuracy(&y_val, &predicted)?;
        accuracies.push(acc);
        if epoch % print_every == 0 || epoch == epochs {
            println!("epoch {epoch:>3}: train loss {:.4}, val accuracy {acc:.3}", total / loader.len() as f64);
        }
    }

    save_parameters(&model, path)?;
    let mut reloaded = self::model();
    load_parameters(&reloaded, path)?;
    reloaded.eval();
    let logits = no_grad(|| model.forward(&x_val))?;
    let reloaded_identical = no_grad(|| reloaded.forward(&x_val))?.equal(&logits)?;
    println!("reloaded from {}: logits identical: {reloaded_identical}", path.display());
    Ok(Report { accuracies, reloaded_identical })
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let path = std::env::temp_dir().join("two_moons.safetensors");
    let report = run(200, 20, &path)?;
    println!("final val accuracy {:.3}", report.accuracies.last().copied().unwrap_or(f64::NAN));
    Ok(())
}
