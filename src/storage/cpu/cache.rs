//! A cache of CPU tensor buffers, after PyTorch's CUDA caching allocator: a buffer freed by a dropped tensor
//! is kept, and the next request of its size takes it back instead of asking the system allocator.
//!
//! A training loop asks for the same buffers step after step, so after its first step every tensor buffer
//! comes from the cache: no allocator call, and no fresh pages for the kernel to fault in and zero (for
//! buffers above glibc's mmap threshold, a fresh allocation costs a page fault per 4 KiB).
//!
//! - **Size classes.** A request is rounded up to a class: multiples of 64 bytes up to 1 KiB, then four
//!   classes per power of two (at most 25 % over, and pages of a large buffer that are never written are
//!   never faulted in). A freed buffer goes to the largest class its capacity covers, so any buffer of a
//!   class can serve any request of that class.
//! - **Per thread.** Each thread keeps its own lists, so taking and giving back is a few instructions with
//!   no lock and no atomic; a buffer freed on another thread than the one that made it joins the freeing
//!   thread's cache. A thread's cache is freed when the thread ends.
//! - **Bounded.** A thread caches at most [`limit`] bytes (256 MiB unless `TORCHLET_CPU_CACHE_MB` or
//!   [`set_limit`] says otherwise; 0 turns the cache off). A buffer that would go past it makes room by
//!   freeing buffers of the classes taken from least recently, so a cache filled by one workload's sizes
//!   gives way to the next workload's; a buffer larger than the limit is never cached, and a class keeps
//!   at most [`MAX_PER_CLASS`] buffers.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The environment variable that sets the limit, in MiB, at the first buffer's allocation.
const LIMIT_VARIABLE: &str = "TORCHLET_CPU_CACHE_MB";
/// The limit when the variable is not set.
const DEFAULT_LIMIT: usize = 256 << 20;
/// [`LIMIT`] before it is read from the environment.
const UNSET: usize = usize::MAX;

static LIMIT: AtomicUsize = AtomicUsize::new(UNSET);
static SYSTEM_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SYSTEM_FREES: AtomicU64 = AtomicU64::new(0);

/// The classes of up to 1 KiB are the multiples of 64 bytes.
const SMALL_STEP: usize = 64;
const SMALL_CLASSES: usize = 16;
/// Above 1 KiB, each power of two is cut into this many classes.
const PER_DOUBLING: usize = 4;

/// The index of the smallest class of at least `bytes` (> 0) bytes.
fn class_at_least(bytes: usize) -> usize {
    if bytes <= SMALL_STEP * SMALL_CLASSES {
        return bytes.div_ceil(SMALL_STEP) - 1;
    }
    // 2^k < bytes <= 2^(k+1), k >= 10; the classes above 2^k are 2^k + j·2^(k-2), j = 1..=4.
    let k = (bytes - 1).ilog2() as usize;
    let quarter = 1usize << (k - 2);
    let j = (bytes - (1 << k)).div_ceil(quarter);
    SMALL_CLASSES + (k - 10) * PER_DOUBLING + (j - 1)
}

/// The size of class `index`, in bytes (a multiple of 64).
fn class_bytes(index: usize) -> usize {
    if index < SMALL_CLASSES {
        return (index + 1) * SMALL_STEP;
    }
    let (k, j) = (10 + (index - SMALL_CLASSES) / PER_DOUBLING, (index - SMALL_CLASSES) % PER_DOUBLING + 1);
    (1 << k) + j * (1 << (k - 2))
}

/// The index of the largest class of at most `bytes` bytes, if any: where a buffer of that capacity goes.
fn class_at_most(bytes: usize) -> Option<usize> {
    if bytes < SMALL_STEP {
        return None;
    }
    let above = class_at_least(bytes);
    Some(if class_bytes(above) == bytes { above } else { above - 1 })
}

/// The cache's limit in bytes, per thread.
pub(crate) fn limit() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        UNSET => {
            let from_env = std::env::var(LIMIT_VARIABLE).ok().map(|v| match v.trim().parse::<usize>() {
                Ok(mib) => mib.saturating_mul(1 << 20),
                Err(_) => {
                    eprintln!("torchlet: {LIMIT_VARIABLE}={v:?} is not a whole number of MiB; using the default");
                    DEFAULT_LIMIT
                }
            });
            let limit = from_env.unwrap_or(DEFAULT_LIMIT).min(UNSET - 1);
            // Another thread may have set it meanwhile; its value wins.
            match LIMIT.compare_exchange(UNSET, limit, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => limit,
                Err(current) => current,
            }
        }
        limit => limit,
    }
}

/// Sets the limit for every thread; a thread's cache above it shrinks at its next free.
pub(crate) fn set_limit(bytes: usize) {
    LIMIT.store(bytes.min(UNSET - 1), Ordering::Relaxed);
}

