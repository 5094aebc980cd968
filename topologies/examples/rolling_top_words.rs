//! storm-starter's RollingTopWords on Squall: the top 3 words of every 9 s window, sliding by
//! 3 s, over a minute of generated words. Run with
//! `cargo run -p squall-topologies --example rolling_top_words`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{Config, LocalCluster};
use squall_topologies::rolling_top_words::{Rankings, RollingTopWords};

fn main() -> anyhow::Result<()> {
    let vocabulary = ["storm", "squall", "bolt", "spout", "tuple", "ack"];
    let words = (0..6000u64)
        .map(|i| {
            (
                i * 10,
                vocabulary[(i * i / 7 + i / 1000) as usize % vocabulary.len()].to_string(),
            )
        })
        .collect();
    let rankings = Arc::new(Mutex::new(Rankings::new()));
    let job = RollingTopWords {
        words,
        window: Duration::from_secs(9),
        slide: Duration::from_secs(3),
        top_n: 3,
        parallelism: 2,
        rankings: rankings.clone(),
    };
    LocalCluster::new(Config::default()).run(job.topology()?)?;
    let rankings = rankings
        .lock()
        .map_err(|_| anyhow::anyhow!("a ranker panicked"))?;
    for (end, top) in rankings.iter() {
        let top: Vec<String> = top.iter().map(|(w, n)| format!("{w} {n}")).collect();
        println!(
            "window ending at {:>5.1} s: {}",
            *end as f64 / 1000.0,
            top.join(", ")
        );
    }
    Ok(())
}
