//! Simulated sensors emitting blocks: the demo's spout.

use serde::{Deserialize, Serialize};
use squall::{ComponentError, Guarantee, MessageId, Spout, SpoutCollector, State, TaskContext};
use squall_connectors::replay::Pending;

use super::simulate::{SimulatedSensors, Simulation};
use super::types::Block;

/// Seqs per block by default: large enough that the engine's cost per tuple is small against
/// the readings' own, small enough that the leak detector's watermark (it moves once every
/// sensor of a task has sent its block) and each task's open counts stay short.
pub const BLOCK_SEQS: u64 = 64;

/// Readings per `next_tuple` call, about (16 blocks of [`BLOCK_SEQS`]).
const READINGS_PER_CALL: u64 = 1024;

/// The readings of [`SimulatedSensors`] (the same values: each is a pure function of the
/// seed, the sensor and the seq), emitted as [`Block`]s: for each window of `block` seqs, one
/// block per sensor of the task, the sensors in turn. Each sensor's seqs ascend across its
/// blocks; the sensors are skewed by at most one window.
///
/// Under at-least-once the blocks hold one reading each (see `open`).
///
/// Replayable as [`SimulatedSensors`] is: a checkpoint records the window and the next sensor
/// (exactly-once); under at-least-once every block is kept until acked and failed ones are
/// emitted again in the order they were first emitted (message ids count a task's blocks).
#[derive(Debug, Clone)]
pub struct SimulatedBlocks {
    sim: Simulation,
    block: u64,
    mine: Vec<u32>,
    /// The first seq of the current window.
    seq: u64,
    next: usize,
    /// Blocks emitted by this task: the last message id.
    emitted: MessageId,
    pending: Pending<Block>,
}

/// A checkpointed position.
#[derive(Serialize, Deserialize)]
struct Position {
    seq: u64,
    next: usize,
    emitted: MessageId,
}

impl SimulatedBlocks {
    /// A spout for `sim` in blocks of [`BLOCK_SEQS`] seqs.
    pub fn new(sim: Simulation) -> Self {
        SimulatedBlocks {
            sim,
            block: BLOCK_SEQS,
            mine: Vec::new(),
            seq: 0,
            next: 0,
            emitted: 0,
            pending: Pending::new(),
        }
    }

    /// Blocks of `seqs` seqs (at least 1).
    pub fn with_block(mut self, seqs: u64) -> Self {
        self.block = seqs.max(1);
        self
    }

    fn exhausted(&self) -> bool {
        self.mine.is_empty() || self.seq >= self.sim.samples
    }
}

impl Spout for SimulatedBlocks {
    type Output = Block;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let tasks = ctx.component_tasks() as u32;
        let task = ctx.task_index() as u32;
        self.mine = (0..self.sim.sensors)
            .filter(|s| s % tasks == task)
            .collect();
        self.pending.open(ctx);
        if ctx.guarantee() == Guarantee::AtLeastOnce {
            // A replayed reading may come after newer ones and must still land within the
            // alarm bolt's reorder window (`sensor::window`), which counts readings: blocks
            // of one seq keep replays exactly as late as they are with single readings.
            self.block = 1;
        }
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Block>) -> Result<(), ComponentError> {
        let blocks = (READINGS_PER_CALL / self.block).max(1) as usize;
        let replayed = self.pending.replay(out, blocks);
        for _ in replayed..blocks {
            if self.exhausted() {
                break;
            }
            let sensor = self.mine[self.next];
            let end = self.seq.saturating_add(self.block).min(self.sim.samples);
            let readings = (self.seq..end)
                .map(|seq| SimulatedSensors::draw(&self.sim, sensor, seq))
                .collect();
            self.emitted += 1;
            self.pending
                .emit(out, Block { sensor, readings }, self.emitted);
            self.next += 1;
            if self.next == self.mine.len() {
                self.next = 0;
                self.seq = end;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensor::Reading;
    use squall::{Bolt, BoltCollector, Config, LocalCluster, TopologyBuilder};
    use squall_connectors::replay::Drill;
    use std::sync::{Arc, Mutex};

    struct Collect(Arc<Mutex<Vec<Block>>>);

    impl Bolt for Collect {
        type Input = Block;
        type Output = ();

        fn execute(
            &mut self,
            b: Block,
            _: &mut BoltCollector<'_, ()>,
        ) -> Result<(), ComponentError> {
            self.0.lock().unwrap().push(b);
            Ok(())
        }
    }

    fn collect<S: Spout<Output = Block> + Clone + Send + Sync>(
        spout: S,
        guarantee: Guarantee,
    ) -> Vec<Block> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let mut b = TopologyBuilder::new("blocks");
        let s = b.set_spout("readings", 1, move || spout.clone());
        b.set_bolt("sink", 1, move || Collect(Arc::clone(&sink)))
            .shuffle_grouping(&s);
        let mut config = Config::default();
        config.workers = 1;
        config.guarantee = guarantee;
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

    /// Each sensor's readings in the order they came.
    fn per_sensor(readings: impl IntoIterator<Item = Reading>) -> Vec<Vec<Reading>> {
        let mut out = vec![Vec::new(); sim().sensors as usize];
        for r in readings {
            out[r.sensor as usize].push(r);
        }
        out
    }

    #[test]
    fn blocks_hold_each_sensors_readings_in_order() {
        let expected = per_sensor(SimulatedSensors::all_readings(&sim()));
        for (guarantee, seqs) in [(Guarantee::AtMostOnce, 64), (Guarantee::AtLeastOnce, 1)] {
            let blocks = collect(SimulatedBlocks::new(sim()), guarantee);
            assert!(blocks.iter().all(|b| !b.readings.is_empty()
                && b.readings.len() as u64 <= seqs
                && b.readings.iter().all(|r| r.sensor == b.sensor)));
            assert!(blocks.iter().any(|b| b.readings.len() as u64 == seqs));
            let got = per_sensor(blocks.into_iter().flat_map(|b| b.readings));
            assert_eq!(got, expected, "{guarantee:?}");
        }
    }

    #[test]
    fn restore_rewinds_to_the_snapshot() {
        let all = collect(SimulatedBlocks::new(sim()), Guarantee::AtMostOnce);
        for (snapshot, restore) in [(0, 1), (7, 12), (16, 17), (20, 30)] {
            let drill = Drill::new(SimulatedBlocks::new(sim())).rewind(snapshot, restore);
            let rewound = drill.rewound();
            let got = collect(drill, Guarantee::AtMostOnce);
            let (s, r) = rewound.lock().unwrap().unwrap();
            let expected: Vec<Block> = all[..r as usize]
                .iter()
                .chain(&all[s as usize..])
                .cloned()
                .collect();
            assert_eq!(got, expected, "snapshot {s}, restore {r}");
        }
    }
}
