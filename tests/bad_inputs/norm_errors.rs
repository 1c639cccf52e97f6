//! Wrong inputs to the normalisation layers, Embedding, Unflatten and the int64 buffers in files: each
//! error names the op and the values, in torch's words where torch has them, and leaves the layer, its
//! buffers and the operands unchanged.

use crate::{assert_unchanged, message, param, snapshot};
use torchlet::io::{load_parameters, save_parameters, save_safetensors};
use torchlet::nn::functional::{batch_norm, embedding, embedding_renorm_, group_norm, layer_norm};
use torchlet::nn::{
    BatchNorm1d, BatchNorm2d, Embedding, EmbeddingOptions, GroupNorm, LayerNorm, Module, Sequential, Unflatten,
};
use torchlet::Tensor;

fn ones(shape: &[usize]) -> Tensor<f64> {
    param(&vec![1.0; shape.iter().product()], shape)
}

/// The parameters and buffers of a module, to check that a refused call left them alone.
fn state(m: &impl Module<f64>) -> Vec<Tensor<f64>> {
    m.named_parameters().into_iter().chain(m.named_buffers()).map(|(_, t)| t).collect()
}

#[test]
fn batch_norm_refuses_one_value_per_channel_in_training() {
    let bn = BatchNorm1d::<f64>::new(4);
    let x = ones(&[1, 4]);
    let tensors = state(&bn);
    let before = snapshot(&tensors.iter().chain([&x]).collect::<Vec<_>>());
    assert_eq!(
        message(bn.forward(&x)),
        "BatchNorm1d: Expected more than 1 value per channel when training, got input size [1, 4]"
    );
    assert_eq!(
        message(BatchNorm2d::<f64>::new(4).forward(&ones(&[1, 4, 1, 1]))),
        "BatchNorm2d: Expected more than 1 value per channel when training, got input size [1, 4, 1, 1]"
    );
    // The count of batches is not advanced by a refused batch.
    assert_eq!(bn.num_batches_tracked(), Some(0));
    assert_unchanged(&before, &tensors.iter().chain([&x]).collect::<Vec<_>>());
    // One value per channel is fine in evaluation mode, with running statistics.
    let mut bn = bn;
    bn.eval();
    assert!(bn.forward(&x).is_ok());
}

#[test]
fn batch_norm_names_a_wrong_channel_count_and_rank() {
    let bn = BatchNorm1d::<f64>::new(3);
    assert_eq!(
        message(bn.forward(&ones(&[2, 4]))),
        "BatchNorm1d: running_mean should contain 4 elements not 3 (shape [3])"
    );
    assert_eq!(message(bn.forward(&ones(&[2, 3, 4, 5]))), "BatchNorm1d: expected 2D or 3D input (got 4D input)");
    assert_eq!(message(bn.forward(&ones(&[3]))), "BatchNorm1d: expected 2D or 3D input (got 1D input)");
    assert_eq!(
        message(BatchNorm2d::<f64>::new(3).forward(&ones(&[2, 3]))),
        "BatchNorm2d: expected 4D input (got 2D input)"
    );
    let x = ones(&[2, 3]);
    assert_eq!(
        message(batch_norm(&x, None, None, Some(&ones(&[2])), None, true, 0.1, 1e-5)),
        "batch_norm: weight should contain 3 elements not 2 (shape [2])"
    );
    assert_eq!(
        message(batch_norm(&x, None, None, None, None, false, 0.1, 1e-5)),
        "batch_norm: running_mean and running_var must be defined in evaluation mode"
    );
    assert_eq!(
        message(batch_norm(&ones(&[3]), None, None, None, None, true, 0.1, 1e-5)),
        "batch_norm: expected an input of shape [N, C, *], got shape [3]"
    );
    assert_eq!(bn.num_batches_tracked(), Some(0));
}

#[test]
fn a_failing_layer_in_a_sequential_is_named() {
    let model = Sequential::<f64>::new().add(BatchNorm1d::new(3));
    let err = model.forward(&ones(&[1, 3])).unwrap_err().to_string();
    assert!(err.starts_with("Sequential[0] (BatchNorm1d): "), "{err}");
}