/// The free buffers of one thread and one element type, by class.
pub struct Pool<T> {
    classes: Vec<Class<T>>,
    /// The bytes of all the free buffers.
    bytes: usize,
    /// Counts the takes, to tell which class was taken from least recently.
    clock: u64,
}

/// The free buffers of one class, and when one was last taken.
struct Class<T> {
    free: Vec<Vec<T>>,
    last_taken: u64,
}

/// A class keeps at most this many free buffers: more are freed. Buffers of a class that is given more than
/// it is asked for (host vectors adopted as tensor buffers, say) would otherwise pile up.
const MAX_PER_CLASS: usize = 1024;

impl<T> Pool<T> {
    const fn new() -> Self {
        Pool { classes: Vec::new(), bytes: 0, clock: 0 }
    }

    fn take(&mut self, class: usize) -> Option<Vec<T>> {
        let class = self.classes.get_mut(class)?;
        let buffer = class.free.pop()?;
        self.clock += 1;
        class.last_taken = self.clock;
        self.bytes -= allocated(&buffer);
        Some(buffer)
    }

    /// Keeps `buffer` (empty, of class `class`), first freeing buffers of the classes taken from least
    /// recently until the cache stays within `limit`; a buffer larger than `limit`, or one more than its
    /// class keeps, is freed instead.
    fn keep(&mut self, class: usize, buffer: Vec<T>, limit: usize) {
        let bytes = allocated(&buffer);
        if bytes > limit || self.classes.get(class).is_some_and(|c| c.free.len() >= MAX_PER_CLASS) {
            SYSTEM_FREES.fetch_add(1, Ordering::Relaxed);
            return;
        }
        while self.bytes + bytes > limit {
            let stale = self.classes.iter_mut().filter(|c| !c.free.is_empty()).min_by_key(|c| c.last_taken);
            let Some(stale) = stale else { break };
            self.bytes -= stale.free.pop().map_or(0, |b| allocated(&b));
            SYSTEM_FREES.fetch_add(1, Ordering::Relaxed);
        }
        if self.classes.len() <= class {
            self.classes.resize_with(class + 1, || Class { free: Vec::new(), last_taken: 0 });
        }
        self.classes[class].free.push(buffer);
        self.bytes += bytes;
    }

    fn clear(&mut self) {
        let buffers: usize = self.classes.iter().map(|c| c.free.len()).sum();
        SYSTEM_FREES.fetch_add(buffers as u64, Ordering::Relaxed);
        self.classes.clear();
        self.bytes = 0;
    }
}

/// The bytes of a buffer's allocation.
fn allocated<T>(buffer: &Vec<T>) -> usize {
    buffer.capacity() * std::mem::size_of::<T>()
}

/// An element type with a cache of its own per thread (a buffer must be freed with its type's alignment).
pub trait Cached: Copy + Sized + 'static {
    /// Runs `f` on this thread's cache; `None` while the thread is ending (or re-entered), when buffers go to
    /// and from the system allocator directly.
    fn with_pool<R>(f: impl FnOnce(&mut Pool<Self>) -> R) -> Option<R>;
}

thread_local! {
    static F32_POOL: RefCell<Pool<f32>> = const { RefCell::new(Pool::new()) };
    static F64_POOL: RefCell<Pool<f64>> = const { RefCell::new(Pool::new()) };
}

macro_rules! cached {
    ($t:ty, $pool:ident) => {
        impl Cached for $t {
            #[inline]
            fn with_pool<R>(f: impl FnOnce(&mut Pool<Self>) -> R) -> Option<R> {
                $pool.try_with(|pool| pool.try_borrow_mut().ok().map(|mut pool| f(&mut pool))).ok().flatten()
            }
        }
    };
}
cached!(f32, F32_POOL);
cached!(f64, F64_POOL);

/// An empty buffer with room for at least `n` elements: a cached one of `n`'s class, or a new one of the
/// class's size; `None` when `n` elements cannot be allocated.
pub(crate) fn try_take<T: Cached>(n: usize) -> Option<Vec<T>> {
    let size = std::mem::size_of::<T>();
    let bytes = n.checked_mul(size).filter(|&b| b <= isize::MAX as usize)?;
    if bytes == 0 {
        return Some(Vec::new());
    }
    let class = class_at_least(bytes);
    let rounded = class_bytes(class);
    if rounded <= limit() {
        if let Some(buffer) = T::with_pool(|pool| pool.take(class)).flatten() {
            return Some(buffer);
        }
    }
    // Beyond the limit the buffer will not be cached: no point in rounding it up.
    let capacity = if rounded <= limit() { rounded / size } else { n };
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(capacity).ok()?;
    SYSTEM_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    Some(buffer)
}

