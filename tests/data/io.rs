//! `io`: safetensors files with torch's state_dict names, and CSV tables. The bad inputs of both are in
//! tests/bad_inputs.rs; the parity with libtorch's own reader and writer in tests/tch_io.rs.

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::io::write_csv;
use torchlet::io::{load_parameters, load_safetensors, read_csv, read_csv_from, save_parameters, save_safetensors};
use torchlet::nn::{Linear, Module};
use torchlet::optim::SGD;
use torchlet::{Result, Tensor};

/// Two stacked layers, to check the prefixed names of nested modules.
struct TwoLayers {
    first: Linear<f64>,
    second: Linear<f64>,
}

impl TwoLayers {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        TwoLayers { first: Linear::with_rng(3, 4, true, &mut rng), second: Linear::with_rng(4, 1, false, &mut rng) }
    }
}

impl Module<f64> for TwoLayers {
    fn forward(&self, x: &Tensor<f64>) -> Result<Tensor<f64>> {
        self.second.forward(&self.first.forward(x)?)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<f64>)> {
        let prefixed = |prefix: &str, m: &Linear<f64>| {
            m.named_parameters().into_iter().map(move |(n, t)| (format!("{prefix}.{n}"), t)).collect::<Vec<_>>()
        };
        [prefixed("first", &self.first), prefixed("second", &self.second)].concat()
    }
}

fn bits32(t: &Tensor<f32>) -> Vec<u32> {
    t.to_vec().unwrap().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn safetensors_round_trip_keeps_every_bit_and_shape() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.safetensors");
    let odd = Tensor::<f32>::new([[f32::NAN, -0.0, f32::INFINITY], [f32::MIN_POSITIVE, 1e-45, -3.5]]);
    let view = odd.t()?; // strided: written in its logical (transposed) order
    let scalar = Tensor::scalar(7.25f32);
    let empty = Tensor::<f32>::zeros(&[0, 3]);
    save_safetensors(&path, &[("odd", &odd), ("view", &view), ("scalar", &scalar), ("empty", &empty)])?;
    let loaded = load_safetensors::<f32>(&path)?;
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["empty", "odd", "scalar", "view"], "sorted by name, as the writer orders the data");
    let get = |name: &str| loaded.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!((get("odd").shape(), bits32(&get("odd"))), (odd.shape(), bits32(&odd)));
    assert_eq!((get("view").shape(), bits32(&get("view"))), (&[3, 2][..], bits32(&view)));
    assert_eq!((get("scalar").shape(), get("scalar").item()?), (&[][..], 7.25));
    assert_eq!(get("empty").shape(), &[0, 3]);
    assert!(get("odd").is_leaf() && !get("odd").requires_grad());

    let x = Tensor::<f64>::new([1.0 / 3.0, std::f64::consts::PI, -1e300]);
    save_safetensors(&path, &[("x", &x)])?;
    assert_eq!(load_safetensors::<f64>(&path)?[0].1.to_vec()?, x.to_vec()?);
    Ok(())
}

#[test]
fn the_file_is_standard_safetensors() -> Result<()> {
    // Header length (u64 LE), JSON header with dtype/shape/data_offsets and torch's format tag, then data.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    save_safetensors(&path, &[("weight", &Tensor::<f32>::new([[1.0, 2.0]]))])?;
    let bytes = std::fs::read(&path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header.contains(r#""weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}"#), "{header}");
    assert!(header.contains(r#""__metadata__":{"format":"pt"}"#), "{header}");
    assert_eq!(&bytes[8 + n..], [1.0f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat());
    Ok(())
}

#[test]
fn parameters_save_under_state_dict_names_and_load_in_place() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let trained = TwoLayers::new(1);
    save_parameters(&trained, &path)?;
    let names: Vec<String> = load_safetensors::<f64>(&path)?.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["first.bias", "first.weight", "second.weight"]);

    let model = TwoLayers::new(2);
    let weight = model.first.weight().clone();
    let mut opt = SGD::new(model.parameters(), 0.1)?;
    load_parameters(&model, &path)?;
    for ((_, ours), (_, theirs)) in model.named_parameters().iter().zip(trained.named_parameters()) {
        assert_eq!(ours.to_vec()?, theirs.to_vec()?);
        assert!(ours.is_leaf() && ours.requires_grad());
    }
    // The same tensors were written in place: the handle taken before sees the values, and the optimizer
    // built before still moves the module.
    assert_eq!(weight.to_vec()?, trained.first.weight().to_vec()?);
    model.forward(&Tensor::ones(&[2, 3]))?.sum()?.backward()?;
    opt.step()?;
    assert_ne!(model.first.weight().to_vec()?, trained.first.weight().to_vec()?);
    Ok(())
}

#[test]
fn csv_round_trip_with_and_without_header() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let x = Tensor::<f64>::new([[73.0, 67.5, -4.25e-7], [91.0, f64::INFINITY, 1.0 / 3.0]]);
    write_csv(&path, &x, Some(&["temp", "rainfall", "humidity"]))?;
    let (header, back) = read_csv::<f64>(&path, true)?;
    assert_eq!(header.unwrap(), ["temp", "rainfall", "humidity"]);
    assert_eq!((back.shape(), back.to_vec()?), (x.shape(), x.to_vec()?), "shortest round-trip formatting");

    write_csv(&path, &Tensor::<f32>::new([1.5, 2.5, 3.5]), None)?;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "1.5\n2.5\n3.5\n");
    let (header, column) = read_csv::<f32>(&path, false)?;
    assert!(header.is_none());
    assert_eq!((column.shape(), column.to_vec()?), (&[3, 1][..], vec![1.5, 2.5, 3.5]));
    Ok(())
}

#[test]
fn csv_reading_is_forgiving_where_it_is_safe() -> Result<()> {
    // Spaces around fields, quoted fields, blank lines, a missing final newline and nan/inf spellings.
    let text = "a ,\"b\"\n\n 1 ,\"2\"\r\n-inf,NaN\n3e2,  .5";
    let (header, x) = read_csv_from::<f64>(text.as_bytes(), true)?;
    assert_eq!(header.unwrap(), ["a", "b"]);
    let v = x.to_vec()?;
    assert_eq!(x.shape(), &[3, 2]);
    assert_eq!((v[0], v[1], v[2], v[4], v[5]), (1.0, 2.0, f64::NEG_INFINITY, 300.0, 0.5));
    assert!(v[3].is_nan());

    let (header, empty) = read_csv_from::<f32>("a,b,c\n".as_bytes(), true)?;
    assert_eq!((header.unwrap().len(), empty.shape()), (3, &[0, 3][..]));
    assert_eq!(read_csv_from::<f32>("".as_bytes(), false)?.1.shape(), &[0, 0]);
    Ok(())
}

#[test]
fn the_crop_yields_table_reads_as_the_tutorial_tensors() -> Result<()> {
    // T4's data as a CSV file: region, three inputs and two targets per row.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crops.csv");
    std::fs::write(
        &path,
        "temp,rainfall,humidity,apples,oranges\n73,67,43,56,70\n91,88,64,81,101\n87,134,58,119,133\n",
    )
    .unwrap();
    let (header, table) = read_csv::<f32>(&path, true)?;
    assert_eq!(header.unwrap()[3], "apples");
    let (inputs, targets) = (table.narrow(1, 0, 3)?, table.narrow(1, 3, 2)?);
    assert_eq!(inputs.to_vec2()?[2], vec![87.0, 134.0, 58.0]);
    assert_eq!(targets.to_vec2()?[1], vec![81.0, 101.0]);
    Ok(())
}
