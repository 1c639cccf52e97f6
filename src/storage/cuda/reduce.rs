//! Reductions over some dims of a strided view (`reduce_to`: sum, max, min), deterministic: one thread or one
//! block owns each output element (kernels/reduce.cu), and long reductions with few outputs are split into
//! chunks combined in a second pass, so the order of the operations depends only on the shapes.

use super::device::{launch, launch_cfg};
use super::layout::{check_in_bounds, Strided};
use super::CudaStorage;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use crate::storage::reduce::ReduceOp;
use cudarc::driver::{CudaSlice, LaunchConfig, PushKernelArg};

/// Threads per block of `reduce_block` (kernels/reduce.cu has the same `SUM_BLOCK`).
const SUM_BLOCK: u32 = 256;
/// Reductions this short, or this many outputs, take one thread per output element.
const SUM_THREAD_MAX_RED: usize = 64;
const SUM_THREAD_MIN_OUT: usize = 1 << 16;
/// Long reductions with few outputs are split into chunks of at least `SUM_MIN_CHUNK` elements so that about
/// `SUM_TARGET_BLOCKS` blocks work at once; a second pass sums the chunks.
const SUM_TARGET_BLOCKS: usize = 1024;
const SUM_MIN_CHUNK: usize = 4096;

impl<T: Element> CudaStorage<T> {
    /// Reduces a view with `op` over the dims where `out_shape` (same rank) has size 1, contiguous.
    pub(super) fn reduce_view(&self, layout: &Layout, out_shape: &[usize], op: ReduceOp) -> Result<Self> {
        let name = op.name();
        let shape = &layout.shape;
        let fits = out_shape.len() == shape.len() && out_shape.iter().zip(shape).all(|(&o, &s)| o == s || o == 1);
        if !fits {
            return Err(Error::shape(name, format!("cannot reduce shape {shape:?} to {out_shape:?}")));
        }
        let (n_in, n_out) = (layout.numel(), crate::shape::numel(out_shape));
        if n_out == 0 || n_in == 0 {
            // No outputs, or reductions over nothing: the identity.
            return CudaStorage::full(n_out, op.identity(), self.dev.ordinal);
        }
        check_in_bounds(name, layout, self.len)?;
        let (mut kept, mut red) = ((vec![], vec![]), (vec![], vec![]));
        for d in 0..shape.len() {
            let dims = if out_shape[d] == 1 { &mut red } else { &mut kept };
            dims.0.push(shape[d]);
            dims.1.push(layout.strides[d]);
        }
        let kept = Strided::from_dims(name, &kept.0, &kept.1, layout.offset)?;
        let red = Strided::from_dims(name, &red.0, &red.1, 0)?;
        let out = self.reduce(&self.data, kept, red, n_out, n_in / n_out, op)?;
        Ok(self.derived(out, n_out))
    }

    /// `out[o] = op over r of x[kept(o) + red(r)]` for `o < n_out`, `r < n_red` (both > 0), into a fresh buffer.
    fn reduce(
        &self,
        x: &CudaSlice<T>,
        kept: Strided,
        red: Strided,
        n_out: usize,
        n_red: usize,
        op: ReduceOp,
    ) -> Result<CudaSlice<T>> {
        let name = op.name();
        let (n_out64, n_red64, code, identity) = (n_out as u64, n_red as u64, op.code(), op.identity::<T>());
        if n_red <= SUM_THREAD_MAX_RED || n_out >= SUM_THREAD_MIN_OUT {
            // SAFETY: the `reduce_thread` kernel below writes all n_out elements before anything can read them.
            let mut out = unsafe { self.dev.alloc_uninit::<T>(n_out) }?;
            // SAFETY: the arguments match `reduce_thread(const T* x, Strided kept, Strided red, T* out, u64 n_out,
            // u64 n_red, int op, T identity)`; kept(o) + red(r) covers exactly the elements of a view checked to
            // lie inside `x` (or the contiguous partial results of the first pass), and `out` holds n_out elements.
            unsafe {
                launch!(
                    self.dev,
                    name,
                    "reduce_thread",
                    launch_cfg(n_out),
                    [x, &kept, &red, &mut out, &n_out64, &n_red64, &code, &identity]
                )
            }?;
            return Ok(out);
        }
        let n_chunks = if n_out >= SUM_TARGET_BLOCKS {
            1
        } else {
            SUM_TARGET_BLOCKS.div_ceil(n_out).min(n_red.div_ceil(SUM_MIN_CHUNK)).max(1)
        };
        let chunk = n_red.div_ceil(n_chunks);
        // No empty chunk: every chunk starts below n_red.
        let n_chunks = n_red.div_ceil(chunk);
        let tasks = n_out * n_chunks;
        // SAFETY: the `reduce_block` kernel below writes one element per task, all n_out * n_chunks of them,
        // before anything can read them.
        let mut partial = unsafe { self.dev.alloc_uninit::<T>(tasks) }?;
        let (n_chunks64, chunk64) = (n_chunks as u64, chunk as u64);
        let blocks = tasks.clamp(1, u32::MAX as usize >> 1) as u32;
        let cfg = LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (SUM_BLOCK, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the arguments match `reduce_block(const T* x, Strided kept, Strided red, T* out, u64 n_out,
        // u64 n_red, u64 n_chunks, u64 chunk, int op, T identity)`, launched with the SUM_BLOCK threads per block
        // its shared array is sized for; reads stay inside `x` as for `reduce_thread`, and `partial` holds one
        // element per task.
        unsafe {
            launch!(
                self.dev,
                name,
                "reduce_block",
                cfg,
                [x, &kept, &red, &mut partial, &n_out64, &n_red64, &n_chunks64, &chunk64, &code, &identity]
            )
        }?;
        if n_chunks == 1 {
            return Ok(partial);
        }
        // Second pass: the partials, contiguous [n_out, n_chunks], reduced over their last dim. n_chunks is at
        // most SUM_TARGET_BLOCKS, far below SUM_MIN_CHUNK, so this pass needs no third.
        let kept = Strided::from_dims(name, &[n_out], &[n_chunks], 0)?;
        let red = Strided::from_dims(name, &[n_chunks], &[1], 0)?;
        self.reduce(&partial, kept, red, n_out, n_chunks, op)
    }
}
