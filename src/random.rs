//! The default random generator, as torch's: [`manual_seed`] seeds it, and everything random that is not
//! handed an rng draws from it — `Tensor::rand`/`randn`, `Linear::new`, `Dropout::new`, `Dropout2d::new`, a
//! shuffling `DataLoader` without its own seed.
//!
//! It is one generator for the whole process, as torch's default CPU generator is: a seed set on the main
//! thread governs a model built, or a batch shuffled, on any other thread, and one `manual_seed` makes a
//! single-threaded program repeat exactly. A thread-local generator would silently give each new thread
//! the unseeded stream. The price is torch's too: threads drawing at the same time take turns, in no fixed
//! order, so code that needs an exact stream under concurrency (a parallel test, a parity check) passes its
//! own rng to the `_with`/`with_rng` forms instead.
//!
//! The generator is `rand`'s [`StdRng`] (ChaCha12); `torchlet::rand` re-exports the `rand` version that
//! the `_with` forms take, so a program need not depend on `rand` itself. Before any `manual_seed` it is
//! seeded with torch's default seed, 67280421310721, so an unseeded program still repeats from run to run
//! (the stream is rand's, not torch's Mersenne Twister: the same seed gives different numbers than torch).
//!
//! ```
//! use torchlet::Tensor;
//! torchlet::manual_seed(0);
//! let a = Tensor::<f32>::randn(&[3]);
//! torchlet::manual_seed(0);
//! assert_eq!(Tensor::<f32>::randn(&[3]).to_vec()?, a.to_vec()?);
//! assert_eq!(torchlet::initial_seed(), 0);
//! # Ok::<(), torchlet::Error>(())
//! ```

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::{Mutex, MutexGuard};

/// torch's default seed (`default_rng_seed_val` in c10), the seed before any [`manual_seed`].
pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// The generator and the seed it was last seeded with.
struct Seeded {
    rng: StdRng,
    seed: u64,
}

static GENERATOR: Mutex<Option<Seeded>> = Mutex::new(None);

/// The default generator, locked; seeded with [`DEFAULT_SEED`] on first use. A panic while it was held
/// cannot leave it inconsistent (a draw either happened or did not), so a poisoned lock is taken over.
fn lock() -> MutexGuard<'static, Option<Seeded>> {
    GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Seeds the default generator (`torch.manual_seed(seed)`): the random draws that follow repeat exactly.
pub fn manual_seed(seed: u64) {
    *lock() = Some(Seeded { rng: StdRng::seed_from_u64(seed), seed });
}

/// The seed the default generator was last seeded with (`torch.initial_seed()`): [`DEFAULT_SEED`] before
/// any [`manual_seed`].
pub fn initial_seed() -> u64 {
    lock().as_ref().map_or(DEFAULT_SEED, |d| d.seed)
}

/// Runs `f` with the default generator (`torch.default_generator`), holding it for the duration, so the
/// draws inside `f` are consecutive in its stream. `f` must not itself draw from the default generator
/// (through a constructor or op without an rng): that would wait for the lock it holds.
///
/// ```
/// use rand::Rng;
/// torchlet::manual_seed(3);
/// let (a, b): (f64, f64) = torchlet::random::with_default_generator(|rng| (rng.random(), rng.random()));
/// assert!((0.0..1.0).contains(&a) && a != b);
/// ```
pub fn with_default_generator<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    let mut guard = lock();
    let state = guard.get_or_insert_with(|| Seeded { rng: StdRng::seed_from_u64(DEFAULT_SEED), seed: DEFAULT_SEED });
    f(&mut state.rng)
}

/// A `u64` from the default generator, to seed a stream of one's own (as torch's `DataLoader` seeds each
/// epoch's sampler from the default generator).
pub(crate) fn next_seed() -> u64 {
    with_default_generator(rand::Rng::random)
}
