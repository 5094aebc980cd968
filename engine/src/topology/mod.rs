//! What users declare: the [`TopologyBuilder`], typed [`Stream`] handles, groupings and the
//! run [`Config`]. A topology is validated once, at [`TopologyBuilder::build`].

mod builder;
mod config;
mod declarer;
mod declarer_streams;
mod graph;
mod grouping;
mod guarantee;
mod stream;

pub use builder::{Topology, TopologyBuilder};
pub use config::Config;
pub use declarer::BoltDeclarer;
pub use graph::{GraphComponent, GraphEdge, TopologyGraph};
pub(crate) use grouping::{bucket, Grouping, KeyFn};
pub use grouping::{key_hash, CustomGrouping, Group};
pub use guarantee::{Chaos, Guarantee, StateBackend, Strategy, Supervision};
pub use stream::{Stream, StreamRef, StreamTag, DEFAULT_STREAM};
