//! The window operator: a [`WindowedBolt`] run as a [`Bolt`] by [`Windowed`].

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::assign::{last_end, windows_of, WindowRange};
use super::spec::{TimeDomain, WindowSpec};
use crate::component::{Bolt, BoltCollector, State, TaskContext, Tuple};
use crate::{ComponentError, Guarantee, StreamTag};

/// A bolt over windows of its input (Storm's `BaseWindowedBolt`, Flink's window function
/// with an incremental aggregate). Each window keeps an accumulator: [`WindowedBolt::add`]
/// folds every tuple of the window into it (an `Acc` of `Vec<Input>` keeps the window's
/// tuples whole), and [`WindowedBolt::fire`] emits the window's result.
///
/// Run it with [`Windowed::new`], which makes it a [`Bolt`]:
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use squall::window::{WindowRange, WindowSpec, Windowed, WindowedBolt};
/// use squall::{BoltCollector, ComponentError};
///
/// /// Counts clicks per page in each window.
/// struct PageCounts;
/// impl WindowedBolt for PageCounts {
///     type Input = (u64, String);
///     type Output = (WindowRange, String, u64);
///     type Acc = BTreeMap<String, u64>;
///     fn add(&mut self, acc: &mut Self::Acc, (_, page): &(u64, String)) {
///         *acc.entry(page.clone()).or_default() += 1;
///     }
///     fn fire(&mut self, w: WindowRange, acc: &Self::Acc, _update: bool,
///             out: &mut BoltCollector<'_, Self::Output>) -> Result<(), ComponentError> {
///         acc.iter().for_each(|(page, n)| out.emit((w, page.clone(), *n)));
///         Ok(())
///     }
///     fn late(&mut self, click: (u64, String), _: &mut BoltCollector<'_, Self::Output>)
///         -> Result<(), ComponentError> {
///         eprintln!("late click {click:?}");
///         Ok(())
///     }
/// }
/// let spec = WindowSpec::tumbling(Duration::from_secs(60)).event_time(|c: &(u64, String)| c.0);
/// let bolt = Windowed::new(PageCounts, spec);
/// # let _ = bolt;
/// ```
pub trait WindowedBolt: 'static {
    /// The tuples windowed.
    type Input: Tuple;
    /// What firing emits.
    type Output: Tuple;
    /// One window's accumulator: checkpointed with the window (exactly-once and at-least-once).
    type Acc: Serialize + DeserializeOwned + Default + 'static;

    /// Called once on the task before any tuple.
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let _ = ctx;
        Ok(())
    }

    /// Folds `input` into the accumulator of one of its windows (once per window).
    fn add(&mut self, acc: &mut Self::Acc, input: &Self::Input);

    /// Window `window` is complete (its end passed the watermark, or the input ended):
    /// emit its result. `update` is true when the window fired before and a tuple within the
    /// allowed lateness changed it: emit the whole updated result again.
    fn fire(
        &mut self,
        window: WindowRange,
        acc: &Self::Acc,
        update: bool,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;

    /// A tuple that arrived after every window holding it closed (its end plus the allowed
    /// lateness passed the watermark): it is in no window. Required, so no late tuple is ever
    /// dropped silently: log it, count it, or emit it on a stream of your own. Not called when
    /// [`Windowed::late_stream`] sends late tuples to a typed stream (Storm's
    /// `withLateTupleStream`, Flink's `sideOutputLateData`).
    fn late(
        &mut self,
        input: Self::Input,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;
}

/// The windows a task holds, checkpointed as its state.
#[derive(Serialize, Deserialize)]
struct Windows<A> {
    /// Open windows by ascending start: the accumulator, and whether it fired already. A
    /// deque, not a map: few windows are open at a time and a tuple almost always belongs to
    /// the newest, so a search from the back beats a tree.
    open: VecDeque<(u64, A, bool)>,
    /// The watermark (event time), the clock (processing time), or tuples seen (count).
    now: u64,
}

/// Runs a [`WindowedBolt`] as a [`Bolt`]: assigns each tuple to its windows, fires them as
/// time passes, and hands late tuples to [`WindowedBolt::late`].
///
/// - Event time: windows fire when the task's watermark (see [`crate::Bolt::on_watermark`])
///   reaches their end, and close, dropping their contents, when it reaches their end plus
///   the allowed lateness; a tuple whose every window closed is late.
/// - Processing time: the clock is the wall clock (milliseconds since the Unix epoch) read on
///   arrival and on ticks; nothing is ever late.
/// - Count: tuple n of the task is at time n; a window fires when it holds its last tuple.
///
/// When the input ends every open window fires. The open windows are the bolt's state: under
/// exactly-once they are checkpointed and restored, so results are exact under failures.
/// Under at-least-once they are checkpointed too and the inputs acked once a checkpoint holds
/// them, not when they leave the window as in Storm: the spouts hold their watermark behind
/// every unacked tuple, so a replayed tuple is never late and no count falls short.
pub struct Windowed<W: WindowedBolt> {
    bolt: W,
    spec: WindowSpec<W::Input>,
    windows: Windows<W::Acc>,
    /// Checkpoint the windows (not under at-most-once).
    stateful: bool,
    /// Where late tuples go instead of [`WindowedBolt::late`].
    late_stream: Option<StreamTag<W::Input>>,
}

impl<W: WindowedBolt> Windowed<W> {
    /// `bolt` over the windows of `spec`.
    pub fn new(bolt: W, spec: WindowSpec<W::Input>) -> Self {
        Windowed {
            bolt,
            spec,
            windows: Windows {
                open: VecDeque::new(),
                now: 0,
            },
            stateful: true,
            late_stream: None,
        }
    }

    /// Sends late tuples, whole, on the named stream `tag` (Storm's `withLateTupleStream`,
    /// Flink's `sideOutputLateData`) instead of handing them to [`WindowedBolt::late`].
    /// Declare the stream on the bolt with [`crate::BoltDeclarer::declare_stream`]: it is a
    /// `Stream<Input>`, whatever the windows emit, and its tuples are anchored, checkpointed
    /// and watermarked like any other emit.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use squall::window::{WindowRange, WindowSpec, Windowed, WindowedBolt, Watermarks};
    /// # use squall::{Bolt, BoltCollector, ComponentError, TopologyBuilder};
    /// use squall::component::{Collect, VecSpout};
    /// use squall::StreamTag;
    ///
    /// /// Clicks that came too late for their window: (timestamp, page).
    /// const LATE: StreamTag<(u64, String)> = StreamTag::new("late");
    /// # struct Count;
    /// # impl WindowedBolt for Count {
    /// #     type Input = (u64, String);
    /// #     type Output = (WindowRange, u64);
    /// #     type Acc = u64;
    /// #     fn add(&mut self, acc: &mut u64, _: &(u64, String)) { *acc += 1; }
    /// #     fn fire(&mut self, w: WindowRange, acc: &u64, _: bool, out: &mut BoltCollector<'_, (WindowRange, u64)>)
    /// #         -> Result<(), ComponentError> { out.emit((w, *acc)); Ok(()) }
    /// #     fn late(&mut self, _: (u64, String), _: &mut BoltCollector<'_, (WindowRange, u64)>)
    /// #         -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let clicks = builder.set_spout("clicks", 1, || VecSpout::new(vec![(5u64, "a".to_string())]));
    /// builder.set_watermarks(&clicks, Watermarks::bounded(1_000, |c: &(u64, String)| c.0));
    /// let spec = WindowSpec::tumbling(Duration::from_secs(60)).event_time(|c: &(u64, String)| c.0);
    /// let mut counts = builder
    ///     .set_bolt("counts", 2, move || Windowed::new(Count, spec.clone()).late_stream(LATE))
    ///     .fields_grouping(&clicks, |c: &(u64, String)| c.1.clone());
    /// let late = counts.declare_stream(&LATE); // a Stream<(u64, String)>
    /// let sink = Collect::<(u64, String)>::new();
    /// builder.set_bolt("late-clicks", 1, move || sink.clone()).global_grouping(&late);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn late_stream(mut self, tag: StreamTag<W::Input>) -> Self {
        self.late_stream = Some(tag);
        self
    }

    /// The windowed bolt.
    pub fn inner(&self) -> &W {
        &self.bolt
    }

    /// Adds `input` at time `ts` to its open windows; fires again the ones that fired
    /// already (a late update); hands it to `late` when every window of it has closed.
    fn add(
        &mut self,
        ts: u64,
        input: W::Input,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        let (size, slide, lateness) = (self.spec.size, self.spec.slide, self.spec.lateness);
        let now = self.windows.now;
        let Some(last) = last_end(ts, size, slide) else {
            // In a gap between windows (slide > size): in no window, so counted nowhere;
            // handed on as late rather than dropped.
            return self.late(input, out);
        };
        if last.saturating_add(lateness) <= now && now > 0 {
            return self.late(input, out);
        }
        if size == slide {
            // Tumbling: the one window, without the general assignment.
            let start = ts - ts % size;
            let w = WindowRange {
                start,
                end: start.saturating_add(size),
            };
            return self.add_to(w, &input, out);
        }
        for w in windows_of(ts, size, slide) {
            if w.end.saturating_add(lateness) <= now && now > 0 {
                continue; // Closed; a later window of the tuple is open.
            }
            self.add_to(w, &input, out)?;
        }
        Ok(())
    }

    /// A late tuple: on the late stream when there is one, else to the bolt's `late`.
    fn late(
        &mut self,
        input: W::Input,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        match &self.late_stream {
            Some(tag) => Ok(out.emit_to(tag, input)?),
            None => self.bolt.late(input, out),
        }
    }

    /// Folds `input` into window `w`, opening it; fires it again if it fired already.
    #[inline]
    fn add_to(
        &mut self,
        w: WindowRange,
        input: &W::Input,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        let open = &mut self.windows.open;
        // The position of the window, or where it goes, searching from the newest.
        let mut at = open.len();
        while at > 0 && open[at - 1].0 > w.start {
            at -= 1;
        }
        if at == 0 || open[at - 1].0 != w.start {
            open.insert(at, (w.start, W::Acc::default(), false));
            at += 1;
        }
        let (_, acc, fired) = &mut open[at - 1];
        self.bolt.add(acc, input);
        if *fired {
            self.bolt.fire(w, acc, true, out)?;
        }
        Ok(())
    }

    /// Time moved to `now`: fires the windows that ended, drops the ones that closed.
    fn advance(
        &mut self,
        now: u64,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        if now <= self.windows.now {
            return Ok(());
        }
        self.windows.now = now;
        let (size, lateness) = (self.spec.size, self.spec.lateness);
        for (start, acc, fired) in self.windows.open.iter_mut() {
            let start = *start;
            let end = start.saturating_add(size);
            if end > now {
                break;
            }
            if !*fired {
                *fired = true;
                self.bolt
                    .fire(WindowRange { start, end }, acc, false, out)?;
            }
        }
        self.windows
            .open
            .retain(|(start, _, _)| start.saturating_add(size).saturating_add(lateness) > now);
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<W: WindowedBolt> Bolt for Windowed<W> {
    type Input = W::Input;
    type Output = W::Output;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.stateful = ctx.guarantee != Guarantee::AtMostOnce;
        self.bolt.prepare(ctx)
    }

    fn execute(
        &mut self,
        input: W::Input,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        match &self.spec.time {
            TimeDomain::Event(ts) => {
                let ts = ts(&input);
                self.add(ts, input, out)
            }
            TimeDomain::Processing => {
                let now = wall_clock_ms();
                self.advance(now, out)?;
                self.add(now, input, out)
            }
            TimeDomain::Count => {
                let n = self.windows.now;
                self.add(n, input, out)?;
                // The tuple at n completes the windows ending at n + 1.
                self.advance(n + 1, out)
            }
        }
    }

    fn tick_interval(&self) -> Option<Duration> {
        match self.spec.time {
            TimeDomain::Processing => Some(Duration::from_millis(self.spec.slide.clamp(1, 100))),
            _ => None,
        }
    }

    fn on_tick(&mut self, out: &mut BoltCollector<'_, W::Output>) -> Result<(), ComponentError> {
        if let TimeDomain::Processing = self.spec.time {
            self.advance(wall_clock_ms(), out)?;
        }
        Ok(())
    }

    fn on_watermark(
        &mut self,
        watermark: u64,
        out: &mut BoltCollector<'_, W::Output>,
    ) -> Result<(), ComponentError> {
        if let TimeDomain::Event(_) = self.spec.time {
            self.advance(watermark, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, W::Output>) -> Result<(), ComponentError> {
        let size = self.spec.size;
        for (start, acc, fired) in std::mem::take(&mut self.windows.open) {
            if !fired {
                let end = start.saturating_add(size);
                self.bolt
                    .fire(WindowRange { start, end }, &acc, false, out)?;
            }
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        if !self.stateful {
            return Ok(None);
        }
        Ok(Some(State::encode(&self.windows)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.windows = state.decode()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
