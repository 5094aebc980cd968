//! The leak detector: counts sensors in alarm per seq and closes a seq once every sensor has
//! passed it, so its memory is bounded by how far the sensors' streams are skewed, not by the
//! input's length.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use squall::{Bolt, BoltCollector, ComponentError, Guarantee, State, TaskContext};

use super::types::{Event, Signal, COUNTS};
use super::window::RunWindow;

/// Emits [`Event::Leak`] when more than half of `sensors` are in alarm at the same seq for
/// more than `threshold` consecutive seqs (the seqs that occur in the input, in order).
/// Runs as one task (global grouping).
///
/// Under failures:
/// - exactly-once: the open seqs, the sensors' latest seqs and the run are the checkpointed
///   state;
/// - at-least-once: a status seen before is a duplicate (a replayed reading) and changes
///   nothing, but the leaks it completed the first time are emitted again; a status that comes
///   late, after its seq closed, corrects that seq's count in the recent history of closed seqs
///   (see `sensor::window`) and the leaks the corrected history implies are emitted;
/// - at-most-once: statuses may be lost (a restarted alarm task marks the first status of each
///   sensor it sees `after_gap`; a restarted leak task knows nothing of what came before). A
///   seq that may be missing statuses counts only when it is a majority anyway (counts can only
///   be too low); otherwise, or when whole seqs may be missing, the run becomes unknown until a
///   seq closes complete and without a majority. A leak is emitted only from a known run at a
///   complete seq: never one the failure-free run would not emit.
#[derive(Debug, Clone)]
pub struct LeakBolt {
    sensors: u32,
    /// Distinct sensors whose streams must all pass a seq before it closes (at least
    /// `sensors`; more when the input holds more sensor ids than the majority is taken over).
    population: u32,
    threshold: u32,
    ledger: Ledger,
    /// At-least-once: drop duplicate statuses, remember the leaks each status completed.
    replays: bool,
}

/// What the detector knows: its checkpointed state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Ledger {
    /// Sensors in alarm per seq not yet closed.
    open: BTreeMap<u64, u32>,
    /// Each sensor's latest seq.
    last: FxHashMap<u32, u64>,
    /// How many sensors have each latest seq; its first key is the low watermark.
    latest: BTreeMap<u64, u32>,
    /// Consecutive closed seqs with a majority in alarm; `None` while unknown.
    run: Option<u32>,
    /// The last seq closed.
    closed: Option<u64>,
    /// Seq ranges `(lo, hi)`, both exclusive (`lo` `None`: from the start), where a sensor's
    /// statuses may be missing (at-most-once).
    gaps: Vec<(Option<u64>, u64)>,
    /// At-least-once: the leaks a status completed, by (sensor, seq).
    completed: FxHashMap<(u32, u64), Vec<Event>>,
    /// At-least-once: each sensor's recent seqs, to know duplicates from late statuses.
    seen: FxHashMap<u32, RunWindow<()>>,
    /// At-least-once: recent closed seqs and their counts, where the run is decided.
    history: RunWindow<u32>,
    /// At-most-once after a restart: every sensor's history before its first status is unknown.
    blind: bool,
    /// Counts (exactly-once, at-most-once): each alarm task's sensors seen and low mark (see
    /// [`Signal::Mark`]), in place of `last` and `latest`.
    tasks: FxHashMap<u32, (u32, u64)>,
}

impl LeakBolt {
    /// A detector for `sensors` sensors with alarm threshold `threshold`.
    pub fn new(sensors: u32, threshold: u32) -> Self {
        LeakBolt {
            sensors,
            population: sensors,
            threshold,
            ledger: Ledger {
                run: Some(0),
                ..Ledger::default()
            },
            replays: false,
        }
    }

    /// Waits for `population` distinct sensors (when the input is known to hold more sensor ids
    /// than `sensors`) before closing any seq.
    pub fn with_population(mut self, population: u32) -> Self {
        self.population = population.max(self.sensors);
        self
    }

    /// Sets the mode from the run's guarantee and the task's restarts, as `prepare` does.
    pub fn recovering(mut self, guarantee: Guarantee, restarts: u32) -> Self {
        self.replays = guarantee == Guarantee::AtLeastOnce;
        if guarantee == Guarantee::AtMostOnce && restarts > 0 {
            self.ledger.blind = true;
            self.ledger.run = None;
        }
        self
    }

    /// Seqs below the lowest latest seq of all sensors can receive no more readings.
    fn watermark(&self) -> Option<u64> {
        let tasks = &self.ledger.tasks;
        if !tasks.is_empty() {
            let seen: u64 = tasks.values().map(|&(n, _)| u64::from(n)).sum();
            if seen < u64::from(self.population) {
                return None;
            }
            return tasks.values().map(|&(_, low)| low).min();
        }
        if (self.ledger.last.len() as u64) < u64::from(self.population) {
            return None;
        }
        self.ledger.latest.keys().next().copied()
    }

