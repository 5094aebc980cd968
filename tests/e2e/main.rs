//! End-to-end tests: reference topologies and engine contracts, run in local mode and checked
//! against oracles computed independently inside each test.
#![allow(clippy::unwrap_used)]
// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

mod acking;
mod backpressure;
mod chaos;
mod connectors;
mod counters;
mod crash_scope;
mod distributed;
mod end_of_input;
mod errors;
mod exactly_once;
mod groupings;
mod late_stream;
mod latency;
mod mapreduce;
mod rollback;
mod sensor;
mod spout_commit;
mod supervision;
mod typed_streams;
mod validation;
mod waking;
mod windows;
mod word_count;
