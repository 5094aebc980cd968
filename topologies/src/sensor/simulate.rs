//! Simulated sensors: a bounded, seeded spout.

use serde::{Deserialize, Serialize};
use squall::{ComponentError, MessageId, Spout, SpoutCollector, State, TaskContext};
use squall_connectors::replay::Pending;

use super::types::Reading;

/// How simulated sensors behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// Number of sensors (ids `0..sensors`).
    pub sensors: u32,
    /// Readings per sensor (seqs `0..samples`).
    pub samples: u64,
    /// Percentage of readings in alarm (0 to 100).
    pub faulty_pct: f64,
    /// The alarm level: faulty readings are at or above it, the others below.
    pub level: f64,
    /// Seed of every sensor's random generator.
    pub seed: u64,
}

/// Emits the readings of the sensors `task, task + P, task + 2P...` seq by seq, so sensors are
/// interleaved and each sensor's seqs ascend. Each reading is a pure function of (`seed`,
/// sensor, seq) (a stateless hash, not a generator seeded per reading: a few multiplications),
/// so the readings depend neither on the parallelism nor on where the spout was rewound to.
///
/// Replayable: a checkpoint records the seq and the next sensor, and `restore` rewinds there
/// (exactly-once); under at-least-once every reading is kept until acked and failed ones are
/// emitted again in the order they were first emitted (message ids count a task's readings),
/// so each sensor's replayed seqs ascend.
#[derive(Debug, Clone)]
pub struct SimulatedSensors {
    sim: Simulation,
    mine: Vec<u32>,
    seq: u64,
    next: usize,
    /// Readings emitted by this task: the last message id.
    emitted: MessageId,
    pending: Pending<Reading>,
}

/// A checkpointed position.
#[derive(Serialize, Deserialize)]
struct Position {
    seq: u64,
    next: usize,
    emitted: MessageId,
}

impl SimulatedSensors {
    /// A spout for `sim`; each task takes its share of the sensors in `open`.
    pub fn new(sim: Simulation) -> Self {
        SimulatedSensors {
            sim,
            mine: Vec::new(),
            seq: 0,
            next: 0,
            emitted: 0,
            pending: Pending::new(),
        }
    }

    /// The reading of `sensor` at `seq`.
    pub fn draw(sim: &Simulation, sensor: u32, seq: u64) -> Reading {
        let key = sim.seed
            ^ u64::from(sensor).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ seq.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        let faulty = unit_interval(mix(key)) * 100.0 < sim.faulty_pct;
        let unit = unit_interval(mix(key ^ 0xd6e8_feb8_6659_fd93));
        let value = if faulty {
            sim.level + unit * sim.level.abs().max(1.0)
        } else {
            sim.level - (0.05 + 0.95 * unit) * sim.level.abs().max(1.0)
        };
        Reading { sensor, seq, value }
    }

    /// Every reading of the simulation in the order a single task emits them (for oracles).
    pub fn all_readings(sim: &Simulation) -> Vec<Reading> {
        (0..sim.samples)
            .flat_map(|seq| (0..sim.sensors).map(move |s| Self::draw(sim, s, seq)))
            .collect()
    }

    fn exhausted(&self) -> bool {
        self.mine.is_empty() || self.seq >= self.sim.samples
    }
}

