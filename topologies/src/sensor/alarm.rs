//! Per-sensor runs of readings in alarm (fields grouping on the sensor, so each sensor's state
//! lives in exactly one task and sees its readings in order).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use squall::{Bolt, BoltCollector, ComponentError, Counter, Guarantee, State, TaskContext};

use super::partial::Partials;
use super::types::{Block, Event, Reading, Readings, Signal};
use super::window::RunWindow;

/// Stream carrying [`Signal::Status`] to the leak detector.
pub const STATUS_STREAM: &str = "status";
/// Stream carrying [`Signal::Event`] to the sink.
pub const EVENTS_STREAM: &str = "events";

/// Readings an alarm task executes between two additions to the shared count.
const PUBLISH_EVERY: u64 = 4096;

/// The run report's counter of the readings the alarm tasks executed, replays included (see
/// [`AlarmBolt::counting`]).
pub const READINGS: &str = "readings";

/// Counts each sensor's consecutive readings in alarm and emits a
/// [`Event::SensorAlarm`] when a run first exceeds `threshold`. The leak detector gets, under
/// exactly-once and at-most-once, this task's count of sensors in alarm per seq once all its
/// sensors have passed the seq ([`Signal::Count`], [`Signal::Mark`]); under at-least-once,
/// every reading's status.
///
/// Each sensor's seqs ascend (the CSV spout reports and skips a reading that breaks this, so
/// every guarantee sees the same readings), so a seq identifies a reading. Under failures:
/// - exactly-once: the runs are the checkpointed state;
/// - at-least-once: replays bring readings again, possibly after later ones (see
///   `sensor::window`); a reading already seen is a duplicate and changes nothing, but its
///   status and the alarm it fired (if any) are emitted again, since the first ones may be what
///   was lost downstream; a late reading takes its place in the sensor's recent history, and
///   the alarms the corrected history implies are emitted;
/// - at-most-once: a task restarted without state does not know the runs in progress, so a
///   sensor's run counts only from its first reading below the level: no alarm is ever
///   emitted that the failure-free run would not emit.
///
/// `I` is what one input tuple holds: one [`Reading`] (the default) or a [`Block`] of one
/// sensor's consecutive readings, which the bolt walks in one loop; the outputs are the same
/// for the same readings (the counts and marks are sent once per tuple, so fewer of them
/// with blocks, saying the same).
#[derive(Debug, Clone)]
pub struct AlarmBolt<I = Reading> {
    threshold: u32,
    level: f64,
    runs: Runs,
    /// Exactly-once and at-most-once: counts per seq for the leak detector instead of one
    /// status per reading (see `sensor::partial`).
    partials: Option<Partials>,
    task: u32,
    /// Adds the readings executed, when set.
    executed: Option<Arc<AtomicU64>>,
    /// Readings executed and not yet added to `executed`.
    unpublished: u64,
    /// The task's counter of readings executed ([`READINGS`]), added to when `executed` is.
    readings: Counter,
    input: PhantomData<fn(I)>,
}

/// The alarm state machine, apart from the collector so it can be tested alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Runs {
    sensors: FxHashMap<u32, Track>,
    /// At-least-once: each sensor's recent readings, in place of `sensors`.
    windows: FxHashMap<u32, RunWindow<bool>>,
    /// At-least-once: readings may come again, and late.
    #[serde(skip)]
    replays: bool,
    /// At-most-once after a restart: sensors first seen now have an unknown run.
    #[serde(skip)]
    blind: bool,
}

/// One sensor's state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Track {
    /// The last seq processed.
    last: u64,
    /// Consecutive readings in alarm up to `last`; `None` while unknown.
    run: Option<u32>,
}

impl Runs {
    /// Sets the mode from the run's guarantee and the task's restarts.
    pub(crate) fn prepare(&mut self, ctx: &TaskContext) {
        self.replays = ctx.guarantee() == Guarantee::AtLeastOnce;
        self.blind = ctx.guarantee() == Guarantee::AtMostOnce && ctx.restarts() > 0;
    }

