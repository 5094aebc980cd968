//! The checkpoint coordinator and its state backend.
//!
//! The controller triggers checkpoint `n` at the spouts; each spout records its position and
//! sends barrier `n` down every link; each bolt snapshots when barrier `n` has come in on all
//! of its open links (exactly-once holds back links that delivered it until then: alignment)
//! and passes it on. Every task reports a [`TaskRecord`]; once all have, checkpoint `n` is
//! complete, stored, and announced to every task (`commit`). Only one checkpoint is in flight
//! at a time. A task that has finished reports its final record once, and that record stands
//! for it in every later checkpoint.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::component::State;
use crate::StateBackend;

/// What one task contributes to a checkpoint: its user state and where its stream stands.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskRecord {
    pub state: Option<State>,
    /// The task had finished (a spout at its end, a bolt after `finish`).
    pub finished: bool,
    /// Input links that had delivered end-of-stream.
    pub closed: Vec<u32>,
    /// Event time: a spout's highest timestamp emitted, a bolt's input watermark.
    pub clock: Option<u64>,
}

/// The stored form of a record (on disk, in a checkpoint store, in a control frame).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredRecord {
    state: Option<Vec<u8>>,
    finished: bool,
    closed: Vec<u32>,
    #[serde(default)]
    clock: Option<u64>,
}

impl From<&TaskRecord> for StoredRecord {
    fn from(r: &TaskRecord) -> Self {
        StoredRecord {
            state: r.state.as_ref().map(|s| s.as_bytes().to_vec()),
            finished: r.finished,
            closed: r.closed.clone(),
            clock: r.clock,
        }
    }
}

impl From<StoredRecord> for TaskRecord {
    fn from(r: StoredRecord) -> Self {
        TaskRecord {
            state: r.state.map(State::from_bytes),
            finished: r.finished,
            closed: r.closed,
            clock: r.clock,
        }
    }
}

/// A complete checkpoint as one blob: every task's record, by flat task index.
pub(crate) fn encode_checkpoint(records: &[TaskRecord]) -> Result<Vec<u8>, BackendError> {
    let stored: Vec<StoredRecord> = records.iter().map(StoredRecord::from).collect();
    Ok(rmp_serde::to_vec(&stored)?)
}

/// A blob of [`encode_checkpoint`] read back.
pub(crate) fn decode_checkpoint(blob: &[u8]) -> Result<Vec<TaskRecord>, String> {
    let stored: Vec<StoredRecord> =
        rmp_serde::from_slice(blob).map_err(|e| format!("unreadable checkpoint: {e}"))?;
    Ok(stored.into_iter().map(TaskRecord::from).collect())
}

/// An error of the directory backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendError {
    #[error("cannot write checkpoint file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode checkpoint: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error("cannot store checkpoint {id}: {message}")]
    Store { id: u64, message: String },
}

impl From<BackendError> for crate::RunError {
    fn from(e: BackendError) -> Self {
        let message = e.to_string();
        let path = match e {
            BackendError::Io { path, .. } => Some(path),
            BackendError::Encode(_) | BackendError::Store { .. } => None,
        };
        crate::RunError::Checkpoint { path, message }
    }
}

pub(crate) struct Coordinator {
    backend: StateBackend,
    topology: String,
    /// Task names (`component-task`) by flat index, for file names.
    names: Vec<String>,
    next_id: u64,
    /// The checkpoint being taken: its id and the records received so far.
    in_flight: Option<(u64, Vec<Option<TaskRecord>>)>,
    /// The last complete checkpoint.
    complete: Option<(u64, Vec<TaskRecord>)>,
    /// Final records of finished tasks, standing in for them in later checkpoints.
    finals: Vec<Option<TaskRecord>>,
    /// Where a distributed run keeps its complete checkpoints, beside the backend.
    store: Option<std::sync::Arc<dyn crate::distributed::CheckpointStore>>,
}

impl Coordinator {
    pub(crate) fn new(backend: StateBackend, topology: &str, names: Vec<String>) -> Self {
        let n = names.len();
        Coordinator {
            backend,
            topology: topology.to_string(),
            names,
            next_id: 1,
            in_flight: None,
            complete: None,
            finals: vec![None; n],
            store: None,
        }
    }

    /// Complete checkpoints go to `store` too (a distributed run's leader).
    pub(crate) fn set_store(
        &mut self,
        store: std::sync::Arc<dyn crate::distributed::CheckpointStore>,
    ) {
        self.store = Some(store);
    }

    /// Resumes from checkpoint `id`, restored from a store: it is the last complete one (what
    /// a rollback returns to), finished tasks' records stand for them, and later checkpoints
    /// get higher ids.
    pub(crate) fn resume(&mut self, id: u64, records: Vec<TaskRecord>) {
        self.next_id = id + 1;
        self.complete = Some((id, records));
        self.rollback();
    }

