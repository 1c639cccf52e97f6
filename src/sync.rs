//! Locks that stay usable after a panic elsewhere.
//!
//! std's locks are "poisoned" when a thread panics while holding them, and every later `lock()` fails.
//! What torchlet keeps under a lock is plain data — numbers, an `Option` of a gradient, a finished backward
//! op — with no invariant spanning several fields that a panic could leave half-updated, so a second use
//! takes the lock as it is (as `parking_lot` does) instead of panicking in turn.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    /// Panics on another thread while holding `x`'s storage write lock and its gradient lock.
    fn poison(x: &Tensor<f32>) {
        let y = x.clone();
        let result = std::thread::spawn(move || {
            let _data = y.write();
            let _grad = super::lock(&y.0.grad);
            panic!("a panic while both locks are held");
        })
        .join();
        assert!(result.is_err());
        assert!(x.0.grad.is_poisoned(), "the panic poisoned the locks");
    }

    #[test]
    fn a_tensor_stays_usable_after_a_panic_poisoned_its_locks() {
        let x = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2]).unwrap().requires_grad_(true).unwrap();
        poison(&x);
        assert_eq!(x.to_vec().unwrap(), vec![1.0, 2.0]);
        x.mul_scalar(3.0).unwrap().sum().unwrap().backward().unwrap();
        assert_eq!(x.grad().unwrap().to_vec().unwrap(), vec![3.0, 3.0]);
        x.zero_grad();
        assert!(x.grad().is_none());
        crate::no_grad(|| x.add_scalar_(1.0).map(|_| ())).unwrap();
        assert_eq!(x.to_vec().unwrap(), vec![2.0, 3.0]);
    }
}
