//! Word count on renoir (peer engine for `run-wordcount.sh`; needs `--features peers`).
//!
//! `wc_renoir [--workers N] [--mode words|preagg] [--output FILE] PATH...` runs a local renoir
//! job with parallelism N (default 2): a parallel source whose replica i reads its share of
//! every file (the lines starting in its byte range) and emits it line by line, a `flat_map`
//! splitting each line into words exactly as `wc_loop` does, then
//! - `--mode words` (default): `group_by(word).fold(count)`, shuffling every word;
//! - `--mode preagg`: `group_by_count(word)`, which counts locally before the shuffle;
//!
//! and `collect_vec`. Output and the stderr summary are the same as `wc_loop`'s (elapsed: from
//! start until the job has finished and the counts are collected).

use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use renoir::prelude::*;
use squall_benches::wordcount::{
    for_each_word, read_share, summary, write_counts, OwnedLines, WcArgs,
};

fn main() -> std::process::ExitCode {
    squall_benches::wordcount::finish(run())
}

fn run() -> Result<()> {
    let args = WcArgs::parse()?;
    let start = Instant::now();
    let workers = u64::try_from(args.workers).context("too many workers")?;
    let config = RuntimeConfig::local(workers).map_err(|e| anyhow!("renoir config: {e}"))?;
    let env = StreamContext::new(config);

    let inputs = args.inputs.clone();
    let words = env
        .stream_par_iter(move |index: u64, peers: u64| {
            match read_share(&inputs, index as usize, peers as usize) {
                Ok(text) => OwnedLines::new(text),
                Err(e) => {
                    eprintln!("{e:#}");
                    std::process::exit(1);
                }
            }
        })
        .batch_mode(BatchMode::fixed(1024))
        .flat_map(|line: String| {
            let (mut out, mut buf) = (Vec::new(), String::new());
            for_each_word(&line, &mut buf, |w| out.push(w.to_owned()));
            out
        });
    let result = if args.preagg {
        words
            .group_by_count(|w: &String| w.clone())
            .map(|(_, n)| n as u64)
            .collect_vec()
    } else {
        words
            .group_by(|w: &String| w.clone())
            .fold(0u64, |count, _| *count += 1)
            .collect_vec()
    };
    env.execute_blocking();
    let counts = result.get().context("renoir returned no result")?;
    let words = counts.iter().map(|(_, n)| n).sum();
    let elapsed = start.elapsed();
    write_counts(args.output.as_deref(), counts)?;
    eprintln!("{}", summary(words, elapsed, start.elapsed()));
    Ok(())
}