    /// Starts a checkpoint unless one is in flight; returns its id.
    pub(crate) fn begin(&mut self) -> Option<u64> {
        if self.in_flight.is_some() {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let records = self.finals.clone();
        self.in_flight = Some((id, records));
        Some(id)
    }

    /// A task's record for checkpoint `id`; returns the id when that completed the checkpoint.
    pub(crate) fn record(
        &mut self,
        id: u64,
        task: usize,
        record: TaskRecord,
    ) -> Result<Option<u64>, BackendError> {
        let Some((current, records)) = self.in_flight.as_mut() else {
            return Ok(None);
        };
        if *current != id {
            return Ok(None);
        }
        if let Some(slot) = records.get_mut(task) {
            *slot = Some(record);
        }
        self.try_complete()
    }

    /// A task finished with `record`: it stands for the task from now on.
    pub(crate) fn finished(
        &mut self,
        task: usize,
        record: TaskRecord,
    ) -> Result<Option<u64>, BackendError> {
        if let Some((_, records)) = self.in_flight.as_mut() {
            if let Some(slot) = records.get_mut(task) {
                slot.get_or_insert_with(|| record.clone());
            }
        }
        if let Some(slot) = self.finals.get_mut(task) {
            *slot = Some(record);
        }
        self.try_complete()
    }

    fn try_complete(&mut self) -> Result<Option<u64>, BackendError> {
        let done = self
            .in_flight
            .as_ref()
            .is_some_and(|(_, r)| r.iter().all(Option::is_some));
        if !done {
            return Ok(None);
        }
        let Some((id, records)) = self.in_flight.take() else {
            return Ok(None);
        };
        let records: Vec<TaskRecord> = records.into_iter().flatten().collect();
        if let StateBackend::Directory(dir) = &self.backend {
            self.store(dir.clone(), id, &records)?;
        }
        if let Some(store) = &self.store {
            store
                .save(id, encode_checkpoint(&records)?)
                .map_err(|message| BackendError::Store { id, message })?;
        }
        self.complete = Some((id, records));
        Ok(Some(id))
    }

    /// The last complete checkpoint: its id and every task's record.
    pub(crate) fn last_complete(&self) -> Option<(u64, &[TaskRecord])> {
        self.complete.as_ref().map(|(id, r)| (*id, &r[..]))
    }

    /// Rolling back: the checkpoint in flight is abandoned, and so are the final records of
    /// tasks that will run again. Returns the last complete checkpoint.
    pub(crate) fn rollback(&mut self) -> Option<(u64, Vec<TaskRecord>)> {
        self.in_flight = None;
        let complete = self.complete.clone();
        self.finals = match &complete {
            Some((_, records)) => records
                .iter()
                .map(|r| r.finished.then(|| r.clone()))
                .collect(),
            None => vec![None; self.names.len()],
        };
        complete
    }

    /// Writes one file per task, then the `_COMPLETE` marker; keeps the last two checkpoints.
    fn store(&self, dir: PathBuf, id: u64, records: &[TaskRecord]) -> Result<(), BackendError> {
        let base = dir.join(&self.topology);
        let chk = base.join(format!("chk-{id}"));
        let io = |path: &Path, source| BackendError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&chk).map_err(|e| io(&chk, e))?;
        for (name, r) in self.names.iter().zip(records) {
            let stored = StoredRecord::from(r);
            let path = chk.join(format!("{name}.msgpack"));
            let bytes = rmp_serde::to_vec(&stored)?;
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        let marker = chk.join("_COMPLETE");
        std::fs::write(&marker, id.to_string()).map_err(|e| io(&marker, e))?;
        if id > 2 {
            let _ = std::fs::remove_dir_all(base.join(format!("chk-{}", id - 2)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(n: u8) -> TaskRecord {
        TaskRecord {
            state: Some(State::from_bytes(vec![n])),
            ..TaskRecord::default()
        }
    }

    #[test]
    fn completes_when_every_task_reported_and_finished_tasks_stand_in() {
        let mut c = Coordinator::new(StateBackend::Memory, "t", vec!["a-0".into(), "b-0".into()]);
        let id = c.begin().unwrap();
        assert_eq!(c.begin(), None, "one checkpoint at a time");
        assert_eq!(c.record(id, 0, rec(1)).unwrap(), None);
        assert_eq!(c.record(id, 1, rec(2)).unwrap(), Some(id));
        let finished = TaskRecord {
            finished: true,
            ..rec(9)
        };
        assert_eq!(c.finished(0, finished).unwrap(), None);
        let id2 = c.begin().unwrap();
        assert_eq!(c.record(id2, 1, rec(3)).unwrap(), Some(id2));
        let (at, records) = c.rollback().unwrap();
        assert_eq!(at, id2);
        assert!(records[0].finished);
        assert_eq!(records[1].state, Some(State::from_bytes(vec![3])));
    }

    #[test]
    fn the_directory_backend_writes_files_and_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let backend = StateBackend::Directory(dir.path().to_path_buf());
        let mut c = Coordinator::new(backend, "wc", vec!["count-0".into()]);
        let id = c.begin().unwrap();
        c.record(id, 0, rec(7)).unwrap();
        let chk = dir.path().join("wc").join(format!("chk-{id}"));
        assert!(chk.join("count-0.msgpack").is_file());
        assert!(chk.join("_COMPLETE").is_file());
    }
}
