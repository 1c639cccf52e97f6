//! The optimizers' updates in one pass over a parameter's buffers, as torch's fused and foreach paths take
//! them: the gradient's preamble, the state and the parameter, each element read and written once.
//!
//! Each element goes through exactly the operations of the tensor ops the optimizers take elsewhere
//! (`src/optim`), in their order and each rounded to `T` on its own — a multiply and an add are never fused
//! — so the two paths give the same bits; `optim`'s tests compare them.

use super::vectorized;
use crate::element::Element;
use rayon::prelude::*;

/// What torch's optimizers do to the gradient first: negate it (`maximize`), then add the L2 penalty
/// `weight_decay · θ`, rounded as the scaled parameter plus the gradient.
#[derive(Debug, Clone, Copy)]
pub struct Preamble<T> {
    pub(crate) maximize: bool,
    /// Whether there is an L2 penalty (decided on the f64 value, as the tensor ops decide it).
    pub(crate) decay: bool,
    pub(crate) weight_decay: T,
}

impl<T: Element> Preamble<T> {
    #[inline(always)]
    fn apply(self, p: T, g: T) -> T {
        let g = if self.maximize { -g } else { g };
        if self.decay {
            p * self.weight_decay + g
        } else {
            g
        }
    }
}

/// `x = lerp(x, end, weight)` in the form torch's kernel picks for the weight (`backend::lerp_is_small`).
#[inline(always)]
fn lerp<T: Element>(x: T, end: T, weight: T, small: bool) -> T {
    if small {
        x + (end - x) * weight
    } else {
        end - (end - x) * (T::one() - weight)
    }
}

/// SGD's update: `θ += -lr · g`, with momentum `buf = momentum · buf + (1 − dampening) · g` (or `buf = g`
/// at the first step) and `g = buf`, or `g + momentum · buf` with Nesterov.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sgd<T> {
    pub(crate) neg_lr: T,
    pub(crate) momentum: T,
    /// `1 − dampening`.
    pub(crate) undamped: T,
    pub(crate) nesterov: bool,
    /// The momentum buffer's first step: it becomes the gradient.
    pub(crate) first: bool,
}

/// One SGD step over `p` with gradient `g` and, with momentum, its buffer `buf`.
pub(crate) fn sgd<T: Element>(pre: Preamble<T>, c: Sgd<T>, p: &mut [T], g: &[T], buf: Option<&mut [T]>) {
    let Some(buf) = buf else {
        return each2(
            p,
            g,
            #[inline(always)]
            move |p, g| {
                let g = pre.apply(*p, g);
                *p = *p + g * c.neg_lr;
            },
        );
    };
    each3(
        p,
        g,
        buf,
        #[inline(always)]
        move |p, g, buf| {
            let g = pre.apply(*p, g);
            *buf = if c.first { g } else { *buf * c.momentum + g * c.undamped };
            let step = if c.nesterov { *buf * c.momentum + g } else { *buf };
            *p = *p + step * c.neg_lr;
        },
    );
}

/// Adam's update (AdamW's with `decoupled`), with the scalars of its step computed as torch computes them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adam<T> {
    /// AdamW's `1 − lr · weight_decay`, when it decays.
    pub(crate) decoupled: Option<T>,
    /// `1 − β1`, the weight of `exp_avg.lerp_(g, 1 − β1)`.
    pub(crate) lerp_weight: T,
    pub(crate) beta2: T,
    pub(crate) one_minus_beta2: T,
    /// `√(1 − β2^t)`.
    pub(crate) bias_correction2_sqrt: T,
    pub(crate) eps: T,
    /// `−lr / (1 − β1^t)`.
    pub(crate) neg_step_size: T,
}

/// One Adam step over `p` with gradient `g`, moments `m` and `v`, and AMSGrad's running maximum `v_max`.
pub(crate) fn adam<T: Element>(
    pre: Preamble<T>,
    c: Adam<T>,
    p: &mut [T],
    g: &[T],
    [m, v]: [&mut [T]; 2],
    v_max: Option<&mut [T]>,
) {
    let small = super::super::backend::lerp_is_small(c.lerp_weight);
    #[inline(always)]
    fn moments<T: Element>(pre: Preamble<T>, c: Adam<T>, small: bool, p: &mut T, g: T, m: &mut T, v: &mut T) {
        let g = pre.apply(*p, g);
        if let Some(keep) = c.decoupled {
            *p = *p * keep;
        }
        *m = lerp(*m, g, c.lerp_weight, small);
        *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
    }
    #[inline(always)]
    fn descend<T: Element>(c: Adam<T>, p: &mut T, m: T, second: T) {
        let denom = second.sqrt() / c.bias_correction2_sqrt + c.eps;
        *p = *p + c.neg_step_size * m / denom;
    }
    match v_max {
        None => each4(
            p,
            g,
            m,
            v,
            #[inline(always)]
            move |p, g, m, v| {
                moments(pre, c, small, p, g, m, v);
                descend(c, p, *m, *v);
            },
        ),
        Some(v_max) => each5(
            p,
            g,
            m,
            v,
            v_max,
            #[inline(always)]
            move |p, g, m, v, v_max| {
                moments(pre, c, small, p, g, m, v);
                // torch.maximum(v_max, v): NaN wins, then the larger.
                *v_max = if v_max.is_nan() || *v_max > *v { *v_max } else { *v };
                descend(c, p, *m, *v_max);
            },
        ),
    }
}

