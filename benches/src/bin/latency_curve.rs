//! Latency against throughput from `squall bench` reports: the median over repeated runs of
//! each percentile at each target rate, as a Markdown table on stdout and an SVG plot (both
//! axes logarithmic).
//!
//! `latency_curve OUT.svg SUMMARY.json...`

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;
use squall::report::Summary;

/// Per target rate: achieved rate, p50, p99, p99.9, max (µs), one entry per run.
type Runs = BTreeMap<u64, Vec<[f64; 5]>>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn human_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

fn plot(curve: &[(f64, [f64; 5])], out: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(out, (1024, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_lo = curve.iter().map(|c| c.1[0]).fold(f64::MAX, f64::min) / 2.0;
    let x_hi = curve.iter().map(|c| c.1[0]).fold(0.0, f64::max) * 2.0;
    let y_lo = curve
        .iter()
        .map(|c| c.1[1] / 1000.0)
        .fold(f64::MAX, f64::min)
        / 2.0;
    let y_hi = curve.iter().map(|c| c.1[4] / 1000.0).fold(0.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "sensor-alarm: latency vs throughput (median of runs)",
            ("sans-serif", 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_lo.max(1.0)..x_hi.max(2.0)).log_scale(),
            (y_lo.max(1e-4)..y_hi.max(1e-3)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("Achieved rate (readings/s)")
        .y_desc("Latency (ms)")
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .y_label_formatter(&|y| format!("{y}"))
        .draw()?;
    let series = [
        ("p50", 1, BLUE),
        ("p99", 2, RED),
        ("p99.9", 3, MAGENTA),
        ("max", 4, BLACK),
    ];
    for (name, i, color) in series {
        let points: Vec<(f64, f64)> = curve.iter().map(|c| (c.1[0], c.1[i] / 1000.0)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, files) = args
        .split_first()
        .context("usage: latency_curve OUT.svg SUMMARY.json...")?;
    let mut runs = Runs::new();
    for f in files {
        let s = Summary::read_json(Path::new(f))?;
        let target = s
            .target_rate
            .context("an unthrottled run has no target rate")?;
        let l = s.latency_us;
        runs.entry(target.round() as u64).or_default().push([
            s.achieved_rate,
            l.p50,
            l.p99,
            l.p999,
            l.max,
        ]);
    }
    println!("| target readings/s | achieved (median) | p50 | p99 | p99.9 | max | runs |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut curve = Vec::new();
    for (target, rs) in &runs {
        let m: [f64; 5] = std::array::from_fn(|i| median(rs.iter().map(|r| r[i]).collect()));
        println!(
            "| {target} | {:.0} | {} | {} | {} | {} | {} |",
            m[0],
            human_us(m[1]),
            human_us(m[2]),
            human_us(m[3]),
            human_us(m[4]),
            rs.len()
        );
        curve.push((*target as f64, m));
    }
    plot(&curve, Path::new(out))
}
