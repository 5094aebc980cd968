//! The full percentile distribution in HdrHistogram's text format (`latency.hgrm`).
//!
//! [`write_hgrm`] prints what Java HdrHistogram's `outputPercentileDistribution` prints, so the
//! file loads in the HdrHistogram plotter and in any tool that reads `.hgrm`:
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        1.000 0.000000000000          1           1.00
//!      ...
//!      500.223 0.500000000000        500           2.00
//!      ...
//!     1000.447 1.000000000000       1000
//! #[Mean    =      500.505, StdDeviation   =      288.676]
//! #[Max     =     1000.447, Total count    =         1000]
//! #[Buckets =           10, SubBuckets     =         2048]
//! ```
//!
//! (1 to 1000 µs recorded in nanoseconds, written with `unit_scale` 1000.)
//!
//! [`parse_hgrm`] reads the rows back.

use std::io::{self, BufWriter, Write};

use hdrhistogram::Histogram;

/// Writes `hist` as a percentile distribution, dividing every value by `unit_scale` (pass
/// `1000.0` to turn nanoseconds into microseconds) and stepping `ticks_per_half` rows through
/// each halving of the distance to 100% (HdrHistogram's tools use 5).
///
/// The output is buffered here, so `w` may be a bare file.
///
/// # Errors
///
/// Any error writing to `w`, and [`io::ErrorKind::InvalidInput`] for a `ticks_per_half` of 0.
pub fn write_hgrm<W: Write>(
    hist: &Histogram<u64>,
    w: W,
    unit_scale: f64,
    ticks_per_half: u32,
) -> io::Result<()> {
    if ticks_per_half == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ticks_per_half must be at least 1",
        ));
    }
    let mut w = BufWriter::new(w);
    // Java prints values with as many decimals as the histogram has significant digits.
    let prec = usize::from(hist.sigfig());

    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;

    let mut total = 0_u64;
    for v in hist.iter_quantiles(ticks_per_half) {
        total = total.saturating_add(v.count_since_last_iteration());
        let value = v.value_iterated_to() as f64 / unit_scale;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            writeln!(
                w,
                "{value:12.prec$} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            )?;
        } else {
            // 1/(1-1) is infinite, so Java leaves the column off the 100% row.
            writeln!(w, "{value:12.prec$} {q:2.12} {total:10}")?;
        }
    }

    writeln!(
        w,
        "#[Mean    = {:12.prec$}, StdDeviation   = {:12.prec$}]",
        hist.mean() / unit_scale,
        hist.stdev() / unit_scale
    )?;
    let max = if hist.is_empty() { 0 } else { hist.max() };
    writeln!(
        w,
        "#[Max     = {:12.prec$}, Total count    = {:12}]",
        max as f64 / unit_scale,
        hist.len()
    )?;
    writeln!(
        w,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        hist.buckets(),
        sub_bucket_count(hist.sigfig())
    )?;
    w.flush()
}

/// The sub-bucket count HdrHistogram derives from the precision: the power of two that gives
/// unit resolution up to `2 * 10^sigfig` (2048 for 3 digits). The crate keeps it private.
fn sub_bucket_count(sigfig: u8) -> u64 {
    let largest = 2 * 10_u64.pow(u32::from(sigfig));
    largest.next_power_of_two()
}

/// One row of a percentile distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HgrmRow {
    /// The value at this percentile, in the unit the file was written in.
    pub value: f64,
    /// The percentile as a fraction in `[0, 1]`.
    pub percentile: f64,
    /// How many samples are at or below `value`.
    pub total_count: u64,
}

/// A line of a `.hgrm` file that is not a header, footer or data row.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HgrmError {
    /// A data row without 3 or 4 columns.
    #[error("hgrm line {line}: expected `Value Percentile TotalCount [1/(1-Percentile)]`, found {found} columns")]
    Columns {
        /// 1-based line number.
        line: usize,
        /// How many whitespace-separated columns the line has.
        found: usize,
    },
    /// A column that does not parse as its number type.
    #[error("hgrm line {line}: {column} `{text}` is not a valid number")]
    Number {
        /// 1-based line number.
        line: usize,
        /// The column's name in the header.
        column: &'static str,
        /// The text found.
        text: String,
    },
}

