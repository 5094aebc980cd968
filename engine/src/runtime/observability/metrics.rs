//! What a task measures about itself while it runs: `metrics` facade handles, execute latency,
//! capacity, and end-to-end latency with its per-second timeline.
//!
//! # Cost
//!
//! The executors call in here once per batch (and once per tuple only to record an end-to-end
//! latency sample into an HdrHistogram, a few nanoseconds). Execute latency is timed per batch,
//! two clock reads around the whole batch, and recorded as the batch's mean per tuple with the
//! batch's tuple count: a slow tuple inside a fast batch is smoothed, but timing every tuple
//! would cost two clock reads per tuple (~40 ns), as much as a simple bolt's work. The
//! `metrics` handles are registered once per task with their labels and then updated per batch
//! (an atomic add each).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use metrics::{Counter, Gauge, Label};

use super::latency_counts::LatencyCounts;
use super::live::LiveCounters;
use super::live_board::TaskSlot;
use super::run_report::DeadLetter;
use super::stats::new_histogram;
use crate::component::collector::origin_of;
use crate::report::metric_names as names;
use crate::report::Timeline;
use crate::runtime::actix::env::TaskEnv;

const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// Capacity is the busy fraction over windows of at least this length.
const CAPACITY_WINDOW: Duration = Duration::from_secs(1);

/// Labelled handles of one task, registered once.
struct Handles {
    emitted: Counter,
    executed: Counter,
    acked: Counter,
    failed: Counter,
    replayed: Counter,
    restarts: Counter,
    queue_depth: Gauge,
    capacity: Gauge,
    execute_latency: metrics::Histogram,
}

impl Handles {
    /// Registers the task's series; a spout has no executed, queue depth, capacity or execute
    /// latency series (no-op handles stand in for them).
    fn register(component: &str, task: usize, bolt: bool) -> Self {
        let labels = vec![
            Label::new(names::COMPONENT_LABEL, component.to_string()),
            Label::new(names::TASK_LABEL, task.to_string()),
        ];
        let counter = |name: &'static str| metrics::counter!(name, labels.clone());
        let mut handles = Handles {
            emitted: counter(names::EMITTED),
            executed: Counter::noop(),
            acked: counter(names::ACKED),
            failed: counter(names::FAILED),
            replayed: counter(names::REPLAYED),
            restarts: counter(names::RESTARTS),
            queue_depth: Gauge::noop(),
            capacity: Gauge::noop(),
            execute_latency: metrics::Histogram::noop(),
        };
        if bolt {
            handles.executed = counter(names::EXECUTED);
            handles.queue_depth = metrics::gauge!(names::QUEUE_DEPTH, labels.clone());
            handles.capacity = metrics::gauge!(names::CAPACITY, labels.clone());
            handles.execute_latency = metrics::histogram!(names::EXECUTE_LATENCY, labels);
        }
        handles
    }
}

/// What a task hands to the controller at its end, besides its counters.
pub(crate) struct Measured {
    /// End-to-end latency of the samples recorded in this task, in nanoseconds.
    pub latency: Histogram<u64>,
    /// The same samples by the second in which they were recorded.
    pub timeline: Timeline,
    /// Execute time per tuple (per-batch means), in nanoseconds.
    pub execute: Histogram<u64>,
}

/// One task's recorder.
pub(crate) struct TaskMetrics {
    /// `None` when `Config::metrics` is off.
    handles: Option<Handles>,
    live: Option<Arc<LiveCounters>>,
    /// This task's slot of live numbers, when the run has `Config::live`.
    slot: Option<Arc<TaskSlot>>,
    /// The output's `emitted` total when last reported.
    emitted_seen: u64,
    execute: Histogram<u64>,
    window_start: Instant,
    busy_in_window: Duration,
    latency: LatencyRecorder,
}

impl TaskMetrics {
    /// The recorder of a spout task.
    pub(crate) fn spout(env: &TaskEnv) -> Self {
        Self::new(env, false)
    }

    /// The recorder of a bolt task.
    pub(crate) fn bolt(env: &TaskEnv) -> Self {
        Self::new(env, true)
    }

