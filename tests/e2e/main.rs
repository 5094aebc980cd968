//! End-to-end tests: reference topologies and engine contracts, run in local mode and checked
//! against oracles computed independently inside each test.
#![allow(clippy::unwrap_used)]
// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

mod backpressure;
mod connectors;
mod groupings;
mod sensor;
mod validation;
mod word_count;