/// Reads the data rows of a percentile distribution written by [`write_hgrm`] or by Java
/// HdrHistogram; the header, blank lines and `#` footer lines are skipped.
///
/// # Errors
///
/// [`HgrmError`] for the first row without 3 or 4 numeric columns.
pub fn parse_hgrm(text: &str) -> Result<Vec<HgrmRow>, HgrmError> {
    let mut rows = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let columns: Vec<&str> = raw.split_whitespace().collect();
        match columns.first() {
            None => continue,
            Some(first) if first.starts_with('#') || *first == "Value" => continue,
            Some(_) => {}
        }
        if !(3..=4).contains(&columns.len()) {
            return Err(HgrmError::Columns {
                line,
                found: columns.len(),
            });
        }
        let number = |column: &'static str, text: &str| HgrmError::Number {
            line,
            column,
            text: text.to_owned(),
        };
        let value = columns[0]
            .parse::<f64>()
            .map_err(|_| number("Value", columns[0]))?;
        let percentile = columns[1]
            .parse::<f64>()
            .map_err(|_| number("Percentile", columns[1]))?;
        let total_count = columns[2]
            .parse::<u64>()
            .map_err(|_| number("TotalCount", columns[2]))?;
        if let Some(inverse) = columns.get(3) {
            inverse
                .parse::<f64>()
                .map_err(|_| number("1/(1-Percentile)", inverse))?;
        }
        rows.push(HgrmRow {
            value,
            percentile,
            total_count,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1..=1000 microseconds, recorded in nanoseconds.
    fn known_samples() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for us in 1..=1000 {
            h.record(us * 1_000).unwrap();
        }
        h
    }

    fn render(h: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        write_hgrm(h, &mut out, 1000.0, 5).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn round_trip_keeps_median_and_max() {
        let h = known_samples();
        let rows = parse_hgrm(&render(&h)).unwrap();

        let median = rows.iter().find(|r| r.percentile == 0.5).unwrap();
        assert_eq!(median.value, h.value_at_quantile(0.5) as f64 / 1000.0);
        assert!((median.value - 500.0).abs() < 0.5, "{}", median.value);
        assert_eq!(median.total_count, 500);

        let last = rows.last().unwrap();
        assert_eq!(last.percentile, 1.0);
        assert_eq!(last.total_count, 1000);
        assert_eq!(last.value, h.max() as f64 / 1000.0);
        assert!((last.value - 1000.0).abs() < 1.0, "{}", last.value);

        let first = rows.first().unwrap();
        assert_eq!(first.percentile, 0.0);
        assert_eq!(first.value, 1.0);
        assert_eq!(first.total_count, 1);

        for pair in rows.windows(2) {
            assert!(pair[0].percentile < pair[1].percentile);
            assert!(pair[0].value <= pair[1].value);
            assert!(pair[0].total_count <= pair[1].total_count);
        }
    }

    #[test]
    fn layout_matches_java() {
        let text = render(&known_samples());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        let n = lines.len();
        // The 100% row has no 1/(1-Percentile) column.
        assert_eq!(lines[n - 4].split_whitespace().count(), 3);
        assert!(lines[n - 4].contains(" 1.000000000000       1000"));
        assert!(lines[n - 3].starts_with("#[Mean    =      500.5"));
        assert!(lines[n - 3].contains(", StdDeviation   = "));
        assert!(lines[n - 2].starts_with("#[Max     =     1000."));
        assert!(lines[n - 2].ends_with(", Total count    =         1000]"));
        assert!(lines[n - 1].starts_with("#[Buckets = "));
        assert!(lines[n - 1].ends_with(", SubBuckets     =         2048]"));
    }

    #[test]
    fn empty_histogram_has_header_and_footer_only() {
        let text = render(&Histogram::<u64>::new(3).unwrap());
        assert!(parse_hgrm(&text).unwrap().is_empty());
        assert!(text.contains("Total count    =            0]"));
    }

    #[test]
    fn zero_ticks_is_rejected() {
        let err = write_hgrm(&known_samples(), Vec::new(), 1.0, 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn errors_name_the_line() {
        let text = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
                    1.000 0.500000000000 1 2.00\n\
                    2.000 0.9x 2 10.00\n";
        match parse_hgrm(text).unwrap_err() {
            HgrmError::Number { line, column, text } => {
                assert_eq!((line, column, text.as_str()), (4, "Percentile", "0.9x"));
            }
            other => panic!("unexpected {other}"),
        }
        let err = parse_hgrm("1.0 0.5\n").unwrap_err();
        assert_eq!(err.to_string().split(':').next(), Some("hgrm line 1"));
    }
}