/// RMSprop's update.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RmsProp<T> {
    pub(crate) alpha: T,
    /// `1 − α`: the weight of `g²` in the square average and of `grad_avg.lerp_(g, 1 − α)`.
    pub(crate) one_minus_alpha: T,
    pub(crate) eps: T,
    pub(crate) neg_lr: T,
    pub(crate) momentum: T,
}

/// One RMSprop step over `p` with gradient `g`, square average `sq`, and the centered variant's gradient
/// average `grad_avg` and the momentum buffer `buf` where the configuration has them.
pub(crate) fn rmsprop<T: Element>(
    pre: Preamble<T>,
    c: RmsProp<T>,
    p: &mut [T],
    g: &[T],
    sq: &mut [T],
    grad_avg: Option<&mut [T]>,
    buf: Option<&mut [T]>,
) {
    let small = super::super::backend::lerp_is_small(c.one_minus_alpha);
    #[inline(always)]
    fn average<T: Element>(c: RmsProp<T>, g: T, sq: &mut T) -> T {
        *sq = *sq * c.alpha + c.one_minus_alpha * g * g;
        *sq
    }
    #[inline(always)]
    fn centered<T: Element>(c: RmsProp<T>, small: bool, g: T, sq: T, grad_avg: &mut T) -> T {
        *grad_avg = lerp(*grad_avg, g, c.one_minus_alpha, small);
        // square_avg.addcmul(grad_avg, grad_avg, value=-1).
        sq + -T::one() * *grad_avg * *grad_avg
    }
    #[inline(always)]
    fn descend<T: Element>(c: RmsProp<T>, p: &mut T, g: T, second: T, buf: Option<&mut T>) {
        let avg = second.sqrt() + c.eps;
        match buf {
            // buf.mul_(momentum).addcdiv_(grad, avg), then param.add_(buf, alpha=-lr).
            Some(buf) => {
                *buf = *buf * c.momentum + T::one() * g / avg;
                *p = *p + *buf * c.neg_lr;
            }
            None => *p = *p + c.neg_lr * g / avg,
        }
    }
    match (grad_avg, buf) {
        (None, None) => each3(
            p,
            g,
            sq,
            #[inline(always)]
            move |p, g, sq| {
                let g = pre.apply(*p, g);
                let second = average(c, g, sq);
                descend(c, p, g, second, None);
            },
        ),
        (Some(grad_avg), None) => each4(
            p,
            g,
            sq,
            grad_avg,
            #[inline(always)]
            move |p, g, sq, grad_avg| {
                let g = pre.apply(*p, g);
                let second = centered(c, small, g, average(c, g, sq), grad_avg);
                descend(c, p, g, second, None);
            },
        ),
        (None, Some(buf)) => each4(
            p,
            g,
            sq,
            buf,
            #[inline(always)]
            move |p, g, sq, buf| {
                let g = pre.apply(*p, g);
                let second = average(c, g, sq);
                descend(c, p, g, second, Some(buf));
            },
        ),
        (Some(grad_avg), Some(buf)) => each5(
            p,
            g,
            sq,
            grad_avg,
            buf,
            #[inline(always)]
            move |p, g, sq, grad_avg, buf| {
                let g = pre.apply(*p, g);
                let second = centered(c, small, g, average(c, g, sq), grad_avg);
                descend(c, p, g, second, Some(buf));
            },
        ),
    }
}

/// An update reads and writes several buffers and takes a square root and divisions per element: split
/// across rayon's threads from this many elements on, far sooner than a plain elementwise kernel.
const PARALLEL_ABOVE: usize = 1 << 15;
/// The elements in one task.
const CHUNK: usize = 1 << 14;

/// Runs `f` over the elements of slices of one length, the first read-write, the second read-only and the
/// rest read-write; from [`PARALLEL_ABOVE`] elements on, chunk by chunk on rayon's threads.
macro_rules! each {
    ($name:ident, $($s:ident),*) => {
        #[allow(clippy::too_many_arguments)]
        fn $name<T: Element>(p: &mut [T], g: &[T], $($s: &mut [T],)* f: impl Fn(&mut T, T, $(each!(@ty $s)),*) + Sync) {
            /// The loop over one chunk, inlined into the instruction set's build of the kernel.
            #[inline(always)]
            fn run<T: Element>(p: &mut [T], g: &[T], $($s: &mut [T],)* f: &impl Fn(&mut T, T, $(each!(@ty $s)),*)) {
                // Cut to one length, so that the loop's bounds checks go and it vectorises.
                let n = p.len();
                let g = &g[..n];
                $(let $s = &mut $s[..n];)*
                for i in 0..n {
                    f(&mut p[i], g[i], $(&mut $s[i]),*);
                }
            }
            let n = p.len();
            assert!(g.len() == n $(&& $s.len() == n)*, "the buffers of one parameter have one length");
            if n < PARALLEL_ABOVE {
                return vectorized(#[inline(always)] || run(p, g, $($s,)* &f));
            }
            let chunks = p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK));
            $(let chunks = chunks.zip($s.par_chunks_mut(CHUNK));)*
            chunks.for_each(|each!(@pat (p, g) $(, $s)*)| vectorized(#[inline(always)] || run(p, g, $($s,)* &f)));
        }
    };
    (@ty $s:ident) => { &mut T };
    (@pat $acc:tt) => { $acc };
    (@pat $acc:tt, $s:ident $(, $rest:ident)*) => { each!(@pat ($acc, $s) $(, $rest)*) };
}

each!(each2,);
each!(each3, a);
each!(each4, a, b);
each!(each5, a, b, c);
