//! A user's binary serving its own topology on a Squall cluster: counts the numbers 1..=N by
//! their remainder modulo 3, in one spout and a bolt of two tasks.
//!
//! ```sh
//! cargo run -p squall-cluster --example tally -- run tally --n 1000
//! cargo run -p squall-cluster --example tally -- worker --cluster nats://127.0.0.1:4222
//! cargo run -p squall-cluster --example tally -- submit --cluster nats://127.0.0.1:4222 tally --n 1000 --wait
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use squall::{Bolt, BoltCollector, ComponentError, Config, Spout, SpoutCollector, TopologyBuilder};
use squall_cluster::{Prepared, Registry};

/// Emits 1..=n, then ends.
struct Numbers {
    next: u64,
    n: u64,
}

impl Spout for Numbers {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if self.next <= self.n {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next > self.n
    }
}

/// Counts its numbers by remainder and says so when the stream ends.
#[derive(Default)]
struct ByRemainder {
    counts: BTreeMap<u64, u64>,
}

impl Bolt for ByRemainder {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        *self.counts.entry(n % 3).or_default() += 1;
        Ok(())
    }
}

fn prepare(options: &[String]) -> Result<Prepared, String> {
    let n = match options {
        [flag, n] if flag == "--n" => n.parse::<u64>().map_err(|e| format!("--n {n}: {e}"))?,
        [] => 100,
        _ => return Err("tally takes one option: --n N".into()),
    };
    let mut builder = TopologyBuilder::new("tally");
    let numbers = builder.set_spout("numbers", 1, move || Numbers { next: 1, n });
    builder
        .set_bolt("count", 2, ByRemainder::default)
        .fields_grouping(&numbers, |n: &u64| n % 3);
    let topology = builder.build().map_err(|e| e.to_string())?;
    Ok(Prepared {
        topology,
        config: Config::default(),
        summary: Box::new(|report| {
            let counted = report.component("count").map_or(0, |c| c.executed);
            format!("tally: {counted} numbers counted\n")
        }),
    })
}

fn main() -> ExitCode {
    let mut registry = Registry::new();
    registry.register("tally", "counts 1..=N by remainder modulo 3", prepare);
    squall_cluster::main(registry)
}
