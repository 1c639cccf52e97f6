//! `nn.Dropout2d`: whole channels dropped together, at the rate asked for, the rest scaled by 1/(1 - p);
//! the identity in evaluation; a gradient that is the mask; torch's 3-D reading `[N, C, L]`.

use rand::{rngs::StdRng, SeedableRng};
use torchlet::nn::{Dropout2d, Module, Sequential};
use torchlet::{Result, Tensor};

/// Inputs away from zero, so that `y / x` recovers the mask exactly.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor<f64> {
    let x = Tensor::<f64>::rand_with(shape, &mut StdRng::seed_from_u64(seed));
    x.add_scalar(0.5).unwrap()
}

/// The mask `y / x`, one row per (sample, channel) plane.
fn planes(x: &Tensor<f64>, y: &Tensor<f64>) -> Vec<Vec<f64>> {
    let [n, c] = [x.shape()[0], x.shape()[1]];
    let mask = y.div(x).unwrap();
    mask.reshape(&[n * c, mask.numel() / (n * c)]).unwrap().to_vec2().unwrap()
}

#[test]
fn whole_channels_are_dropped_at_rate_p_and_the_rest_scaled() -> Result<()> {
    let p = 0.3;
    let x = away_from_zero(&[200, 100, 2, 3], 1);
    let y = Dropout2d::with_seed(p, 7)?.forward(&x)?;
    let scale = 1.0 / (1.0 - p);
    let mut dropped = 0;
    for plane in planes(&x, &y) {
        // One value per plane (to the rounding of y / x), and only 0 or the scale.
        assert!(plane.iter().all(|&m| (m - plane[0]).abs() <= 1e-15 * scale), "{plane:?}");
        if plane[0] == 0.0 {
            dropped += 1;
        } else {
            assert!((plane[0] - scale).abs() < 1e-15, "kept channel scaled by {}", plane[0]);
        }
    }
    // 20 000 channels: the dropped fraction's standard deviation is √(p(1 - p)/20 000) ≈ 0.0032.
    let fraction = dropped as f64 / 20_000.0;
    assert!((fraction - p).abs() < 0.015, "dropped fraction {fraction}");
    // The kept values are x · scale exactly, as torch's input · (mask / (1 - p)).
    let (xs, ys) = (x.to_vec()?, y.to_vec()?);
    assert!(xs.iter().zip(&ys).all(|(a, b)| *b == 0.0 || *b == a * scale));
    Ok(())
}

#[test]
fn a_3d_input_is_n_c_l_one_draw_per_sample_and_channel() -> Result<()> {
    // torch's dropout2d reads [N, C, L] (not an unbatched [C, H, W]): planes x[n, c] of length L.
    let x = away_from_zero(&[40, 50, 6], 2);
    let y = Dropout2d::with_seed(0.5, 3)?.forward(&x)?;
    let planes = planes(&x, &y);
    assert!(planes.iter().all(|p| p.iter().all(|&m| m == 0.0) || p.iter().all(|&m| (m - 2.0).abs() < 1e-15)));
    // Samples are drawn apart: some channel is kept in one sample and dropped in another.
    let kept = |n: usize, c: usize| planes[n * 50 + c][0] != 0.0;
    assert!((0..50).any(|c| (0..40).any(|n| kept(n, c)) && (0..40).any(|n| !kept(n, c))));
    Ok(())
}

#[test]
fn the_gradient_is_the_mask_over_1_minus_p() -> Result<()> {
    let x = away_from_zero(&[4, 6, 3, 3], 4).requires_grad_(true)?;
    let y = Dropout2d::with_seed(0.4, 5)?.forward(&x)?;
    let w = away_from_zero(&[4, 6, 3, 3], 6);
    y.mul(&w)?.sum()?.backward()?;
    let mask = y.detach().div(&x.detach())?;
    let grad = x.grad().unwrap().to_vec()?;
    let expected = mask.mul(&w)?.to_vec()?;
    assert!(grad.iter().zip(&expected).all(|(g, e)| (g - e).abs() <= 1e-15 * e.abs()), "{grad:?} vs {expected:?}");
    assert!(grad.contains(&0.0) && grad.iter().any(|&g| g != 0.0), "both dropped and kept channels");
    Ok(())
}

#[test]
fn eval_is_the_identity_and_p_0_and_1_are_exact() -> Result<()> {
    let x = away_from_zero(&[3, 4, 2, 2], 8);
    let mut model = Sequential::new().add(Dropout2d::with_seed(0.5, 9)?);
    assert_ne!(model.forward(&x)?.to_vec()?, x.to_vec()?);
    model.eval();
    assert_eq!(model.forward(&x)?.to_vec()?, x.to_vec()?);
    model.train();
    assert_ne!(model.forward(&x)?.to_vec()?, x.to_vec()?);
    assert_eq!(Dropout2d::with_seed(0.0, 0)?.forward(&x)?.to_vec()?, x.to_vec()?);
    assert!(Dropout2d::with_seed(1.0, 0)?.forward(&x)?.to_vec()?.iter().all(|&v| v == 0.0));
    Ok(())
}

#[test]
fn a_seed_repeats_its_masks() -> Result<()> {
    let x = away_from_zero(&[8, 8, 2, 2], 10);
    let masks = |seed| Dropout2d::with_seed(0.5, seed).and_then(|d| d.forward(&x)).and_then(|y| y.to_vec());
    assert_eq!(masks(11)?, masks(11)?);
    assert_ne!(masks(11)?, masks(12)?);
    Ok(())
}

#[test]
fn p_outside_0_1_is_refused_by_every_constructor() {
    for p in [-0.1, 1.5, f64::NAN] {
        let expected = format!("Dropout2d: dropout probability has to be between 0 and 1, but got {p}");
        assert_eq!(Dropout2d::try_new(p).unwrap_err().to_string(), expected);
        assert_eq!(Dropout2d::with_seed(p, 0).unwrap_err().to_string(), expected);
        let panic = std::panic::catch_unwind(|| Dropout2d::new(p)).unwrap_err();
        assert_eq!(panic.downcast_ref::<String>(), Some(&expected));
    }
}
