//! The CPU kernels against plain loops, and their bits on every instruction set.

use super::super::simd::{self, Isa};
use super::*;

/// Every pointwise op, its gradient and every reduction, on a contiguous input long enough for the
/// parallel path, on a short one, and on a transposed view.
fn every_kernel<T: Element>() -> Result<Vec<Vec<T>>> {
    let n = PARALLEL_ABOVE + 37;
    let x: Vec<T> = (0..n).map(|i| T::from_f64_lossy(((i * 7919) % 4001) as f64 / 50.0 - 40.0)).collect();
    let x = CpuStorage(x);
    let y = CpuStorage(x.0.iter().rev().copied().collect::<Vec<_>>());
    let (long, short) = (Layout::contiguous(&[n]), Layout::contiguous(&[29]));
    let transposed = Layout::contiguous(&[37, 101]).transpose(0, 1);
    let mut out = Vec::new();
    for layout in [&long, &short, &transposed] {
        for &op in UnaryOp::ALL {
            let c = T::from_f64_lossy(0.5);
            out.push(x.unary(layout, op, c)?.into_vec());
            out.push(x.unary_grad(layout, &y, layout, op, c)?.into_vec());
        }
        for &op in BinaryOp::ALL {
            out.push(x.binary(layout, &y, layout, op)?.into_vec());
        }
        for &op in ReduceOp::ALL {
            out.push(x.reduce_to(layout, &vec![1; layout.shape.len()], op)?.into_vec());
        }
        // The optimizers' state updates, whose multiply-adds must not become fused ones under AVX2 + FMA.
        for op in [AddcOp::Mul, AddcOp::Div] {
            let mut dst = y.clone();
            dst.addc(layout, &x, layout, &y, layout, op, T::from_f64_lossy(0.3))?;
            out.push(dst.into_vec());
        }
        for weight in [0.1, 0.9] {
            let mut dst = y.clone();
            dst.lerp(layout, &x, layout, T::from_f64_lossy(weight))?;
            out.push(dst.into_vec());
        }
        if layout.is_contiguous() {
            out.extend(optimizer_updates(&x.0[..layout.numel()], &y.0[..layout.numel()]));
        }
    }
    Ok(out)
}

/// One step of each optimizer's one-pass update from parameters `p` and gradients `g`, every option on:
/// the parameters and state buffers after it.
fn optimizer_updates<T: Element>(p: &[T], g: &[T]) -> Vec<Vec<T>> {
    use super::optim::{adam, rmsprop, sgd, Adam, Preamble, RmsProp, Sgd};
    let t = T::from_f64_lossy;
    let pre = Preamble { maximize: true, decay: true, weight_decay: t(0.01) };
    let state = |scale: f64| -> Vec<T> { g.iter().map(|&v| v * t(scale)).collect() };
    let square = |scale: f64| -> Vec<T> { g.iter().map(|&v| v * t(scale) * v * t(scale)).collect() };
    let mut out = Vec::new();
    let (mut q, mut buf) = (p.to_vec(), state(0.5));
    let rule = Sgd { neg_lr: t(-0.1), momentum: t(0.9), undamped: t(0.7), nesterov: true, first: false };
    sgd(pre, rule, &mut q, g, Some(&mut buf));
    out.extend([q, buf]);
    let (mut q, mut m, mut v, mut v_max) = (p.to_vec(), state(0.1), square(0.3), state(0.2));
    let rule = Adam {
        decoupled: Some(t(0.999)),
        lerp_weight: t(0.1),
        beta2: t(0.999),
        one_minus_beta2: t(0.001),
        bias_correction2_sqrt: t(0.3),
        eps: t(1e-8),
        neg_step_size: t(-0.01),
    };
    adam(pre, rule, &mut q, g, [&mut m, &mut v], Some(&mut v_max));
    out.extend([q, m, v, v_max]);
    let (mut q, mut sq, mut avg, mut buf) = (p.to_vec(), square(0.3), state(0.1), state(0.2));
    let rule = RmsProp { alpha: t(0.3), one_minus_alpha: t(0.7), eps: t(1e-8), neg_lr: t(-0.01), momentum: t(0.9) };
    rmsprop(pre, rule, &mut q, g, &mut sq, Some(&mut avg), Some(&mut buf));
    out.extend([q, sq, avg, buf]);
    out
}

