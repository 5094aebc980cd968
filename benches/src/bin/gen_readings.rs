//! Writes a readings CSV for `run-sensor.sh`: `gen_readings PATH SENSORS SAMPLES SEED
//! [FAULTY_PCT]` (default 45). Header `sensor,seq,value`; seq by seq, the sensors of each seq in
//! an order shuffled per seq (lines of different sensors interleave, each sensor's seqs
//! ascend); values drawn as Squall's simulated sensors draw them (level 1.0), six decimals.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use squall_topologies::sensor::{SimulatedSensors, Simulation};

fn main() -> std::process::ExitCode {
    squall_benches::sensor::finish(run())
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_readings PATH SENSORS SAMPLES SEED [FAULTY_PCT]";
    let path = args.first().context(usage)?;
    let number = |i: usize| -> Result<u64> { args.get(i).context(usage)?.parse().context(usage) };
    let sim = Simulation {
        sensors: u32::try_from(number(1)?)?,
        samples: number(2)?,
        faulty_pct: args.get(4).map_or(Ok(45.0), |v| v.parse()).context(usage)?,
        level: 1.0,
        seed: number(3)?,
    };
    let mut rng = SmallRng::seed_from_u64(sim.seed);
    let mut order: Vec<u32> = (0..sim.sensors).collect();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(w, "sensor,seq,value")?;
    for seq in 0..sim.samples {
        order.shuffle(&mut rng);
        for &sensor in &order {
            let r = SimulatedSensors::draw(&sim, sensor, seq);
            writeln!(w, "{sensor},{seq},{:.6}", r.value)?;
        }
    }
    w.flush()?;
    Ok(())
}
