//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod hand_optim;
#[cfg(feature = "tch")]
pub mod torch;
#[cfg(feature = "tch")]
pub mod variants;

use torchlet::{Result, Tensor};

/// Checks the gradients that backward computes for `f` at `inputs` against central finite differences.
///
/// The output is reduced with fixed random weights, `sum(f(x) * r)`, so every entry of the Jacobian takes
/// part in the check, not just their sum. Returns the worst mismatch as an error message.
pub fn gradcheck(inputs: &[Tensor<f64>], f: impl Fn(&[Tensor<f64>]) -> Result<Tensor<f64>>) -> Result<(), String> {
    let leaves: Vec<Tensor<f64>> =
        inputs.iter().map(|x| x.detach().contiguous_owned().requires_grad_(true).unwrap()).collect();
    gradcheck_leaves(&leaves, f)
}

/// [`gradcheck`] on leaves as they are (they must require grad and have no gradient yet), for leaves laid
/// out as strided views; each gradient must come back with its leaf's shape.
pub fn gradcheck_leaves(
    leaves: &[Tensor<f64>],
    f: impl Fn(&[Tensor<f64>]) -> Result<Tensor<f64>>,
) -> Result<(), String> {
    let out = f(leaves).map_err(|e| e.to_string())?;
    let weights: Vec<f64> = (0..out.numel()).map(|i| 0.5 + ((i * 7919) % 13) as f64 / 13.0).collect();
    let weights = Tensor::from_vec(weights, out.shape()).unwrap();
    let objective = |xs: &[Tensor<f64>]| -> f64 {
        let out = f(xs).unwrap();
        out.to_vec().unwrap().iter().zip(weights.to_vec().unwrap()).map(|(a, b)| a * b).sum()
    };
    out.mul(&weights).and_then(|o| o.sum()).and_then(|l| l.backward()).map_err(|e| e.to_string())?;

    let eps = 1e-6;
    for (i, leaf) in leaves.iter().enumerate() {
        if let Some(g) = leaf.grad().filter(|g| g.shape() != leaf.shape()) {
            return Err(format!("input {i}: gradient of shape {:?} for a leaf of shape {:?}", g.shape(), leaf.shape()));
        }
        let analytic = leaf.grad().map(|g| g.to_vec().unwrap()).unwrap_or_else(|| vec![0.0; leaf.numel()]);
        if analytic.len() != leaf.numel() {
            return Err(format!("input {i}: gradient has {} elements, input {}", analytic.len(), leaf.numel()));
        }
        let base = leaf.to_vec().unwrap();
        for j in 0..base.len() {
            let at = |delta: f64| {
                let mut moved = base.clone();
                moved[j] += delta;
                let mut xs: Vec<Tensor<f64>> = leaves.iter().map(Tensor::detach).collect();
                xs[i] = Tensor::from_vec(moved, leaf.shape()).unwrap();
                objective(&xs)
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let tolerance = 1e-5 * (1.0 + numeric.abs());
            if (numeric - analytic[j]).abs() > tolerance {
                return Err(format!(
                    "input {i} (shape {:?}) element {j}: backward gives {}, finite differences {numeric}",
                    leaf.shape(),
                    analytic[j]
                ));
            }
        }
    }
    Ok(())
}

/// Extension used by the tests to get a fresh leaf that owns its data.
pub trait ContiguousOwned {
    fn contiguous_owned(&self) -> Self;
}

impl ContiguousOwned for Tensor<f64> {
    fn contiguous_owned(&self) -> Self {
        Tensor::from_vec(self.to_vec().unwrap(), self.shape()).unwrap()
    }
}

/// Resident set size of this process in bytes, from /proc/self/statm.
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).expect("statm has a resident field").parse().unwrap();
    pages * 4096
}
