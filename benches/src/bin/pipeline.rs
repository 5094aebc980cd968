//! A 3-stage shuffle pipeline of trivial bolts: spout -> relay -> relay -> sink, every edge a
//! shuffle grouping. Measures the engine's per-tuple overhead (batching, routing, credits).
//!
//! `pipeline [TUPLES=50000000] [PARALLELISM=1] [--always-serialize]`; prints one line
//! `tuples=N elapsed_s=X tuples_per_s=Y`.

use anyhow::Context;
use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector,
    TopologyBuilder,
};

/// Emits `0..end`, 1024 per call.
struct Counter {
    next: u64,
    end: u64,
}

impl Spout for Counter {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let stop = (self.next + 1024).min(self.end);
        while self.next < stop {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
}

/// Passes every tuple on, changed trivially.
struct Relay;

impl Bolt for Relay {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit(n.wrapping_add(1));
        Ok(())
    }
}

/// Sums what reaches it, so nothing is optimised away.
#[derive(Default)]
struct Sum(u64);

impl Bolt for Sum {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.0 = self.0.wrapping_add(n);
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let always_serialize = args.iter().any(|a| a == "--always-serialize");
    let nums: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let tuples: u64 = nums
        .first()
        .map_or(Ok(50_000_000), |s| s.parse())
        .context("TUPLES")?;
    let parallelism: usize = nums
        .get(1)
        .map_or(Ok(1), |s| s.parse())
        .context("PARALLELISM")?;

    let mut b = TopologyBuilder::new("pipeline");
    let src = b.set_spout("spout", 1, move || Counter {
        next: 0,
        end: tuples,
    });
    let one = b
        .set_bolt("relay-1", parallelism, || Relay)
        .shuffle_grouping(&src)
        .stream();
    let two = b
        .set_bolt("relay-2", parallelism, || Relay)
        .shuffle_grouping(&one)
        .stream();
    b.set_bolt("sink", parallelism, Sum::default)
        .shuffle_grouping(&two);
    let mut config = Config::default();
    config.always_serialize = always_serialize;
    let report = LocalCluster::new(config).run(b.build()?)?;
    let done = report.component("sink").map_or(0, |c| c.executed);
    anyhow::ensure!(done == tuples, "sink executed {done} of {tuples}");
    let secs = report.elapsed.as_secs_f64();
    println!(
        "tuples={tuples} elapsed_s={secs:.3} tuples_per_s={:.0}",
        tuples as f64 / secs
    );
    Ok(())
}
