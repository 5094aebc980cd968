//! Window assignment: which windows `[start, start + size)`, `start` a multiple of `slide`,
//! hold a timestamp.

use serde::{Deserialize, Serialize};

/// One window: `[start, end)` in milliseconds (or tuples, for count windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WindowRange {
    /// First instant in the window.
    pub start: u64,
    /// First instant after it.
    pub end: u64,
}

/// The windows of `size` sliding by `slide` that hold `ts`, by ascending start (empty when
/// `ts` falls in a gap between windows, slide > size).
///
/// ```
/// use squall::window::{windows_of, WindowRange};
/// let w: Vec<WindowRange> = windows_of(25, 20, 10).collect();
/// assert_eq!(w, [WindowRange { start: 10, end: 30 }, WindowRange { start: 20, end: 40 }]);
/// ```
pub fn windows_of(ts: u64, size: u64, slide: u64) -> impl Iterator<Item = WindowRange> {
    let slide = slide.max(1);
    let last = ts - ts % slide;
    // The first start s with s + size > ts.
    let first = match ts.checked_sub(size) {
        Some(d) => (d / slide + 1).saturating_mul(slide),
        None => 0,
    };
    (first..=last)
        .step_by(usize::try_from(slide).unwrap_or(usize::MAX))
        .filter(move |_| first <= last)
        .map(move |start| WindowRange {
            start,
            end: start.saturating_add(size),
        })
}

/// The end of the last window holding `ts` (None in a gap): a tuple is late once the
/// watermark has passed it plus the allowed lateness.
pub(crate) fn last_end(ts: u64, size: u64, slide: u64) -> Option<u64> {
    let start = ts - ts % slide.max(1);
    let end = start.saturating_add(size);
    (end > ts).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window by brute force.
    fn oracle(ts: u64, size: u64, slide: u64) -> Vec<(u64, u64)> {
        (0..=ts)
            .filter(|s| s % slide == 0 && s + size > ts)
            .map(|s| (s, s + size))
            .collect()
    }

    #[test]
    fn assignment_matches_brute_force() {
        for (size, slide) in [(10, 10), (10, 5), (10, 3), (7, 10), (1, 1), (30, 10)] {
            for ts in 0..100 {
                let got: Vec<_> = windows_of(ts, size, slide)
                    .map(|w| (w.start, w.end))
                    .collect();
                assert_eq!(
                    got,
                    oracle(ts, size, slide),
                    "ts {ts} size {size} slide {slide}"
                );
                let last = oracle(ts, size, slide).last().map(|w| w.1);
                assert_eq!(
                    last_end(ts, size, slide),
                    last,
                    "ts {ts} size {size} slide {slide}"
                );
            }
        }
    }
}
