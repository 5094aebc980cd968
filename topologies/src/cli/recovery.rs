//! The recovery part of a run's output: how many task restarts and tuple replays it took.
//!
//! AFTER MERGE (runtime rewrite): `squall::ComponentReport` gains `restarts: u64` and
//! `replayed: u64`. Until then the placeholder [`line`] has nothing to count and prints
//! nothing; the real `line` below is written against those fields and compiled out with
//! `cfg(any())` so this build still compiles. After the merge: delete the placeholder and the
//! `cfg(any())`.

use squall::RunReport;

/// Placeholder until the report carries the counts: prints nothing.
pub(crate) fn line(report: &RunReport) -> Option<String> {
    let _ = report;
    None
}

/// `recovery: R task restarts, P tuples replayed` for stderr, summed over the components.
#[cfg(any())]
pub(crate) fn line(report: &RunReport) -> Option<String> {
    let restarts: u64 = report.components.iter().map(|c| c.restarts).sum();
    let replayed: u64 = report.components.iter().map(|c| c.replayed).sum();
    Some(format!(
        "recovery: {restarts} task restarts, {replayed} tuples replayed"
    ))
}