    /// Takes one reading; returns its status for the leak detector and the alarms it fires.
    pub(crate) fn observe(
        &mut self,
        r: &Reading,
        threshold: u32,
        level: f64,
    ) -> (Signal, Vec<Event>) {
        let in_alarm = r.value >= level;
        let target = threshold.saturating_add(1);
        let alarm_at = |seq| Event::SensorAlarm {
            sensor: r.sensor,
            seq,
            consecutive: target,
        };
        let status = |after_gap| Signal::Status {
            sensor: r.sensor,
            seq: r.seq,
            in_alarm,
            after_gap,
        };
        if self.replays {
            let window = self.windows.entry(r.sensor).or_default();
            let fired = if window.is_known(r.seq) {
                // A duplicate: the same outputs again.
                if window.fired(r.seq) {
                    vec![r.seq]
                } else {
                    Vec::new()
                }
            } else {
                window.put(r.seq, in_alarm, target, |a| a)
            };
            return (status(false), fired.into_iter().map(alarm_at).collect());
        }
        let first = !self.sensors.contains_key(&r.sensor);
        let blind = self.blind;
        let track = self.sensors.entry(r.sensor).or_insert(Track {
            last: r.seq,
            run: (!blind).then_some(0),
        });
        track.last = r.seq;
        let mut events = Vec::new();
        if in_alarm {
            track.run = track.run.map(|n| n.saturating_add(1));
            if track.run == Some(target) {
                events.push(alarm_at(r.seq));
            }
        } else {
            track.run = Some(0);
        }
        (status(first && blind), events)
    }
}

impl Runs {
    /// Without replays: takes consecutive readings of one sensor (`sensor`) and passes each
    /// alarm they fire to `alarm`. The same as [`Runs::observe`] on each reading, with the
    /// sensor's state looked up once.
    pub(crate) fn observe_run(
        &mut self,
        sensor: u32,
        readings: &[Reading],
        threshold: u32,
        level: f64,
        mut alarm: impl FnMut(Event),
    ) {
        let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
            return;
        };
        debug_assert!(!self.replays);
        let blind = self.blind;
        let target = threshold.saturating_add(1);
        let track = self.sensors.entry(sensor).or_insert(Track {
            last: first.seq,
            run: (!blind).then_some(0),
        });
        track.last = last.seq;
        let mut run = track.run;
        for r in readings {
            if r.value >= level {
                run = run.map(|n| n.saturating_add(1));
                if run == Some(target) {
                    alarm(Event::SensorAlarm {
                        sensor,
                        seq: r.seq,
                        consecutive: target,
                    });
                }
            } else {
                run = Some(0);
            }
        }
        track.run = run;
    }
}

impl AlarmBolt {
    /// A reading is in alarm when `value >= level`; an alarm fires when more than `threshold`
    /// consecutive readings are.
    pub fn new(threshold: u32, level: f64) -> Self {
        Self::with_input(threshold, level)
    }
}

impl AlarmBolt<Block> {
    /// [`AlarmBolt::new`] taking [`Block`]s of readings.
    pub fn blocks(threshold: u32, level: f64) -> Self {
        Self::with_input(threshold, level)
    }
}

impl<I> AlarmBolt<I> {
    fn with_input(threshold: u32, level: f64) -> Self {
        AlarmBolt {
            threshold,
            level,
            runs: Runs::default(),
            partials: None,
            task: 0,
            executed: None,
            unpublished: 0,
            readings: Counter::default(),
            input: PhantomData,
        }
    }

    /// Adds the number of readings executed to `executed` (a tuple may hold many readings,
    /// so the engine's count of executed tuples is not the count of readings), every
    /// 4096 readings and when the input ends, so the alarm tasks do not share a
    /// counter's cache line per reading. A task that crashes loses what it had not added.
    pub fn counting(mut self, executed: Arc<AtomicU64>) -> Self {
        self.executed = Some(executed);
        self
    }

    fn publish(&mut self) {
        if let Some(executed) = &self.executed {
            executed.fetch_add(self.unpublished, Ordering::Relaxed);
        }
        self.readings.add(self.unpublished);
        self.unpublished = 0;
    }
}