    /// Seqs received but not yet closed: bounded by the skew between the sensors' streams.
    pub fn open_seqs(&self) -> usize {
        self.ledger.open.len()
    }

    /// Takes one reading's status (`after_gap`: see [`Signal::Status`]); calls `emit` for each
    /// leak it completes.
    pub fn observe(
        &mut self,
        sensor: u32,
        seq: u64,
        in_alarm: bool,
        after_gap: bool,
        mut emit: impl FnMut(Event),
    ) {
        let ledger = &mut self.ledger;
        if self.replays {
            let seen = ledger.seen.entry(sensor).or_default();
            if seen.is_known(seq) {
                for &e in ledger.completed.get(&(sensor, seq)).into_iter().flatten() {
                    emit(e);
                }
                return;
            }
            seen.remember(seq);
            if ledger.closed.is_some_and(|closed| seq <= closed) {
                self.correct_closed(sensor, seq, in_alarm, emit);
                return;
            }
        }
        match ledger.last.get(&sensor) {
            Some(&previous) if after_gap => ledger.gaps.push((Some(previous), seq)),
            None if after_gap || ledger.blind => ledger.gaps.push((None, seq)),
            _ => {}
        }
        *ledger.open.entry(seq).or_insert(0) += u32::from(in_alarm);
        // A late status (at-least-once) counts but does not move its sensor back.
        if ledger.last.get(&sensor).is_none_or(|&l| seq > l) {
            if let Some(previous) = ledger.last.insert(sensor, seq) {
                if let Some(count) = ledger.latest.get_mut(&previous) {
                    *count -= 1;
                    if *count == 0 {
                        ledger.latest.remove(&previous);
                    }
                }
            }
            *ledger.latest.entry(seq).or_insert(0) += 1;
        }
        if let Some(bound) = self.watermark() {
            let replays = self.replays;
            let mut leaks = Vec::new();
            self.close_below(Some(bound), |e| leaks.push(e));
            if replays && !leaks.is_empty() {
                self.ledger.completed.insert((sensor, seq), leaks.clone());
            }
            leaks.into_iter().for_each(emit);
        }
    }

    /// Takes one alarm task's count of its sensors in alarm at `seq` (see [`Signal::Count`]).
    pub fn count(&mut self, seq: u64, in_alarm: u32) {
        let ledger = &mut self.ledger;
        // Only at-most-once, after a restart: a count for a seq closed without it.
        if ledger.closed.is_some_and(|closed| seq <= closed) {
            return;
        }
        *ledger.open.entry(seq).or_insert(0) += in_alarm;
    }

    /// Takes an alarm task's mark (see [`Signal::Mark`]) and closes the seqs every task has
    /// passed once the tasks together have seen the population; calls `emit` for each leak.
    pub fn mark(
        &mut self,
        task: u32,
        sensors: u32,
        from: u64,
        low: u64,
        blind: bool,
        emit: impl FnMut(Event),
    ) {
        let ledger = &mut self.ledger;
        let known = ledger.tasks.get(&task).copied();
        if blind {
            // The task's counts from its last mark on may be lost, for the rest of the run.
            let lo = known.map_or(0, |(_, l)| l).checked_sub(1);
            let covered = ledger
                .gaps
                .iter()
                .any(|&(l, hi)| hi == u64::MAX && l.is_none_or(|l| lo.is_some_and(|lo| l <= lo)));
            if !covered {
                ledger.gaps.push((lo, u64::MAX));
            }
        }
        if known.is_none() && ledger.blind {
            // This detector restarted: the task's counts below `from` went to the lost one.
            ledger.gaps.push((None, from));
        }
        let sensors = known.map_or(sensors, |(n, _)| n.max(sensors));
        ledger.tasks.insert(task, (sensors, low));
        if let Some(bound) = self.watermark() {
            self.close_below(Some(bound), emit);
        }
    }

    /// At-least-once: a status for a seq already closed (it came late, after a restore) corrects
    /// the seq's count in the history of closed seqs and emits the leaks that now follow.
    fn correct_closed(
        &mut self,
        sensor: u32,
        seq: u64,
        in_alarm: bool,
        mut emit: impl FnMut(Event),
    ) {
        let history = &mut self.ledger.history;
        let count = match history.get(seq) {
            Some(count) => count,
            None if history.is_known(seq) => return, // older than the history: too late
            None => 0,                               // a seq no status had reached when it closed
        };
        let sensors = self.sensors;
        let majority = move |m: u32| 2 * u64::from(m) > u64::from(sensors);
        let fired = history.update(
            seq,
            count + u32::from(in_alarm),
            self.threshold.saturating_add(1),
            majority,
        );
        let leaks: Vec<Event> = fired
            .into_iter()
            .map(|q| Event::Leak {
                seq: q,
                sensors_in_alarm: history.get(q).unwrap_or(0),
                sensors,
            })
            .collect();
        if !leaks.is_empty() {
            self.ledger.completed.insert((sensor, seq), leaks.clone());
        }
        leaks.into_iter().for_each(&mut emit);
    }

