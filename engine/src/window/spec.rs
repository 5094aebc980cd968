//! What a windowed bolt's windows are: their size and slide, by count or time, and the time
//! they are measured in.

use std::time::Duration;

use super::watermarks::TimestampFn;

/// The time windows are measured in.
pub enum TimeDomain<T> {
    /// Wall-clock milliseconds when the tuple reaches the window operator; windows fire on
    /// the operator's ticks.
    Processing,
    /// The tuple's own timestamp; windows fire when the watermark passes their end.
    Event(TimestampFn<T>),
    /// Arrival order at the task: tuple n (from 0) is at "time" n (count windows).
    Count,
}

impl<T> Clone for TimeDomain<T> {
    fn clone(&self) -> Self {
        match self {
            TimeDomain::Processing => TimeDomain::Processing,
            TimeDomain::Event(f) => TimeDomain::Event(f.clone()),
            TimeDomain::Count => TimeDomain::Count,
        }
    }
}

/// The windows of a [`crate::window::Windowed`] bolt: `[start, start + size)` for every
/// `start` a multiple of `slide` (tumbling when slide = size), in milliseconds for time
/// windows and in tuples for count windows.
///
/// ```
/// use std::time::Duration;
/// use squall::window::WindowSpec;
///
/// let by_time: WindowSpec<(u64, String)> =
///     WindowSpec::sliding(Duration::from_secs(10), Duration::from_secs(5))
///         .event_time(|t: &(u64, String)| t.0)
///         .lateness(Duration::from_secs(2));
/// assert_eq!((by_time.size(), by_time.slide(), by_time.lateness_ms()), (10_000, 5_000, 2_000));
/// let by_count: WindowSpec<String> = WindowSpec::tumbling_count(100);
/// assert_eq!(by_count.size(), 100);
/// ```
pub struct WindowSpec<T> {
    pub(crate) size: u64,
    pub(crate) slide: u64,
    pub(crate) time: TimeDomain<T>,
    pub(crate) lateness: u64,
}

impl<T> WindowSpec<T> {
    /// Tumbling time windows of `size`, in processing time until [`WindowSpec::event_time`].
    pub fn tumbling(size: Duration) -> Self {
        Self::sliding(size, size)
    }

    /// Sliding time windows of `size` every `slide`, in processing time until
    /// [`WindowSpec::event_time`]. A slide longer than the size leaves gaps: a tuple in a gap
    /// belongs to no window, so, as a tuple whose every window has closed, it goes to
    /// [`crate::window::WindowedBolt::late`].
    pub fn sliding(size: Duration, slide: Duration) -> Self {
        WindowSpec {
            size: millis(size).max(1),
            slide: millis(slide).max(1),
            time: TimeDomain::Processing,
            lateness: 0,
        }
    }

    /// Tumbling count windows of `n` tuples (per task).
    pub fn tumbling_count(n: u64) -> Self {
        Self::sliding_count(n, n)
    }

    /// Count windows of the last `n` tuples every `slide` tuples (per task), Storm's sliding
    /// count window; the first windows hold fewer than `n`.
    pub fn sliding_count(n: u64, slide: u64) -> Self {
        WindowSpec {
            size: n.max(1),
            slide: slide.max(1),
            time: TimeDomain::Count,
            lateness: 0,
        }
    }

    /// Time windows in event time, each tuple's timestamp (milliseconds) read by `extract`.
    /// The spouts upstream must generate watermarks
    /// ([`crate::TopologyBuilder::set_watermarks`]), or windows fire only at the end.
    pub fn event_time(mut self, extract: impl Fn(&T) -> u64 + Send + Sync + 'static) -> Self {
        if !matches!(self.time, TimeDomain::Count) {
            self.time = TimeDomain::Event(std::sync::Arc::new(extract));
        }
        self
    }

    /// Allowed lateness: a window fired when the watermark passed its end stays open this
    /// much longer, and every tuple that still reaches it fires it again with the update.
    pub fn lateness(mut self, lateness: Duration) -> Self {
        self.lateness = millis(lateness);
        self
    }

    /// The window size (ms or tuples).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The slide (ms or tuples).
    pub fn slide(&self) -> u64 {
        self.slide
    }

    /// The allowed lateness in milliseconds.
    pub fn lateness_ms(&self) -> u64 {
        self.lateness
    }
}

impl<T> Clone for WindowSpec<T> {
    fn clone(&self) -> Self {
        WindowSpec {
            size: self.size,
            slide: self.slide,
            time: self.time.clone(),
            lateness: self.lateness,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
