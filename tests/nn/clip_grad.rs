//! `nn::utils::clip_grad_norm_` and `clip_grad_value_` against values computed by hand.

use torchlet::nn::utils::{clip_grad_norm_, clip_grad_norm_with, clip_grad_value_, ClipGradNorm};
use torchlet::{Result, Tensor};

/// Two parameters with gradients [3, -4] and [[12]], and one without a gradient.
fn setup() -> Result<[Tensor<f64>; 3]> {
    let a = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    let b = Tensor::new([[0.5]]).requires_grad_(true)?;
    let none = Tensor::new([7.0]).requires_grad_(true)?;
    a.set_grad(Some(Tensor::new([3.0, -4.0])))?;
    b.set_grad(Some(Tensor::new([[12.0]])))?;
    Ok([a, b, none])
}

fn grads(params: &[Tensor<f64>]) -> Vec<Option<Vec<f64>>> {
    params.iter().map(|p| p.grad().map(|g| g.to_vec().unwrap())).collect()
}

#[test]
fn the_norm_of_each_order_and_torchs_clip_coefficient() -> Result<()> {
    // (norm_type, the joint norm by hand): 2 → √(9+16+144) = 13; 1 → 7 + 12 = 19; ∞ → 12;
    // 3 → ((27+64)^(1/3))^3 + 12^3)^(1/3) = (91 + 1728)^(1/3), the norm of the per-gradient norms.
    let cube_root = |x: f64| x.powf(1.0 / 3.0);
    let p3 = cube_root(cube_root(91.0).powf(3.0) + 1728.0);
    for (norm_type, total) in [(2.0, 13.0), (1.0, 19.0), (f64::INFINITY, 12.0), (3.0, p3)] {
        for max_norm in [1.0, 6.5, 100.0] {
            let params = setup()?;
            let got = clip_grad_norm_with(&params, max_norm, ClipGradNorm { norm_type, error_if_nonfinite: false })?;
            assert!((got.item()? - total).abs() <= 1e-14 * total, "ord {norm_type}: {} vs {total}", got.item()?);
            // torch: clamp(max_norm * (1 / (total + 1e-6)), max=1), from the computed total.
            let coef = ((1.0 / (got.item()? + 1e-6)) * max_norm).min(1.0);
            assert_eq!(
                grads(&params),
                [Some(vec![3.0 * coef, -4.0 * coef]), Some(vec![12.0 * coef]), None],
                "ord {norm_type}, max_norm {max_norm}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_small_norm_is_left_alone_and_no_gradients_give_zero() -> Result<()> {
    let params = setup()?;
    let total = clip_grad_norm_(params.iter(), 13.5)?;
    assert_eq!(total.item()?, 13.0);
    assert_eq!(grads(&params), [Some(vec![3.0, -4.0]), Some(vec![12.0]), None]);
    let bare = [Tensor::<f32>::zeros(&[2]).requires_grad_(true)?];
    assert_eq!(
        clip_grad_norm_with(&bare, 1.0, ClipGradNorm { norm_type: 2.0, error_if_nonfinite: true })?.item()?,
        0.0
    );
    Ok(())
}

#[test]
fn a_handle_to_the_gradient_sees_the_clipping() -> Result<()> {
    let params = setup()?;
    let handle = params[0].grad().unwrap();
    clip_grad_norm_(&params, 1.3)?;
    let coef = (1.0 / (13.0 + 1e-6)) * 1.3;
    assert_eq!(handle.to_vec()?, vec![3.0 * coef, -4.0 * coef]);
    Ok(())
}

#[test]
fn a_non_finite_norm_is_an_error_only_when_asked() -> Result<()> {
    let params = setup()?;
    params[1].set_grad(Some(Tensor::new([[f64::INFINITY]])))?;
    let err = clip_grad_norm_with(&params, 1.0, ClipGradNorm { norm_type: 2.0, error_if_nonfinite: true })
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("clip_grad_norm_: the total norm of order 2 for gradients from `parameters` is non-finite"));
    assert_eq!(grads(&params)[0], Some(vec![3.0, -4.0]), "nothing changes on the error");
    // Without the flag torch scales anyway: 1/(inf + 1e-6) = 0.
    assert_eq!(clip_grad_norm_(&params, 1.0)?.item()?, f64::INFINITY);
    assert_eq!(grads(&params)[0], Some(vec![0.0, -0.0]));
    Ok(())
}

#[test]
fn clip_grad_value_clamps_each_element() -> Result<()> {
    let params = setup()?;
    clip_grad_value_(&params, 3.5)?;
    assert_eq!(grads(&params), [Some(vec![3.0, -3.5]), Some(vec![3.5]), None]);
    clip_grad_value_(&params, 0.0)?;
    assert_eq!(grads(&params), [Some(vec![0.0, 0.0]), Some(vec![0.0]), None]);
    Ok(())
}

#[test]
fn invalid_arguments_are_errors() -> Result<()> {
    let params = setup()?;
    let norm_err = |max: f64, ord: f64| {
        clip_grad_norm_with(&params, max, ClipGradNorm { norm_type: ord, error_if_nonfinite: false })
            .unwrap_err()
            .to_string()
    };
    assert_eq!(norm_err(1.0, 0.0), "clip_grad_norm_: invalid norm_type: 0 (must be > 0 or infinity)");
    assert_eq!(norm_err(1.0, f64::NAN), "clip_grad_norm_: invalid norm_type: NaN (must be > 0 or infinity)");
    assert_eq!(norm_err(-1.0, 2.0), "clip_grad_norm_: invalid max_norm: -1 (must be >= 0)");
    assert_eq!(
        clip_grad_value_(&params, -1.0).unwrap_err().to_string(),
        "clip_grad_value_: invalid clip_value: -1 (must be >= 0)"
    );
    assert_eq!(grads(&params)[0], Some(vec![3.0, -4.0]));
    Ok(())
}
