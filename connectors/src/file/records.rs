//! What the CSV and JSON Lines spouts share: their settings, which task reads, the position a
//! checkpoint records, and the tuples pending an ack.
//!
//! Both read one file with one task, record by record, and both rewind the same way: a
//! checkpoint records how many records (CSV) or lines (JSON Lines) the reader has consumed;
//! `restore` closes the input, and the next `next_tuple` reopens the file and skips that many
//! without parsing or reporting them again. Only the reading itself differs, so each spout
//! keeps its own open input next to a [`Records`].

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use squall::{ComponentError, MessageId, SpoutCollector, State, TaskContext, Tuple};

use super::{Malformed, DEFAULT_BATCH, STDIN};
use crate::replay::Pending;

/// The shared state of a record-by-record file spout.
pub(crate) struct Records<T> {
    pub(crate) path: PathBuf,
    pub(crate) malformed: Malformed,
    pub(crate) batch: usize,
    /// Records (or lines) the reader has consumed, emitted or not: the checkpointed position,
    /// and how many to skip when the input is (re)opened.
    pub(crate) consumed: u64,
    /// The reader reached the end of the input.
    pub(crate) exhausted: bool,
    /// A task other than task 0: it reads nothing.
    idle: bool,
    /// Emitted tuples awaiting their ack (at-least-once).
    pub(crate) pending: Pending<T>,
    // `fn() -> T`: produces `T`s but holds none outside `pending`.
    tuples: PhantomData<fn() -> T>,
}

/// A checkpointed position.
#[derive(Serialize, Deserialize)]
struct Position {
    consumed: u64,
    exhausted: bool,
}

impl<T: Tuple> Records<T> {
    pub(crate) fn new(path: PathBuf) -> Self {
        Records {
            path,
            malformed: Malformed::new(),
            batch: DEFAULT_BATCH,
            consumed: 0,
            exhausted: false,
            idle: false,
            pending: Pending::new(),
            tuples: PhantomData,
        }
    }

    /// Same file, settings and counter, unopened, from the start.
    pub(crate) fn unopened(&self) -> Self {
        Records {
            malformed: self.malformed.clone(),
            batch: self.batch,
            ..Records::new(self.path.clone())
        }
    }

    /// Notes which task this is and the run's guarantee; true when this task reads the file.
    pub(crate) fn open(&mut self, ctx: &TaskContext) -> bool {
        self.pending.open(ctx);
        self.idle = ctx.task_index() > 0;
        !self.idle
    }

    /// True when nothing more is to be read and nothing awaits an ack (or a replay).
    pub(crate) fn is_finished(&self) -> bool {
        self.idle || (self.exhausted && self.pending.is_empty())
    }

    /// True when nothing more is to be read or replayed, though acks may be outstanding: the
    /// spout's [`squall::Spout::is_exhausted`], so bolts holding anchors release them.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.idle || (self.exhausted && !self.pending.has_replays())
    }

    /// Emits failed tuples again, then says how many new records this call may still read
    /// (`None`: none, the task is idle or the input is exhausted).
    pub(crate) fn replay_then_budget(&mut self, out: &mut SpoutCollector<'_, T>) -> Option<usize> {
        if self.idle {
            return None;
        }
        let replayed = self.pending.replay(out, self.batch);
        (!self.exhausted && replayed < self.batch).then_some(self.batch - replayed)
    }

    /// Emits a parsed record with its line number as message id.
    pub(crate) fn emit(&mut self, out: &mut SpoutCollector<'_, T>, value: T, line: MessageId) {
        self.pending.emit(out, value, line);
    }

    pub(crate) fn snapshot(&self) -> Result<State, ComponentError> {
        Ok(State::encode(&Position {
            consumed: self.consumed,
            exhausted: self.exhausted,
        })?)
    }

    /// Takes the position back. True when it moved: the caller then closes its input, so the
    /// next read reopens the file and skips to the position. Standard input cannot move back.
    pub(crate) fn restore(&mut self, state: &State) -> Result<bool, ComponentError> {
        let at: Position = state.decode()?;
        self.pending.clear();
        let moved = at.consumed != self.consumed || at.exhausted != self.exhausted;
        if moved && is_stdin(&self.path) {
            return Err(format!(
                "cannot rewind standard input to record {} (it is at record {})",
                at.consumed, self.consumed
            )
            .into());
        }
        self.consumed = at.consumed;
        self.exhausted = at.exhausted;
        Ok(moved)
    }
}

pub(crate) fn is_stdin(path: &Path) -> bool {
    path == Path::new(STDIN)
}