#[test]
fn layer_norm_names_the_expected_shape() {
    let x = ones(&[2, 3]);
    let before = snapshot(&[&x]);
    assert_eq!(
        message(LayerNorm::<f64>::new(&[4]).unwrap().forward(&x)),
        "layer_norm: Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]"
    );
    assert_eq!(
        message(layer_norm(&x, &[2, 3], Some(&ones(&[3])), None, 1e-5)),
        "layer_norm: Expected weight to be of same shape as normalized_shape, but got weight of shape [3] and normalized_shape = [2, 3]"
    );
    assert_eq!(
        message(layer_norm(&x, &[4, 2, 3], None, None, 1e-5)),
        "layer_norm: Given normalized_shape=[4, 2, 3], expected input with shape [*, 4, 2, 3], but got input of size[2, 3]"
    );
    assert_eq!(
        message(LayerNorm::<f64>::new(&[])),
        "LayerNorm: Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn group_norm_refuses_groups_that_do_not_divide_the_channels() {
    assert_eq!(message(GroupNorm::<f64>::new(4, 6)), "GroupNorm: num_channels must be divisible by num_groups");
    assert_eq!(message(GroupNorm::<f64>::new(0, 6)), "GroupNorm: num_groups must be positive");
    let x = ones(&[2, 6, 4]);
    assert_eq!(
        message(group_norm(&x, 4, None, None, 1e-5)),
        "group_norm: Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 6, 4] and num_groups=4"
    );
    assert_eq!(
        message(GroupNorm::<f64>::new(2, 4).unwrap().forward(&x)),
        "group_norm: Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape [4] and input of shape [2, 6, 4]"
    );
    assert_eq!(
        message(group_norm(&ones(&[6]), 2, None, None, 1e-5)),
        "group_norm: Expected at least 2 dimensions for input tensor but received 1"
    );
}

#[test]
fn embedding_names_a_bad_index_and_where_it_is() {
    let emb = Embedding::from_pretrained(&ones(&[5, 2]), false, None).unwrap();
    assert_eq!(
        message(emb.forward(&Tensor::new([[0.0, 1.0], [2.0, 5.0]]))),
        "Embedding: index 5 at position [1, 1] is out of range for num_embeddings 5"
    );
    assert_eq!(
        message(emb.forward(&Tensor::new([0.0, -1.0]))),
        "Embedding: -1 at position [1] is not an index (a whole number >= 0)"
    );
    assert_eq!(
        message(emb.forward(&Tensor::new([[[0.0, f64::NAN]]]))),
        "Embedding: NaN at position [0, 0, 1] is not an index (a whole number >= 0)"
    );
    assert_eq!(
        message(emb.forward_indices(&[4, 9])),
        "Embedding: index 9 at position [1] is out of range for num_embeddings 5"
    );
    assert_eq!(
        message(Embedding::<f64>::with_options(5, 2, EmbeddingOptions::default().padding_idx(-6))),
        "Embedding: Padding_idx must be within num_embeddings (padding_idx -6, num_embeddings 5)"
    );
    assert_eq!(
        message(embedding(&Tensor::new([0.0]), &ones(&[5]), None)),
        "Embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape [5]"
    );
    assert!(emb.weight().grad().is_none());
}

#[test]
fn a_bad_index_renormalises_no_row() {
    // With max_norm, every index is checked before any row is rescaled in place.
    let table = Tensor::new([[3.0, 4.0], [6.0, 8.0]]);
    let emb = Embedding::from_pretrained(&table, false, EmbeddingOptions::default().max_norm(1.0)).unwrap();
    let before = snapshot(&[emb.weight()]);
    assert_eq!(
        message(emb.forward(&Tensor::new([0.0, 1.0, 2.0]))),
        "Embedding: index 2 at position [2] is out of range for num_embeddings 2"
    );
    assert_eq!(
        message(emb.forward_indices(&[1, 7])),
        "Embedding: index 7 at position [1] is out of range for num_embeddings 2"
    );
    assert_eq!(
        message(embedding_renorm_(emb.weight(), &Tensor::new([1.0, 0.5]), 1.0, 2.0)),
        "Embedding: 0.5 at position [1] is not an index (a whole number >= 0)"
    );
    assert_eq!(
        message(embedding_renorm_(&ones(&[4]), &Tensor::new([0.0]), 1.0, 2.0)),
        "Embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape [4]"
    );
    assert_unchanged(&before, &[emb.weight()]);
}

#[test]
fn unflatten_names_sizes_that_do_not_fit() {
    let x = ones(&[2, 10]);
    assert_eq!(
        message(Module::<f64>::forward(&Unflatten::new(1, &[2, 4]), &x)),
        "unflatten: Provided sizes [2, 4] don't multiply up to the size of dim 1 (10) in the input tensor"
    );
    assert_eq!(
        message(Module::<f64>::forward(&Unflatten::new(1, &[-1, 3]), &x)),
        "unflatten: Provided sizes [-1, 3] don't multiply up to the size of dim 1 (10) in the input tensor"
    );
    assert_eq!(
        message(Module::<f64>::forward(&Unflatten::new(1, &[-1, -1]), &x)),
        "unflatten: invalid sizes [-1, -1]: only one dim can be -1, the others >= 0"
    );
    assert!(message(Module::<f64>::forward(&Unflatten::new(2, &[2, 5]), &x)).starts_with("unflatten: dimension 2"));
}

#[test]
fn int64_buffers_are_checked_in_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = BatchNorm1d::<f32>::new(2);
    // A count that f32 cannot hold exactly is refused rather than rounded.
    let path = dir.path().join("big.safetensors");
    let mut header = String::from("{");
    let entries =
        [("bias", "F32", "[2]", 8), ("num_batches_tracked", "I64", "[]", 8), ("running_mean", "F32", "[2]", 8)];
    let mut data = Vec::new();
    let mut offset = 0;
    let mut parts = Vec::new();
    for (name, dtype, shape, len) in
        entries.iter().chain(&[("running_var", "F32", "[2]", 8), ("weight", "F32", "[2]", 8)])
    {
        parts.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{offset},{}]}}"#,
            offset + len
        ));
        offset += len;
        if *dtype == "I64" {
            data.extend_from_slice(&((1i64 << 24) + 1).to_le_bytes());
        } else {
            data.extend_from_slice(&[0u8; 8]);
        }
    }
    header.push_str(&parts.join(","));
    header.push('}');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    std::fs::write(&path, bytes).unwrap();
    let before = snapshot(&state_f32(&model).iter().collect::<Vec<_>>());
    let err = message(load_parameters(&model, &path));
    assert!(
        err.contains("tensor \"num_batches_tracked\"")
            && err.contains("holds 16777217, which torch.float32 cannot hold exactly"),
        "{err}"
    );
    assert_unchanged(&before, &state_f32(&model).iter().collect::<Vec<_>>());

    // I64 is read only into an int64 buffer: not into a parameter, nor by load_safetensors.
    let plain = dir.path().join("plain.safetensors");
    save_parameters(&model, &plain).unwrap();
    let err = message(torchlet::io::load_safetensors::<f32>(&plain));
    assert!(err.contains("has dtype I64") && err.contains("torchlet reads I64 only into int64 buffers"), "{err}");

    // A count that is not a whole number cannot be written as int64.
    torchlet::no_grad(|| model.named_buffers()[2].1.fill_(0.5).map(|_| ())).unwrap();
    let err = message(save_parameters(&model, dir.path().join("half.safetensors")));
    assert_eq!(err, "save_parameters: buffer \"num_batches_tracked\" holds 0.5, which is not a whole number, but it is stored as int64");
    // Plain tensors keep their float dtype whatever their name.
    save_safetensors(dir.path().join("t.safetensors"), &[("num_batches_tracked", &Tensor::<f32>::scalar(0.5))])
        .unwrap();
}

fn state_f32(m: &impl Module<f32>) -> Vec<Tensor<f32>> {
    m.named_parameters().into_iter().chain(m.named_buffers()).map(|(_, t)| t).collect()
}
