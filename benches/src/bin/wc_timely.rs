//! Word count on timely-dataflow (peer engine for `run-wordcount.sh`; needs `--features peers`).
//!
//! `wc_timely [--workers N] [--mode words|preagg] [--output FILE] PATH...` starts N worker
//! threads (default 2) in one process. Each reads its share of every file (the lines starting in
//! its byte range), splits it into words exactly as `wc_loop` does, and feeds them into a
//! dataflow whose count operator receives its input through an `Exchange` on the word's hash.
//! `--mode words` (default) shuffles every word as `(word, 1)`; `--mode preagg` counts locally
//! first and shuffles `(word, count)` pairs every 1 M words. After the input closes and the
//! dataflow drains, each worker hands back its counts; the output and the stderr summary are the
//! same as `wc_loop`'s (elapsed: from start until every worker is done counting).

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{anyhow, Result};
use rustc_hash::FxBuildHasher;
use squall_benches::wordcount::{
    add_word, for_each_word, read_share, summary, write_counts, Counts, WcArgs,
};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;
use timely::dataflow::InputHandleVec;

/// Words sent between two steps of the worker, so that data flows while the input is read.
const STEP_EVERY: u64 = 1 << 14;
/// Words counted locally between two flushes in `--mode preagg`.
const PREAGG_FLUSH: u64 = 1 << 20;

fn main() -> std::process::ExitCode {
    squall_benches::wordcount::finish(run())
}

fn run() -> Result<()> {
    let args = WcArgs::parse()?;
    let start = Instant::now();
    let (inputs, preagg) = (args.inputs.clone(), args.preagg);
    let guards = timely::execute(timely::Config::process(args.workers), move |worker| {
        let (index, peers) = (worker.index(), worker.peers());
        let counts = Rc::new(RefCell::new(Counts::default()));
        let mut input = InputHandleVec::<u64, (String, u64)>::new();
        let sink_counts = Rc::clone(&counts);
        worker.dataflow::<u64, _, _>(|scope| {
            let by_word = Exchange::new(|x: &(String, u64)| FxBuildHasher.hash_one(&x.0));
            input
                .to_stream(scope)
                .sink(by_word, "Count", move |(data, _)| {
                    let mut counts = sink_counts.borrow_mut();
                    data.for_each(|_, batch| {
                        for (word, n) in batch.drain(..) {
                            *counts.entry(word).or_insert(0) += n;
                        }
                    });
                });
        });

        let text = read_share(&inputs, index, peers).map_err(|e| format!("{e:#}"))?;
        let mut buf = String::new();
        let mut local = Counts::default();
        let mut seen = 0u64;
        for_each_word(&text, &mut buf, |word| {
            if preagg {
                add_word(&mut local, word, 1);
            } else {
                input.send((word.to_owned(), 1));
            }
            seen += 1;
            if preagg && seen % PREAGG_FLUSH == 0 {
                local.drain().for_each(|pair| input.send(pair));
            }
            if seen % STEP_EVERY == 0 {
                worker.step();
            }
        });
        local.drain().for_each(|pair| input.send(pair));
        drop(text);
        input.close();
        while worker.step_or_park(None) {}
        let counts = std::mem::take(&mut *counts.borrow_mut());
        Ok::<Counts, String>(counts)
    })
    .map_err(|e| anyhow!("timely failed to start: {e}"))?;

    let mut all = Vec::new();
    for result in guards.join() {
        let counts = result
            .map_err(|e| anyhow!("a timely worker failed: {e}"))?
            .map_err(|e| anyhow!("{e}"))?;
        all.extend(counts);
    }
    let words = all.iter().map(|(_, n)| n).sum();
    let elapsed = start.elapsed();
    write_counts(args.output.as_deref(), all)?;
    eprintln!("{}", summary(words, elapsed, start.elapsed()));
    Ok(())
}
