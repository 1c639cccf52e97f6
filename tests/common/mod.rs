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

/// Fixed weights in [0.5, 1.5) for `n` elements, a different pattern for each `salt`.
fn weights(n: usize, salt: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + ((i * 7919 + salt * 104_729) % 13) as f64 / 13.0).collect()
}

/// `Σ_i Σ g_i · v_i` over the gradients present, with fixed weights `v_i` (a scalar with or without a graph).
fn weighted_sum(grads: &[Option<Tensor<f64>>]) -> Result<Option<Tensor<f64>>> {
    let mut total: Option<Tensor<f64>> = None;
    for (i, g) in grads.iter().enumerate() {
        let Some(g) = g else { continue };
        let v = Tensor::from_vec(weights(g.numel(), i + 1), g.shape())?;
        let term = g.mul(&v)?.sum()?;
        total = Some(match total {
            None => term,
            Some(t) => t.add(&term)?,
        });
    }
    Ok(total)
}

/// Checks second derivatives, as torch's `gradgradcheck`: the first derivative that a `create_graph`
/// backward builds, differentiated again, against central finite differences of the first derivative.
///
/// With fixed random `r` (the first backward's `grad_outputs`) and `v_i`, the function checked is
/// `G(x, r) = Σ_i ∇_{x_i}(r · f(x)) · v_i`; its derivative with respect to every input and to `r` comes from
/// the second backward, and the finite differences perturb each element of each and rerun a plain
/// first-order backward. The first derivative that the graph-building backward returns is also checked
/// against the plain one's (they are the same formula; 1e-13 relative). Returns the worst mismatch as an
/// error message.
pub fn gradgradcheck(inputs: &[Tensor<f64>], f: impl Fn(&[Tensor<f64>]) -> Result<Tensor<f64>>) -> Result<(), String> {
    use torchlet::autograd::{grad_with, GradOptions};
    let fail = |e: torchlet::Error| e.to_string();
    let leaves: Vec<Tensor<f64>> =
        inputs.iter().map(|x| x.detach().contiguous_owned().requires_grad_(true).unwrap()).collect();
    let out = f(&leaves).map_err(fail)?;
    let r = Tensor::from_vec(weights(out.numel(), 0), out.shape()).unwrap().requires_grad_(true).unwrap();

    // G at (xs, r) through a plain first-order backward: what the finite differences evaluate.
    let first = |xs: &[Tensor<f64>], r: &Tensor<f64>, create_graph: bool| -> Result<Vec<Option<Tensor<f64>>>> {
        let out = f(xs)?;
        let refs: Vec<&Tensor<f64>> = xs.iter().collect();
        let options = GradOptions::new().grad_outputs(&[r]).create_graph(create_graph).allow_unused(true);
        grad_with(&[&out], &refs, &options)
    };
    let plain = |xs: &[Tensor<f64>], r: &Tensor<f64>| -> f64 {
        let xs: Vec<Tensor<f64>> = xs.iter().map(|x| x.detach().requires_grad_(true).unwrap()).collect();
        let grads = first(&xs, &r.detach(), false).unwrap();
        weighted_sum(&grads).unwrap().map_or(0.0, |g| g.item().unwrap())
    };

    let with_graph = first(&leaves, &r, true).map_err(fail)?;
    let without = first(&leaves, &r, false).map_err(fail)?;
    for (i, (a, b)) in with_graph.iter().zip(&without).enumerate() {
        let (a, b) = (a.as_ref().map(|t| t.to_vec().unwrap()), b.as_ref().map(|t| t.to_vec().unwrap()));
        let close = match (&a, &b) {
            (Some(a), Some(b)) => {
                a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-13 * (1.0 + y.abs()) || (x.is_nan() && y.is_nan()))
            }
            (None, None) => true,
            _ => false,
        };
        if !close {
            return Err(format!("input {i}: first derivative with create_graph {a:?}, without {b:?}"));
        }
    }
    let total = weighted_sum(&with_graph).map_err(fail)?;
    let mut variables: Vec<Tensor<f64>> = leaves.clone();
    variables.push(r.clone());
    let analytic: Vec<Vec<f64>> = match total.filter(Tensor::requires_grad) {
        Some(total) => {
            let refs: Vec<&Tensor<f64>> = variables.iter().collect();
            grad_with(&[&total], &refs, &GradOptions::new().allow_unused(true))
                .map_err(fail)?
                .into_iter()
                .zip(&variables)
                .map(|(g, x)| g.map_or_else(|| vec![0.0; x.numel()], |g| g.to_vec().unwrap()))
                .collect()
        }
        // A first derivative with no graph is a constant: its derivative is 0.
        None => variables.iter().map(|x| vec![0.0; x.numel()]).collect(),
    };

    let eps = 1e-6;
    for (i, var) in variables.iter().enumerate() {
        let base = var.to_vec().unwrap();
        for j in 0..base.len() {
            let at = |delta: f64| {
                let mut moved = base.clone();
                moved[j] += delta;
                let moved = Tensor::from_vec(moved, var.shape()).unwrap();
                if i < leaves.len() {
                    let mut xs: Vec<Tensor<f64>> = leaves.iter().map(Tensor::detach).collect();
                    xs[i] = moved;
                    plain(&xs, &r)
                } else {
                    plain(&leaves, &moved)
                }
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let tolerance = 1e-5 * (1.0 + numeric.abs());
            if (numeric - analytic[i][j]).abs() > tolerance {
                let what = if i < leaves.len() { format!("input {i}") } else { "grad_output".to_string() };
                return Err(format!(
                    "{what} (shape {:?}) element {j}: double backward gives {}, finite differences {numeric}",
                    var.shape(),
                    analytic[i][j]
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
