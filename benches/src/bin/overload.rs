//! Memory under overload: an unbounded spout that can emit about 10x faster than the only bolt
//! can execute, run for a fixed time while the process's resident memory is sampled every
//! second. With credit-bounded links, RSS must stay flat.
//!
//! `overload [SECONDS=30]`; prints one line per second (`t_s rss_mb emitted executed`) and a
//! final line with the plateau (RSS at 5 s), the maximum, and their ratio.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector,
    TopologyBuilder,
};

/// Emits 256-byte payloads as fast as it is allowed to.
struct Flood {
    emitted: Arc<AtomicU64>,
}

impl Spout for Flood {
    type Output = Vec<u8>;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Vec<u8>>) -> Result<(), ComponentError> {
        out.emit(vec![7u8; 256]);
        self.emitted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Spends about a microsecond per tuple.
struct Slow {
    executed: Arc<AtomicU64>,
}

impl Bolt for Slow {
    type Input = Vec<u8>;
    type Output = ();
    fn execute(&mut self, v: Vec<u8>, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let mut h = 0u64;
        for round in 0..12u64 {
            for &b in &v {
                h = h.rotate_left(5) ^ u64::from(b).wrapping_add(round);
            }
        }
        std::hint::black_box(h);
        self.executed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map_or(Ok(30), |s| s.parse())
        .context("SECONDS")?;
    let emitted = Arc::new(AtomicU64::new(0));
    let executed = Arc::new(AtomicU64::new(0));
    let (e, x) = (emitted.clone(), executed.clone());
    let mut b = TopologyBuilder::new("overload");
    let src = b.set_spout("flood", 1, move || Flood { emitted: e.clone() });
    b.set_bolt("slow", 1, move || Slow {
        executed: x.clone(),
    })
    .shuffle_grouping(&src);
    let running = LocalCluster::new(Config::default()).spawn(b.build()?)?;
    let start = Instant::now();
    let mut plateau = 0.0;
    let mut max: f64 = 0.0;
    for t in 1..=seconds {
        std::thread::sleep(Duration::from_secs(t).saturating_sub(start.elapsed()));
        let rss = rss_mb();
        if t == 5 {
            plateau = rss;
        }
        if t >= 5 {
            max = max.max(rss);
        }
        println!(
            "{t:>3} {rss:>8.1} {:>12} {:>12}",
            emitted.load(Ordering::Relaxed),
            executed.load(Ordering::Relaxed)
        );
    }
    running.shutdown()?;
    println!(
        "plateau_mb={plateau:.1} max_mb={max:.1} growth={:.1}%",
        (max / plateau.max(1e-9) - 1.0) * 100.0
    );
    Ok(())
}
