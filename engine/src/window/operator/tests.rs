//! The window operator driven directly, against windows computed by brute force.

use std::collections::BTreeMap;

use super::*;
use crate::runtime::{AckTracker, Output};

/// Records every firing: (window, count, update); late tuples by timestamp.
#[derive(Default)]
struct Recorder {
    fired: Vec<(WindowRange, u64, bool)>,
    late: Vec<u64>,
}

impl WindowedBolt for Recorder {
    type Input = u64;
    type Output = ();
    type Acc = u64;
    fn add(&mut self, acc: &mut u64, _: &u64) {
        *acc += 1;
    }
    fn fire(
        &mut self,
        w: WindowRange,
        acc: &u64,
        update: bool,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        self.fired.push((w, *acc, update));
        Ok(())
    }
    fn late(&mut self, ts: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.late.push(ts);
        Ok(())
    }
}

/// Final count per window, late timestamps, every firing.
type Outcome = (
    BTreeMap<WindowRange, u64>,
    Vec<u64>,
    Vec<(WindowRange, u64, bool)>,
);

/// Feeds `input` in order, the watermark after each tuple being the highest timestamp so far
/// minus `lag`; returns the final count of each window, and the late timestamps.
fn run(input: &[u64], spec: WindowSpec<u64>, lag: u64) -> Outcome {
    let mut out = Output::<()>::unwired(8);
    let mut acks = AckTracker::new(false, 0);
    let mut w = Windowed::new(Recorder::default(), spec);
    let mut max = 0;
    for &ts in input {
        let mut c = BoltCollector {
            out: &mut out,
            origin: 0,
            source: None,
            acks: &mut acks,
        };
        w.execute(ts, &mut c).unwrap();
        max = max.max(ts);
        w.on_watermark(max.saturating_sub(lag), &mut c).unwrap();
    }
    let mut c = BoltCollector {
        out: &mut out,
        origin: 0,
        source: None,
        acks: &mut acks,
    };
    w.finish(&mut c).unwrap();
    let fired = w.bolt.fired.clone();
    let mut last = BTreeMap::new();
    for &(win, n, _) in &fired {
        last.insert(win, n);
    }
    (last, w.bolt.late.clone(), fired)
}

/// The sequential definition: a tuple is late when the last window holding it ended, plus
/// the lateness, at or before the watermark of the tuples before it; else it counts in every
/// window holding it.
fn oracle(
    input: &[u64],
    size: u64,
    slide: u64,
    lag: u64,
    lateness: u64,
) -> (BTreeMap<WindowRange, u64>, Vec<u64>) {
    let mut counts = BTreeMap::new();
    let mut late = Vec::new();
    let mut wm: Option<u64> = None;
    for &ts in input {
        let windows: Vec<(u64, u64)> = (0..=ts)
            .filter(|s| s % slide == 0 && s + size > ts)
            .map(|s| (s, s + size))
            .collect();
        let closed = |end: u64| wm.is_some_and(|w| w > 0 && end + lateness <= w);
        if windows.iter().all(|&(_, e)| closed(e)) {
            late.push(ts);
        } else {
            for (s, e) in windows.into_iter().filter(|&(_, e)| !closed(e)) {
                *counts.entry(WindowRange { start: s, end: e }).or_insert(0) += 1;
            }
        }
        let w = ts.saturating_sub(lag);
        wm = Some(wm.map_or(w, |old: u64| old.max(w)));
    }
    (counts, late)
}

fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    // In order, with some tuples moved back by up to 40 and a few far back.
    let mut x = seed;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let back = (x >> 33) % 100;
            let t = i * 3;
            if back < 30 {
                t.saturating_sub(back)
            } else if back > 97 {
                t.saturating_sub(200)
            } else {
                t
            }
        })
        .collect()
}

#[test]
fn event_time_windows_match_the_sequential_definition() {
    for (size, slide) in [(30, 30), (30, 10), (25, 10), (10, 20)] {
        for lag in [0, 20, 50] {
            for lateness in [0, 15] {
                let input = shuffled(400, size * 7 + slide + lag + lateness);
                let spec =
                    WindowSpec::sliding(Duration::from_millis(size), Duration::from_millis(slide))
                        .event_time(|t: &u64| *t)
                        .lateness(Duration::from_millis(lateness));
                let (got, late, _) = run(&input, spec, lag);
                let (want, want_late) = oracle(&input, size, slide, lag, lateness);
                let case = format!("size {size} slide {slide} lag {lag} lateness {lateness}");
                assert_eq!(got, want, "{case}");
                assert_eq!(late, want_late, "{case}");
            }
        }
    }
}

#[test]
fn a_window_fires_once_then_again_per_update_within_the_lateness() {
    let spec = WindowSpec::tumbling(Duration::from_millis(10))
        .event_time(|t: &u64| *t)
        .lateness(Duration::from_millis(5));
    let (_, late, fired) = run(&[1, 2, 12, 3, 16, 4], spec, 0);
    let w0 = WindowRange { start: 0, end: 10 };
    let w1 = WindowRange { start: 10, end: 20 };
    assert_eq!(
        fired,
        vec![(w0, 2, false), (w0, 3, true), (w1, 2, false)],
        "fires at 12, updated by 3, closed at 16 before 4 arrives"
    );
    assert_eq!(late, vec![4]);
}

#[test]
fn count_windows_fire_every_slide_tuples() {
    let (got, late, _) = run(&[9; 7], WindowSpec::sliding_count(4, 2), 0);
    let w = |start, end| WindowRange { start, end };
    assert!(late.is_empty());
    assert_eq!(
        got,
        BTreeMap::from([(w(0, 4), 4), (w(2, 6), 4), (w(4, 8), 3), (w(6, 10), 1)]),
        "the last windows fire partly filled at the end"
    );
}
