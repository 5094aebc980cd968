//! The headline percentiles of one latency histogram, and the stdout table built from them.

use std::fmt::Write;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The percentiles a latency report prints, read from one histogram of nanoseconds.
///
/// Every value is in nanoseconds, at the histogram's resolution (3 significant digits).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct LatencySummary {
    /// Number of recorded samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest recorded value.
    pub max: u64,
    /// Mean, rounded to the nearest nanosecond.
    pub mean: u64,
}

impl LatencySummary {
    /// Reads the summary from a histogram of nanoseconds. An empty histogram gives all zeros.
    pub fn from_histogram(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self {
                count: 0,
                p50: 0,
                p90: 0,
                p99: 0,
                p999: 0,
                p9999: 0,
                max: 0,
                mean: 0,
            };
        }
        Self {
            count: hist.len(),
            p50: hist.value_at_quantile(0.5),
            p90: hist.value_at_quantile(0.9),
            p99: hist.value_at_quantile(0.99),
            p999: hist.value_at_quantile(0.999),
            p9999: hist.value_at_quantile(0.9999),
            max: hist.max(),
            // Latencies are far below 2^53 ns, so the float round trip is exact enough.
            mean: hist.mean().round() as u64,
        }
    }
}

/// Converts nanoseconds to microseconds.
pub fn micros(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

/// Formats nanoseconds in the unit a reader expects: `450ns`, `812µs`, `1.25ms`, `2.10s`.
pub fn human_duration(ns: u64) -> String {
    // The thresholds sit where rounding would otherwise print `1000µs` or `1000.00ms`.
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 999_500 {
        format!("{}µs", (ns + 500) / 1_000)
    } else if ns < 999_995_000 {
        format!("{:.2}ms", ns as f64 / 1e6)
    } else {
        format!("{:.2}s", ns as f64 / 1e9)
    }
}

const HEADERS: [&str; 8] = [
    "name", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max",
];

/// Prints one row per named summary under the header
/// `name count p50 p90 p99 p99.9 p99.99 max`, columns aligned, latencies in human units.
///
/// The name column is left-aligned and the numbers right-aligned; every line ends in `\n`.
pub fn format_table(rows: &[(String, LatencySummary)]) -> String {
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|(name, s)| {
            [
                name.clone(),
                s.count.to_string(),
                human_duration(s.p50),
                human_duration(s.p90),
                human_duration(s.p99),
                human_duration(s.p999),
                human_duration(s.p9999),
                human_duration(s.max),
            ]
        })
        .collect();

    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    push_line(&mut out, &HEADERS.map(str::to_owned), &widths);
    for row in &cells {
        push_line(&mut out, row, &widths);
    }
    out
}

fn push_line(out: &mut String, cells: &[String; 8], widths: &[usize; 8]) {
    let mut line = String::new();
    for (i, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        // Writing to a String cannot fail.
        let _ = if i == 0 {
            write!(line, "{cell:<width$}")
        } else {
            write!(line, "  {cell:>width$}")
        };
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(n: u64) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=n {
            h.record(v * 1_000).unwrap();
        }
        h
    }

    #[test]
    fn summary_reads_percentiles_within_resolution() {
        let s = LatencySummary::from_histogram(&uniform(10_000));
        assert_eq!(s.count, 10_000);
        let close = |got: u64, want: u64| {
            let err = (got as f64 - want as f64).abs() / want as f64;
            assert!(err < 0.001, "got {got}, want {want}");
        };
        close(s.p50, 5_000_000);
        close(s.p90, 9_000_000);
        close(s.p99, 9_900_000);
        close(s.p999, 9_990_000);
        close(s.p9999, 9_999_000);
        close(s.max, 10_000_000);
        close(s.mean, 5_000_500);
    }

    #[test]
    fn empty_histogram_gives_zeros() {
        let s = LatencySummary::from_histogram(&Histogram::<u64>::new(3).unwrap());
        assert_eq!(s.count, 0);
        assert_eq!(s.max, 0);
        assert_eq!(s.mean, 0);
    }

    #[test]
    fn micros_converts() {
        assert_eq!(micros(1_500), 1.5);
        assert_eq!(micros(0), 0.0);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_duration(450), "450ns");
        assert_eq!(human_duration(812_000), "812µs");
        assert_eq!(human_duration(812_400), "812µs");
        assert_eq!(human_duration(999_499), "999µs");
        assert_eq!(human_duration(999_500), "1.00ms");
        assert_eq!(human_duration(1_250_000), "1.25ms");
        assert_eq!(human_duration(999_999_999), "1.00s");
        assert_eq!(human_duration(2_100_000_000), "2.10s");
    }

    #[test]
    fn table_is_aligned() {
        let fast = LatencySummary {
            count: 7,
            p50: 812_000,
            p90: 900_000,
            p99: 1_250_000,
            p999: 1_250_000,
            p9999: 1_250_000,
            max: 2_100_000_000,
            mean: 1_000_000,
        };
        let rows = vec![
            ("end-to-end".to_owned(), fast.clone()),
            ("split".to_owned(), fast),
        ];
        let table = format_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        let headers: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(headers, HEADERS);
        assert!(lines[1].starts_with("end-to-end  "));
        assert!(lines[2].starts_with("split       "));
        assert!(lines[1].contains("812µs"));
        assert!(lines[1].ends_with("2.10s"));
        // Every column ends at the same character offset on every line.
        let token_ends = |line: &str| -> Vec<usize> {
            let chars: Vec<char> = line.chars().collect();
            (0..chars.len())
                .filter(|&i| !chars[i].is_whitespace())
                .filter(|&i| i + 1 == chars.len() || chars[i + 1].is_whitespace())
                .collect()
        };
        let header_ends = token_ends(lines[0]);
        assert_eq!(header_ends.len(), 8);
        // The name column is left-aligned, so compare the seven numeric columns.
        assert_eq!(token_ends(lines[1])[1..], header_ends[1..]);
        assert_eq!(token_ends(lines[2])[1..], header_ends[1..]);
    }
}
