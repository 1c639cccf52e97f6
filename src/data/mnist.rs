//! MNIST from its four IDX files in a local folder, as `tch::vision::mnist::load_dir` and candle's
//! `load_dir` read them, with the pixels scaled as torchvision's `ToTensor()` does.
//!
//! ```no_run
//! // The files torchvision downloads sit in `<root>/MNIST/raw`.
//! let mnist = torchlet::data::mnist::load_dir::<f32>("data/MNIST/raw")?;
//! assert_eq!(mnist.train_images.shape(), &[60_000, 784]);
//! assert_eq!(mnist.test_labels.shape(), &[10_000]);
//! # Ok::<(), torchlet::Error>(())
//! ```

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

const OP: &str = "mnist::load_dir";
const IMAGES_MAGIC: u32 = 0x0803;
const LABELS_MAGIC: u32 = 0x0801;
const SIDE: usize = 28;

/// The MNIST training and test sets: images as `[n, 784]` rows of `byte / 255` (each 28×28 image row-major),
/// labels as the digits 0..=9.
#[derive(Debug, Clone)]
pub struct Mnist<T: Element> {
    /// The training images, `[60000, 784]` for MNIST itself.
    pub train_images: Tensor<T>,
    /// The digit of each training image, a label tensor `[60000]`.
    pub train_labels: Tensor<T>,
    /// The test images, `[10000, 784]` for MNIST itself.
    pub test_images: Tensor<T>,
    /// The digit of each test image, a label tensor `[10000]`.
    pub test_labels: Tensor<T>,
}

/// Reads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte` from `dir`, each as it is or gzipped with a `.gz` added to its name (the plain file
/// is read when both are there).
///
/// An IDX file is a big-endian `u32` magic number (2051 for images, 2049 for labels: unsigned bytes in 3 or 1
/// dimensions), the big-endian `u32` size of each dimension, then the bytes in C order. Images become
/// `byte / 255`, computed in `T` as torchvision's `ToTensor()` computes it in `f32`. Files of the same layout
/// (Fashion-MNIST, KMNIST) read the same way.
///
/// Fails, naming the file and the values, when a file is missing (the error names the folder too), does not
/// read or unzip, has another magic number, a header cut short, images that are not 28×28, fewer or more data
/// bytes than its dimensions say, or a label above 9; and when a set has not as many labels as images.
pub fn load_dir<T: Element>(dir: impl AsRef<Path>) -> Result<Mnist<T>> {
    let dir = dir.as_ref();
    let (train_images, train_labels) = load_set(dir, "train")?;
    let (test_images, test_labels) = load_set(dir, "t10k")?;
    Ok(Mnist { train_images, train_labels, test_images, test_labels })
}

/// The images and labels of the set whose files start with `prefix`.
fn load_set<T: Element>(dir: &Path, prefix: &str) -> Result<(Tensor<T>, Tensor<T>)> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images_bytes = read(&images_path)?;
    let (dims, pixels) = parse_idx(&images_path, &images_bytes, IMAGES_MAGIC)?;
    if dims[1..] != [SIDE, SIDE] {
        return Err(io_error(format!(
            "{} holds images of {}×{} pixels, expected {SIDE}×{SIDE}",
            images_path.display(),
            dims[1],
            dims[2]
        )));
    }
    let labels_bytes = read(&labels_path)?;
    let (_, labels) = parse_idx(&labels_path, &labels_bytes, LABELS_MAGIC)?;
    if let Some((i, label)) = labels.iter().enumerate().find(|(_, &label)| label > 9) {
        return Err(io_error(format!("{} has label {label} at index {i}, not a digit 0-9", labels_path.display())));
    }
    if labels.len() != dims[0] {
        return Err(io_error(format!(
            "{} has {} labels, but {} has {} images",
            labels_path.display(),
            labels.len(),
            images_path.display(),
            dims[0]
        )));
    }
    let scale = T::from_f64_lossy(255.0);
    let table: Vec<T> = (0..=255u8).map(|b| T::from_f64_lossy(f64::from(b)) / scale).collect();
    let values = pixels.iter().map(|&b| table[usize::from(b)]).collect();
    let images = Tensor::from_vec(values, &[dims[0], SIDE * SIDE])?;
    let labels = labels.iter().map(|&label| T::from_f64_lossy(f64::from(label))).collect();
    Ok((images, Tensor::from_vec(labels, &[dims[0]])?))
}

/// `dir/name`, or else `dir/name.gz`; fails naming both and the folder when neither is a file.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = format!("{name}.gz");
    let found = [name, gz.as_str()].into_iter().map(|file| dir.join(file)).find(|path| path.is_file());
    found.ok_or_else(|| io_error(format!("neither {name} nor {gz} is in the folder {}", dir.display())))
}

/// The bytes of the file, unzipped when its name ends in `.gz`.
fn read(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| io_error(format!("cannot read {}: {e}", path.display())))?;
    if path.extension().is_none_or(|ext| ext != "gz") {
        return Ok(bytes);
    }
    let mut unzipped = Vec::new();
    GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut unzipped)
        .map_err(|e| io_error(format!("cannot unzip {}: {e}", path.display())))?;
    Ok(unzipped)
}

/// The dimensions and the data of an IDX file of unsigned bytes whose magic number must be `magic`.
fn parse_idx<'a>(path: &Path, bytes: &'a [u8], magic: u32) -> Result<(Vec<usize>, &'a [u8])> {
    let path = path.display();
    let rank = (magic & 0xff) as usize;
    let header = 4 * (1 + rank);
    let word = |i: usize| u32::from_be_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]);
    if bytes.len() < 4 {
        return Err(io_error(format!("{path} has {} bytes, too few for an IDX magic number", bytes.len())));
    }
    let found = word(0);
    if found != magic {
        return Err(io_error(format!(
            "{path} has magic number {found} (0x{found:08x}), expected {magic} (0x{magic:08x}: unsigned bytes in \
             {rank} dimension{})",
            if rank == 1 { "" } else { "s" }
        )));
    }
    if bytes.len() < header {
        return Err(io_error(format!(
            "{path} has {} bytes, too few for its {header}-byte header of {rank} dimension sizes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (1..=rank).map(|i| word(i) as usize).collect();
    let data = &bytes[header..];
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(data.len()) {
        let expected = dims.iter().map(|&d| d as u128).product::<u128>();
        return Err(io_error(format!(
            "{path} has {} data bytes after its header, but its dimensions {dims:?} need {expected}",
            data.len()
        )));
    }
    Ok((dims, data))
}

fn io_error(msg: String) -> Error {
    Error::Io { op: OP, msg }
}
