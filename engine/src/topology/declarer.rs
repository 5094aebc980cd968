//! Subscribing a bolt to its inputs: the groupings and per-bolt
//! supervision a [`BoltDeclarer`] sets.

use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use super::builder::TopologyBuilder;
use super::grouping::{key_hash, CustomGrouping, Group, Grouping};
use super::stream::Stream;
use crate::component::{Bolt, Tuple};
use crate::runtime::{BoltNode, Convert, Subscription};
use crate::Strategy;

/// Subscribes a bolt to its inputs; returned by [`TopologyBuilder::set_bolt`].
///
/// Every grouping method takes a typed stream whose tuple type must be the bolt's `Input`.
pub struct BoltDeclarer<'a, B: Bolt> {
    pub(super) builder: &'a mut TopologyBuilder,
    pub(super) index: Option<usize>,
    pub(super) id: Arc<str>,
    _bolt: PhantomData<fn() -> B>,
}

impl<'a, B: Bolt> BoltDeclarer<'a, B> {
    /// Declares subscriptions of the bolt at declaration `index` (`None`: a rejected
    /// declaration, whose subscriptions go nowhere).
    pub(super) fn new(builder: &'a mut TopologyBuilder, index: Option<usize>, id: &str) -> Self {
        BoltDeclarer {
            builder,
            index,
            id: id.into(),
            _bolt: PhantomData,
        }
    }
}

