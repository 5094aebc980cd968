//! Tumbling event-time window count on Squall, with the window API or without it.
//!
//! `window_count [--tuples N] [--workers W] [--mode windows|plain] [--guarantee G]`
//! runs `gen (2 tasks) --fields(key)--> count (2 tasks) --global--> sink` over N generated
//! tuples (see `squall_benches::windowed`). `windows`: `count` is a `Windowed` bolt in event
//! time, the spouts generating watermarks; `plain`: `count` is a word-count style bolt keyed by
//! (window start, key) that emits everything in `finish`, no watermarks. Prints the checksum on
//! stdout and `elapsed_s tuples_per_s` on stderr.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rustc_hash::FxHashMap;
use squall::window::{Watermarks, WindowRange, WindowSpec, Windowed, WindowedBolt};
use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, Spout, SpoutCollector,
    State, TaskContext, TopologyBuilder,
};
use squall_benches::windowed::{args, checksum, expected, tuple, WINDOW_MS};

/// Emits tuples `task, task + tasks, ...` below `n`.
struct Gen {
    n: u64,
    next: u64,
    step: u64,
}

impl Spout for Gen {
    type Output = (u64, u32);
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.next = ctx.task_index() as u64;
        self.step = ctx.component_tasks() as u64;
        Ok(())
    }
    fn next_tuple(
        &mut self,
        out: &mut SpoutCollector<'_, (u64, u32)>,
    ) -> Result<(), ComponentError> {
        for _ in 0..256 {
            if self.next >= self.n {
                break;
            }
            out.emit(tuple(self.next));
            self.next += self.step;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.n
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        Ok(())
    }
}

/// (window start, key, count).
type Group = (u64, u32, u64);

/// Counts per key in each window (the window API).
struct PerKey;

impl WindowedBolt for PerKey {
    type Input = (u64, u32);
    type Output = Group;
    type Acc = FxHashMap<u32, u64>;
    fn add(&mut self, acc: &mut Self::Acc, t: &(u64, u32)) {
        *acc.entry(t.1).or_insert(0) += 1;
    }
    fn fire(
        &mut self,
        w: WindowRange,
        acc: &Self::Acc,
        _: bool,
        out: &mut BoltCollector<'_, Group>,
    ) -> Result<(), ComponentError> {
        acc.iter().for_each(|(&k, &n)| out.emit((w.start, k, n)));
        Ok(())
    }
    fn late(
        &mut self,
        _: (u64, u32),
        _: &mut BoltCollector<'_, Group>,
    ) -> Result<(), ComponentError> {
        Err("no tuple is late in this input".into())
    }
}

/// Counts per (window start, key) without the window API, word-count style.
#[derive(Default)]
struct Plain(FxHashMap<(u64, u32), u64>);

impl Bolt for Plain {
    type Input = (u64, u32);
    type Output = Group;
    fn execute(
        &mut self,
        (ts, k): (u64, u32),
        _: &mut BoltCollector<'_, Group>,
    ) -> Result<(), ComponentError> {
        *self.0.entry((ts - ts % WINDOW_MS, k)).or_insert(0) += 1;
        Ok(())
    }
    fn finish(&mut self, out: &mut BoltCollector<'_, Group>) -> Result<(), ComponentError> {
        self.0.drain().for_each(|((s, k), n)| out.emit((s, k, n)));
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.0)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.0 = state.decode()?;
        Ok(())
    }
}

/// Adds up the groups and their counts.
#[derive(Clone, Default)]
struct Sum(Arc<(AtomicU64, AtomicU64)>);

impl Bolt for Sum {
    type Input = Group;
    type Output = ();
    fn execute(
        &mut self,
        (_, _, n): Group,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        self.0 .0.fetch_add(1, Ordering::Relaxed);
        self.0 .1.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

fn main() -> Result<()> {
    let (n, workers, rest) = args();
    let mode = rest
        .iter()
        .position(|a| a == "--mode")
        .and_then(|i| rest.get(i + 1))
        .map_or("windows", String::as_str)
        .to_string();
    let guarantee = match rest
        .iter()
        .position(|a| a == "--guarantee")
        .and_then(|i| rest.get(i + 1))
        .map(String::as_str)
    {
        None | Some("at-most-once") => Guarantee::AtMostOnce,
        Some("exactly-once") => Guarantee::ExactlyOnce,
        Some(g) => bail!("unknown guarantee {g}"),
    };
    let sum = Sum::default();
    let mut b = TopologyBuilder::new("window-count-bench");
    let gen = b.set_spout("gen", workers, move || Gen {
        n,
        next: 0,
        step: 1,
    });
    let counts = match mode.as_str() {
        "windows" => {
            b.set_watermarks(&gen, Watermarks::bounded(0, |t: &(u64, u32)| t.0));
            let spec = WindowSpec::tumbling(Duration::from_millis(WINDOW_MS))
                .event_time(|t: &(u64, u32)| t.0);
            b.set_bolt("count", workers, move || {
                Windowed::new(PerKey, spec.clone())
            })
            .fields_grouping(&gen, |t: &(u64, u32)| t.1)
            .stream()
        }
        "plain" => b
            .set_bolt("count", workers, Plain::default)
            .fields_grouping(&gen, |t: &(u64, u32)| t.1)
            .stream(),
        m => bail!("unknown mode {m}"),
    };
    let s = sum.clone();
    b.set_bolt("sink", 1, move || s.clone())
        .global_grouping(&counts);
    let mut config = Config::default();
    config.workers = workers;
    config.guarantee = guarantee;
    config.track_latency = false;
    let start = Instant::now();
    LocalCluster::new(config).run(b.build()?)?;
    let elapsed = start.elapsed().as_secs_f64();
    let got = checksum(
        sum.0 .0.load(Ordering::Relaxed),
        sum.0 .1.load(Ordering::Relaxed),
    );
    if rest.iter().any(|a| a == "--check") && got != expected(n) {
        bail!("wrong result: {got}, expected {}", expected(n));
    }
    println!("{got}");
    eprintln!("{elapsed:.3} {:.0}", n as f64 / elapsed);
    Ok(())
}
