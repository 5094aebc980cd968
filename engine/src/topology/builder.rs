//! Declaring a topology: components, their parallelism and their subscriptions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::declarer::BoltDeclarer;
use super::stream::{Stream, StreamRef, DEFAULT_STREAM};
use crate::component::{Bolt, Spout};
use crate::runtime::{BoltNode, Node, SpoutNode, StreamDecl};
use crate::window::Watermarks;
use crate::{BuildError, Strategy};

/// Declares a topology (Storm's `TopologyBuilder`): spouts, bolts, and how bolts subscribe.
///
/// Mistakes are collected and reported by [`TopologyBuilder::build`] as a [`BuildError`].
///
/// ```
/// use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
///
/// struct Numbers(u64);
/// impl Spout for Numbers {
///     type Output = u64;
///     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
///         self.0 += 1;
///         out.emit(self.0);
///         Ok(())
///     }
/// }
/// struct Double;
/// impl Bolt for Double {
///     type Input = u64;
///     type Output = u64;
///     fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
///         out.emit(2 * n);
///         Ok(())
///     }
/// }
///
/// # fn main() -> Result<(), squall::BuildError> {
/// let mut builder = TopologyBuilder::new("doubler");
/// let numbers = builder.set_spout("numbers", 1, || Numbers(0));
/// builder.set_bolt("double", 2, || Double).shuffle_grouping(&numbers);
/// let topology = builder.build()?;
/// assert_eq!(topology.name(), "doubler");
/// # Ok(())
/// # }
/// ```
pub struct TopologyBuilder {
    name: String,
    pub(super) nodes: Vec<Box<dyn Node>>,
    pub(super) errors: Vec<BuildError>,
    /// Supervision strategies set per component (declaration index), overriding the run's.
    pub(super) strategies: Vec<(usize, Strategy)>,
}

impl TopologyBuilder {
    /// Starts a topology called `name` (used in reports and metrics).
    pub fn new(name: &str) -> Self {
        TopologyBuilder {
            name: name.to_string(),
            nodes: Vec::new(),
            errors: Vec::new(),
            strategies: Vec::new(),
        }
    }

    fn check_new(&mut self, id: &str, parallelism: usize) -> bool {
        if parallelism == 0 {
            self.errors
                .push(BuildError::ZeroParallelism(id.to_string()));
        }
        if self.nodes.iter().any(|n| n.id() == id) {
            self.errors.push(BuildError::DuplicateId(id.to_string()));
            return false;
        }
        true
    }

    /// Declares a spout with `parallelism` tasks, each built by `factory`, and returns a handle
    /// to its default stream.
    ///
    /// ```
    /// # use squall::{ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct Ticks;
    /// # impl Spout for Ticks {
    /// #     type Output = u32;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u32>) -> Result<(), ComponentError> {
    /// #         out.emit(1);
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let ticks = builder.set_spout("ticks", 2, || Ticks);
    /// assert_eq!(ticks.component(), "ticks");
    /// # builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_spout<S, F>(&mut self, id: &str, parallelism: usize, factory: F) -> Stream<S::Output>
    where
        S: Spout,
        F: Fn() -> S + Send + Sync + 'static,
    {
        if self.check_new(id, parallelism) {
            self.nodes.push(Box::new(SpoutNode::<S> {
                id: id.into(),
                parallelism,
                factory: Arc::new(factory),
                streams: Vec::new(),
                watermarks: None,
            }));
        }
        Stream::named(id, DEFAULT_STREAM)
    }

