//! End-to-end tests live in `e2e/`; this library holds what tests and benchmarks share.
//!
//! - [`servers`]: broker servers (NATS, mosquitto, Redis, PostgreSQL) started on free loopback
//!   ports for one test and stopped after it.

pub mod servers;
