//! Printing tensors as PyTorch prints them: `tensor([[ 73.,  67.], [ 91.,  88.]], requires_grad=True)`.

use crate::element::{DType, Element};
use crate::tensor::Tensor;
use std::fmt;

/// Past this many elements, like torch, only the first and last three entries of each long dim are shown.
const SUMMARIZE_ABOVE: usize = 1000;
const EDGE_ITEMS: usize = 3;

/// How every element is written, chosen once per tensor (torch's `_Formatter`).
enum Style {
    /// All values are whole numbers: `73.`
    Integer,
    /// Four decimals: `0.1235`
    Fixed,
    /// Scientific with four decimals: `1.2346e+08`
    Scientific,
}

impl Style {
    fn choose<T: Element>(values: &[T]) -> Style {
        let finite: Vec<f64> = values.iter().filter_map(|v| v.to_f64()).filter(|v| v.is_finite()).collect();
        if finite.iter().all(|v| v.fract() == 0.0) {
            let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            return if max > 1e8 { Style::Scientific } else { Style::Integer };
        }
        let nonzero: Vec<f64> = finite.iter().map(|v| v.abs()).filter(|&v| v != 0.0).collect();
        let max = nonzero.iter().fold(0.0f64, |m, &v| m.max(v));
        let min = nonzero.iter().fold(f64::INFINITY, |m, &v| m.min(v));
        if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
            Style::Scientific
        } else {
            Style::Fixed
        }
    }

    fn format<T: Element>(&self, v: T) -> String {
        let v = v.to_f64().unwrap_or(f64::NAN);
        if !v.is_finite() {
            return if v.is_nan() {
                "nan".into()
            } else if v > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            };
        }
        match self {
            Style::Integer => format!("{v:.0}."),
            Style::Fixed => format!("{v:.4}"),
            Style::Scientific => {
                // Rust writes `1.2346e8`; torch writes `1.2346e+08`.
                let s = format!("{v:.4e}");
                let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
                let exp: i32 = exp.parse().unwrap_or(0);
                format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
            }
        }
    }
}

/// Writes the nested brackets of dims `dim..` starting at element `offset` of the row-major `cells`.
fn write_nested(
    out: &mut String,
    cells: &[String],
    shape: &[usize],
    dim: usize,
    offset: usize,
    indent: usize,
    summarize: bool,
) {
    let size = shape[dim];
    let stride = crate::shape::numel(&shape[dim + 1..]);
    let shown: Vec<Option<usize>> = if summarize && size > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS).map(Some).chain([None]).chain((size - EDGE_ITEMS..size).map(Some)).collect()
    } else {
        (0..size).map(Some).collect()
    };
    out.push('[');
    for (n, entry) in shown.iter().enumerate() {
        if n > 0 {
            out.push(',');
            if dim + 1 == shape.len() {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(shape.len() - dim - 1));
                out.push_str(&" ".repeat(indent + dim + 1));
            }
        }
        match entry {
            None => out.push_str("..."),
            Some(i) if dim + 1 == shape.len() => out.push_str(&cells[offset + i]),
            Some(i) => write_nested(out, cells, shape, dim + 1, offset + i * stride, indent, summarize),
        }
    }
    out.push(']');
}

impl<T: Element> fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = match self.to_vec() {
            Ok(v) => v,
            Err(e) => return write!(f, "tensor(<unreadable: {e}>)"),
        };
        let style = Style::choose(&values);
        let mut cells: Vec<String> = values.iter().map(|&v| style.format(v)).collect();
        let width = cells.iter().map(String::len).max().unwrap_or(0);
        for cell in &mut cells {
            *cell = format!("{cell:>width$}");
        }
        let mut body = String::new();
        match self.rank() {
            0 => body.push_str(cells[0].trim_start()),
            _ if self.numel() == 0 => body.push_str("[]"),
            _ => write_nested(&mut body, &cells, self.shape(), 0, 0, "tensor(".len(), self.numel() > SUMMARIZE_ABOVE),
        }
        write!(f, "tensor({body}")?;
        if self.device().is_cuda() {
            write!(f, ", device='{}'", self.device())?;
        }
        if T::DTYPE != DType::F32 {
            write!(f, ", dtype={}", T::DTYPE)?;
        }
        match self.grad_fn_name() {
            Some(name) => write!(f, ", grad_fn=<{name}>")?,
            None if self.requires_grad() => write!(f, ", requires_grad=True")?,
            None => {}
        }
        write!(f, ")")
    }
}

impl<T: Element> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_like_torch() {
        let x = Tensor::<f32>::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0]]);
        assert_eq!(x.to_string(), "tensor([[73., 67., 43.],\n        [91., 88., 64.]])");
        let w = Tensor::<f32>::new([0.5, -1.25]).requires_grad_(true).unwrap();
        assert_eq!(w.to_string(), "tensor([ 0.5000, -1.2500], requires_grad=True)");
        let y = (&w * 2.0f32).sum().unwrap();
        assert_eq!(y.to_string(), "tensor(-1.5000, grad_fn=<SumBackward0>)");
        assert_eq!(Tensor::<f64>::new([1.0, 2.0]).to_string(), "tensor([1., 2.], dtype=torch.float64)");
        assert_eq!(Tensor::<f32>::new([1e-5, 1.0]).to_string(), "tensor([1.0000e-05, 1.0000e+00])");
        assert_eq!(Tensor::<f32>::zeros(&[0]).to_string(), "tensor([])");
    }

    #[test]
    fn long_tensors_are_summarised() {
        let x = Tensor::<f32>::arange(0.0, 2000.0, 1.0).unwrap();
        assert_eq!(x.to_string(), "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])");
    }
}
