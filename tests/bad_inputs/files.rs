//! Files: malformed, truncated and mismatched parameters files, and CSV tables that are not numbers.

use super::{assert_unchanged, message, snapshot, Snapshot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use torchlet::io::write_csv;
use torchlet::io::{load_parameters, load_safetensors, read_csv, read_csv_from, save_parameters, save_safetensors};
use torchlet::nn::{Linear, Module};
use torchlet::Tensor;

/// A model, its parameters' snapshot, and a directory to write files in.
fn setup() -> (Linear<f32>, Vec<Snapshot>, tempfile::TempDir) {
    let model = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    let before = snapshot(&model.parameters().iter().collect::<Vec<_>>());
    (model, before, tempfile::tempdir().unwrap())
}

fn unchanged(model: &Linear<f32>, before: &[Snapshot]) {
    assert_unchanged(before, &model.parameters().iter().collect::<Vec<_>>());
}

/// A valid parameters file for a `Linear(3, 2)` from another seed.
fn saved(dir: &Path) -> PathBuf {
    let path = dir.join("good.safetensors");
    save_parameters(&Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(1)), &path).unwrap();
    path
}

#[test]
fn malformed_parameters_file() {
    let (model, before, dir) = setup();
    let path = dir.path().join("bad.safetensors");
    let good = std::fs::read(saved(dir.path())).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"this is not a safetensors file".to_vec()),
        ("empty", vec![]),
        ("huge header length", u64::MAX.to_le_bytes().to_vec()),
        ("header length past the end", [&100u64.to_le_bytes()[..], b"{}"].concat()),
        ("not JSON", [&4u64.to_le_bytes()[..], b"{{{{"].concat()),
        ("extra bytes after the data", [&good[..], &[0u8; 4][..]].concat()),
    ];
    let mut bad_json = good.clone();
    bad_json[8..8 + header_len].iter_mut().filter(|b| **b == b'"').take(1).for_each(|b| *b = b'\'');
    cases.push(("broken JSON", bad_json));
    for (what, bytes) in cases {
        std::fs::write(&path, bytes).unwrap();
        let err = message(load_parameters(&model, &path));
        assert!(
            err.starts_with(&format!("load_parameters: {} is not a valid safetensors file: ", path.display())),
            "{what}: {err}"
        );
        assert!(message(load_safetensors::<f32>(&path)).starts_with("load_safetensors: "), "{what}");
    }
    unchanged(&model, &before);
}

#[test]
fn parameters_file_with_a_shape_too_large_to_index() {
    // Zero elements, so the data size checks pass, but the strides of [0, 2^64 - 1, 2] overflow.
    let (model, before, dir) = setup();
    let path = dir.path().join("huge.safetensors");
    let header = r#"{"weight":{"dtype":"F32","shape":[0,18446744073709551615,2],"data_offsets":[0,0]}}"#;
    std::fs::write(&path, [&(header.len() as u64).to_le_bytes()[..], header.as_bytes()].concat()).unwrap();
    let err = message(load_parameters(&model, &path));
    assert!(err.ends_with("tensor \"weight\" has shape [0, 18446744073709551615, 2], too large to index"), "{err}");
    unchanged(&model, &before);
}

#[test]
fn truncated_parameters_file() {
    let (model, before, dir) = setup();
    let good = std::fs::read(saved(dir.path())).unwrap();
    let path = dir.path().join("cut.safetensors");
    // Every prefix: in the length field, in the header, in the data.
    for len in 0..good.len() {
        std::fs::write(&path, &good[..len]).unwrap();
        let err = message(load_parameters(&model, &path));
        assert!(err.contains("is not a valid safetensors file"), "cut at {len} of {}: {err}", good.len());
    }
    unchanged(&model, &before);
}

#[test]
fn missing_parameters_file() {
    let (model, before, dir) = setup();
    let path = dir.path().join("nowhere.safetensors");
    let err = message(load_parameters(&model, &path));
    assert!(err.starts_with(&format!("load_parameters: cannot read {}: ", path.display())), "{err}");
    let err = message(save_parameters(&model, dir.path().join("no/such/dir/model.safetensors")));
    assert!(err.starts_with("save_parameters: cannot write ") && err.contains("no/such/dir"), "{err}");
    unchanged(&model, &before);
}

#[test]
fn parameters_file_with_a_missing_key() {
    let (model, before, dir) = setup();
    let path = dir.path().join("weight_only.safetensors");
    save_safetensors(&path, &[("weight", &Tensor::<f32>::zeros(&[2, 3]))]).unwrap();
    assert_eq!(
        message(load_parameters(&model, &path)),
        format!(
            "load_parameters: the keys of {} do not match the module's parameters: missing key(s) [\"bias\"], \
             unexpected key(s) []",
            path.display()
        )
    );
    unchanged(&model, &before);
}

