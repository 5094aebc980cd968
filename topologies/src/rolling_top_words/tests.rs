use std::collections::BTreeMap;

use squall::{Config, LocalCluster};

use super::*;

/// Words over 60 s of event time, some more popular than others, mildly out of order.
fn words() -> Vec<TimedWord> {
    let vocabulary = [
        "storm", "squall", "bolt", "spout", "tuple", "ack", "window", "tick",
    ];
    let mut x: u64 = 7;
    (0..6000u64)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Skewed: low indexes far more often; the skew drifts with time.
            let pick = ((x % 64) as f64).sqrt() as usize + (i as usize / 1500);
            let ts = (i * 10).saturating_sub(x % 300);
            (ts, vocabulary[pick % vocabulary.len()].to_string())
        })
        .collect()
}

/// The top N of every sliding window, computed directly.
fn oracle(words: &[TimedWord], window: u64, slide: u64, n: usize) -> Rankings {
    let mut counts: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    for (ts, w) in words {
        let mut start = ts - ts % slide;
        loop {
            if start + window > *ts {
                *counts
                    .entry(start + window)
                    .or_default()
                    .entry(w.clone())
                    .or_default() += 1;
            }
            if start < slide {
                break;
            }
            start -= slide;
            if start + window <= *ts {
                break;
            }
        }
    }
    counts
        .into_iter()
        .map(|(end, c)| {
            let mut all: Vec<(String, u64)> = c.into_iter().collect();
            all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            all.truncate(n);
            (end, all)
        })
        .collect()
}

#[test]
fn rolling_top_words_ranks_every_window_like_a_direct_count() {
    let words = words();
    let want = oracle(&words, 9000, 3000, 3);
    for parallelism in [1, 3] {
        let rankings = Arc::new(Mutex::new(Rankings::new()));
        let job = RollingTopWords {
            words: words.clone(),
            window: Duration::from_secs(9),
            slide: Duration::from_secs(3),
            top_n: 3,
            parallelism,
            rankings: rankings.clone(),
        };
        LocalCluster::new(Config::default())
            .run(job.topology().unwrap())
            .unwrap();
        assert_eq!(*rankings.lock().unwrap(), want, "parallelism {parallelism}");
    }
}
