//! The one-pass path of the optimizers' updates: where a parameter, its gradient and its state are
//! contiguous CPU tensors over buffers of their own, the whole update — the preamble, the state and the
//! parameter — is one loop over the buffers (`storage::cpu::optim`), as torch's fused and foreach
//! optimizers take it, instead of a tensor op per line of the rule. It gives the bits the tensor ops give;
//! elsewhere (CUDA, strided views) the tensor ops run.

use smallvec::SmallVec;
use std::sync::{RwLockReadGuard, RwLockWriteGuard};

use crate::device::Device;
use crate::element::Element;
use crate::storage::cpu::optim::Preamble;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// torch's preamble for `maximize` and the L2 `weight_decay`, in `T`.
pub(crate) fn preamble<T: Element>(maximize: bool, weight_decay: f64) -> Preamble<T> {
    Preamble { maximize, decay: weight_decay != 0.0, weight_decay: T::from_f64_lossy(weight_decay) }
}

#[cfg(test)]
thread_local! {
    /// Tests turn the one-pass path off on their thread, to compare it with the tensor ops.
    pub(crate) static DISABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How many one-pass updates ran on this thread.
    pub(crate) static RAN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the one-pass path may run.
fn enabled() -> bool {
    #[cfg(test)]
    if DISABLED.with(std::cell::Cell::get) {
        return false;
    }
    true
}

enum Guard<'a, T: Element> {
    Read(RwLockReadGuard<'a, Storage<T>>),
    Write(RwLockWriteGuard<'a, Storage<T>>),
}

/// Runs `f` on the elements of `param` and `state` (written) and `grad` (read) when all are contiguous CPU
/// tensors of one size over distinct buffers, then counts the in-place writes in their version counters;
/// `None`, with nothing done, otherwise. The locks are taken in the order of the buffers' addresses, the
/// one order every in-place op takes them in.
pub(crate) fn with_slices<T: Element, R, const N: usize>(
    param: &Tensor<T>,
    grad: &Tensor<T>,
    state: [&Tensor<T>; N],
    f: impl FnOnce(&mut [T], &[T], [&mut [T]; N]) -> R,
) -> Option<R> {
    if !enabled() {
        return None;
    }
    let n = param.numel();
    // Written first (the parameter, then the state), the gradient last.
    let tensors: SmallVec<[&Tensor<T>; 6]> = std::iter::once(param).chain(state).chain(std::iter::once(grad)).collect();
    let read = tensors.len() - 1;
    if tensors.iter().any(|t| t.device() != Device::Cpu || !t.is_contiguous() || t.numel() != n) {
        return None;
    }
    let mut order: SmallVec<[usize; 6]> = (0..tensors.len()).collect();
    order.sort_by_key(|&i| tensors[i].storage_address());
    if order.windows(2).any(|w| tensors[w[0]].storage_address() == tensors[w[1]].storage_address()) {
        return None;
    }
    let mut guards: SmallVec<[Option<Guard<'_, T>>; 6]> = tensors.iter().map(|_| None).collect();
    for &i in &order {
        guards[i] = Some(if i == read { Guard::Read(tensors[i].read()) } else { Guard::Write(tensors[i].write()) });
    }
    let mut written: SmallVec<[&mut [T]; 5]> = SmallVec::new();
    let mut gradient = None;
    for (guard, tensor) in guards.iter_mut().zip(&tensors) {
        let start = tensor.layout().offset;
        match guard.as_mut()? {
            Guard::Write(w) => match &mut **w {
                Storage::Cpu(s) => written.push(&mut s.0[start..start + n]),
                Storage::Cuda(_) => return None,
            },
            Guard::Read(r) => match &**r {
                Storage::Cpu(s) => gradient = Some(&s.0[start..start + n]),
                Storage::Cuda(_) => return None,
            },
        }
    }
    let mut written = written.into_iter();
    let param_slice = written.next()?;
    let state_slices: [&mut [T]; N] = std::array::from_fn(|_| written.next().expect("one slice per state tensor"));
    let out = f(param_slice, gradient?, state_slices);
    #[cfg(test)]
    RAN.with(|r| r.set(r.get() + 1));
    tensors[..read].iter().for_each(|t| t.bump_version());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{DISABLED, RAN};
    use crate::element::Element;
    use crate::error::Result;
    use crate::optim::{Adam, AdamConfig, AdamW, Optimizer, RMSprop, RmsPropConfig, SgdConfig, SGD};
    use crate::tensor::Tensor;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The parameters of a run: a short one, and one long enough for the parallel loops.
    fn parameters<T: Element>(rng: &mut StdRng) -> Vec<Tensor<T>> {
        [vec![37], vec![3, 87_382]].iter().map(|shape| Tensor::randn_with(shape, rng)).collect()
    }

    /// Every parameter and state buffer's bits after `steps` steps of the optimizer `make` builds, with
    /// the one-pass path on or off; the gradients are the same draws in both runs.
    fn run<T: Element, O: Optimizer<T>>(
        fused: bool,
        make: &dyn Fn(Vec<Tensor<T>>) -> Result<O>,
    ) -> Result<Vec<Vec<T>>> {
        DISABLED.with(|d| d.set(!fused));
        let ran = RAN.with(std::cell::Cell::get);
        let mut rng = StdRng::seed_from_u64(5);
        let params: Vec<Tensor<T>> =
            parameters(&mut rng).into_iter().map(|p| p.requires_grad_(true)).collect::<Result<_>>()?;
        let mut opt = make(params.clone())?;
        for _ in 0..4 {
            for p in &params {
                let g = Tensor::randn_with(p.shape(), &mut rng);
                // A few exact zeros and large values among the draws.
                let g = g.mul_scalar(T::from_f64_lossy(3.0))?.clamp(Some(T::from_f64_lossy(-4.0)), None)?;
                p.set_grad(Some(g))?;
            }
            opt.step()?;
        }
        DISABLED.with(|d| d.set(false));
        // Every update took the path asked for: 2 parameters, 4 steps.
        assert_eq!(RAN.with(std::cell::Cell::get) - ran, if fused { 8 } else { 0 });
        let mut out: Vec<Vec<T>> = params.iter().map(Tensor::to_vec).collect::<Result<_>>()?;
        for (_, t) in opt.state_dict() {
            out.push(t.to_vec()?);
        }
        Ok(out)
    }

    fn same_bits<T: Element, O: Optimizer<T>>(name: &str, make: &dyn Fn(Vec<Tensor<T>>) -> Result<O>) -> Result<()> {
        let (fused, passes) = (run(true, make)?, run(false, make)?);
        assert_eq!(fused.len(), passes.len(), "{name}: the state dicts differ");
        for (i, (a, b)) in fused.iter().zip(&passes).enumerate() {
            let same = a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| x.to_f64().map(f64::to_bits) == y.to_f64().map(f64::to_bits));
            assert!(same, "{name}: buffer {i} differs between the one-pass update and the tensor ops");
        }
        Ok(())
    }

    fn every_rule<T: Element>() -> Result<()> {
        let lr = 0.01;
        let sgd = [
            SgdConfig::new(lr),
            SgdConfig::new(lr).weight_decay(0.1).maximize(true),
            SgdConfig::new(lr).momentum(0.9),
            SgdConfig::new(lr).momentum(0.8).dampening(0.3).weight_decay(0.01),
            SgdConfig::new(lr).momentum(0.9).nesterov(true).maximize(true),
        ];
        for c in sgd {
            same_bits::<T, _>(&format!("{c:?}"), &|p| SGD::with_config(p, c))?;
        }
        let adam = [
            AdamConfig::new(lr),
            AdamConfig::new(lr).weight_decay(0.1).maximize(true),
            AdamConfig::new(lr).amsgrad(true),
            // 1 - β1 = 0.7: lerp's other form.
            AdamConfig::new(lr).betas(0.3, 0.8).eps(1e-3),
        ];
        for c in adam {
            same_bits::<T, _>(&format!("Adam {c:?}"), &|p| Adam::with_config(p, c))?;
        }
        for c in [AdamConfig::adamw(lr), AdamConfig::adamw(lr).amsgrad(true).maximize(true)] {
            same_bits::<T, _>(&format!("AdamW {c:?}"), &|p| AdamW::with_config(p, c))?;
        }
        let rmsprop = [
            RmsPropConfig::new(lr),
            RmsPropConfig::new(lr).centered(true),
            RmsPropConfig::new(lr).momentum(0.9).weight_decay(0.1),
            RmsPropConfig::new(lr).centered(true).momentum(0.5).maximize(true),
            RmsPropConfig::new(lr).alpha(0.3).centered(true),
        ];
        for c in rmsprop {
            same_bits::<T, _>(&format!("{c:?}"), &|p| RMSprop::with_config(p, c))?;
        }
        Ok(())
    }

    #[test]
    fn one_pass_updates_give_the_bits_of_the_tensor_ops() -> Result<()> {
        every_rule::<f32>()?;
        every_rule::<f64>()
    }
}
