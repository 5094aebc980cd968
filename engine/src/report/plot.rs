//! SVG plots of latency: the percentile distribution (`latency.svg`) and latency over time.
//!
//! The distribution is drawn the way HdrHistogram's plotter draws it: the x axis is
//! `1/(1-percentile)` on a log scale, so each decade is one more nine (90%, 99%, 99.9%, ...) and
//! the tail gets as much room as the median.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::timeline::TimelinePoint;

/// Failure to draw or save a plot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Plotters could not lay out, draw or save the chart.
    #[error("cannot draw plot {}: {message}", path.display())]
    Draw {
        /// The SVG file being written.
        path: PathBuf,
        /// Plotters' description of the failure.
        message: String,
    },
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

const SIZE: (u32, u32) = (1024, 640);
const NANOS_PER_MILLI: f64 = 1e6;
/// The x axis always reaches 99.999% so plots of different runs line up.
const MIN_NINES: i32 = 5;

/// Draws the percentile distribution of each named histogram of nanoseconds as one line:
/// x is the percentile on HdrHistogram's `1/(1-percentile)` log scale, labelled `50%`, `90%`,
/// `99%`, `99.9%`, ..., y the latency in milliseconds. The 100% point (the max) lies at infinity
/// on this axis and is left off, as HdrHistogram's plotter does.
///
/// # Errors
///
/// [`PlotError`] when the chart cannot be drawn or `path` cannot be written.
pub fn plot_percentiles(
    series: &[(String, &Histogram<u64>)],
    path: &Path,
    title: &str,
) -> Result<(), PlotError> {
    let lines: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, hist)| (name.as_str(), percentile_line(hist)))
        .collect();
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw_percentiles(&root, &lines, title)
        .and_then(|()| root.present())
        .map_err(|e| draw_error(path, e))
}

/// Draws p50, p99 and max over time: x in seconds since the start of the run, y in
/// milliseconds.
///
/// # Errors
///
/// [`PlotError`] when the chart cannot be drawn or `path` cannot be written.
pub fn plot_timeline(points: &[TimelinePoint], path: &Path, title: &str) -> Result<(), PlotError> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw_timeline(&root, points, title)
        .and_then(|()| root.present())
        .map_err(|e| draw_error(path, e))
}

/// `(1/(1-q), value in ms)` for each quantile step below 100%, 5 steps per halving as in
/// HdrHistogram's `.hgrm` output.
fn percentile_line(hist: &Histogram<u64>) -> Vec<(f64, f64)> {
    hist.iter_quantiles(5)
        .map(|v| (v.quantile_iterated_to(), v.value_iterated_to()))
        .filter(|&(q, _)| q < 1.0)
        .map(|(q, value)| (1.0 / (1.0 - q), millis(value)))
        .collect()
}

fn draw_percentiles(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[(&str, Vec<(f64, f64)>)],
    title: &str,
) -> DrawResult<()> {
    let points = || lines.iter().flat_map(|(_, line)| line.iter());
    let widest = points().map(|p| p.0).fold(1.0, f64::max);
    // Whole decades, one per nine: the axis ends on a labelled tick.
    let nines = (widest.log10().ceil() as i32).max(MIN_NINES);
    let x_end = 10_f64.powi(nines);
    let mut ticks = vec![2.0];
    ticks.extend((1..=nines).map(|k| 10_f64.powi(k)));
    let y_end = headroom(points().map(|p| p.1).fold(0.0, f64::max));

    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d((1.0..x_end).log_scale().with_key_points(ticks), 0.0..y_end)?;
    chart
        .configure_mesh()
        .x_desc("Percentile")
        .y_desc("Latency (ms)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    for (i, (name, line)) in lines.iter().enumerate() {
        draw_line(&mut chart, name, line, Palette99::pick(i).to_rgba())?;
    }
    draw_legend(&mut chart)
}

fn draw_timeline(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    points: &[TimelinePoint],
    title: &str,
) -> DrawResult<()> {
    let x_end = points.iter().map(|p| p.second).fold(0.0, f64::max) + 1.0;
    let y_end = headroom(points.iter().map(|p| millis(p.max_ns)).fold(0.0, f64::max));
    let line = |ns: fn(&TimelinePoint) -> u64| -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.second, millis(ns(p)))).collect()
    };

    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..x_end, 0.0..y_end)?;
    chart
        .configure_mesh()
        .x_desc("Time (s)")
        .y_desc("Latency (ms)")
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    draw_line(&mut chart, "p50", &line(|p| p.p50_ns), BLUE.to_rgba())?;
    draw_line(&mut chart, "p99", &line(|p| p.p99_ns), RED.to_rgba())?;
    draw_line(&mut chart, "max", &line(|p| p.max_ns), BLACK.to_rgba())?;
    draw_legend(&mut chart)
}

