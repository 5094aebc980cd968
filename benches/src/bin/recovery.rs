//! Recovery time after a task panic: how long from the panic until the restarted task executes
//! tuples again, under each guarantee.
//!
//! `recovery [REPS=20]`. Each repetition runs numbers -> crashy (2 tasks, fields) -> sink, where
//! a stateful `crashy` panics once on a number chosen well after the start; the panic instant
//! and the first `execute` of the fresh instance are recorded. The supervisor's backoff is set
//! to 1 ms (its default minimum) and reported beside the figures. Prints, per guarantee, the
//! median and maximum recovery in milliseconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, Spout, SpoutCollector,
    State, Supervision, TaskContext, TopologyBuilder,
};

/// Panic instant and first execute of the fresh instance after it.
#[derive(Default)]
struct Marks {
    panicked: Option<Instant>,
    resumed: Option<Instant>,
}

/// Counts up forever, with message ids (so at-least-once tracks and replays them).
struct Numbers {
    next: u64,
}

impl Spout for Numbers {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit_with_id(self.next, self.next);
        self.next += 1;
        Ok(())
    }
    fn fail(&mut self, _: u64) {}
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        Ok(())
    }
}

/// Sums its inputs (state); panics once, on `at`.
struct Crashy {
    at: u64,
    sum: u64,
    restarted: bool,
    marks: Arc<Mutex<Marks>>,
}

impl Bolt for Crashy {
    type Input = u64;
    type Output = ();
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.restarted = ctx.restarts() > 0;
        Ok(())
    }
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let mut marks = self.marks.lock().map_err(|_| "poisoned")?;
        if self.restarted && marks.resumed.is_none() && marks.panicked.is_some() {
            marks.resumed = Some(Instant::now());
        }
        if n == self.at && marks.panicked.is_none() {
            marks.panicked = Some(Instant::now());
            drop(marks);
            panic!("injected panic on {n}");
        }
        self.sum = self.sum.wrapping_add(n);
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.sum)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.sum = state.decode()?;
        Ok(())
    }
}

fn once(guarantee: Guarantee) -> anyhow::Result<Duration> {
    let marks = Arc::new(Mutex::new(Marks::default()));
    let mut b = TopologyBuilder::new("recovery");
    let numbers = b.set_spout("numbers", 1, || Numbers { next: 0 });
    let m = marks.clone();
    b.set_bolt("crashy", 2, move || Crashy {
        at: 2_000_000,
        sum: 0,
        restarted: false,
        marks: m.clone(),
    })
    .fields_grouping(&numbers, |n: &u64| *n);
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(100);
    let mut supervision = Supervision::default();
    supervision.backoff_min = Duration::from_millis(1);
    config.supervision = supervision;
    let mut running = LocalCluster::new(config).spawn(b.build()?)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let recovered = loop {
        if running.wait_for(Duration::from_millis(5))? {
            anyhow::bail!("the unbounded topology ended");
        }
        let m = marks.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        if let (Some(p), Some(r)) = (m.panicked, m.resumed) {
            break r.saturating_duration_since(p);
        }
        if Instant::now() > deadline {
            anyhow::bail!("no recovery within 20 s");
        }
    };
    running.shutdown()?;
    Ok(recovered)
}

fn main() -> anyhow::Result<()> {
    let reps: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20);
    println!("guarantee       reps  median_ms  max_ms   (backoff 1 ms)");
    for (name, g) in [
        ("at-most-once", Guarantee::AtMostOnce),
        ("at-least-once", Guarantee::AtLeastOnce),
        ("exactly-once", Guarantee::ExactlyOnce),
    ] {
        let mut ms: Vec<f64> = (0..reps)
            .map(|_| once(g).map(|d| d.as_secs_f64() * 1e3))
            .collect::<anyhow::Result<_>>()?;
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        let max = ms[ms.len() - 1];
        println!("{name:<15} {reps:>4}  {median:>9.2}  {max:>6.2}");
    }
    Ok(())
}