impl<B: Bolt> BoltDeclarer<'_, B> {
    fn subscribe(self, stream: &Stream<B::Input>, grouping: Grouping<B::Input>) -> Self {
        self.subscribe_as(stream, grouping, None)
    }

    fn subscribe_as<X: Tuple>(
        self,
        stream: &Stream<X>,
        grouping: Grouping<X>,
        convert: Option<Convert<X, B::Input>>,
    ) -> Self {
        if let Some(node) = self.index.and_then(|i| {
            self.builder.nodes[i]
                .as_any_mut()
                .downcast_mut::<BoltNode<B>>()
        }) {
            node.inputs.push(Subscription::new(
                stream.component.clone(),
                stream.stream.clone(),
                grouping,
                convert,
            ));
        }
        self
    }

    /// Subscribes to a stream of another type than the bolt's input: `convert` turns each
    /// tuple into the input as it arrives. This is how a bolt consumes several differently
    /// typed inputs (a join) while each producer emits its own type: see
    /// [`crate::component::TwoInputs`], whose `left` and `right` use it.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, TopologyBuilder};
    /// use squall::component::VecSpout;
    /// use squall::Group;
    ///
    /// /// Takes numbers, and words (counted by their length).
    /// struct Lengths;
    /// impl Bolt for Lengths {
    ///     type Input = u64;
    ///     type Output = ();
    ///     fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
    ///         Ok(())
    ///     }
    /// }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || VecSpout::new(vec![1u64, 2]));
    /// let words = builder.set_spout("words", 1, || VecSpout::new(vec!["three".to_string()]));
    /// builder
    ///     .set_bolt("lengths", 2, || Lengths)
    ///     .shuffle_grouping(&numbers)
    ///     .input_with(&words, Group::shuffle(), |w: String| w.len() as u64);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn input_with<X: Tuple>(
        self,
        stream: &Stream<X>,
        grouping: Group<X>,
        convert: impl Fn(X) -> B::Input + Send + Sync + 'static,
    ) -> Self {
        self.subscribe_as(stream, grouping.0, Some(Arc::new(convert)))
    }

    /// Tuples are spread round-robin over the bolt's tasks.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = u64;
    /// #     fn execute(&mut self, n: u64, o: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> { o.emit(n); Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || S);
    /// let relayed = builder.set_bolt("relay", 3, || B).shuffle_grouping(&numbers).stream();
    /// builder.set_bolt("again", 2, || B).shuffle_grouping(&relayed);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn shuffle_grouping(self, stream: &Stream<B::Input>) -> Self {
        self.subscribe(stream, Grouping::Shuffle)
    }

    /// Tuples with the same key (the closure's result) always reach the same task.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// # struct Reading { sensor: u32, value: f64 }
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = Reading;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, Reading>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = Reading;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: Reading, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let readings = builder.set_spout("readings", 1, || S);
    /// builder.set_bolt("per-sensor", 4, || B).fields_grouping(&readings, |r: &Reading| r.sensor);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn fields_grouping<K, F>(self, stream: &Stream<B::Input>, key: F) -> Self
    where
        K: Hash,
        F: Fn(&B::Input) -> K + Send + Sync + 'static,
    {
        self.subscribe(
            stream,
            Grouping::Fields(Arc::new(move |t| key_hash(&key(t)))),
        )
    }

    /// Every task receives every tuple.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let config_updates = builder.set_spout("updates", 1, || S);
    /// builder.set_bolt("everyone", 3, || B).all_grouping(&config_updates);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn all_grouping(self, stream: &Stream<B::Input>) -> Self {
        self.subscribe(stream, Grouping::All)
    }

    /// Every tuple goes to the bolt's lowest-indexed task.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let totals = builder.set_spout("totals", 2, || S);
    /// builder.set_bolt("grand-total", 1, || B).global_grouping(&totals);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn global_grouping(self, stream: &Stream<B::Input>) -> Self {
        self.subscribe(stream, Grouping::Global)
    }

    /// The producer chooses the task with `emit_direct`; plain `emit` does not reach this bolt.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
    /// #         out.emit_direct(1, 7)?;
    /// #         Ok(())
    /// #     }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let chosen = builder.set_spout("chooser", 1, || S);
    /// builder.set_bolt("target", 2, || B).direct_grouping(&chosen);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn direct_grouping(self, stream: &Stream<B::Input>) -> Self {
        self.subscribe(stream, Grouping::Direct)
    }

    /// Like shuffle, but only over the tasks on the producer task's own worker when it has any:
    /// no cross-thread hop.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 2, || S);
    /// builder.set_bolt("nearby", 2, || B).local_or_shuffle_grouping(&numbers);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_or_shuffle_grouping(self, stream: &Stream<B::Input>) -> Self {
        self.subscribe(stream, Grouping::LocalOrShuffle)
    }

    /// Each key goes to one of two candidate tasks, whichever this producer task has sent fewer
    /// tuples: hot keys are split over two tasks (so the bolt must merge partial results).
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = String;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, String>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = String;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: String, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let words = builder.set_spout("words", 1, || S);
    /// builder.set_bolt("partial-counts", 4, || B).partial_key_grouping(&words, |w: &String| w.clone());
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn partial_key_grouping<K, F>(self, stream: &Stream<B::Input>, key: F) -> Self
    where
        K: Hash,
        F: Fn(&B::Input) -> K + Send + Sync + 'static,
    {
        self.subscribe(
            stream,
            Grouping::PartialKey(Arc::new(move |t| key_hash(&key(t)))),
        )
    }

    /// A user-defined grouping; each producer task uses its own clone of `grouping`.
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, CustomGrouping, Spout, SpoutCollector, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// #[derive(Clone)]
    /// struct EvenOdd;
    /// impl CustomGrouping<u64> for EvenOdd {
    ///     fn choose_tasks(&mut self, n: &u64, tasks: usize, out: &mut Vec<usize>) {
    ///         out.push((*n % 2) as usize % tasks);
    ///     }
    /// }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || S);
    /// builder.set_bolt("parity", 2, || B).custom_grouping(&numbers, EvenOdd);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn custom_grouping<G>(self, stream: &Stream<B::Input>, grouping: G) -> Self
    where
        G: CustomGrouping<B::Input> + Clone + Sync,
    {
        self.subscribe(
            stream,
            Grouping::Custom(Arc::new(move || {
                Box::new(grouping.clone()) as Box<dyn CustomGrouping<B::Input>>
            })),
        )
    }

    /// Restarts this bolt's failed tasks with `strategy` instead of the run's
    /// (`Config::supervision`).
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, Strategy, TopologyBuilder};
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct B;
    /// # impl Bolt for B {
    /// #     type Input = u64;
    /// #     type Output = u64;
    /// #     fn execute(&mut self, n: u64, o: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> { o.emit(n); Ok(()) }
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || S);
    /// builder
    ///     .set_bolt("join", 2, || B)
    ///     .shuffle_grouping(&numbers)
    ///     .supervision_strategy(Strategy::RestForOne);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn supervision_strategy(self, strategy: Strategy) -> Self {
        if let Some(i) = self.index {
            self.builder.strategies.push((i, strategy));
        }
        self
    }
}
