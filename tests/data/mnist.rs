//! `data::mnist::load_dir` on small IDX files, plain and gzipped, and on every kind of broken file.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;
use torchlet::data::mnist::{load_dir, Mnist};
use torchlet::Result;

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// An IDX file: the magic number, the dimension sizes, then the data, big-endian.
fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out.extend(data);
    out
}

/// `n` images whose pixel `p` of image `i` is `(7 i + p) % 256`.
fn images(n: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..n as usize * 784).map(|k| ((7 * (k / 784) + k % 784) % 256) as u8).collect();
    idx(2051, &[n, 28, 28], &pixels)
}

fn labels(values: &[u8]) -> Vec<u8> {
    idx(2049, &[values.len() as u32], values)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A folder with 3 training and 2 test images; `gz` names the files to write gzipped.
fn folder(gz: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (TRAIN_IMAGES, images(3)),
        (TRAIN_LABELS, labels(&[5, 0, 9])),
        (TEST_IMAGES, images(2)),
        (TEST_LABELS, labels(&[7, 2])),
    ] {
        if gz.contains(&name) {
            std::fs::write(dir.path().join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
    }
    dir
}

fn check(mnist: &Mnist<f32>) -> Result<()> {
    assert_eq!((mnist.train_images.shape(), mnist.test_images.shape()), (&[3, 784][..], &[2, 784][..]));
    assert_eq!(
        (&mnist.train_labels.to_labels()?[..], &mnist.test_labels.to_labels()?[..]),
        (&[5, 0, 9][..], &[7, 2][..])
    );
    let train = mnist.train_images.to_vec2()?;
    for (i, row) in train.iter().enumerate() {
        for (p, &v) in row.iter().enumerate() {
            assert_eq!(v, ((7 * i + p) % 256) as f32 / 255.0, "image {i} pixel {p}");
        }
    }
    assert_eq!(mnist.test_images.to_vec2()?[1][255 - 7], 1.0);
    Ok(())
}

#[test]
fn reads_plain_and_gzipped_files() -> Result<()> {
    check(&load_dir::<f32>(folder(&[]).path())?)?;
    check(&load_dir::<f32>(folder(&[TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]).path())?)?;
    check(&load_dir::<f32>(folder(&[TRAIN_LABELS, TEST_IMAGES]).path())?)?;
    let doubles = load_dir::<f64>(folder(&[]).path())?;
    assert_eq!(doubles.train_images.to_vec2()?[0][200], 200.0 / 255.0);
    Ok(())
}

#[test]
fn the_plain_file_wins_over_the_gzipped_one() -> Result<()> {
    let dir = folder(&[]);
    std::fs::write(dir.path().join(format!("{TRAIN_LABELS}.gz")), gzip(&labels(&[1, 1, 1]))).unwrap();
    assert_eq!(load_dir::<f32>(dir.path())?.train_labels.to_labels()?, [5, 0, 9]);
    Ok(())
}

/// The error of loading a folder whose file `name` holds `bytes` instead, written plain.
fn broken(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = folder(&[]);
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let err = load_dir::<f32>(dir.path()).unwrap_err().to_string();
    (dir, err)
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn a_missing_file_names_the_file_and_the_folder() {
    let dir = folder(&[]);
    std::fs::remove_file(dir.path().join(TEST_LABELS)).unwrap();
    let err = load_dir::<f32>(dir.path()).unwrap_err().to_string();
    let folder = dir.path().display();
    assert_eq!(err, format!("mnist::load_dir: neither {TEST_LABELS} nor {TEST_LABELS}.gz is in the folder {folder}"));
    assert!(load_dir::<f32>(Path::new("/no/such/folder")).unwrap_err().to_string().contains("/no/such/folder"));
}

#[test]
fn broken_headers_name_the_file_and_the_values() {
    let (dir, err) = broken(TRAIN_IMAGES, &labels(&[1, 2, 3]));
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has magic number 2049 (0x00000801), expected 2051 (0x00000803: unsigned bytes in 3 \
             dimensions)",
            path(&dir, TRAIN_IMAGES)
        )
    );
    let (dir, err) = broken(TEST_LABELS, &idx(2051, &[2], &[1, 2]));
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has magic number 2051 (0x00000803), expected 2049 (0x00000801: unsigned bytes in 1 \
             dimension)",
            path(&dir, TEST_LABELS)
        )
    );
    let (dir, err) = broken(TRAIN_LABELS, &[0, 0, 8]);
    assert_eq!(
        err,
        format!("mnist::load_dir: {} has 3 bytes, too few for an IDX magic number", path(&dir, TRAIN_LABELS))
    );
    let (dir, err) = broken(TEST_IMAGES, &idx(2051, &[2, 28], &[]));
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has 12 bytes, too few for its 16-byte header of 3 dimension sizes",
            path(&dir, TEST_IMAGES)
        )
    );
    let (dir, err) = broken(TRAIN_IMAGES, &idx(2051, &[1, 32, 32], &[0; 1024]));
    assert_eq!(
        err,
        format!("mnist::load_dir: {} holds images of 32×32 pixels, expected 28×28", path(&dir, TRAIN_IMAGES))
    );
}

#[test]
fn broken_data_names_the_file_and_the_values() {
    let mut short = images(3);
    short.pop();
    let (dir, err) = broken(TRAIN_IMAGES, &short);
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has 2351 data bytes after its header, but its dimensions [3, 28, 28] need 2352",
            path(&dir, TRAIN_IMAGES)
        )
    );
    let mut long = labels(&[7, 2]);
    long.push(0);
    let (dir, err) = broken(TEST_LABELS, &long);
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has 3 data bytes after its header, but its dimensions [2] need 2",
            path(&dir, TEST_LABELS)
        )
    );
    let (dir, err) = broken(TEST_IMAGES, &idx(2051, &[u32::MAX, 28, 28], &[]));
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has 0 data bytes after its header, but its dimensions [4294967295, 28, 28] need \
             3367254359280",
            path(&dir, TEST_IMAGES)
        )
    );
    let (dir, err) = broken(TRAIN_LABELS, &labels(&[5, 10, 9]));
    assert_eq!(err, format!("mnist::load_dir: {} has label 10 at index 1, not a digit 0-9", path(&dir, TRAIN_LABELS)));
    let (dir, err) = broken(TRAIN_LABELS, &labels(&[5, 0]));
    assert_eq!(
        err,
        format!(
            "mnist::load_dir: {} has 2 labels, but {} has 3 images",
            path(&dir, TRAIN_LABELS),
            path(&dir, TRAIN_IMAGES)
        )
    );
}

#[test]
fn a_broken_gzip_file_names_the_file() {
    let dir = folder(&[TEST_IMAGES]);
    let gz = dir.path().join(format!("{TEST_IMAGES}.gz"));
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_dir::<f32>(dir.path()).unwrap_err().to_string();
    assert!(err.starts_with(&format!("mnist::load_dir: cannot unzip {}: ", gz.display())), "{err}");
    std::fs::write(&gz, images(2)).unwrap();
    let err = load_dir::<f32>(dir.path()).unwrap_err().to_string();
    assert!(err.starts_with(&format!("mnist::load_dir: cannot unzip {}: ", gz.display())), "{err}");
}
