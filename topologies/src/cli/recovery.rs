//! The recovery part of a run's output: how many task restarts, tuple replays and
//! checkpoints it took.

use squall::RunReport;

/// `recovery: R task restarts, P tuples replayed, B rollbacks` for stderr, summed over the
/// components.
pub(crate) fn line(report: &RunReport) -> Option<String> {
    Some(format!(
        "recovery: {} task restarts, {} tuples replayed, {} rollbacks to a checkpoint \
         ({} checkpoints completed)",
        report.restarts(),
        report.replayed(),
        report.rollbacks,
        report.checkpoints
    ))
}
