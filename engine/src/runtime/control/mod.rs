//! The control plane: everything that decides about a run rather than doing its work.
//!
//! - `control_plane`: the controller's own thread, so restarts, checkpoints, timeouts and the
//!   drain happen whether or not the caller waits on the run.
//! - `controller`: collects what tasks report and turns it into decisions and, at the end, the
//!   run report; `controller/report.rs` builds that report.
//! - `supervisor`: which tasks restart after a failure, restart intensity, backoff.
//! - `checkpoint`: the checkpoint coordinator (barriers, the records of every task, the state
//!   backend).
//! - `acker`: Storm's XOR ledger of tuple trees (at-least-once), as actors beside the tasks.
//! - `signal`: SIGINT and SIGTERM as flags, so that the first one drains a run and a second
//!   one ends the process.

pub(crate) mod acker;
pub(crate) mod checkpoint;
pub(crate) mod control_plane;
pub(crate) mod controller;
pub(crate) mod signal;
pub(crate) mod supervisor;