    fn new(env: &TaskEnv, bolt: bool) -> Self {
        let handles = env
            .config
            .metrics
            .then(|| Handles::register(&env.ctx.component, env.ctx.task, bolt));
        let from = env
            .config
            .measure_from
            .map_or(1, |at| origin_of(env.epoch, at));
        let slot = env
            .config
            .live
            .as_ref()
            .map(|live| live.board().register(&env.ctx.component));
        TaskMetrics {
            handles,
            live: env.config.live.clone(),
            emitted_seen: 0,
            execute: new_histogram(),
            window_start: Instant::now(),
            busy_in_window: Duration::ZERO,
            latency: LatencyRecorder::new(from, slot.clone()),
            slot,
        }
    }

    /// Reports a spout task's emits since the last call, given its running total.
    pub(crate) fn spout_emitted(&mut self, total: u64) {
        let delta = self.take_emitted(total);
        if delta == 0 {
            return;
        }
        if let Some(live) = &self.live {
            live.add_spout_emitted(delta);
        }
        if let Some(slot) = &self.slot {
            slot.add_emitted(delta);
        }
        if let Some(h) = &self.handles {
            h.emitted.increment(delta);
        }
    }

    /// The clock read that starts timing a batch, if anything needs it.
    #[inline]
    pub(crate) fn batch_started(&self) -> Option<Instant> {
        self.handles.as_ref().map(|_| Instant::now())
    }

    /// A bolt task executed `tuples` tuples of one batch, timed from `started`; its output has
    /// emitted `emitted_total` tuples in all and `queue_depth` batches wait in its inbox.
    pub(crate) fn batch_done(
        &mut self,
        started: Option<Instant>,
        tuples: u64,
        emitted_total: u64,
        queue_depth: usize,
    ) {
        if let Some(live) = &self.live {
            live.add_executed(tuples);
        }
        let emitted = self.take_emitted(emitted_total);
        if let Some(slot) = &self.slot {
            slot.add_executed(tuples);
            slot.add_emitted(emitted);
            slot.set_queue_depth(queue_depth);
        }
        let (Some(h), Some(started)) = (&self.handles, started) else {
            return;
        };
        let now = Instant::now();
        let busy = now.saturating_duration_since(started);
        h.executed.increment(tuples);
        h.emitted.increment(emitted);
        h.queue_depth.set(queue_depth as f64);
        if tuples > 0 {
            let per_tuple = busy / u32::try_from(tuples).unwrap_or(u32::MAX);
            h.execute_latency.record(per_tuple.as_secs_f64());
            let ns = u64::try_from(per_tuple.as_nanos()).unwrap_or(u64::MAX);
            if self.execute.record_n(ns, tuples).is_err() {
                self.execute.saturating_record_n(ns, tuples);
            }
        }
        self.busy_in_window += busy;
        let window = now.saturating_duration_since(self.window_start);
        if window >= CAPACITY_WINDOW {
            let capacity = self.busy_in_window.as_secs_f64() / window.as_secs_f64();
            h.capacity.set(capacity);
            if let Some(slot) = &self.slot {
                slot.set_capacity(capacity);
                slot.set_execute(&self.execute);
            }
            self.window_start = now;
            self.busy_in_window = Duration::ZERO;
        }
    }

    /// Records an end-to-end latency sample: a tuple with `origin` completes at `now` (both
    /// nanoseconds since the run's epoch). Samples from before `Config::measure_from` are
    /// left out.
    #[inline]
    pub(crate) fn record_latency(&mut self, now: u64, origin: u64) {
        self.latency.record(now, origin);
    }

    /// Counts tuple trees completed, failed and replayed, and restarts (for the acking and
    /// supervision runtime).
    pub(crate) fn add_outcomes(&mut self, acked: u64, failed: u64, replayed: u64, restarts: u64) {
        if let (Some(live), true) = (&self.live, replayed > 0) {
            live.add_replayed(replayed);
        }
        if let Some(slot) = &self.slot {
            slot.add_outcomes(acked, failed, replayed, restarts);
        }
        if let Some(h) = &self.handles {
            h.acked.increment(acked);
            h.failed.increment(failed);
            h.replayed.increment(replayed);
            h.restarts.increment(restarts);
        }
    }

