//! A topology's shape without its code: components and the edges between them, for displays
//! (the web UI draws it) and tools.

use super::Topology;

/// A validated topology's components and edges.
///
/// ```
/// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
/// # struct Numbers;
/// # impl Spout for Numbers {
/// #     type Output = u64;
/// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
/// # }
/// # struct Sink;
/// # impl Bolt for Sink {
/// #     type Input = u64;
/// #     type Output = ();
/// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
/// # }
/// # fn main() -> Result<(), squall::BuildError> {
/// let mut builder = TopologyBuilder::new("numbers");
/// let numbers = builder.set_spout("numbers", 1, || Numbers);
/// builder.set_bolt("sink", 3, || Sink).fields_grouping(&numbers, |n: &u64| *n);
/// let graph = builder.build()?.graph();
/// assert_eq!(graph.components[1].parallelism, 3);
/// assert_eq!(graph.edges[0].grouping, "fields");
/// assert_eq!(graph.edges[0].stream, "default");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyGraph {
    /// The topology's name.
    pub name: String,
    /// Components, producers before consumers.
    pub components: Vec<GraphComponent>,
    /// Subscriptions, in the consumers' order.
    pub edges: Vec<GraphEdge>,
}

/// One component of a [`TopologyGraph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphComponent {
    /// The component's id.
    pub id: String,
    /// True for a spout, false for a bolt.
    pub spout: bool,
    /// How many tasks it runs.
    pub parallelism: usize,
}

/// One subscription: `to` reads stream `stream` of `from`, grouped by `grouping`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEdge {
    /// The producer's id.
    pub from: String,
    /// The consumer's id.
    pub to: String,
    /// The stream's name (`default` unless declared).
    pub stream: String,
    /// `shuffle`, `fields`, `all`, `global`, `direct`, `local_or_shuffle`, `partial_key` or
    /// `custom`.
    pub grouping: &'static str,
}

impl Topology {
    /// The topology's components and edges.
    pub fn graph(&self) -> TopologyGraph {
        let nodes = self.order.iter().map(|&i| &self.nodes[i]);
        TopologyGraph {
            name: self.name.clone(),
            components: nodes
                .clone()
                .map(|n| GraphComponent {
                    id: n.id().to_string(),
                    spout: n.is_spout(),
                    parallelism: n.parallelism(),
                })
                .collect(),
            edges: nodes
                .flat_map(|n| {
                    n.inputs().into_iter().map(move |i| GraphEdge {
                        from: i.component.to_string(),
                        to: n.id().to_string(),
                        stream: i.stream.to_string(),
                        grouping: i.grouping,
                    })
                })
                .collect(),
        }
    }
}
