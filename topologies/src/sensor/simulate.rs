//! Simulated sensors: a bounded, seeded spout.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::{ComponentError, Spout, SpoutCollector, TaskContext};

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
/// interleaved and each sensor's seqs ascend. Each sensor has its own generator seeded from
/// (`seed`, sensor), so the readings do not depend on the parallelism.
#[derive(Debug, Clone)]
pub struct SimulatedSensors {
    sim: Simulation,
    mine: Vec<(u32, SmallRng)>,
    seq: u64,
    next: usize,
}

impl SimulatedSensors {
    /// A spout for `sim`; each task takes its share of the sensors in `open`.
    pub fn new(sim: Simulation) -> Self {
        SimulatedSensors {
            sim,
            mine: Vec::new(),
            seq: 0,
            next: 0,
        }
    }

    /// The reading of `sensor` at the generator's next draw.
    pub fn draw(sim: &Simulation, sensor: u32, seq: u64, rng: &mut SmallRng) -> Reading {
        let faulty = rng.gen::<f64>() * 100.0 < sim.faulty_pct;
        let unit = rng.gen::<f64>();
        let value = if faulty {
            sim.level + unit * sim.level.abs().max(1.0)
        } else {
            sim.level - (0.05 + 0.95 * unit) * sim.level.abs().max(1.0)
        };
        Reading { sensor, seq, value }
    }

    /// The generator of one sensor.
    pub fn rng(seed: u64, sensor: u32) -> SmallRng {
        SmallRng::seed_from_u64(seed ^ (u64::from(sensor).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    /// Every reading of the simulation in the order a single task emits them (for oracles).
    pub fn all_readings(sim: &Simulation) -> Vec<Reading> {
        let mut rngs: Vec<SmallRng> = (0..sim.sensors).map(|s| Self::rng(sim.seed, s)).collect();
        let mut out = Vec::with_capacity((u64::from(sim.sensors) * sim.samples) as usize);
        for seq in 0..sim.samples {
            for (s, rng) in rngs.iter_mut().enumerate() {
                out.push(Self::draw(sim, s as u32, seq, rng));
            }
        }
        out
    }
}

impl Spout for SimulatedSensors {
    type Output = Reading;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let tasks = ctx.component_tasks() as u32;
        let task = ctx.task_index() as u32;
        self.mine = (0..self.sim.sensors)
            .filter(|s| s % tasks == task)
            .map(|s| (s, Self::rng(self.sim.seed, s)))
            .collect();
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Reading>) -> Result<(), ComponentError> {
        for _ in 0..256 {
            if self.is_finished() {
                break;
            }
            let (sensor, rng) = &mut self.mine[self.next];
            let reading = Self::draw(&self.sim, *sensor, self.seq, rng);
            out.emit(reading);
            self.next += 1;
            if self.next == self.mine.len() {
                self.next = 0;
                self.seq += 1;
            }
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.mine.is_empty() || self.seq >= self.sim.samples
    }
}
