//! Batch MapReduce as a bounded topology on the streaming runtime (never a second engine).
//!
//! A [`Job`] is a builder over the same [`crate::TopologyBuilder`] and [`crate::LocalCluster`]
//! every streaming topology uses, with Hadoop's semantics:
//!
//! ```text
//! splits --direct--> map --direct on partition--> reduce --global--> commit
//! (spout)            (M slots)                    (R tasks)          (1 task)
//! ```
//!
//! - **Input**: text files and directories, cut into byte-range splits at line boundaries
//!   ([`InputSplit`], Hadoop's `TextInputFormat`); each split is one map task.
//! - **Map**: a [`Mapper`] per attempt emits `(key, value)` pairs into a sort buffer
//!   ([`Settings::sort_buffer_bytes`], default 64 MiB); an optional [`Combiner`] folds each
//!   key's values in the buffer; a full buffer is sorted by partition ([`Partitioner`], default
//!   [`HashPartitioner`]) and key and spilled as sorted runs (MessagePack files).
//! - **Reduce**: reduce task `p` k-way merges every committed run of partition `p` and calls the
//!   [`Reducer`] with each key, in `Ord` order, and an iterator over its values ([`Values`]),
//!   writing `key<TAB>value` lines.
//! - **Attempts and commit** (Hadoop's `FileOutputCommitter`): an attempt writes under
//!   `OUTPUT/_temporary/` and its output is renamed into place only when it commits; the first
//!   attempt of a task to commit wins. A failed attempt (panic or error) is discarded and
//!   retried, up to [`Settings::max_attempts`] (default 4); then the job fails with
//!   [`JobError::TaskFailed`] naming the task and the last failure. `part-r-NNNNN` files appear
//!   as reduce tasks commit; `_SUCCESS` is written last.
//! - **Speculative execution**: a task running longer than [`Settings::speculative_factor`]
//!   times the median of the committed ones of its kind (and at least
//!   [`Settings::speculative_min_runtime`]) gets a backup attempt: a map task on an idle map
//!   slot, a reduce task on a reduce bolt task done with its own partition. The first attempt to
//!   commit wins; the other stops at its next record or key and is counted as killed.
//! - **Counters**: [`Counters`], built-in and user-defined, counting committed attempts only.
//!
//! # Layout
//!
//! - `job`: the [`Job`] builder and the topology it runs; `settings`: [`Settings`].
//! - `mapper`, `reducer`, `partitioner`: what users implement; `size`: [`Key`], [`Value`],
//!   [`HeapSize`].
//! - `split`: the input format; `sort_buffer`, `pending`, `map_output`: buffer, combine, spill; `run_file`: the spill
//!   format; `merge`: the reduce side's k-way merge.
//! - `tracker`: attempt bookkeeping, commit arbitration and speculation (map and reduce sides); `layout`: the commit protocol's
//!   paths and renames; `inject`: failure injection.
//! - `scheduler`, `map_task`, `reduce_task`: the components of the topology.

mod counters;
mod error;
mod inject;
mod job;
mod layout;
mod map_output;
mod map_task;
mod mapper;
mod merge;
mod partitioner;
mod pending;
mod reduce_task;
mod reducer;
mod run_file;
mod scheduler;
mod settings;
mod size;
mod sort_buffer;
mod split;
mod tracker;
mod watch;

pub use counters::Counters;
pub use error::JobError;
pub use inject::InjectedFailure;
pub use job::{Job, JobReport};
pub use map_output::MapOutput;
pub use mapper::{Combiner, Mapper, Record};
pub use merge::{Values, MERGE_FACTOR};
pub use partitioner::{HashPartitioner, Partitioner};
pub use pending::COMBINE_AT;
pub use reducer::{ReduceOutput, Reducer};
pub use run_file::RunRef;
pub use settings::{FailureInjection, Settings};
pub use size::{HeapSize, Key, Value};
pub use split::{expand_inputs, plan_splits, InputSplit};
pub use tracker::Progress;
pub use watch::{JobStatus, JobWatch, TaskState, TaskStatus};
