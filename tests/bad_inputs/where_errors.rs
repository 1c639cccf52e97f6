//! Errors that say where: the layer of a container, the row of a bad label, every key of a mismatched
//! parameters file.

use crate::message;
use torchlet::io::{load_parameters, save_parameters};
use torchlet::nn::functional::{cross_entropy, nll_loss};
use torchlet::nn::{Linear, Module, ModuleList, ReLU, Reduction, Sequential};
use torchlet::rand::{rngs::StdRng, SeedableRng};
use torchlet::{Error, Tensor};

fn linear(fan_in: usize, fan_out: usize) -> Linear<f32> {
    Linear::with_rng(fan_in, fan_out, true, &mut StdRng::seed_from_u64(0))
}

#[test]
fn a_layer_of_a_sequential_is_named_with_its_index_and_type() {
    let model = Sequential::new().add(linear(2, 32)).add(ReLU).add(linear(32, 32)).add(ReLU).add(linear(16, 2));
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    let err = model.forward(&Tensor::zeros(&[4, 2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Sequential[4] (Linear): Linear: input of shape [4, 32] has 32 features, but in_features is 16"
    );
    assert!(matches!(err.root(), Error::Shape { op: "Linear", .. }), "the layer's own error is kept: {err:?}");
    let after: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    assert_eq!(before, after);
}

#[test]
fn nested_containers_name_each_level() {
    let inner = Sequential::new().add(linear(3, 3)).add(linear(4, 1));
    let mut list = ModuleList::new();
    list.push(linear(2, 3));
    list.push(inner);
    let err = message(list.forward(&Tensor::zeros(&[5, 2])));
    assert_eq!(
        err,
        "ModuleList[1] (Sequential): Sequential[1] (Linear): Linear: input of shape [5, 3] has 3 features, but \
         in_features is 4"
    );
}

#[test]
fn a_bad_label_tensor_names_the_loss_and_the_row() {
    let logits = Tensor::<f64>::zeros(&[4, 3]).requires_grad_(true).unwrap();
    let labels = |v: [f64; 4]| Tensor::new(v);
    let cases = [
        ([0.0, 2.0, -1.0, 1.0], "cross_entropy: target -1 at row 2 is not a class index (a whole number >= 0)"),
        ([0.0, 1.5, 1.0, 1.0], "cross_entropy: target 1.5 at row 1 is not a class index (a whole number >= 0)"),
        ([0.0, 1.0, 2.0, f64::NAN], "cross_entropy: target NaN at row 3 is not a class index (a whole number >= 0)"),
        ([0.0, 1.0, 2.0, 3.0], "cross_entropy: target 3 at row 3 is out of bounds for 3 classes"),
    ];
    for (values, expected) in cases {
        assert_eq!(message(cross_entropy(&logits, &labels(values))), expected);
    }
    assert_eq!(
        message(nll_loss(&logits, &labels([0.0, 1.0, 7.0, 0.0]), None, None, Reduction::Mean)),
        "nll_loss: target 7 at row 2 is out of bounds for 3 classes"
    );
    assert_eq!(
        message(cross_entropy(&logits, &[0, 1, 2, 5])),
        "cross_entropy: target 5 at row 3 is out of bounds for 3 classes"
    );
    assert!(logits.grad().is_none());
}

#[test]
fn a_target_of_neither_shape_says_what_each_form_needs() {
    let logits = Tensor::<f32>::zeros(&[4, 3]);
    assert_eq!(
        message(cross_entropy(&logits, &Tensor::zeros(&[4, 1]))),
        "cross_entropy: target of shape [4, 1] for input of shape [4, 3]: class indices have one dim fewer than \
         the input ([4]), probabilities the input's shape"
    );
    assert_eq!(
        message(nll_loss(&logits, &Tensor::zeros(&[4, 3]), None, None, Reduction::Mean)),
        "nll_loss: expected class indices of shape [4] for input of shape [4, 3], got a target of the input's \
         shape (class probabilities are for cross_entropy)"
    );
}

#[test]
fn to_labels_names_the_value_and_its_index() {
    assert_eq!(
        message(Tensor::<f32>::new([[0.0, 1.0], [-2.0, 1.0]]).to_labels()),
        "to_labels: -2 at index 2 is not a class index (a whole number >= 0)"
    );
    assert_eq!(
        message(Tensor::<f64>::new([f64::INFINITY]).to_labels()),
        "to_labels: inf at index 0 is not a class index (a whole number >= 0)"
    );
    assert_eq!(
        message(torchlet::metrics::accuracy(&Tensor::<f32>::new([0.0, 0.5]), &[0, 1])),
        "accuracy: label 0.5 at index 1 is not a class index (a whole number >= 0)"
    );
}

#[test]
fn load_parameters_lists_every_missing_unexpected_and_mismatched_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    // Saved: 0.weight [8, 2], 0.bias [8], 2.weight [1, 8], 2.bias [1].
    save_parameters(&Sequential::new().add(linear(2, 8)).add(ReLU).add(linear(8, 1)), &path).unwrap();
    // Loaded into: 0.weight [4, 2], 0.bias [4], 1.weight [1, 4], 1.bias [1].
    let other = Sequential::new().add(linear(2, 4)).add(linear(4, 1));
    let before: Vec<Vec<f32>> = other.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    let err = message(load_parameters(&other, &path));
    let shown = path.display();
    assert_eq!(
        err,
        format!(
            "load_parameters: 3 problems loading {shown}: the keys do not match the module's parameters: missing \
             key(s) [\"1.weight\", \"1.bias\"], unexpected key(s) [\"2.bias\", \"2.weight\"]; size mismatch for \
             \"0.weight\": shape [8, 2], but the parameter in the model has shape [4, 2]; size mismatch for \
             \"0.bias\": shape [8], but the parameter in the model has shape [4]"
        )
    );
    let after: Vec<Vec<f32>> = other.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    assert_eq!(before, after, "nothing is written when anything is wrong");
}
