//! `load_digits`: the 8×8 handwritten digits that scikit-learn ships, embedded in the crate.
//!
//! The data is the test part of the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin and
//! C. Kaynak, 1998, <https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits>),
//! licensed CC BY 4.0, in the form scikit-learn distributes it (`sklearn/datasets/data/digits.csv.gz`, unchanged): 1 797 lines of 64 pixel counts in
//! 0..=16, row by row of the 8×8 image, then the digit.

use super::labeled::{labels_to_tensor, Classification};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::io::read_csv_from;
use crate::tensor::Tensor;
use flate2::read::GzDecoder;

const OP: &str = "load_digits";
const DIGITS_CSV_GZ: &[u8] = include_bytes!("digits.csv.gz");
const SAMPLES: usize = 1_797;
const PIXELS: usize = 64;

/// The 1 797 handwritten digits of scikit-learn's `load_digits()`, with the pixels scaled to [0, 1].
///
/// `x` is `[1797, 64]`: each row an 8×8 image, row-major (pixel `8 r + c`), holding `pixel / 16` (scikit-learn's
/// `data` holds the counts 0..=16 themselves); `y` holds the digits 0..=9 (178, 182, 177, 183, 181, 182, 181,
/// 179, 174 and 180 of them). The data is compiled into the crate, so this needs no file or network; see the
/// module documentation of [`crate::data`] for its origin and licence.
///
/// ```
/// use torchlet::data::load_digits;
/// let digits = load_digits::<f32>()?;
/// assert_eq!((digits.x.shape(), digits.y.shape()), (&[1797, 64][..], &[1797][..]));
/// assert_eq!(digits.y.to_labels()?[..5], [0, 1, 2, 3, 4]);
/// // The first image is a 0: a ring, empty in the middle of its top row.
/// let first = digits.x.narrow(0, 0, 1)?.to_vec()?;
/// assert_eq!((first[2], first[3], first[36]), (5.0 / 16.0, 13.0 / 16.0, 0.0));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn load_digits<T: Element>() -> Result<Classification<T>> {
    let (_, table) = read_csv_from::<f64>(GzDecoder::new(DIGITS_CSV_GZ), false)
        .map_err(|e| Error::invalid(OP, format!("the embedded digits.csv.gz does not read: {e}")))?;
    if table.shape() != [SAMPLES, PIXELS + 1] {
        return Err(Error::invalid(
            OP,
            format!("the embedded table has shape {:?}, expected [{SAMPLES}, {}]", table.shape(), PIXELS + 1),
        ));
    }
    let sixteen = T::from_f64_lossy(16.0);
    let (mut x, mut y) = (Vec::with_capacity(SAMPLES * PIXELS), Vec::with_capacity(SAMPLES));
    for row in table.to_vec()?.chunks_exact(PIXELS + 1) {
        x.extend(row[..PIXELS].iter().map(|&p| T::from_f64_lossy(p) / sixteen));
        y.push(row[PIXELS] as usize);
    }
    Ok(Classification { x: Tensor::from_vec(x, &[SAMPLES, PIXELS])?, y: labels_to_tensor(&y) })
}
