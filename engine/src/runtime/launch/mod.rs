//! Starting a run: booting the actors, building every task from its component's node, and
//! wiring the tasks to their neighbours.
//!
//! - `local`: [`LocalCluster`](super::LocalCluster). It owns the actix `System` thread and the
//!   arbiters, boots the topology, runs the control plane, and tears everything down at the
//!   end.
//! - `boot`: one arbiter per worker, the ackers, then the launch; local runs and the parts of a
//!   distributed run boot the same way.
//! - `start`: starts every task, then wires it to its neighbours, consumers before producers.
//! - `node`: components as the runtime sees them, type-erased nodes that start their tasks and
//!   wire them; `subscription`: a bolt's subscriptions to its producers, each with its
//!   grouping and the conversion from the producer's tuple to the bolt's input.
//! - `wire`: the one-time message that connects a started task to its neighbours, and the
//!   edges (local or remote links) it carries.
//! - `streams`: named output streams from declaration to wiring, each with its declared type.

pub(crate) mod boot;
pub(crate) mod local;
pub(crate) mod node;
pub(crate) mod start;
pub(crate) mod streams;
pub(crate) mod subscription;
pub(crate) mod wire;
