//! Counting and reporting input records (file lines, broker messages) that do not parse.

use std::collections::HashMap;
#[cfg(feature = "file")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[cfg(any(feature = "file", feature = "broker"))]
use crate::excerpt::shorten;

/// The longest reason a report prints: reasons quote input (a serde message may hold a whole
/// value), and one bad record must not flood stderr.
#[cfg(any(feature = "file", feature = "broker"))]
const MAX_REASON: usize = 3 * crate::excerpt::QUOTED;

/// The run report's counter of malformed records skipped ([`Malformed::counting_in`]).
pub const MALFORMED: &str = "malformed records";

/// Shared counter of skipped malformed input records (file lines or broker messages); clones
/// share the count.
///
/// Give a clone to a spout with `with_malformed` and keep one: after the run, [`Malformed::count`]
/// says how many records every task of that spout skipped. A counter serves one run: it
/// reports each line of a file once, even when a spout rewound to a checkpoint reads it again.
///
/// ```
/// let malformed = squall_connectors::Malformed::new();
/// let for_the_spout = malformed.clone();
/// assert_eq!(malformed.count(), 0);
/// # drop(for_the_spout);
/// ```
#[derive(Clone, Default, Debug)]
pub struct Malformed {
    // Shared across tasks (threads), hence atomic; read only after a run or for progress.
    skipped: Arc<AtomicU64>,
    /// The last line reported per file and split (the byte range one task reads): a spout
    /// rewound to a checkpoint reads lines again, and a line is reported (and counted) only the
    /// first time. Splits of one file are read concurrently, so each keeps its own last line.
    /// The counter of the task holding this clone ([`Malformed::counting_in`]), so that the
    /// run's report counts the skipped records of every task in every process.
    task: Option<squall::Counter>,
    reported: Arc<Mutex<HashMap<(PathBuf, usize), u64>>>,
    /// What was reported, so tests can check the messages.
    #[cfg(test)]
    reports: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Malformed {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clone that also adds what it skips to the task's counter [`MALFORMED`], which the
    /// run's report sums over every task, in whichever process it ran (the count of this
    /// counter is of one process only). Spouts call it in `open`.
    pub fn counting_in(&self, ctx: &squall::TaskContext) -> Self {
        Malformed {
            task: Some(ctx.counter(MALFORMED)),
            ..self.clone()
        }
    }

    /// How many lines have been skipped so far, by every holder of a clone.
    pub fn count(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Reports a skipped line on stderr as one line, `{path}: line {n}: {reason}; line skipped`
    /// (the `squall` command's contract), and counts it; a line of `path` at or before the
    /// last one reported was reported already (the spout rewound) and is passed over.
    #[cfg(feature = "file")]
    pub(crate) fn skip(&self, path: &Path, line: u64, reason: &str) {
        self.skip_in_split(path, 0, line, reason);
    }

    /// [`Malformed::skip`] for a file read in splits: lines ascend within each split.
    #[cfg(feature = "file")]
    pub(crate) fn skip_in_split(&self, path: &Path, split: usize, line: u64, reason: &str) {
        {
            // A poisoned lock only means a reporting thread panicked; the map is still sound.
            let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            let last = reported.entry((path.to_path_buf(), split)).or_insert(0);
            if line <= *last {
                return;
            }
            *last = line;
        }
        self.report(format!(
            "{}: line {line}: {}; line skipped",
            path.display(),
            shorten(reason, MAX_REASON)
        ));
    }

    /// Reports a skipped broker message on stderr as one line,
    /// `{source}: message {n}: {reason}; message skipped`, and counts it. `n` counts the
    /// messages the task received, from 1.
    #[cfg(feature = "broker")]
    pub(crate) fn skip_message(&self, source: &str, message: u64, reason: &str) {
        self.report(format!(
            "{source}: message {message}: {}; message skipped",
            shorten(reason, MAX_REASON)
        ));
    }

    fn report(&self, message: String) {
        eprintln!("{message}");
        self.skipped.fetch_add(1, Ordering::Relaxed);
        if let Some(task) = &self.task {
            task.add(1);
        }
        #[cfg(test)]
        self.reports.lock().unwrap().push(message);
    }

    /// The messages reported so far.
    #[cfg(test)]
    pub(crate) fn reports(&self) -> Vec<String> {
        self.reports.lock().unwrap().clone()
    }
}

#[cfg(test)]
#[cfg(feature = "file")]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_count() {
        let a = Malformed::new();
        let b = a.clone();
        b.skip(Path::new("in.csv"), 3, "test");
        a.skip(Path::new("in.csv"), 4, "test");
        // A rewound spout reads line 3 again: reported once.
        b.skip(Path::new("in.csv"), 3, "test");
        assert_eq!(a.count(), 2);
        assert_eq!(b.count(), 2);
        assert_eq!(
            b.reports(),
            [
                "in.csv: line 3: test; line skipped",
                "in.csv: line 4: test; line skipped"
            ]
        );
    }
}