/// Every kernel's results under each instruction set this CPU has, against the baseline build's.
fn same_bits_on_every_instruction_set<T: Element>() -> Result<()> {
    let chosen = simd::detected();
    let mut runs = Vec::new();
    for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
        let got = simd::choose(isa);
        if got != isa {
            eprintln!("NOTE: this CPU lacks {isa:?}: its kernels are not compared");
            continue;
        }
        runs.push((isa, every_kernel::<T>()));
    }
    simd::choose(chosen);
    let mut runs = runs.into_iter();
    let (_, baseline) = runs.next().expect("the baseline always runs");
    let baseline = baseline?;
    for (isa, widest) in runs {
        for (i, (a, b)) in baseline.iter().zip(&widest?).enumerate() {
            let same = a.len() == b.len()
                && a.iter().zip(b).all(|(a, b)| {
                    (a == b && a.is_sign_negative() == b.is_sign_negative()) || (a.is_nan() && b.is_nan())
                });
            assert!(same, "kernel {i} differs between the baseline and {isa:?} builds");
        }
    }
    Ok(())
}

#[test]
fn instruction_sets_give_the_same_bits() -> Result<()> {
    same_bits_on_every_instruction_set::<f32>()?;
    same_bits_on_every_instruction_set::<f64>()
}