    /// An alarm task restarted without state and its input ended (see [`Signal::Lost`]): any
    /// sensor's statuses above the latest seen may be missing, so the seqs still open when the
    /// input ends are in doubt.
    pub fn lost(&mut self) {
        let ledger = &mut self.ledger;
        let every_sensor_seen = ledger.last.len() as u64 >= u64::from(self.population);
        let lo = if every_sensor_seen {
            ledger.last.values().min().copied()
        } else {
            None
        };
        ledger.gaps.push((lo, u64::MAX));
    }

    /// Closes every open seq (the input ended).
    pub fn close_all(&mut self, emit: impl FnMut(Event)) {
        self.close_below(None, emit);
    }

    fn close_below(&mut self, bound: Option<u64>, mut emit: impl FnMut(Event)) {
        let ledger = &mut self.ledger;
        while let Some((&seq, &in_alarm)) = ledger.open.first_key_value() {
            if bound.is_some_and(|b| seq >= b) {
                break;
            }
            ledger.open.remove(&seq);
            if self.replays {
                let sensors = self.sensors;
                let majority = move |m: u32| 2 * u64::from(m) > u64::from(sensors);
                let target = self.threshold.saturating_add(1);
                for q in ledger.history.put(seq, in_alarm, target, majority) {
                    let sensors_in_alarm = ledger.history.get(q).unwrap_or(0);
                    emit(Event::Leak {
                        seq: q,
                        sensors_in_alarm,
                        sensors,
                    });
                }
                ledger.closed = Some(seq);
                continue;
            }
            let (skipped, partial) = ledger.doubts(seq);
            if skipped {
                ledger.run = None;
            }
            if 2 * u64::from(in_alarm) > u64::from(self.sensors) {
                // Counts are never too high, so a partial seq with a majority has one.
                ledger.run = ledger.run.map(|n| n.saturating_add(1));
                if ledger.run == Some(self.threshold.saturating_add(1)) && !partial {
                    emit(Event::Leak {
                        seq,
                        sensors_in_alarm: in_alarm,
                        sensors: self.sensors,
                    });
                }
            } else {
                ledger.run = (!partial).then_some(0);
            }
            ledger.closed = Some(seq);
            // A gap matters for the seqs below its upper end, and only those above `seq` are
            // still to close.
            ledger.gaps.retain(|&(_, hi)| hi > seq.saturating_add(1));
        }
    }
}

impl Ledger {
    /// Whether whole seqs between the last closed one and `seq` may be missing, and whether
    /// `seq` itself may be missing statuses.
    fn doubts(&self, seq: u64) -> (bool, bool) {
        let partial = self
            .gaps
            .iter()
            .any(|&(lo, hi)| lo.is_none_or(|lo| lo < seq) && seq < hi);
        let skipped = self.gaps.iter().any(|&(lo, hi)| {
            // Is there an x with lo < x < hi and closed < x < seq?
            let above = match (lo, self.closed) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let below = hi.min(seq);
            match above {
                Some(a) => below > a.saturating_add(1),
                None => below > 0,
            }
        });
        (skipped, partial)
    }
}

impl Bolt for LeakBolt {
    type Input = Signal;
    type Output = Signal;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        *self = self.clone().recovering(ctx.guarantee(), ctx.restarts());
        Ok(())
    }

    fn execute(
        &mut self,
        s: Signal,
        out: &mut BoltCollector<'_, Signal>,
    ) -> Result<(), ComponentError> {
        let (sensor, seq, in_alarm, after_gap) = match s {
            Signal::Status {
                sensor,
                seq,
                in_alarm,
                after_gap,
            } => (sensor, seq, in_alarm, after_gap),
            Signal::Lost => {
                self.lost();
                return Ok(());
            }
            Signal::Count { seq, in_alarm } => {
                self.count(seq, in_alarm);
                return Ok(());
            }
            Signal::Counts {
                first,
                len,
                in_alarm,
            } => {
                for (seq, n) in (first..).zip(&in_alarm[..usize::from(len).min(COUNTS)]) {
                    self.count(seq, *n);
                }
                return Ok(());
            }
            Signal::Mark {
                task,
                sensors,
                from,
                low,
                blind,
            } => {
                self.mark(task, sensors, from, low, blind, |e| {
                    out.emit(Signal::Event(e))
                });
                return Ok(());
            }
            Signal::Event(_) => return Ok(()),
        };
        self.observe(sensor, seq, in_alarm, after_gap, |e| {
            out.emit(Signal::Event(e))
        });
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, Signal>) -> Result<(), ComponentError> {
        self.close_all(|e| out.emit(Signal::Event(e)));
        Ok(())
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.ledger)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.ledger = state.decode()?;
        self.ledger.blind = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
