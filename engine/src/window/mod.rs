//! Time and windows: watermarks, window assignment and windowed bolts.
//!
//! - [`Watermarks`]: event time at a spout (a timestamp extractor and bounded
//!   out-of-orderness), declared with [`crate::TopologyBuilder::set_watermarks`].
//! - `assign`: which windows hold a timestamp (tumbling and sliding, by time or count).
//! - [`WindowedBolt`] and [`Windowed`]: Storm's `BaseWindowedBolt` and Flink's window
//!   operator: count or time windows, tumbling or sliding, in processing or event time, with
//!   allowed lateness and late tuples handed to the bolt, never silently dropped.
//!
//! Ticks (Storm's tick tuples) are a hook of every bolt: [`crate::Bolt::tick_interval`] and
//! [`crate::Bolt::on_tick`].

mod assign;
mod operator;
mod spec;
mod watermarks;

pub use assign::{windows_of, WindowRange};
pub use operator::{Windowed, WindowedBolt};
pub use spec::{TimeDomain, WindowSpec};
pub use watermarks::{TimestampFn, Watermarks};
