//! Property-based fuzzing (proptest) of the two places where arbitrary outside input meets torchlet: the
//! parameters-file loader, and shapes in broadcasting ops and matmul. Whatever the input, the result is a
//! value or an error, never a panic (proptest reports a panic as a failure), and a value is the right one.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;
use torchlet::io::{load_parameters, load_safetensors, save_parameters};
use torchlet::nn::{Linear, Module};
use torchlet::Tensor;

/// A valid parameters file of a `Linear(3, 2)` with bias, as bytes.
fn valid_file(dir: &Path) -> Vec<u8> {
    let path = dir.join("valid.safetensors");
    save_parameters(&Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0)), &path).unwrap();
    std::fs::read(path).unwrap()
}

/// Loads `bytes` both ways; a failed `load_parameters` must leave the model as it was.
fn load_both(dir: &Path, bytes: &[u8]) -> (bool, bool) {
    let path = dir.join("fuzzed.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let raw = load_safetensors::<f32>(&path);
    if let Ok(tensors) = &raw {
        for (_, t) in tensors {
            assert_eq!(t.numel(), t.to_vec().unwrap().len(), "a loaded tensor is consistent with its shape");
        }
    }
    let model = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(9));
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    let loaded = load_parameters(&model, &path);
    if loaded.is_err() {
        let after: Vec<Vec<f32>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
        assert!(before.iter().flatten().zip(after.iter().flatten()).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    (raw.is_ok(), loaded.is_ok())
}

/// A header-length prefix and a JSON header assembled from plausible and implausible parts. The offsets
/// follow from the shapes and dtypes unless `skew` moves one, so most cases get past the size checks into
/// the validation of dtypes, shapes and names.
fn structured_file() -> impl Strategy<Value = Vec<u8>> {
    let dtype = prop_oneof![
        6 => Just(("F32", 4usize)),
        1 => Just(("F64", 8)),
        1 => prop::sample::select(vec![("F16", 2), ("I64", 8), ("BOOL", 1), ("X", 1)]),
    ];
    // Zeros next to huge dims keep the element count small while the shape itself is extreme.
    let dim = prop_oneof![4 => 0usize..5, 1 => Just(usize::MAX), 1 => Just(1 << 40), 2 => Just(0)];
    let shape = prop::collection::vec(dim, 0..5);
    let name = prop_oneof![
        8 => prop::sample::select(vec!["weight", "bias"]),
        1 => prop::sample::select(vec!["", "__metadata__"]),
    ];
    let skew = prop_oneof![6 => Just(0i64), 1 => -3i64..4];
    let lie = prop::bool::weighted(0.1);
    (prop::collection::vec((name, dtype, shape), 0..3), skew, lie).prop_map(|(entries, skew, lie)| {
        let mut offset = 0usize;
        let fields: Vec<String> = entries
            .iter()
            .map(|(n, (d, size), s)| {
                let bytes = s.iter().try_fold(*size, |acc: usize, &x| acc.checked_mul(x)).unwrap_or(8).min(256);
                let (start, end) = (offset, offset + bytes);
                offset = end;
                format!(r#""{n}":{{"dtype":"{d}","shape":{s:?},"data_offsets":[{start},{end}]}}"#)
            })
            .collect();
        let header = format!("{{{}}}", fields.join(","));
        let n = header.len() as u64 + u64::from(lie);
        let data_len = usize::try_from(offset as i64 + skew).unwrap_or(0);
        [&n.to_le_bytes()[..], header.as_bytes(), &vec![0u8; data_len]].concat()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_are_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().unwrap();
        let (raw, loaded) = load_both(dir.path(), &bytes);
        prop_assert!(!raw && !loaded);
    }

    #[test]
    fn truncated_files_are_an_error(cut in 0usize..1000) {
        let dir = tempfile::tempdir().unwrap();
        let good = valid_file(dir.path());
        let (raw, loaded) = load_both(dir.path(), &good[..cut % good.len()]);
        prop_assert!(!raw && !loaded);
    }

    #[test]
    fn bit_flipped_files_load_or_fail_cleanly(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = valid_file(dir.path());
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        // A flip in the data gives other numbers (fine); one in the header must be caught or harmless.
        load_both(dir.path(), &bytes);
    }

    #[test]
    fn structured_headers_load_or_fail_cleanly(bytes in structured_file()) {
        let dir = tempfile::tempdir().unwrap();
        load_both(dir.path(), &bytes);
    }
}

/// The broadcast shape by the rule itself, written independently of the library: align from the right,
/// equal sizes or a 1 stretch, anything else fails.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let pad = |s: &[usize]| [vec![1; rank - s.len()], s.to_vec()].concat();
    pad(a)
        .into_iter()
        .zip(pad(b))
        .map(|(x, y)| {
            if x == y || y == 1 {
                Some(x)
            } else if x == 1 {
                Some(y)
            } else {
                None
            }
        })
        .collect()
}

/// matmul's result shape by its rules for 1-D and 2-D operands.
fn matmul_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    match (a, b) {
        ([k], [l]) if k == l => Some(vec![]),
        ([m, k], [l]) if k == l => Some(vec![*m]),
        ([k], [l, n]) if k == l => Some(vec![*n]),
        ([m, k], [l, n]) if k == l => Some(vec![*m, *n]),
        _ => None,
    }
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![3 => 1usize..4, 1 => Just(0usize)], 0..5)
}

/// A leaf of `shape` whose element `i` is `i + offset`.
fn counting(shape: &[usize], offset: f64) -> Tensor<f64> {
    let n = shape.iter().product::<usize>();
    Tensor::from_vec((0..n).map(|i| i as f64 + offset).collect(), shape).unwrap().requires_grad_(true).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn broadcasting_ops_give_the_right_shape_or_the_error(a in shape(), b in shape(), op in 0usize..4) {
        let (x, y) = (counting(&a, 1.0), counting(&b, 2.0));
        let (name, result) = match op {
            0 => ("add", x.add(&y)),
            1 => ("sub", x.sub(&y)),
            2 => ("mul", x.mul(&y)),
            _ => ("div", x.div(&y)),
        };
        match (broadcast(&a, &b), result) {
            (Some(expected), Ok(out)) => {
                prop_assert_eq!(out.shape(), expected.as_slice());
                // The backward sums each gradient back to its input's shape.
                out.sum().unwrap().backward().unwrap();
                prop_assert_eq!(x.grad().unwrap().shape().to_vec(), a.clone());
                prop_assert_eq!(y.grad().unwrap().shape().to_vec(), b.clone());
            }
            (None, Err(e)) => {
                let msg = e.to_string();
                let prefix = format!("{name}: shapes {a:?} and {b:?} cannot be broadcast together");
                prop_assert!(msg.starts_with(&prefix), "{}", msg);
            }
            (expected, result) => {
                let got = result.map(|t| t.shape().to_vec());
                prop_assert!(false, "{name} {a:?} {b:?}: expected {expected:?}, got {got:?}");
            }
        }
    }

    #[test]
    fn matmul_gives_the_right_shape_or_the_error(a in shape(), b in shape()) {
        let (x, y) = (counting(&a, 1.0), counting(&b, 2.0));
        match (matmul_shape(&a, &b), x.matmul(&y)) {
            (Some(expected), Ok(out)) => {
                prop_assert_eq!(out.shape(), expected.as_slice());
                out.sum().unwrap().backward().unwrap();
                prop_assert_eq!(x.grad().unwrap().shape().to_vec(), a.clone());
                prop_assert_eq!(y.grad().unwrap().shape().to_vec(), b.clone());
            }
            (None, Err(e)) => prop_assert!(e.to_string().starts_with("matmul: "), "{}", e),
            (expected, result) => {
                let got = result.map(|t| t.shape().to_vec());
                prop_assert!(false, "matmul {a:?} {b:?}: expected {expected:?}, got {got:?}");
            }
        }
    }

    #[test]
    fn in_place_broadcasting_never_grows_the_destination(a in shape(), b in shape()) {
        let dst = Tensor::<f64>::zeros(&a);
        let src = counting(&b, 1.0).detach();
        let fits = broadcast(&a, &b).is_some_and(|s| s == a);
        match dst.add_(&src) {
            Ok(_) => prop_assert!(fits && dst.shape() == a.as_slice()),
            Err(e) => {
                prop_assert!(!fits, "add_ {a:?} += {b:?} failed: {e}");
                prop_assert!(dst.to_vec().unwrap().iter().all(|v| *v == 0.0) && dst.version() == 0);
            }
        }
    }

    #[test]
    fn reshape_succeeds_exactly_when_the_element_counts_match(a in shape(), b in shape()) {
        let x = counting(&a, 0.0);
        let same = a.iter().product::<usize>() == b.iter().product::<usize>();
        match x.reshape(&b) {
            Ok(y) => prop_assert!(same && y.shape() == b.as_slice() && y.to_vec().unwrap() == x.to_vec().unwrap()),
            Err(e) => prop_assert!(!same && e.to_string().starts_with("reshape: "), "{}", e),
        }
    }
}