/// [`try_take`], panicking as `Vec::with_capacity` does when `n` elements cannot be allocated.
pub(crate) fn take<T: Cached>(n: usize) -> Vec<T> {
    try_take(n).unwrap_or_else(|| panic!("cannot allocate a buffer of {n} elements"))
}

/// Gives a buffer back to this thread's cache (or to the system allocator, when it does not fit).
pub(crate) fn give<T: Cached>(mut buffer: Vec<T>) {
    let bytes = buffer.capacity() * std::mem::size_of::<T>();
    if bytes == 0 {
        return;
    }
    let limit = limit();
    let Some(class) = class_at_most(bytes).filter(|_| bytes <= limit) else {
        SYSTEM_FREES.fetch_add(1, Ordering::Relaxed);
        return;
    };
    buffer.clear();
    // While the thread ends, its cache is gone: the buffer is freed as it is dropped here.
    let _ = T::with_pool(move |pool| pool.keep(class, buffer, limit));
}

/// Frees every buffer this thread's caches hold.
pub(crate) fn empty() {
    f32::with_pool(Pool::clear);
    f64::with_pool(Pool::clear);
}

/// The buffers taken from and given back to the system allocator so far, on every thread, and the bytes
/// this thread's caches hold.
pub(crate) fn stats() -> (u64, u64, usize) {
    let held = f32::with_pool(|p| p.bytes).unwrap_or(0) + f64::with_pool(|p| p.bytes).unwrap_or(0);
    (SYSTEM_ALLOCATIONS.load(Ordering::Relaxed), SYSTEM_FREES.load(Ordering::Relaxed), held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_size_with_at_most_a_quarter_to_spare() {
        for bytes in (1..5000).chain((12..40).flat_map(|k| [(1usize << k) - 1, 1 << k, (1 << k) + 1, 3 << (k - 1)])) {
            let class = class_at_least(bytes);
            let size = class_bytes(class);
            assert!(size >= bytes && size.is_multiple_of(64), "{bytes} bytes in class {class} of {size}");
            assert!(class == 0 || class_bytes(class - 1) < bytes, "{bytes}: class {class} is not the smallest");
            assert!(bytes <= 64 || size - bytes <= bytes / 4 + 64, "{bytes} rounded to {size}");
            let below = class_at_most(bytes);
            assert!(below.is_none_or(|b| class_bytes(b) <= bytes && class_bytes(b + 1) > bytes));
        }
    }

    #[test]
    fn a_freed_buffer_serves_the_next_request_of_its_class() {
        // The other tests of the crate run on other threads, with caches of their own.
        let first = take::<f64>(1000);
        let address = first.as_ptr();
        give(first);
        let again = take::<f64>(990);
        assert_eq!(again.as_ptr(), address, "the cached buffer came back");
        assert!(again.capacity() >= 1000 && again.is_empty());
        give(again);
        empty();
        assert_eq!(stats().2, 0);
    }

    #[test]
    fn the_cache_stays_within_its_limit_freeing_the_least_recently_taken_first() {
        let mut pool = Pool::<f32>::new();
        let buffer = |n: usize| Vec::<f32>::with_capacity(n);
        let class = |bytes: usize| class_at_most(bytes).unwrap();
        for bytes in [4096, 2048, 1024, 2048] {
            pool.keep(class(bytes), buffer(bytes / 4), 10_000);
        }
        assert_eq!(pool.bytes, 4096 + 2 * 2048 + 1024);
        // The 2 KiB and 1 KiB classes are taken from and given back; the 4 KiB one never is.
        for bytes in [2048, 1024] {
            let b = pool.take(class_at_least(bytes)).unwrap();
            pool.keep(class(bytes), b, 10_000);
        }
        // 2 KiB more passes the limit: the 4 KiB buffer, never taken, goes first, and that is enough.
        pool.keep(class(2048), buffer(512), 10_000);
        assert_eq!(pool.bytes, 3 * 2048 + 1024);
        assert!(pool.take(class_at_least(4096)).is_none());
        // Then the class taken from longest ago: the 2 KiB one (the 1 KiB one was taken after it).
        pool.keep(class(4096), buffer(1024), 10_000);
        assert_eq!(pool.bytes, 4096 + 2 * 2048 + 1024);
        // A buffer over the limit is not kept.
        pool.keep(class(16384), buffer(4096), 10_000);
        assert_eq!(pool.bytes, 4096 + 2 * 2048 + 1024);
    }

    #[test]
    fn a_class_keeps_a_bounded_number_of_buffers() {
        let mut pool = Pool::<f64>::new();
        for _ in 0..MAX_PER_CLASS + 10 {
            pool.keep(0, Vec::with_capacity(8), usize::MAX);
        }
        assert_eq!(pool.bytes, MAX_PER_CLASS * 64);
    }
}
