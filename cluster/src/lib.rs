//! One Squall topology over several processes, with NATS JetStream as the only distributed
//! system: membership by leases in a key-value bucket, assignment by rendezvous hashing
//! stored with compare-and-set, frames between processes on a stream, checkpoints in an
//! object store. See `docs/cluster.md`.

pub mod assignment;
pub mod buckets;
pub mod checkpoint;
pub mod chunks;
pub mod cli;
pub mod client;
pub mod deployment;
pub mod error;
pub mod fabric;
pub mod frame_stream;
pub mod inbox;
pub mod membership;
pub mod parts;
pub mod patience;
pub mod records;
pub mod registry;
pub mod rendezvous;
pub mod sequence;
pub mod status;
pub mod subjects;
pub mod worker;

pub use buckets::Cluster;
pub use cli::main;
pub use error::ClusterError;
pub use registry::{Prepare, Prepared, Registry, Summary};