#[test]
fn parallel_kernels_match_plain_loops() -> Result<()> {
    let n = PARALLEL_ABOVE * 2 + 3;
    let a = CpuStorage((0..n).map(|i| (i % 97) as f64 * 0.5 - 7.0).collect::<Vec<_>>());
    let b = CpuStorage((0..n).map(|i| (i % 13) as f64 + 1.0).collect::<Vec<_>>());
    let layout = Layout::contiguous(&[n]);
    let sum = a.binary(&layout, &b, &layout, BinaryOp::Add)?.into_vec();
    assert!(sum.iter().zip(a.0.iter().zip(&b.0)).all(|(s, (x, y))| *s == x + y));
    let neg = a.unary(&layout, UnaryOp::Neg, 0.0)?.into_vec();
    assert!(neg.iter().zip(&a.0).all(|(m, x)| *m == -x));
    let mut dst = a.clone();
    dst.assign(&layout, &b, &layout, Some(BinaryOp::Mul))?;
    assert!(dst.0.iter().zip(a.0.iter().zip(&b.0)).all(|(d, (x, y))| *d == x * y));
    // Integers times 0.5 sum exactly in f64 whatever the order, so the parallel sums must be exact.
    let total = a.reduce_to(&layout, &[1], ReduceOp::Sum)?.0[0];
    assert_eq!(total, a.0.iter().sum::<f64>());
    let max = a.reduce_to(&layout, &[1], ReduceOp::Max)?.0[0];
    assert_eq!(max, a.0.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let cols = 7;
    let rows = n / cols;
    let grid = Layout::contiguous(&[rows, cols]);
    let by_col = a.reduce_to(&grid, &[1, cols], ReduceOp::Sum)?.into_vec();
    let by_row = a.reduce_to(&grid, &[rows, 1], ReduceOp::Sum)?.into_vec();
    for (c, &total) in by_col.iter().enumerate() {
        assert_eq!(total, (0..rows).map(|r| a.0[r * cols + c]).sum::<f64>());
    }
    assert!((0..rows).all(|r| by_row[r] == a.0[r * cols..(r + 1) * cols].iter().sum::<f64>()));
    let min_by_col = a.reduce_to(&grid, &[1, cols], ReduceOp::Min)?.into_vec();
    for (c, &min) in min_by_col.iter().enumerate() {
        assert_eq!(min, (0..rows).map(|r| a.0[r * cols + c]).fold(f64::INFINITY, f64::min));
    }
    // Strided (transposed) and broadcast operands take the row-chunked parallel path.
    let t = grid.transpose(0, 1);
    let moved = a.unary(&t, UnaryOp::Identity, 0.0)?.into_vec();
    assert!((0..cols).all(|c| (0..rows).all(|r| moved[c * rows + r] == a.0[r * cols + c])));
    let row = Layout::contiguous(&[cols]).broadcast_to(&[rows, cols]);
    let plus_row = a.binary(&grid, &b, &row, BinaryOp::Add)?.into_vec();
    assert!((0..rows * cols).all(|i| plus_row[i] == a.0[i] + b.0[i % cols]));
    // Three strided operands: the gradient of a product for its lhs is g · rhs.
    let g = CpuStorage(vec![2.0; n]);
    let grad = a.binary_grad(&grid, &b, &row, &g, &grid, BinaryOp::Mul, Side::Lhs)?.into_vec();
    assert!((0..rows * cols).all(|i| grad[i] == 2.0 * b.0[i % cols]));
    Ok(())
}

/// The row loops for broadcast operands (a row repeated down the rows, a column repeated along them)
/// against the same ops on contiguous copies of the operands, bit for bit: binary ops and their gradients,
/// `where`, reductions to rows and to columns, in-place updates.
#[test]
fn broadcast_rows_match_contiguous_copies() -> Result<()> {
    let (rows, cols) = (37, 29);
    let values = |n: usize, seed: usize| -> CpuStorage<f32> {
        CpuStorage((0..n).map(|i| (((i * 7919 + seed) % 1009) as f32 - 500.0) / 97.0).collect())
    };
    let grid = Layout::contiguous(&[rows, cols]);
    let x = values(rows * cols, 1);
    let g = values(rows * cols, 2);
    let row = values(cols, 3);
    let col = values(rows, 4);
    let cond = CpuStorage((0..rows * cols).map(|i| (i % 3 == 0) as u8 as f32).collect::<Vec<_>>());
    let broadcasts = [
        (&row, Layout::contiguous(&[cols]).broadcast_to(&[rows, cols])),
        (&col, Layout::contiguous(&[rows, 1]).broadcast_to(&[rows, cols])),
        (&x, Layout::contiguous(&[cols, rows]).transpose(0, 1)),
    ];
    for (b, lb) in &broadcasts {
        let copy = b.unary(lb, UnaryOp::Identity, 0.0)?;
        for &op in BinaryOp::ALL {
            assert_eq!(x.binary(&grid, b, lb, op)?.into_vec(), x.binary(&grid, &copy, &grid, op)?.into_vec(), "{op:?}");
            assert_eq!(
                b.binary(lb, &x, &grid, op)?.into_vec(),
                copy.binary(&grid, &x, &grid, op)?.into_vec(),
                "{op:?} swapped"
            );
            for side in [Side::Lhs, Side::Rhs] {
                let want = x.binary_grad(&grid, &copy, &grid, &g, &grid, op, side)?.into_vec();
                assert_eq!(x.binary_grad(&grid, b, lb, &g, &grid, op, side)?.into_vec(), want, "{op:?} {side:?}");
                let want = copy.binary_grad(&grid, &x, &grid, &g, &grid, op, side)?.into_vec();
                assert_eq!(b.binary_grad(lb, &x, &grid, &g, &grid, op, side)?.into_vec(), want, "{op:?} {side:?}");
            }
        }
        assert_eq!(
            cond.where_cond(&grid, &x, &grid, b, lb)?.into_vec(),
            cond.where_cond(&grid, &x, &grid, &copy, &grid)?.into_vec()
        );
        assert_eq!(
            cond.where_cond(&grid, b, lb, &x, &grid)?.into_vec(),
            cond.where_cond(&grid, &copy, &grid, &x, &grid)?.into_vec()
        );
        for op in [Some(BinaryOp::Add), None] {
            let (mut a, mut want) = (x.clone(), x.clone());
            a.assign(&grid, b, lb, op)?;
            want.assign(&grid, &copy, &grid, op)?;
            assert_eq!(a.0, want.0);
        }
        for &op in ReduceOp::ALL {
            // (A whole view reduced to one element is not: a contiguous one takes 64 accumulators.)
            for out in [[rows, 1], [1, cols]] {
                assert_eq!(
                    b.reduce_to(lb, &out, op)?.into_vec(),
                    copy.reduce_to(&grid, &out, op)?.into_vec(),
                    "{op:?} to {out:?}"
                );
            }
        }
    }
    Ok(())
}