    /// Shows tuples given up on to the run's watchers.
    pub(crate) fn dead_letters(&self, letters: &[DeadLetter]) {
        if let (Some(live), false) = (&self.live, letters.is_empty()) {
            live.board().add_dead_letters(letters);
        }
    }

    /// The task's measurements, leaving empty ones behind.
    pub(crate) fn finish(&mut self, emitted_total: u64) -> Measured {
        let emitted = self.take_emitted(emitted_total);
        if let Some(slot) = &self.slot {
            slot.add_emitted(emitted);
            slot.set_queue_depth(0);
            slot.set_execute(&self.execute);
        }
        if let Some(h) = &self.handles {
            h.emitted.increment(emitted);
            h.queue_depth.set(0.0);
        }
        let (latency, timeline) = self.latency.finish();
        Measured {
            latency,
            timeline,
            execute: std::mem::replace(&mut self.execute, new_histogram()),
        }
    }

    fn take_emitted(&mut self, total: u64) -> u64 {
        let delta = total.saturating_sub(self.emitted_seen);
        self.emitted_seen = total;
        delta
    }
}

/// End-to-end latency samples of one task, kept by the second in which they were recorded;
/// the task's whole histogram is the sum of its seconds, so each sample is recorded once.
struct LatencyRecorder {
    /// Samples with an earlier origin are warm-up and left out.
    from: u64,
    second: u64,
    /// `[second_start, second_end)` in nanoseconds: `current` holds samples recorded then
    /// (two comparisons per sample instead of a division).
    second_start: u64,
    second_end: u64,
    /// This second's samples.
    current: LatencyCounts,
    /// This second's samples too long for `current` (over 18 minutes).
    overflow: Histogram<u64>,
    timeline: Timeline,
    /// Where each finished second is also published for watchers.
    slot: Option<Arc<TaskSlot>>,
}

impl LatencyRecorder {
    fn new(from: u64, slot: Option<Arc<TaskSlot>>) -> Self {
        LatencyRecorder {
            from: from.max(1),
            second: 0,
            second_start: 0,
            second_end: NANOS_PER_SECOND,
            current: LatencyCounts::default(),
            overflow: new_histogram(),
            timeline: Timeline::new(),
            slot,
        }
    }

    #[inline]
    fn record(&mut self, now: u64, origin: u64) {
        if origin < self.from {
            return;
        }
        if now >= self.second_end || now < self.second_start {
            self.roll();
            self.second = now / NANOS_PER_SECOND;
            self.second_start = self.second * NANOS_PER_SECOND;
            self.second_end = self.second_start.saturating_add(NANOS_PER_SECOND);
        }
        self.current
            .record(now.saturating_sub(origin), &mut self.overflow);
    }

    fn roll(&mut self) {
        if !self.current.is_empty() || !self.overflow.is_empty() {
            let mut second = std::mem::replace(&mut self.overflow, new_histogram());
            self.current.drain_into(&mut second);
            if let Some(slot) = &self.slot {
                slot.add_latency(&second);
            }
            self.timeline.add_histogram(self.second, &second);
        }
    }

    fn finish(&mut self) -> (Histogram<u64>, Timeline) {
        self.roll();
        let timeline = std::mem::take(&mut self.timeline);
        (timeline.total(), timeline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn warm_up_samples_are_left_out_and_seconds_add_up() {
        let mut r = LatencyRecorder::new(500 * MS, None);
        r.record(600 * MS, 100 * MS); // warm-up: origin before 500 ms
        r.record(900 * MS, 600 * MS);
        r.record(1_200 * MS, 700 * MS);
        r.record(1_300 * MS, 1_200 * MS);
        r.record(3_000 * MS, 2_990 * MS);
        let (total, timeline) = r.finish();
        assert_eq!(total.len(), 4);
        assert_eq!(timeline.histogram(0).map(Histogram::len), Some(1));
        assert_eq!(timeline.histogram(1).map(Histogram::len), Some(2));
        assert_eq!(timeline.histogram(3).map(Histogram::len), Some(1));
        assert!(total.max() >= 500 * MS - MS);
    }
}
