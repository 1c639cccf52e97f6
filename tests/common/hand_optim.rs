//! Adam, AdamW and RMSprop on plain numbers, element by element, written from torch's documented rules
//! with the rounding order of torch's single-tensor kernels (`lerp`, `addcmul`, `addcdiv`): the
//! independent formulation the optimizers are checked against.

use torchlet::optim::{AdamConfig, RmsPropConfig};
use torchlet::Element;

/// Hand state of one Adam parameter.
#[derive(Debug, Clone, Default)]
pub struct AdamHand<T> {
    pub step: u64,
    pub m: Vec<T>,
    pub v: Vec<T>,
    pub vmax: Vec<T>,
}

/// `self + w·(end − self)` for |w| < 0.5, else `end − (end − self)·(1 − w)`: torch's lerp.
pub fn lerp<T: Element>(start: T, end: T, w: T) -> T {
    if w.abs() < T::from_f64_lossy(0.5) {
        start + w * (end - start)
    } else {
        end - (end - start) * (T::one() - w)
    }
}

/// One step of torch.optim.Adam (`decoupled = false`) or AdamW (`true`) on `theta`.
pub fn adam_step<T: Element>(theta: &mut [T], grad: &[T], s: &mut AdamHand<T>, c: &AdamConfig, decoupled: bool) {
    let k = T::from_f64_lossy;
    let n = theta.len();
    if s.step == 0 {
        (s.m, s.v, s.vmax) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    }
    s.step += 1;
    let (b1, b2) = c.betas;
    let bias_correction1 = 1.0 - b1.powf(s.step as f64);
    let bias_correction2 = 1.0 - b2.powf(s.step as f64);
    let step_size = c.lr / bias_correction1;
    let bc2_sqrt = bias_correction2.sqrt();
    for i in 0..n {
        let mut g = if c.maximize { -grad[i] } else { grad[i] };
        if c.weight_decay != 0.0 {
            if decoupled {
                theta[i] = theta[i] * k(1.0 - c.lr * c.weight_decay);
            } else {
                g = g + k(c.weight_decay) * theta[i];
            }
        }
        s.m[i] = lerp(s.m[i], g, k(1.0 - b1));
        s.v[i] = s.v[i] * k(b2) + k(1.0 - b2) * g * g;
        let mut second = s.v[i];
        if c.amsgrad {
            s.vmax[i] = s.vmax[i].max(s.v[i]);
            second = s.vmax[i];
        }
        let denom = second.sqrt() / k(bc2_sqrt) + k(c.eps);
        theta[i] = theta[i] + k(-step_size) * s.m[i] / denom;
    }
}

/// Hand state of one RMSprop parameter.
#[derive(Debug, Clone, Default)]
pub struct RmsHand<T> {
    pub step: u64,
    pub sq: Vec<T>,
    pub buf: Vec<T>,
    pub ga: Vec<T>,
}

/// One step of torch.optim.RMSprop on `theta`.
pub fn rmsprop_step<T: Element>(theta: &mut [T], grad: &[T], s: &mut RmsHand<T>, c: &RmsPropConfig) {
    let k = T::from_f64_lossy;
    let n = theta.len();
    if s.step == 0 {
        (s.sq, s.buf, s.ga) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    }
    s.step += 1;
    for i in 0..n {
        let mut g = if c.maximize { -grad[i] } else { grad[i] };
        if c.weight_decay != 0.0 {
            g = g + k(c.weight_decay) * theta[i];
        }
        s.sq[i] = s.sq[i] * k(c.alpha) + k(1.0 - c.alpha) * g * g;
        let avg = if c.centered {
            s.ga[i] = lerp(s.ga[i], g, k(1.0 - c.alpha));
            (s.sq[i] - s.ga[i] * s.ga[i]).sqrt() + k(c.eps)
        } else {
            s.sq[i].sqrt() + k(c.eps)
        };
        if c.momentum > 0.0 {
            s.buf[i] = s.buf[i] * k(c.momentum) + g / avg;
            theta[i] = theta[i] + k(-c.lr) * s.buf[i];
        } else {
            theta[i] = theta[i] + k(-c.lr) * g / avg;
        }
    }
}

/// The gradient of the test problem `Σ aᵢθᵢ² + cᵢθᵢ` (four elements, repeated), by hand.
pub fn problem_grad<T: Element>(theta: &[T]) -> Vec<T> {
    const A: [f64; 4] = [1.0, 0.5, 3.0, 0.25];
    const C: [f64; 4] = [0.3, -1.0, 0.2, 2.0];
    let k = T::from_f64_lossy;
    theta.iter().enumerate().map(|(i, &t)| k(2.0 * A[i % 4]) * t + k(C[i % 4])).collect()
}
