//! The `Tensor` handle: shared storage + a strided layout + autograd metadata.

use crate::autograd::Node;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{self, Layout};
use crate::storage::cpu::CpuStorage;
use crate::storage::Storage;
use rand::Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A buffer shared by a tensor and all its views, with torch's version counter: every in-place write bumps
/// it, so a backward pass can tell that a tensor it saved has changed since.
#[derive(Debug)]
pub(crate) struct StorageCell<T: Element> {
    data: RwLock<Storage<T>>,
    version: AtomicU64,
}

impl<T: Element> StorageCell<T> {
    fn new(storage: Storage<T>) -> Arc<Self> {
        Arc::new(StorageCell { data: RwLock::new(storage), version: AtomicU64::new(0) })
    }
}

pub(crate) struct TensorInner<T: Element> {
    pub(crate) storage: Arc<StorageCell<T>>,
    pub(crate) layout: Layout,
    pub(crate) device: Device,
    /// Leaves only: whether gradients flow into this tensor's `.grad`.
    pub(crate) requires_grad: AtomicBool,
    /// Leaves only: whether gradient hooks are registered on it (in the hooks' table, under its address).
    pub(crate) hooked: AtomicBool,
    /// Non-leaves only: the node that made this tensor, with the backward of that op.
    pub(crate) grad_fn: Option<Arc<dyn Node<T>>>,
    /// Leaves only: the accumulated gradient.
    pub(crate) grad: Mutex<Option<Tensor<T>>>,
}

impl<T: Element> Drop for TensorInner<T> {
    fn drop(&mut self) {
        if *self.hooked.get_mut() {
            crate::autograd::forget(self as *const Self as usize);
        }
    }
}

/// An n-dimensional array of `f32` or `f64` that records the operations made on it for reverse-mode autodiff.
///
/// A `Tensor` is a cheap handle (an `Arc`): cloning it shares the data, as assigning a torch tensor does.
/// Views (`t`, `transpose`, `narrow`, `reshape` of a contiguous tensor, ...) share the storage of their base.
///
/// ```
/// use torchlet::Tensor;
/// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
/// let w = Tensor::new([0.5, -1.0]).requires_grad_(true)?;
/// let loss = x.matmul(&w)?.square()?.sum()?;
/// loss.backward()?;
/// // d/dw sum((x w)^2) = 2 xᵀ (x w) = 2 [1·(-1.5) + 3·(-2.5), 2·(-1.5) + 4·(-2.5)]
/// assert_eq!(w.grad().unwrap().to_vec()?, vec![-18.0, -26.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Tensor<T: Element>(pub(crate) Arc<TensorInner<T>>);

impl<T: Element> Clone for Tensor<T> {
    fn clone(&self) -> Self {
        Tensor(Arc::clone(&self.0))
    }
}

/// Data that `Tensor::new` accepts: vectors, slices and (nested) fixed-size arrays, shape inferred.
pub trait TensorData<T> {
    /// The row-major elements and the shape.
    fn into_data(self) -> (Vec<T>, Vec<usize>);
}

impl<T: Element> TensorData<T> for T {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        (vec![self], vec![])
    }
}
impl<T: Element> TensorData<T> for Vec<T> {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        let n = self.len();
        (self, vec![n])
    }
}
impl<T: Element> TensorData<T> for &[T] {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        (self.to_vec(), vec![self.len()])
    }
}
impl<T: Element, const N: usize> TensorData<T> for [T; N] {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        (self.to_vec(), vec![N])
    }
}
impl<T: Element, const N: usize, const M: usize> TensorData<T> for [[T; M]; N] {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        (self.iter().flatten().copied().collect(), vec![N, M])
    }
}
impl<T: Element, const N: usize, const M: usize, const K: usize> TensorData<T> for [[[T; K]; M]; N] {
    fn into_data(self) -> (Vec<T>, Vec<usize>) {
        (self.iter().flatten().flatten().copied().collect(), vec![N, M, K])
    }
}

impl<T: Element> Tensor<T> {
    // ---- construction -------------------------------------------------------------------------------

    /// Wraps a storage and layout; `grad_fn` is set for results of recorded ops.
    pub(crate) fn from_parts(
        storage: Arc<StorageCell<T>>,
        layout: Layout,
        device: Device,
        grad_fn: Option<Arc<dyn Node<T>>>,
    ) -> Self {
        Tensor(Arc::new(TensorInner {
            storage,
            layout,
            device,
            requires_grad: AtomicBool::new(false),
            hooked: AtomicBool::new(false),
            grad_fn,
            grad: Mutex::new(None),
        }))
    }

