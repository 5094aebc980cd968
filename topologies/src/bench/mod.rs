//! Open-loop, fixed-rate benchmarks of the reference topologies (`squall bench`).
//!
//! A [`PacedSpout`] emits tuple `i` at the *intended* instant `start + i / rate`, whatever
//! happened before: when the topology falls behind, the spout emits its backlog as fast as
//! credits allow and each tuple still carries its intended time, so a stall is charged to every
//! tuple it delayed (no coordinated omission). Tuples intended before the end of the warm-up are
//! left out of the latency figures ([`Pacing::measure_from`]). A [`Stall`] makes one bolt task
//! sleep once in the middle of the measured period, to check that the report sees it.
//!
//! - [`pacing`]: the schedule and the spout.
//! - [`generate`]: what the spouts emit: sensor readings and text lines.
//! - [`stall`]: the injected stall.

pub mod generate;
pub mod pacing;
pub mod stall;

pub use generate::{Generate, SensorReadings, TextLines};
pub use pacing::{PacedSpout, Pacing};
pub use stall::{Stall, Stalling};