impl<I: Readings> Bolt for AlarmBolt<I> {
    type Input = I;
    type Output = Signal;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.runs.prepare(ctx);
        self.readings = ctx.counter(READINGS);
        self.task = u32::try_from(ctx.task_index()).unwrap_or(u32::MAX);
        self.partials = (ctx.guarantee() != Guarantee::AtLeastOnce).then(Partials::default);
        Ok(())
    }

    fn execute(
        &mut self,
        input: I,
        out: &mut BoltCollector<'_, Signal>,
    ) -> Result<(), ComponentError> {
        let readings = input.readings();
        let (threshold, level) = (self.threshold, self.level);
        match self.partials.as_mut() {
            Some(partials) if !self.runs.replays => {
                let mut sent = Ok(());
                for run in readings.chunk_by(|a, b| a.sensor == b.sensor) {
                    let sensor = run[0].sensor;
                    self.runs.observe_run(sensor, run, threshold, level, |e| {
                        if sent.is_ok() {
                            sent = out.emit_to(EVENTS_STREAM, Signal::Event(e));
                        }
                    });
                    partials.observe_run(sensor, run, level);
                }
                sent.clone()?;
                partials.flush(self.task, self.runs.blind, |s| {
                    if sent.is_ok() {
                        sent = out.emit_to(STATUS_STREAM, s);
                    }
                });
                sent?;
            }
            _ => {
                for r in readings {
                    let (status, events) = self.runs.observe(r, threshold, level);
                    for event in events {
                        out.emit_to(EVENTS_STREAM, Signal::Event(event))?;
                    }
                    out.emit_to(STATUS_STREAM, status)?;
                }
            }
        }
        self.unpublished += readings.len() as u64;
        if self.unpublished >= PUBLISH_EVERY {
            self.publish();
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, Signal>) -> Result<(), ComponentError> {
        self.publish();
        match self.partials.as_mut() {
            Some(partials) => {
                let mut sent = Ok(());
                partials.finish(self.task, self.runs.blind, |s| {
                    if sent.is_ok() {
                        sent = out.emit_to(STATUS_STREAM, s);
                    }
                });
                sent?;
            }
            None if self.runs.blind => out.emit_to(STATUS_STREAM, Signal::Lost)?,
            None => {}
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&(&self.runs, &self.partials))?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let (restored, partials): (Runs, Option<Partials>) = state.decode()?;
        // The mode stays; the restored runs are complete, so nothing is unknown.
        self.runs = Runs {
            replays: self.runs.replays,
            blind: false,
            ..restored
        };
        if self.partials.is_some() {
            self.partials = Some(partials.unwrap_or_default());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    const K: u32 = 3;
    const LEVEL: f64 = 1.0;

    /// Interleaved readings of 5 sensors with long alarm runs.
    fn readings(seed: u64) -> Vec<Reading> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut state = [false; 5];
        let mut out = Vec::new();
        for seq in 0..400u64 {
            for (sensor, alarm) in state.iter_mut().enumerate() {
                if rng.gen_bool(0.2) {
                    *alarm = !*alarm;
                }
                let value = if *alarm { 1.5 } else { 0.5 };
                out.push(Reading {
                    sensor: sensor as u32,
                    seq: seq * 3,
                    value,
                });
            }
        }
        out
    }

    fn ctx(guarantee: Guarantee, restarts: u32) -> TaskContext {
        TaskContext::new("t", "alarm", 0, 1).with_recovery(guarantee, restarts)
    }

    fn runs(guarantee: Guarantee, restarts: u32) -> Runs {
        let mut runs = Runs::default();
        runs.prepare(&ctx(guarantee, restarts));
        runs
    }

    /// Feeds `input`; returns the statuses and the alarms.
    fn feed(runs: &mut Runs, input: &[Reading]) -> (Vec<Signal>, Vec<Event>) {
        let mut statuses = Vec::new();
        let mut events = Vec::new();
        for r in input {
            let (status, event) = runs.observe(r, K, LEVEL);
            statuses.push(status);
            events.extend(event);
        }
        (statuses, events)
    }

    fn oracle(input: &[Reading]) -> Vec<Event> {
        let mut run = [0u32; 5];
        let mut events = Vec::new();
        for r in input {
            let n = &mut run[r.sensor as usize];
            *n = if r.value >= LEVEL { *n + 1 } else { 0 };
            if *n == K + 1 {
                events.push(Event::SensorAlarm {
                    sensor: r.sensor,
                    seq: r.seq,
                    consecutive: K + 1,
                });
            }
        }
        events
    }

    #[test]
    fn a_restored_snapshot_continues_as_if_uninterrupted() {
        let input = readings(1);
        let expected = oracle(&input);
        assert!(expected.len() > 30);
        for guarantee in [Guarantee::ExactlyOnce, Guarantee::AtLeastOnce] {
            for cut in [0, 7, 333, 1979] {
                let mut first = runs(guarantee, 0);
                let (_, mut events) = feed(&mut first, &input[..cut]);
                let state = State::encode(&first).unwrap();
                // The crashed instance goes on a while; its work is lost.
                feed(&mut first, &input[cut..cut + 20]);
                let mut second = runs(guarantee, 1);
                second = Runs {
                    replays: second.replays,
                    blind: false,
                    ..state.decode().unwrap()
                };
                events.extend(feed(&mut second, &input[cut..]).1);
                assert_eq!(events, expected, "{guarantee:?}, cut at {cut}");
            }
        }
    }

    #[test]
    fn at_least_once_duplicates_change_nothing_and_repeat_their_outputs() {
        let input = readings(2);
        let expected = oracle(&input);
        let mut rng = SmallRng::seed_from_u64(9);
        // Every so often, a stretch of earlier readings comes again (in order), as replays do.
        let mut replayed = Vec::new();
        for (i, r) in input.iter().enumerate() {
            replayed.push(*r);
            if i > 50 && rng.gen_bool(0.02) {
                let from = i - rng.gen_range(1..50);
                replayed.extend_from_slice(&input[from..=i]);
            }
        }
        let mut at_least_once = runs(Guarantee::AtLeastOnce, 0);
        let (statuses, events) = feed(&mut at_least_once, &replayed);
        let distinct: BTreeSet<Event> = events.iter().copied().collect();
        assert_eq!(distinct, expected.iter().copied().collect());
        assert!(events.len() > expected.len(), "no alarm was repeated");
        // Every reading's status is sent, duplicates included, each with the right flag.
        assert_eq!(statuses.len(), replayed.len());
        for (s, r) in statuses.iter().zip(&replayed) {
            assert_eq!(
                *s,
                Signal::Status {
                    sensor: r.sensor,
                    seq: r.seq,
                    in_alarm: r.value >= LEVEL,
                    after_gap: false
                }
            );
        }
    }

    #[test]
    fn at_least_once_late_readings_still_fire_every_alarm() {
        let input = readings(4);
        let expected: BTreeSet<Event> = oracle(&input).into_iter().collect();
        // After a restore, queued readings come before the replays of the lost ones: swap
        // neighbouring blocks of the input, and send some readings twice.
        let mut shuffled = Vec::new();
        for pair in input.chunks(40).collect::<Vec<_>>().chunks(2) {
            for block in pair.iter().rev() {
                shuffled.extend_from_slice(block);
            }
            shuffled.extend_from_slice(&pair[0][..5]);
        }
        let mut at_least_once = runs(Guarantee::AtLeastOnce, 0);
        let (statuses, events) = feed(&mut at_least_once, &shuffled);
        let got: BTreeSet<Event> = events.into_iter().collect();
        let missing: Vec<_> = expected.difference(&got).collect();
        assert!(missing.is_empty(), "missing {missing:?}");
        assert_eq!(statuses.len(), shuffled.len());
    }

    #[test]
    fn a_restart_without_state_never_fires_an_alarm_the_full_run_would_not() {
        for seed in 0..20 {
            let input = readings(seed);
            let expected: BTreeSet<Event> = oracle(&input).into_iter().collect();
            let mut rng = SmallRng::seed_from_u64(seed);
            // Restarts at random points, each losing the reading in flight.
            let mut events = Vec::new();
            let mut statuses = Vec::new();
            let mut runs = runs(Guarantee::AtMostOnce, 0);
            for (i, r) in input.iter().enumerate() {
                if i > 0 && rng.gen_bool(0.01) {
                    runs = self::runs(Guarantee::AtMostOnce, 1);
                    continue;
                }
                let (status, event) = runs.observe(r, K, LEVEL);
                statuses.push(status);
                events.extend(event);
            }
            assert!(
                events.iter().all(|e| expected.contains(e)),
                "seed {seed}: {events:?}"
            );
            assert!(!events.is_empty() && events.len() < expected.len());
            // After each restart, the first status of each sensor says statuses may be missing.
            assert!(statuses.iter().any(|s| matches!(
                s,
                Signal::Status {
                    after_gap: true,
                    ..
                }
            )));
        }
    }
}