#[test]
fn parameters_file_with_an_unexpected_key() {
    let (model, before, dir) = setup();
    let path = dir.path().join("extra.safetensors");
    let (w, b) = (Tensor::<f32>::zeros(&[2, 3]), Tensor::<f32>::zeros(&[2]));
    save_safetensors(&path, &[("weight", &w), ("bias", &b), ("layer2.weight", &w)]).unwrap();
    let err = message(load_parameters(&model, &path));
    assert!(err.ends_with("missing key(s) [], unexpected key(s) [\"layer2.weight\"]"), "{err}");
    unchanged(&model, &before);
}

#[test]
fn parameters_file_with_a_wrong_shape() {
    let (model, before, dir) = setup();
    let path = dir.path().join("transposed.safetensors");
    let (w, b) = (Tensor::<f32>::zeros(&[3, 2]), Tensor::<f32>::zeros(&[2]));
    save_safetensors(&path, &[("weight", &w), ("bias", &b)]).unwrap();
    assert_eq!(
        message(load_parameters(&model, &path)),
        format!(
            "load_parameters: size mismatch for \"weight\": shape [3, 2] in {}, but the parameter in the model has \
             shape [2, 3]",
            path.display()
        )
    );
    unchanged(&model, &before);
}

#[test]
fn parameters_file_with_a_wrong_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(dir.path()); // F32
    let model = Linear::<f64>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    let params = model.parameters();
    let before = snapshot(&params.iter().collect::<Vec<_>>());
    let err = message(load_parameters(&model, &path));
    let shown = path.display();
    assert_eq!(
        err,
        format!(
            "load_parameters: 2 problems loading {shown}: tensor \"weight\" has dtype F32, but the model's \
             parameter is torch.float64 (F64); tensor \"bias\" has dtype F32, but the model's parameter is \
             torch.float64 (F64)"
        )
    );
    assert!(
        message(load_safetensors::<f64>(&path)).contains("has dtype F32, but the tensors asked for are torch.float64")
    );
    assert_unchanged(&before, &params.iter().collect::<Vec<_>>());
}

#[test]
fn saving_two_tensors_under_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.safetensors");
    let t = Tensor::<f32>::zeros(&[1]);
    assert_eq!(
        message(save_safetensors(&path, &[("w", &t), ("w", &t)])),
        "save_safetensors: the name \"w\" is given twice"
    );
    assert!(!path.exists(), "nothing is written");
}

#[test]
fn csv_field_that_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crops.csv");
    std::fs::write(&path, "temp,rainfall\n73,67\n\n91,88mm\n").unwrap();
    assert_eq!(
        message(read_csv::<f32>(&path, true)),
        format!("read_csv: {} line 4 (row 2), column 2 (\"rainfall\"): \"88mm\" is not a number", path.display())
    );
    assert_eq!(
        message(read_csv_from::<f64>("1,2\n3,\n".as_bytes(), false)),
        "read_csv: <reader> line 2 (row 2), column 2: \"\" is not a number"
    );
}

#[test]
fn csv_ragged_rows() {
    assert_eq!(
        message(read_csv_from::<f64>("a,b,c\n1,2,3\n4,5\n".as_bytes(), true)),
        "read_csv: <reader> line 3 (row 2) has 2 field(s), expected 3 as in the header"
    );
    assert_eq!(
        message(read_csv_from::<f64>("1,2\n3,4,5\n".as_bytes(), false)),
        "read_csv: <reader> line 2 (row 2) has 3 field(s), expected 2 as in the first row"
    );
}

#[test]
fn csv_files_that_cannot_be_read_or_written() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    assert!(
        message(read_csv::<f32>(&missing, true)).starts_with(&format!("read_csv: cannot open {}: ", missing.display()))
    );
    let bytes = [b"a,b\n1,".as_slice(), &[0xff, 0xfe], b"\n"].concat();
    assert!(message(read_csv_from::<f32>(bytes.as_slice(), true)).starts_with("read_csv: <reader>"));

    let path = dir.path().join("out.csv");
    assert_eq!(
        message(write_csv(&path, &Tensor::<f32>::zeros(&[2, 2, 2]), None)),
        "write_csv: expected a 1-D or 2-D tensor, got shape [2, 2, 2]"
    );
    assert_eq!(
        message(write_csv(&path, &Tensor::<f32>::zeros(&[2, 3]), Some(&["a", "b"]))),
        "write_csv: a header of 2 name(s) for a tensor of 3 column(s) (shape [2, 3])"
    );
    assert!(!path.exists(), "nothing is written");
    let err = message(write_csv(dir.path().join("no/dir/out.csv"), &Tensor::<f32>::zeros(&[1]), None));
    assert!(err.starts_with("write_csv: cannot write ") && err.contains("no/dir/out.csv"), "{err}");
}
