//! A bolt over two differently typed inputs, each producer emitting its own type.

use serde::{Deserialize, Serialize};

use super::{Bolt, BoltCollector, State, TaskContext, Tuple};
use crate::topology::{BoltDeclarer, Group, Stream};
use crate::ComponentError;

/// One input of a [`TwoInputs`] bolt: which side it came from. The runtime builds it as the
/// tuple arrives; producers never see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Either<L, R> {
    /// From a stream subscribed with [`BoltDeclarer::left`].
    Left(L),
    /// From a stream subscribed with [`BoltDeclarer::right`].
    Right(R),
}

/// A bolt with two inputs of different types (a join of orders and payments): one `execute`
/// per side. Run it with [`TwoInputs`] and subscribe each side with
/// [`BoltDeclarer::left`] and [`BoltDeclarer::right`]; a stream of the wrong type for a side
/// does not compile.
///
/// ```
/// use squall::component::{Collect, TwoInputBolt, TwoInputs, VecSpout};
/// use squall::{BoltCollector, ComponentError, Config, Group, LocalCluster, TopologyBuilder};
///
/// /// Prices (item, cents) joined with names (item, name), both keyed by item.
/// #[derive(Default)]
/// struct Label { prices: Vec<(u32, u64)>, names: Vec<(u32, String)> }
/// impl TwoInputBolt for Label {
///     type Left = (u32, u64);
///     type Right = (u32, String);
///     type Output = String;
///     fn execute_left(&mut self, p: (u32, u64), out: &mut BoltCollector<'_, String>) -> Result<(), ComponentError> {
///         self.names.iter().filter(|n| n.0 == p.0).for_each(|n| out.emit(format!("{} {}", n.1, p.1)));
///         self.prices.push(p);
///         Ok(())
///     }
///     fn execute_right(&mut self, n: (u32, String), out: &mut BoltCollector<'_, String>) -> Result<(), ComponentError> {
///         self.prices.iter().filter(|p| p.0 == n.0).for_each(|p| out.emit(format!("{} {}", n.1, p.1)));
///         self.names.push(n);
///         Ok(())
///     }
/// }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let got = Collect::<String>::new();
/// let sink = got.clone();
/// let mut b = TopologyBuilder::new("label");
/// let prices = b.set_spout("prices", 1, || VecSpout::new(vec![(1u32, 250u64), (2, 100)]));
/// let names = b.set_spout("names", 1, || VecSpout::new(vec![(1u32, "tea".to_string())]));
/// let labels = b
///     .set_bolt("label", 2, || TwoInputs(Label::default()))
///     .left(&prices, Group::fields(|p: &(u32, u64)| p.0))
///     .right(&names, Group::fields(|n: &(u32, String)| n.0))
///     .stream();
/// b.set_bolt("sink", 1, move || sink.clone()).shuffle_grouping(&labels);
/// LocalCluster::new(Config::default()).run(b.build()?)?;
/// assert_eq!(got.items(), vec!["tea 250".to_string()]);
/// # Ok(())
/// # }
/// ```
pub trait TwoInputBolt: 'static {
    /// The left input's type.
    type Left: Tuple;
    /// The right input's type.
    type Right: Tuple;
    /// What the bolt emits.
    type Output: Tuple;

    /// As [`Bolt::prepare`].
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let _ = ctx;
        Ok(())
    }

    /// Processes a left tuple.
    fn execute_left(
        &mut self,
        input: Self::Left,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;

    /// Processes a right tuple.
    fn execute_right(
        &mut self,
        input: Self::Right,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;

    /// As [`Bolt::finish`].
    fn finish(&mut self, out: &mut BoltCollector<'_, Self::Output>) -> Result<(), ComponentError> {
        let _ = out;
        Ok(())
    }

    /// As [`Bolt::on_watermark`]: the minimum over both sides.
    fn on_watermark(
        &mut self,
        watermark: u64,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError> {
        let _ = (watermark, out);
        Ok(())
    }

    /// As [`Bolt::snapshot`].
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(None)
    }

    /// As [`Bolt::restore`].
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let _ = state;
        Ok(())
    }
}

/// Runs a [`TwoInputBolt`] as a [`Bolt`] whose input is [`Either`] side.
pub struct TwoInputs<B>(pub B);

impl<B: TwoInputBolt> Bolt for TwoInputs<B> {
    type Input = Either<B::Left, B::Right>;
    type Output = B::Output;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.0.prepare(ctx)
    }

    fn execute(
        &mut self,
        input: Self::Input,
        out: &mut BoltCollector<'_, B::Output>,
    ) -> Result<(), ComponentError> {
        match input {
            Either::Left(l) => self.0.execute_left(l, out),
            Either::Right(r) => self.0.execute_right(r, out),
        }
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, B::Output>) -> Result<(), ComponentError> {
        self.0.finish(out)
    }

    fn on_watermark(
        &mut self,
        watermark: u64,
        out: &mut BoltCollector<'_, B::Output>,
    ) -> Result<(), ComponentError> {
        self.0.on_watermark(watermark, out)
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.0.snapshot()
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.0.restore(state)
    }
}

impl<L: Tuple, R: Tuple, B> BoltDeclarer<'_, B>
where
    B: Bolt<Input = Either<L, R>>,
{
    /// Subscribes the left side to `stream` with `grouping`.
    pub fn left(self, stream: &Stream<L>, grouping: Group<L>) -> Self {
        self.input_with(stream, grouping, Either::Left)
    }

    /// Subscribes the right side to `stream` with `grouping`.
    pub fn right(self, stream: &Stream<R>, grouping: Group<R>) -> Self {
        self.input_with(stream, grouping, Either::Right)
    }
}