    /// Gives the spout behind `of` event time: its tasks read each tuple's timestamp and
    /// generate watermarks as `watermarks` says, in band with their tuples. Bolts downstream
    /// see them in [`crate::Bolt::on_watermark`]; windowed bolts fire on them.
    ///
    /// ```
    /// # use squall::{ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// use squall::window::Watermarks;
    /// # struct Clicks;
    /// # impl Spout for Clicks {
    /// #     type Output = (u64, String);
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, (u64, String)>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let clicks = builder.set_spout("clicks", 1, || Clicks);
    /// builder.set_watermarks(&clicks, Watermarks::bounded(1_000, |c: &(u64, String)| c.0));
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_watermarks<T: 'static>(&mut self, of: &Stream<T>, watermarks: Watermarks<T>) {
        let set = self
            .nodes
            .iter_mut()
            .find(|n| n.id() == of.component())
            .is_some_and(|n| n.set_watermarks(Box::new(watermarks)));
        if !set {
            self.errors
                .push(BuildError::NotASpout(of.component().to_string()));
        }
    }

    /// Declares a named output stream of the component behind `of` (any handle of it, usually
    /// the one [`TopologyBuilder::set_spout`] returned) and returns a handle to it. `stream`
    /// is a [`StreamTag<U>`](crate::StreamTag), for a stream of `U` whatever the component's
    /// output, or a plain name, for a stream of the output type itself. The component emits
    /// on it with `emit_to`; subscribing to, or emitting on, a stream the component never
    /// declared (with that type) is an error ([`BuildError::UndeclaredStream`] or
    /// [`BuildError::TypeMismatch`] at `build()`, an `Err` from `emit_to` at run time), never
    /// a silent drop. Bolts declare theirs with [`BoltDeclarer::declare_stream`].
    ///
    /// ```
    /// # use squall::{ComponentError, Spout, SpoutCollector, StreamTag, TopologyBuilder};
    /// /// Gaps in the sequence: (from, to).
    /// const GAPS: StreamTag<(u32, u32)> = StreamTag::new("gaps");
    /// # struct Numbers;
    /// # impl Spout for Numbers {
    /// #     type Output = u32;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u32>) -> Result<(), ComponentError> {
    /// #         out.emit_to("odd", 1)?;
    /// #         out.emit_to(&GAPS, (2, 5))?;
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || Numbers);
    /// let odd = builder.declare_stream(&numbers, "odd"); // a Stream<u32>, as the output
    /// let gaps = builder.declare_stream(&numbers, &GAPS); // a Stream<(u32, u32)>
    /// assert_eq!((odd.name(), gaps.name()), ("odd", "gaps"));
    /// # builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn declare_stream<T, S: StreamRef<T>>(
        &mut self,
        of: &Stream<T>,
        stream: S,
    ) -> Stream<S::Item> {
        let name = stream.stream_name();
        match self.nodes.iter_mut().find(|n| n.id() == of.component()) {
            Some(node) => {
                let decl = StreamDecl::of::<S::Item>(name.into());
                if let Err(declared) = node.declare_stream(decl) {
                    self.errors.push(BuildError::StreamTypeConflict {
                        component: of.component().to_string(),
                        stream: name.to_string(),
                        declared,
                        redeclared: std::any::type_name::<S::Item>(),
                    });
                }
            }
            None => self.errors.push(BuildError::UnknownComponent {
                consumer: format!("stream `{name}`"),
                producer: of.component().to_string(),
            }),
        }
        Stream::named(of.component(), name)
    }

    /// Declares a bolt with `parallelism` tasks, each built by `factory`. Subscribe it to its
    /// inputs with the grouping methods of the returned [`BoltDeclarer`].
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct Words;
    /// # impl Spout for Words {
    /// #     type Output = String;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, String>) -> Result<(), ComponentError> {
    /// #         out.emit("w".into());
    /// #         Ok(())
    /// #     }
    /// # }
    /// # struct Print;
    /// # impl Bolt for Print {
    /// #     type Input = String;
    /// #     type Output = ();
    /// #     fn execute(&mut self, w: String, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
    /// #         println!("{w}");
    /// #         Ok(())
    /// #     }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let words = builder.set_spout("words", 1, || Words);
    /// builder.set_bolt("print", 4, || Print).fields_grouping(&words, |w: &String| w.clone());
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_bolt<B, F>(
        &mut self,
        id: &str,
        parallelism: usize,
        factory: F,
    ) -> BoltDeclarer<'_, B>
    where
        B: Bolt,
        F: Fn() -> B + Send + Sync + 'static,
    {
        let index = if self.check_new(id, parallelism) {
            self.nodes.push(Box::new(BoltNode::<B> {
                id: id.into(),
                parallelism,
                factory: Arc::new(factory),
                inputs: Vec::new(),
                streams: Vec::new(),
            }));
            Some(self.nodes.len() - 1)
        } else {
            None
        };
        BoltDeclarer::new(self, index, id)
    }

    /// Validates the topology: unique ids, known inputs reading declared streams of their
    /// type, no cycle, at least one task per component and at least one spout.
    ///
    /// ```
    /// # use squall::{BuildError, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u8;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u8>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// let mut builder = TopologyBuilder::new("t");
    /// builder.set_spout("s", 1, || S);
    /// builder.set_spout("s", 1, || S);
    /// assert_eq!(builder.build().err(), Some(BuildError::DuplicateId("s".into())));
    /// ```
    pub fn build(self) -> Result<Topology, BuildError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        if !self.nodes.iter().any(|n| n.is_spout()) {
            return Err(BuildError::NoSpout);
        }
        let index: HashMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id(), i))
            .collect();
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut in_degree = vec![0usize; self.nodes.len()];
        for (c, node) in self.nodes.iter().enumerate() {
            let mut producers = HashSet::new();
            for input in node.inputs() {
                let Some(&p) = index.get(input.component.as_ref()) else {
                    return Err(BuildError::UnknownComponent {
                        consumer: node.id().to_string(),
                        producer: input.component.to_string(),
                    });
                };
                let Some((found_id, found)) = self.nodes[p].stream_type(&input.stream) else {
                    return Err(BuildError::UndeclaredStream {
                        consumer: node.id().to_string(),
                        producer: input.component.to_string(),
                        stream: input.stream.to_string(),
                    });
                };
                if found_id != input.type_id {
                    return Err(BuildError::TypeMismatch {
                        consumer: node.id().to_string(),
                        producer: input.component.to_string(),
                        stream: input.stream.to_string(),
                        expected: input.type_name,
                        found,
                    });
                }
                if producers.insert(p) {
                    consumers[p].push(c);
                    in_degree[c] += 1;
                }
            }
        }
        // Kahn's algorithm, in declaration order among ready components, so task placement is
        // deterministic.
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut ready: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| in_degree[i] == 0)
            .rev()
            .collect();
        while let Some(i) = ready.pop() {
            order.push(i);
            for &c in consumers[i].iter().rev() {
                in_degree[c] -= 1;
                if in_degree[c] == 0 {
                    ready.push(c);
                }
            }
        }
        if order.len() < self.nodes.len() {
            let cycle = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, _)| in_degree[*i] > 0)
                .map(|(_, n)| n.id().to_string())
                .collect();
            return Err(BuildError::Cycle(cycle));
        }
        let mut strategies = vec![None; self.nodes.len()];
        for (i, s) in self.strategies {
            if let Some(slot) = strategies.get_mut(i) {
                *slot = Some(s);
            }
        }
        Ok(Topology {
            name: self.name,
            nodes: self.nodes,
            order,
            strategies,
        })
    }
}

/// A validated topology, ready to run with [`crate::LocalCluster`].
pub struct Topology {
    pub(crate) name: String,
    pub(crate) nodes: Vec<Box<dyn Node>>,
    /// Node indexes in topological order (producers before consumers).
    pub(crate) order: Vec<usize>,
    /// Per component, a supervision strategy overriding `Config::supervision`'s.
    pub(crate) strategies: Vec<Option<Strategy>>,
}

impl Topology {
    /// The topology's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The components' ids and parallelism, producers before consumers.
    pub fn components(&self) -> Vec<(&str, usize)> {
        self.order
            .iter()
            .map(|&i| (self.nodes[i].id(), self.nodes[i].parallelism()))
            .collect()
    }
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