fn draw_line<'a, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    name: &str,
    line: &[(f64, f64)],
    color: RGBAColor,
) -> DrawResult<()> {
    chart
        .draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(2)))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    Ok(())
}

fn draw_legend<'a, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
) -> DrawResult<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

/// `2` is `50%`, `10` is `90%`, `1000` is `99.9%`: as many decimals as the nines need.
fn percentile_label(x: f64) -> String {
    let decimals = usize::try_from(x.log10().round() as i64 - 2).unwrap_or(0);
    format!("{:.decimals$}%", 100.0 * (1.0 - 1.0 / x))
}

fn millis(ns: u64) -> f64 {
    ns as f64 / NANOS_PER_MILLI
}

/// Top of the y axis: a little above the highest point, and never an empty range.
fn headroom(highest: f64) -> f64 {
    if highest > 0.0 {
        highest * 1.05
    } else {
        1.0
    }
}

fn draw_error(path: &Path, e: impl Display) -> PlotError {
    PlotError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA_STROKE: &str = "stroke-width=\"2\" points=";

    /// Plotters' SVG backend writes each text element's content on a line of its own.
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>"))
    }

    fn read_svg(path: &Path) -> String {
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(svg.trim_start().starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.trim_end().ends_with("</svg>"));
        svg
    }

    #[test]
    fn labels() {
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1e3), "99.9%");
        assert_eq!(percentile_label(1e4), "99.99%");
        assert_eq!(percentile_label(1e5), "99.999%");
        assert_eq!(percentile_label(1e6), "99.9999%");
    }

    #[test]
    fn line_skips_the_infinite_max_point() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000 {
            h.record(v * 1_000).unwrap();
        }
        let line = percentile_line(&h);
        assert_eq!(line[0], (1.0, 0.001));
        assert!(line.iter().all(|p| p.0.is_finite()));
        assert!(line.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let median = line.iter().find(|p| p.0 == 2.0).unwrap();
        assert!((median.1 - 0.5).abs() < 0.001);
    }

    #[test]
    fn percentile_plot_is_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.svg");
        let mut fast = Histogram::<u64>::new(3).unwrap();
        let mut slow = Histogram::<u64>::new(3).unwrap();
        for v in 1..=2_000 {
            fast.record(v * 1_000).unwrap();
            slow.record(v * 5_000).unwrap();
        }
        let series = vec![("fast".to_owned(), &fast), ("slow<&>".to_owned(), &slow)];
        plot_percentiles(&series, &path, "end-to-end latency").unwrap();

        let svg = read_svg(&path);
        for label in [
            "50%",
            "90%",
            "99%",
            "99.9%",
            "99.99%",
            "99.999%",
            "Percentile",
            "Latency (ms)",
            "end-to-end latency",
            "fast",
            "slow&lt;&amp;&gt;",
        ] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        // Data lines are drawn 2 px wide: one per series plus its legend mark.
        assert_eq!(svg.matches(DATA_STROKE).count(), 2 * 2);
    }

    #[test]
    fn timeline_plot_is_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.svg");
        let points: Vec<TimelinePoint> = (0..30_u64)
            .map(|s| TimelinePoint {
                second: s as f64,
                p50_ns: 400_000 + s * 1_000,
                p99_ns: 2_000_000,
                max_ns: 5_000_000 + s * 10_000,
            })
            .collect();
        plot_timeline(&points, &path, "latency over time").unwrap();

        let svg = read_svg(&path);
        for label in [
            "Time (s)",
            "Latency (ms)",
            "latency over time",
            "p50",
            "p99",
            "max",
        ] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        assert_eq!(svg.matches(DATA_STROKE).count(), 3 * 2);
    }

    #[test]
    fn empty_inputs_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let empty = Histogram::<u64>::new(3).unwrap();
        let a = dir.path().join("a.svg");
        plot_percentiles(&[("none".to_owned(), &empty)], &a, "empty").unwrap();
        read_svg(&a);
        let b = dir.path().join("b.svg");
        plot_timeline(&[], &b, "empty").unwrap();
        read_svg(&b);
    }

    #[test]
    fn unwritable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("latency.svg");
        let err = plot_timeline(&[], &path, "t").unwrap_err().to_string();
        assert!(err.contains("no-such-dir"), "{err}");
    }
}