impl Spout for SimulatedSensors {
    type Output = Reading;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let tasks = ctx.component_tasks() as u32;
        let task = ctx.task_index() as u32;
        self.mine = (0..self.sim.sensors)
            .filter(|s| s % tasks == task)
            .collect();
        self.pending.open(ctx);
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Reading>) -> Result<(), ComponentError> {
        let replayed = self.pending.replay(out, BATCH);
        for _ in replayed..BATCH {
            if self.exhausted() {
                break;
            }
            let reading = Self::draw(&self.sim, self.mine[self.next], self.seq);
            self.emitted += 1;
            self.pending.emit(out, reading, self.emitted);
            self.next += 1;
            if self.next == self.mine.len() {
                self.next = 0;
                self.seq += 1;
            }
        }
        Ok(())
    }

    fn ack(&mut self, msg_id: MessageId) {
        self.pending.ack(msg_id);
    }

    fn fail(&mut self, msg_id: MessageId) {
        self.pending.fail(msg_id);
    }

    fn is_finished(&self) -> bool {
        self.exhausted() && self.pending.is_empty()
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        let position = Position {
            seq: self.seq,
            next: self.next,
            emitted: self.emitted,
        };
        Ok(Some(State::encode(&position)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let at: Position = state.decode()?;
        self.seq = at.seq;
        self.next = at.next;
        self.emitted = at.emitted;
        self.pending.clear();
        Ok(())
    }
}

/// SplitMix64's finalizer: a bijective 64-bit mix whose outputs pass as independent uniform
/// draws for distinct inputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The top 53 bits of `bits` as a float in `[0, 1)`.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Readings per `next_tuple` call.
const BATCH: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;
    use squall::{Bolt, BoltCollector, Config, LocalCluster, TopologyBuilder};
    use squall_connectors::replay::Drill;
    use std::sync::{Arc, Mutex};

    struct Collect(Arc<Mutex<Vec<Reading>>>);

    impl Bolt for Collect {
        type Input = Reading;
        type Output = ();

        fn execute(
            &mut self,
            r: Reading,
            _: &mut BoltCollector<'_, ()>,
        ) -> Result<(), ComponentError> {
            self.0.lock().unwrap().push(r);
            Ok(())
        }
    }

    fn collect<S: Spout<Output = Reading> + Clone + Send + Sync>(spout: S) -> Vec<Reading> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let mut b = TopologyBuilder::new("sim");
        let s = b.set_spout("readings", 1, move || spout.clone());
        b.set_bolt("sink", 1, move || Collect(Arc::clone(&sink)))
            .shuffle_grouping(&s);
        let mut config = Config::default();
        config.workers = 1;
        LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        let got = seen.lock().unwrap().clone();
        got
    }

    fn sim() -> Simulation {
        Simulation {
            sensors: 5,
            samples: 300,
            faulty_pct: 40.0,
            level: 1.0,
            seed: 3,
        }
    }

    #[test]
    fn draws_are_uniform_enough_for_the_faulty_share() {
        let sim = Simulation {
            sensors: 16,
            samples: 5_000,
            faulty_pct: 35.0,
            level: 1.0,
            seed: 9,
        };
        let all = SimulatedSensors::all_readings(&sim);
        let faulty = all.iter().filter(|r| r.value >= sim.level).count() as f64;
        let share = 100.0 * faulty / all.len() as f64;
        assert!((share - 35.0).abs() < 1.0, "{share}% faulty");
        assert!(all.iter().all(|r| r.value > 0.0 && r.value < 2.0));
    }

    #[test]
    fn restore_rewinds_to_the_snapshot() {
        let all = SimulatedSensors::all_readings(&sim());
        assert_eq!(collect(SimulatedSensors::new(sim())), all);
        for (snapshot, restore) in [(0, 1), (300, 700), (256, 257), (1000, 5000)] {
            let drill = Drill::new(SimulatedSensors::new(sim())).rewind(snapshot, restore);
            let rewound = drill.rewound();
            let got = collect(drill);
            let (s, r) = rewound.lock().unwrap().unwrap();
            let expected: Vec<Reading> = all[..r as usize]
                .iter()
                .chain(&all[s as usize..])
                .copied()
                .collect();
            assert_eq!(got, expected, "snapshot {s}, restore {r}");
        }
    }

    #[test]
    fn failed_readings_are_emitted_again_in_emit_order() {
        let all = SimulatedSensors::all_readings(&sim());
        let got = collect(Drill::new(SimulatedSensors::new(sim())).fail_once(|id| id % 7 == 3));
        assert_eq!(got[..256], all[..256]);
        let (first, again): (Vec<_>, Vec<_>) = got
            .iter()
            .enumerate()
            .partition(|(i, r)| !got[..*i].contains(r));
        let first: Vec<Reading> = first.into_iter().map(|(_, r)| *r).collect();
        assert_eq!(first, all);
        let again: Vec<(u32, u64)> = again.into_iter().map(|(_, r)| (r.sensor, r.seq)).collect();
        let failed = (1..=all.len() as u64).filter(|id| id % 7 == 3).count();
        assert_eq!(again.len(), failed);
        // Message id i is the i-th reading: replays keep the emit order, so each sensor's seqs
        // ascend.
        let positions: Vec<usize> = again
            .iter()
            .map(|&(s, q)| {
                all.iter()
                    .position(|r| (r.sensor, r.seq) == (s, q))
                    .unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
    }
}