    /// A fresh contiguous tensor of `shape` over `storage`, with no history.
    pub(crate) fn from_storage(storage: Storage<T>, shape: &[usize]) -> Self {
        let device = storage.device();
        Self::from_parts(StorageCell::new(storage), Layout::contiguous(shape), device, None)
    }

    /// This tensor's storage and layout as the output of `node`: a handle of a recorded result.
    pub(crate) fn with_grad_fn(&self, node: Arc<dyn Node<T>>) -> Self {
        Self::from_parts(Arc::clone(&self.0.storage), self.0.layout.clone(), self.0.device, Some(node))
    }

    /// A view of this tensor's storage with another layout, with no history.
    pub(crate) fn view_with(&self, layout: Layout) -> Self {
        Self::from_parts(Arc::clone(&self.0.storage), layout, self.0.device, None)
    }

    /// A tensor from nested arrays, a vector or a slice (1-D), or a scalar (0-D), like `torch.tensor`.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0]]);
    /// assert_eq!(x.shape(), &[2, 3]);
    /// ```
    pub fn new(data: impl TensorData<T>) -> Self {
        let (data, shape) = data.into_data();
        Self::from_storage(Storage::Cpu(CpuStorage(data)), &shape)
    }

    /// A tensor of `shape` over row-major `data`; fails when the lengths differ.
    ///
    /// ```
    /// let x = torchlet::Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(x.to_vec2()?, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self> {
        if data.len() != shape::numel(shape) {
            return Err(Error::shape(
                "from_vec",
                format!("{} elements cannot fill shape {shape:?} ({} elements)", data.len(), shape::numel(shape)),
            ));
        }
        Ok(Self::from_storage(Storage::Cpu(CpuStorage(data)), shape))
    }

    /// Like [`Tensor::from_vec`], copying from a slice.
    pub fn from_slice(data: &[T], shape: &[usize]) -> Result<Self> {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional tensor holding `value`.
    pub fn scalar(value: T) -> Self {
        Self::from_storage(Storage::Cpu(CpuStorage::filled(1, value)), &[])
    }

    /// A tensor of `shape` filled with `value` (`torch.full`).
    ///
    /// # Panics
    /// When `shape` has more elements than one buffer can hold, with the message [`Tensor::full_on`] returns
    /// as an error (the infallible constructors, like `Vec`'s, panic rather than return a `Result`).
    pub fn full(shape: &[usize], value: T) -> Self {
        Self::filled("full", shape, value)
    }

    /// A tensor of `shape` filled with `value` on `device`; fails for a shape of more elements than memory
    /// can hold, and for a device that is not there.
    pub fn full_on(shape: &[usize], value: T, device: Device) -> Result<Self> {
        let n = shape::checked_numel("full", shape)?;
        Ok(Self::from_storage(Storage::full(n, value, device)?, shape))
    }

    /// Zeros of `shape` (`torch.zeros`).
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::filled("zeros", shape, T::zero())
    }

    /// Ones of `shape` (`torch.ones`).
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn ones(shape: &[usize]) -> Self {
        Self::filled("ones", shape, T::one())
    }

    fn filled(op: &'static str, shape: &[usize], value: T) -> Self {
        let n = Self::numel_or_panic(op, shape);
        Self::from_storage(Storage::Cpu(CpuStorage::filled(n, value)), shape)
    }

    /// The element count of a shape for an infallible constructor: a shape no buffer can hold panics here,
    /// naming the constructor and the shape, instead of deep inside the allocator.
    fn numel_or_panic(op: &'static str, shape: &[usize]) -> usize {
        shape::checked_numel(op, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Zeros with the shape and device of `self` (`torch.zeros_like`).
    pub fn zeros_like(&self) -> Result<Self> {
        Self::full_on(self.shape(), T::zero(), self.device())
    }

    /// Ones with the shape and device of `self` (`torch.ones_like`).
    pub fn ones_like(&self) -> Result<Self> {
        Self::full_on(self.shape(), T::one(), self.device())
    }

    /// `start, start + step, ...` up to but excluding `end` (`torch.arange`); fails for a zero or
    /// wrong-signed step.
    pub fn arange(start: T, end: T, step: T) -> Result<Self> {
        let steps = ((end - start) / step).ceil();
        if step == T::zero() || !steps.is_finite() {
            return Err(Error::invalid("arange", format!("step {step} cannot go from {start} to {end}")));
        }
        let steps = steps.max(T::zero());
        let n = steps.to_usize().filter(|&n| n <= shape::MAX_ELEMENTS).ok_or_else(|| {
            Error::invalid(
                "arange",
                format!("{start} to {end} by {step} makes {steps} elements, more than memory can hold"),
            )
        })?;
        let data = (0..n).map(|i| start + step * T::from_usize(i).unwrap_or_else(T::zero)).collect();
        Self::from_vec(data, &[n])
    }

    /// Draws from U(0, 1) (`torch.rand`), from the default generator ([`crate::manual_seed`]).
    ///
    /// ```
    /// torchlet::manual_seed(0);
    /// let x = torchlet::Tensor::<f32>::rand(&[2, 3]);
    /// assert!(x.to_vec()?.iter().all(|v| (0.0..1.0).contains(v)));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn rand(shape: &[usize]) -> Self {
        crate::random::with_default_generator(|rng| Self::rand_with(shape, rng))
    }

    /// Draws from U(0, 1) (`torch.rand(shape, generator=rng)`), from the given rng.
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn rand_with<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Self {
        Self::rand_uniform_with(shape, T::zero(), T::one(), rng)
    }

    /// Draws from U(lo, hi) (`torch.empty(shape).uniform_(lo, hi)`), from the default generator.
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn rand_uniform(shape: &[usize], lo: T, hi: T) -> Self {
        crate::random::with_default_generator(|rng| Self::rand_uniform_with(shape, lo, hi, rng))
    }

    /// Draws from U(lo, hi), from the given rng.
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn rand_uniform_with<R: Rng + ?Sized>(shape: &[usize], lo: T, hi: T, rng: &mut R) -> Self {
        let data = (0..Self::numel_or_panic("rand", shape)).map(|_| T::sample_uniform(lo, hi, rng)).collect();
        Self::from_storage(Storage::Cpu(CpuStorage(data)), shape)
    }

    /// Draws from N(0, 1) (`torch.randn`), from the default generator ([`crate::manual_seed`]).
    ///
    /// ```
    /// torchlet::manual_seed(0);
    /// assert_eq!(torchlet::Tensor::<f64>::randn(&[2, 3]).shape(), &[2, 3]);
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn randn(shape: &[usize]) -> Self {
        crate::random::with_default_generator(|rng| Self::randn_with(shape, rng))
    }

    /// Draws from N(0, 1) (`torch.randn(shape, generator=rng)`), from the given rng.
    ///
    /// # Panics
    /// As [`Tensor::full`]: for a shape of more elements than memory can hold.
    pub fn randn_with<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Self {
        let data = (0..Self::numel_or_panic("randn", shape)).map(|_| T::sample_standard_normal(rng)).collect();
        Self::from_storage(Storage::Cpu(CpuStorage(data)), shape)
    }

    // ---- accessors ----------------------------------------------------------------------------------

    /// The size of each dimension (`tensor.shape`).
    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    /// The number of dimensions (`tensor.dim()`).
    pub fn rank(&self) -> usize {
        self.0.layout.shape.len()
    }

    /// The number of elements (`tensor.numel()`).
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    /// The device holding the data.
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// `true` when the elements are row-major without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Storage<T>> {
        crate::sync::read(&self.0.storage.data)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Storage<T>> {
        crate::sync::write(&self.0.storage.data)
    }

    /// How many in-place writes the storage has seen (torch's `tensor._version`).
    pub fn version(&self) -> u64 {
        self.0.storage.version.load(Ordering::Acquire)
    }

    pub(crate) fn bump_version(&self) {
        self.0.storage.version.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn shares_storage(&self, other: &Tensor<T>) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// The address of the storage cell: the same for every view of one buffer, and the global order in
    /// which [`crate::ops`] takes several storage locks.
    pub(crate) fn storage_address(&self) -> usize {
        Arc::as_ptr(&self.0.storage) as usize
    }

    /// `true` when `self` is the only handle to its storage and covers all of it, so it can be reused.
    pub(crate) fn is_sole_owner(&self) -> bool {
        Arc::strong_count(&self.0) == 1
            && Arc::strong_count(&self.0.storage) == 1
            && self.0.layout.offset == 0
            && self.is_contiguous()
    }

    /// The elements in row-major order, copied to the host.
    pub fn to_vec(&self) -> Result<Vec<T>> {
        self.read().to_vec(self.layout())
    }

    /// The rows of a 2-D tensor.
    pub fn to_vec2(&self) -> Result<Vec<Vec<T>>> {
        match *self.shape() {
            [rows, 0] => {
                // An empty tensor may claim more rows than memory can hold, even as empty `Vec`s.
                let mut out = Vec::new();
                out.try_reserve_exact(rows).map_err(|_| {
                    Error::shape("to_vec2", format!("cannot allocate {rows} rows for shape [{rows}, 0]"))
                })?;
                out.resize(rows, Vec::new());
                Ok(out)
            }
            [_, cols] => Ok(self.to_vec()?.chunks(cols).map(<[T]>::to_vec).collect()),
            _ => Err(Error::shape("to_vec2", format!("expected a 2-D tensor, got shape {:?}", self.shape()))),
        }
    }

    /// The value of a one-element tensor (`tensor.item()`).
    pub fn item(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "a tensor with {} elements (shape {:?}) cannot be converted to a scalar",
                    self.numel(),
                    self.shape()
                ),
            ));
        }
        // On the host the element is read where it lies, with no vector made for it.
        if let Storage::Cpu(s) = &*self.read() {
            return Ok(s.0[self.layout().offset]);
        }
        Ok(self.to_vec()?[0])
    }

    // ---- autograd metadata --------------------------------------------------------------------------

    /// `true` for tensors not made by a recorded op: user-created tensors and detached ones.
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Sets whether this leaf collects a gradient in `.grad` (torch's `requires_grad_`), and returns it.
    ///
    /// Fails on a non-leaf asked to stop requiring grad (use [`Tensor::detach`]).
    pub fn requires_grad_(self, requires_grad: bool) -> Result<Self> {
        if !self.is_leaf() {
            if requires_grad {
                return Ok(self);
            }
            return Err(Error::autograd(
                "requires_grad_",
                "you can only change requires_grad flags of leaf tensors; use detach() to get a tensor without history",
            ));
        }
        self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        Ok(self)
    }

    /// The accumulated gradient (`tensor.grad`): a handle sharing the stored gradient, so `zero_()` on it
    /// zeroes the stored one, as in torch.
    pub fn grad(&self) -> Option<Tensor<T>> {
        match self.grad_fn() {
            Some(node) => node.retained_grad(),
            None => crate::sync::lock(&self.0.grad).clone(),
        }
    }

    /// Replaces the stored gradient (`tensor.grad = g`); `None` clears it.
    pub fn set_grad(&self, grad: Option<Tensor<T>>) -> Result<()> {
        if let Some(g) = &grad {
            if g.shape() != self.shape() {
                return Err(Error::shape(
                    "set_grad",
                    format!("gradient of shape {:?} for a tensor of shape {:?}", g.shape(), self.shape()),
                ));
            }
        }
        *crate::sync::lock(&self.0.grad) = grad;
        Ok(())
    }

    /// Clears the gradient, as torch's `zero_grad()` does by default (`set_to_none=True`).
    pub fn zero_grad(&self) {
        *crate::sync::lock(&self.0.grad) = None;
    }

    /// Keeps this non-leaf's gradient for [`Tensor::grad`] during backward (torch's `retain_grad()`); a
    /// no-op on leaves, which keep theirs anyway.
    pub fn retain_grad(&self) {
        if let Some(node) = self.grad_fn() {
            node.set_retain();
        }
    }

    /// Whether hooks were registered on this leaf (and not all removed).
    pub(crate) fn has_hooks(&self) -> bool {
        self.0.hooked.load(Ordering::Acquire)
    }

    pub(crate) fn grad_fn(&self) -> Option<&Arc<dyn Node<T>>> {
        self.0.grad_fn.as_ref()
    }

    /// The name of the op that made this tensor, torch style (`AddBackward0`), if any.
    pub fn grad_fn_name(&self) -> Option<&'static str> {
        self.0.grad_fn.as_ref().map(|n| n.name())
    }

    /// A tensor sharing this one's data but cut from the graph (`tensor.detach()`).
    pub fn detach(&self) -> Self {
        self.view_with(self.0.layout.clone())
    }

    /// Identity of this handle's tensor, for the graph walk.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}
