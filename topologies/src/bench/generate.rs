//! What the paced spouts emit.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::Tuple;

use crate::sensor::{Reading, SimulatedSensors, Simulation};

/// Makes tuple number `i` of a run.
pub trait Generate: Send + 'static {
    /// The tuple type.
    type Item: Tuple;
    /// Tuple number `i` (called with `i` = 0, 1, 2, ... in order).
    fn generate(&mut self, i: u64) -> Self::Item;
}

/// Readings of `sim.sensors` simulated sensors, interleaved: reading `i` is sensor
/// `i % sensors` at seq `i / sensors`, drawn as [`SimulatedSensors`] draws them.
#[derive(Debug, Clone)]
pub struct SensorReadings {
    sim: Simulation,
}

impl SensorReadings {
    /// Readings of `sim` (its `samples` is ignored: the pacing decides how many).
    pub fn new(sim: Simulation) -> Self {
        let sim = Simulation {
            sensors: sim.sensors.max(1),
            ..sim
        };
        SensorReadings { sim }
    }
}

impl Generate for SensorReadings {
    type Item = Reading;

    fn generate(&mut self, i: u64) -> Reading {
        let n = u64::from(self.sim.sensors);
        let sensor = (i % n) as usize;
        SimulatedSensors::draw(&self.sim, sensor as u32, i / n)
    }
}

/// Lines of `words_per_line` words drawn (seeded) from a vocabulary of `vocabulary` words with
/// a skewed, Zipf-like frequency, as natural text has.
#[derive(Debug, Clone)]
pub struct TextLines {
    vocabulary: Vec<String>,
    words_per_line: usize,
    rng: SmallRng,
}

impl TextLines {
    /// A generator of lines of `words_per_line` words out of `vocabulary` distinct words.
    pub fn new(vocabulary: usize, words_per_line: usize, seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let vocabulary = (0..vocabulary.max(1))
            .map(|_| {
                let len = rng.gen_range(2..=9);
                (0..len)
                    .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
                    .collect()
            })
            .collect();
        TextLines {
            vocabulary,
            words_per_line: words_per_line.max(1),
            rng,
        }
    }
}

impl Generate for TextLines {
    type Item = String;

    fn generate(&mut self, _: u64) -> String {
        let n = self.vocabulary.len() as f64;
        let mut line = String::new();
        for k in 0..self.words_per_line {
            // u^3 skews the choice towards the first words of the vocabulary.
            let u: f64 = self.rng.gen();
            let word = &self.vocabulary[((u * u * u * n) as usize).min(self.vocabulary.len() - 1)];
            if k > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
        line
    }
}
