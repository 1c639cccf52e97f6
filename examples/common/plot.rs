//! Loss curves (on a log scale) and accuracy curves (on a linear one) as an SVG picture, one panel per part
//! of a tutorial or per figure, one line per model (scratch, autograd, libtorch).
//!
//! The examples' own helper rather than part of the library: plotting is a presentation concern, and
//! keeping plotters a dev-dependency keeps the library's dependency tree small. plotters is built with only
//! its SVG backend and line series: the SVG backend writes labels as SVG `<text>` that the viewer renders,
//! and without the `ttf` feature plotters estimates text sizes itself, so no fontconfig or freetype is
//! needed to build or run.
#![allow(dead_code)]

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One line of a panel.
pub struct Series {
    pub label: String,
    /// (x, y) points; those a log scale cannot show (y <= 0, non-finite) are left out.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A loss per epoch, epochs counted from 1.
    pub fn per_epoch(label: impl Into<String>, losses: &[f64]) -> Self {
        Series { label: label.into(), points: losses.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect() }
    }
}

/// One chart: a title, the axes' names and scales, and its lines.
pub struct Panel {
    pub title: String,
    pub x_label: &'static str,
    /// A log-scaled x axis, for runs of a million epochs where the action is in the first thousand.
    pub log_x: bool,
    pub y_label: &'static str,
    /// A log-scaled y axis, for losses; accuracies go on a linear one.
    pub log_y: bool,
    pub series: Vec<Series>,
}

// Distinct on white and for the usual colour-vision deficiencies (Okabe–Ito).
const COLORS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Where the pictures go: `<target dir>/plots`, found from this executable's path
/// (`<target dir>/<profile>/examples/<name>`), so `CARGO_TARGET_DIR` is honoured.
fn plots_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let target = exe.as_deref().and_then(Path::parent).and_then(Path::parent).and_then(Path::parent);
    match target {
        Some(dir) => dir.join("plots"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("plots"),
    }
}

/// Writes `<target dir>/plots/<name>.svg` with the panels side by side and prints where. A picture that
/// cannot be written is reported, not fatal: the numbers printed before are the tutorial's result.
pub fn write_svg(name: &str, panels: &[Panel]) {
    let path = plots_dir().join(format!("{name}.svg"));
    match draw(&path, panels) {
        Ok(()) => println!("\nLoss curves written to {}", path.display()),
        Err(e) => println!("\n(the loss-curve picture {} could not be written: {e})", path.display()),
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(path: &Path, panels: &[Panel]) -> DrawResult {
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
    let width = 640 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (width, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, panel) in root.split_evenly((1, panels.len().max(1))).iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    root.present()?;
    Ok(())
}

/// The bounds of the visible points, widened a little so no line sits on the frame.
fn bounds(panel: &Panel) -> Option<((f64, f64), (f64, f64))> {
    let points = panel.series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| visible(*x, *y, panel));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return None;
    }
    // A flat line still needs a range to draw in.
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    if panel.log_y {
        return Some(((x0, x1), (y0 / 1.5, y1 * 1.5)));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    Some(((x0, x1), (y0 - pad, y1 + pad)))
}

fn visible(x: f64, y: f64, panel: &Panel) -> bool {
    x.is_finite() && y.is_finite() && (!panel.log_y || y > 0.0) && (!panel.log_x || x > 0.0)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, panel: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some(((x0, x1), (y0, y1))) = bounds(panel) else {
        area.titled(&format!("{} (no values to show)", panel.title), ("sans-serif", 18))?;
        return Ok(());
    };
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(&panel.title, ("sans-serif", 18))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(40)
        .y_label_area_size(70);
    // Each pair of scales is its own coordinate type, so each gets its own chart; the drawing is shared.
    match (panel.log_x, panel.log_y) {
        (true, true) => draw_chart(&mut builder, (x0..x1).log_scale(), (y0..y1).log_scale(), panel),
        (true, false) => draw_chart(&mut builder, (x0..x1).log_scale(), y0..y1, panel),
        (false, true) => draw_chart(&mut builder, x0..x1, (y0..y1).log_scale(), panel),
        (false, false) => draw_chart(&mut builder, x0..x1, y0..y1, panel),
    }
}

fn draw_chart<DB, X, Y>(builder: &mut ChartBuilder<DB>, x: X, y: Y, panel: &Panel) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = builder.build_cartesian_2d(x, y)?;
    let y_format = if panel.log_y { sci } else { fixed };
    chart
        .configure_mesh()
        .x_desc(panel.x_label)
        .y_desc(panel.y_label)
        .y_label_formatter(&y_format)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    draw_lines(&mut chart, panel)
}

fn fixed(v: &f64) -> String {
    format!("{v:.2}")
}

fn sci(v: &f64) -> String {
    format!("{v:.0e}")
}

fn draw_lines<'a, DB, X, Y>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>, panel: &Panel) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, series) in panel.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        // Curves that agree to 1e-12 lie on top of each other: the first is drawn wide, the second thin on
        // top of it, the rest dashed, so every one stays visible where they coincide.
        let style = color.stroke_width(if i == 0 { 5 } else { 2 });
        let points: Vec<(f64, f64)> = series.points.iter().copied().filter(|&(x, y)| visible(x, y, panel)).collect();
        let drawn = if i < 2 {
            chart.draw_series(LineSeries::new(points, style))?
        } else {
            chart.draw_series(DashedLineSeries::new(points, 6 + 4 * i as u32, 6, style))?
        };
        drawn.label(series.label.as_str()).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    // Losses fall from the upper left and accuracies rise from the lower left, so the right-hand corner they
    // head away from is where the legend hides the least.
    let corner = if panel.log_y { SeriesLabelPosition::UpperRight } else { SeriesLabelPosition::LowerRight };
    chart.configure_series_labels().position(corner).background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
    Ok(())
}
