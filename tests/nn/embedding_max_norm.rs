//! `nn.Embedding(max_norm=...)`: each lookup first brings the rows it takes back to `max_norm`, in place and
//! unrecorded (torch's `embedding_renorm_`), with torch's `max_norm / (norm + 1e-7)` scale; rows not taken
//! and rows within the bound stay as they are, and the gradient is the plain lookup's.

use torchlet::nn::functional::embedding_renorm_;
use torchlet::nn::{Embedding, EmbeddingOptions, Module};
use torchlet::{Result, Tensor};

/// Rows of 2-norm 5, 0.5, 10 and 13; 1-norms 7, 0.7, 14, 17; largest magnitudes 4, 0.4, 8, 12.
fn table() -> Tensor<f64> {
    Tensor::new([[3.0, -4.0], [0.3, 0.4], [6.0, 8.0], [-5.0, 12.0]])
}

fn scaled(row: &[f64], norm: f64, max_norm: f64) -> Vec<f64> {
    row.iter().map(|v| v * (max_norm / (norm + 1e-7))).collect()
}

#[test]
fn rows_looked_up_over_max_norm_are_rescaled_in_place() -> Result<()> {
    let emb = Embedding::from_pretrained(&table(), false, EmbeddingOptions::default().max_norm(2.0))?;
    let version = emb.weight().version();
    let out = emb.forward(&Tensor::new([[3.0, 1.0], [3.0, 0.0]]))?;
    let rows = emb.weight().to_vec2()?;
    let original = table().to_vec2()?;
    assert_eq!(rows[0], scaled(&original[0], 5.0, 2.0));
    assert_eq!(rows[1], original[1], "within the bound");
    assert_eq!(rows[2], original[2], "not looked up");
    assert_eq!(rows[3], scaled(&original[3], 13.0, 2.0), "looked up twice, scaled once");
    assert!(emb.weight().version() > version, "an in-place write");
    // The lookup returns the rescaled rows, each of norm just under 2.
    assert_eq!(out.to_vec()?, [&rows[3][..], &rows[1], &rows[3], &rows[0]].concat());
    let norm = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm(&rows[0]) - 2.0).abs() < 1e-7 && norm(&rows[0]) < 2.0);
    // A second lookup finds them within the bound (0.99999996 of it) and leaves them.
    emb.forward_indices(&[0, 3])?;
    assert_eq!(emb.weight().to_vec2()?, rows);
    Ok(())
}

#[test]
fn norm_type_picks_the_norm_that_is_bounded() -> Result<()> {
    let original = table().to_vec2()?;
    for (norm_type, norms) in [(1.0, [7.0, 0.7, 14.0, 17.0]), (f64::INFINITY, [4.0, 0.4, 8.0, 12.0])] {
        let options = EmbeddingOptions::default().max_norm(6.0).norm_type(norm_type);
        let emb = Embedding::from_pretrained(&table(), true, options)?;
        emb.forward_indices(&[0, 1, 2, 3])?;
        let rows = emb.weight().to_vec2()?;
        for (i, norm) in norms.into_iter().enumerate() {
            let expected = if norm > 6.0 { scaled(&original[i], norm, 6.0) } else { original[i].clone() };
            assert_eq!(rows[i], expected, "norm_type {norm_type}, row {i}");
        }
    }
    // p = 3: (27 + 64)^(1/3) ≈ 4.498 > 4 for row 0.
    let weight = table();
    embedding_renorm_(&weight, &Tensor::new([0.0]), 4.0, 3.0)?;
    let norm3 = 91f64.powf(1.0 / 3.0);
    assert_eq!(weight.to_vec2()?[0], scaled(&original[0], norm3, 4.0));
    Ok(())
}

#[test]
fn the_gradient_is_the_lookups_and_two_lookups_share_one_backward() -> Result<()> {
    let emb = Embedding::from_pretrained(&table(), false, EmbeddingOptions::default().max_norm(1.0))?;
    // The first lookup's graph is still alive when the second rescales row 2: as in torch, the lookup keeps
    // only the indices, so the backward goes through.
    let a = emb.forward_indices(&[0, 0])?;
    let b = emb.forward_indices(&[2])?;
    let w = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    a.mul(&w)?.sum()?.add(&b.mul_scalar(5.0)?.sum()?)?.backward()?;
    let grad = emb.weight().grad().unwrap().to_vec2()?;
    assert_eq!(grad, vec![vec![4.0, 6.0], vec![0.0, 0.0], vec![5.0, 5.0], vec![0.0, 0.0]]);
    Ok(())
}

#[test]
fn options_reach_the_layer_and_its_debug_string() -> Result<()> {
    let options = EmbeddingOptions::default().padding_idx(0).max_norm(1.0).norm_type(1.0);
    let emb = Embedding::<f32>::with_options(4, 2, options)?;
    assert_eq!((emb.max_norm(), emb.norm_type()), (Some(1.0), 1.0));
    assert_eq!(format!("{emb:?}"), "Embedding(4, 2, padding_idx=0, max_norm=1.0, norm_type=1.0)");
    let moved = emb.to(torchlet::Device::Cpu)?;
    assert_eq!(format!("{moved:?}"), format!("{emb:?}"));
    assert_eq!(format!("{:?}", Embedding::<f32>::new(3, 2)), "Embedding(3, 2)");
    // The padding row alone still converts, as from_pretrained's third argument.
    let plain = Embedding::from_pretrained(&table(), false, Some(1))?;
    assert_eq!((plain.padding_idx(), plain.max_norm()), (Some(1), None));
    Ok(())
}
