//! 2-D tensors from and to CSV files of numbers, e.g. the crop-yields table as it arrives in real life.

use super::io_error;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use ::csv::{ReaderBuilder, StringRecord, Trim, WriterBuilder};
use std::path::Path;

/// Reads a CSV file of numbers into a `[rows, columns]` tensor, with the header's column names when
/// `has_header` (`np.loadtxt(path, delimiter=",", skiprows=1)`, keeping the names).
///
/// Fields may have surrounding spaces; `nan` and `inf` are numbers, empty lines are skipped. A field that
/// is not a number is an error naming the line, the row, the column and the text; a row with another
/// number of fields than the first (or the header) is an error naming both counts. A file without data
/// rows gives a `[0, columns]` tensor (`[0, 0]` when it has no header either).
///
/// ```
/// use torchlet::io::read_csv;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("crops.csv");
/// std::fs::write(&path, "temp,rainfall,humidity\n73,67,43\n91,88,64\n").unwrap();
/// let (header, x) = read_csv::<f32>(&path, true)?;
/// assert_eq!(header.unwrap(), ["temp", "rainfall", "humidity"]);
/// assert_eq!(x.to_vec2()?, vec![vec![73.0, 67.0, 43.0], vec![91.0, 88.0, 64.0]]);
///
/// std::fs::write(&path, "temp,rainfall,humidity\n73,67,43\n91,eighty-eight,64\n").unwrap();
/// let err = read_csv::<f32>(&path, true).unwrap_err().to_string();
/// assert!(err.ends_with("line 3 (row 2), column 2 (\"rainfall\"): \"eighty-eight\" is not a number"), "{err}");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn read_csv<T: Element>(path: impl AsRef<Path>, has_header: bool) -> Result<(Option<Vec<String>>, Tensor<T>)> {
    let path = path.as_ref();
    let file =
        std::fs::File::open(path).map_err(|e| io_error("read_csv", format!("cannot open {}: {e}", path.display())))?;
    parse(file, has_header, &path.display().to_string())
}

/// Like [`read_csv`], from any reader (a string, a network stream, ...).
///
/// ```
/// use torchlet::io::read_csv_from;
/// let (header, x) = read_csv_from::<f64>("1, 2\n3, 4\n".as_bytes(), false)?;
/// assert!(header.is_none());
/// assert_eq!(x.shape(), &[2, 2]);
/// let err = read_csv_from::<f64>("1,2\n3\n".as_bytes(), false).unwrap_err().to_string();
/// assert_eq!(err, "read_csv: <reader> line 2 (row 2) has 1 field(s), expected 2 as in the first row");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn read_csv_from<T: Element>(
    reader: impl std::io::Read,
    has_header: bool,
) -> Result<(Option<Vec<String>>, Tensor<T>)> {
    parse(reader, has_header, "<reader>")
}

fn parse<T: Element>(
    mut reader: impl std::io::Read,
    has_header: bool,
    source: &str,
) -> Result<(Option<Vec<String>>, Tensor<T>)> {
    const OP: &str = "read_csv";
    // The whole text is kept so error messages can give true line numbers: the csv crate's own line count
    // skips blank lines. Numeric tables are small next to the tensor they become.
    let mut text = Vec::new();
    reader.read_to_end(&mut text).map_err(|e| io_error(OP, format!("cannot read {source}: {e}")))?;
    let mut lines = LineCounter { text: &text, byte: 0, line: 1 };
    // `flexible` lets ragged rows through to the check below, whose message names both counts.
    let mut csv =
        ReaderBuilder::new().has_headers(has_header).flexible(true).trim(Trim::All).from_reader(text.as_slice());
    let header = if has_header {
        let record = csv.headers().map_err(|e| io_error(OP, format!("{source}: {e}")))?;
        Some(record.iter().map(str::to_string).collect::<Vec<_>>())
    } else {
        None
    };
    let mut columns = header.as_ref().map(Vec::len);
    let mut values = Vec::new();
    let mut rows = 0;
    let mut record = StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(io_error(OP, format!("{source}: {e}"))),
        }
        rows += 1;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        let expected = *columns.get_or_insert(record.len());
        if record.len() != expected {
            let against = if has_header { "the header" } else { "the first row" };
            return Err(io_error(
                OP,
                format!(
                    "{source} line {line} (row {rows}) has {} field(s), expected {expected} as in {against}",
                    record.len()
                ),
            ));
        }
        for (col, text) in record.iter().enumerate() {
            let value = <T as num_traits::Num>::from_str_radix(text, 10).map_err(|_| {
                let name = header.as_ref().map(|h| format!(" ({:?})", h[col])).unwrap_or_default();
                io_error(
                    OP,
                    format!("{source} line {line} (row {rows}), column {}{name}: {text:?} is not a number", col + 1),
                )
            })?;
            values.push(value);
        }
    }
    Ok((header, Tensor::from_vec(values, &[rows, columns.unwrap_or(0)])?))
}

/// Line numbers from byte offsets, counted incrementally since records come in order.
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line of the record whose position is `byte`. The csv crate puts a record's position where the
    /// previous one ended, before any blank lines it skipped, so those are stepped over here.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut to = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while matches!(self.text.get(to), Some(b'\n' | b'\r')) {
            to += 1;
        }
        if self.byte < to {
            self.line += self.text[self.byte..to].iter().filter(|&&b| b == b'\n').count() as u64;
            self.byte = to;
        }
        self.line
    }
}

/// Writes a 2-D tensor as CSV, one row per line, with an optional header line (`np.savetxt(path, x,
/// delimiter=",", header=...)`); a 1-D tensor is written as one column. Values are written in the
/// shortest form that reads back to the same number, so [`read_csv`] round-trips them exactly.
///
/// ```
/// use torchlet::io::{read_csv, write_csv};
/// use torchlet::Tensor;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("targets.csv");
/// let y = Tensor::<f32>::new([[56.0, 70.0], [81.0, 0.1]]);
/// write_csv(&path, &y, Some(&["apples", "oranges"]))?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "apples,oranges\n56,70\n81,0.1\n");
/// assert_eq!(read_csv::<f32>(&path, true)?.1.to_vec()?, y.to_vec()?);
/// assert!(write_csv(&path, &y, Some(&["apples"])).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn write_csv<T: Element>(path: impl AsRef<Path>, tensor: &Tensor<T>, header: Option<&[&str]>) -> Result<()> {
    const OP: &str = "write_csv";
    let path = path.as_ref();
    let columns = match *tensor.shape() {
        [_] => 1,
        [_, cols] => cols,
        _ => return Err(Error::shape(OP, format!("expected a 1-D or 2-D tensor, got shape {:?}", tensor.shape()))),
    };
    if let Some(names) = header {
        if names.len() != columns {
            return Err(Error::invalid(
                OP,
                format!(
                    "a header of {} name(s) for a tensor of {columns} column(s) (shape {:?})",
                    names.len(),
                    tensor.shape()
                ),
            ));
        }
    }
    let values = tensor.to_vec()?;
    let fail = |e: ::csv::Error| io_error(OP, format!("cannot write {}: {e}", path.display()));
    let mut csv = WriterBuilder::new().from_path(path).map_err(fail)?;
    if let Some(names) = header {
        csv.write_record(names).map_err(fail)?;
    }
    for row in values.chunks(columns.max(1)) {
        csv.write_record(row.iter().map(|v| v.to_string())).map_err(fail)?;
    }
    csv.flush().map_err(|e| io_error(OP, format!("cannot write {}: {e}", path.display())))
}
