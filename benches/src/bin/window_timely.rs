//! Tumbling event-time window count on timely-dataflow (peer of `window_count`; needs
//! `--features peers`).
//!
//! `window_timely [--tuples N] [--workers W]`: each worker generates its share of the tuples
//! (`squall_benches::windowed`), with the window index as the timely timestamp (the input
//! advances as event time crosses a window, timely's watermark); the count operator receives
//! them through an `Exchange` on the key and, when the frontier passes a window, closes it.
//! Prints the checksum on stdout and `elapsed_s tuples_per_s` on stderr.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{anyhow, Result};
use rustc_hash::FxHashMap;
use squall_benches::windowed::{args, checksum, tuple, WINDOW_MS};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;
use timely::dataflow::InputHandleVec;

fn main() -> Result<()> {
    let (n, workers, _) = args();
    let start = Instant::now();
    let guards = timely::execute(timely::Config::process(workers), move |worker| {
        let (index, peers) = (worker.index() as u64, worker.peers() as u64);
        let done = Rc::new(RefCell::new((0u64, 0u64)));
        let mut input = InputHandleVec::<u64, (u64, u32)>::new();
        let out = Rc::clone(&done);
        worker.dataflow::<u64, _, _>(|scope| {
            let mut open: BTreeMap<u64, FxHashMap<u32, u64>> = BTreeMap::new();
            input.to_stream(scope).sink(
                Exchange::new(|t: &(u64, u32)| u64::from(t.1)),
                "Window",
                move |(data, frontier)| {
                    data.for_each(|cap, batch| {
                        let Some(&t) = cap.least() else { return };
                        let w = open.entry(t).or_default();
                        for (_, k) in batch.drain(..) {
                            *w.entry(k).or_insert(0) += 1;
                        }
                    });
                    while let Some((&t, _)) = open.first_key_value() {
                        if frontier.less_equal(&t) {
                            break;
                        }
                        if let Some(w) = open.remove(&t) {
                            let mut d = out.borrow_mut();
                            d.0 += w.len() as u64;
                            d.1 += w.values().sum::<u64>();
                        }
                    }
                },
            );
        });
        let mut i = index;
        let mut sent = 0u64;
        while i < n {
            let t = tuple(i);
            let window = t.0 / WINDOW_MS;
            if window > *input.time() {
                input.advance_to(window);
            }
            input.send(t);
            i += peers;
            sent += 1;
            if sent % (1 << 14) == 0 {
                worker.step();
            }
        }
        input.close();
        while worker.step_or_park(None) {}
        let d = *done.borrow();
        d
    })
    .map_err(|e| anyhow!("timely failed to start: {e}"))?;
    let (mut groups, mut total) = (0, 0);
    for r in guards.join() {
        let (g, t) = r.map_err(|e| anyhow!("a timely worker failed: {e}"))?;
        groups += g;
        total += t;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("{}", checksum(groups, total));
    eprintln!("{elapsed:.3} {:.0}", n as f64 / elapsed);
    Ok(())
}
