//! The sensor alarm detection on timely-dataflow, on simulated sensors (peer engine for
//! `run-sensor.sh`; needs `--features peers`).
//!
//! `sensor_timely [--workers W] [--sensors N --samples S --faulty-pct P --seed S] [--threshold K]
//! [--level X] [--output FILE]` starts W worker threads (default 2). Each draws the readings of
//! its share of the sensors (sensor % W) with Squall's own function, seq by seq, stamped with
//! the epoch seq / 1024. The dataflow is Squall's: an `Exchange` on the sensor into the alarm
//! operator (each sensor's run, and per epoch each worker's count of sensors in alarm per seq,
//! sent once the frontier passes the epoch: the pre-aggregation), then an `Exchange` to worker 0
//! into the leak operator, which closes the seqs of each epoch in order once the frontier has
//! passed it. Events are collected per worker and written at the end as Squall writes them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{anyhow, Result};
use rustc_hash::FxHashMap;
use squall_benches::sensor::{finish, summary, write_events, Leaks, Runs, SensorArgs};
use squall_topologies::sensor::{Event, Reading};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};
use timely::dataflow::InputHandleVec;

/// Seqs per timestamp.
const EPOCH: u64 = 1024;

fn main() -> std::process::ExitCode {
    finish(run())
}

fn run() -> Result<()> {
    let args = SensorArgs::parse()?;
    let start = Instant::now();
    let a = args.clone();
    let guards = timely::execute(timely::Config::process(args.workers), move |worker| {
        let (index, peers) = (worker.index() as u32, worker.peers() as u32);
        let (k, level, n) = (a.threshold, a.sim.level, a.sim.sensors);
        let events = Rc::new(RefCell::new(Vec::<Event>::new()));
        let mut input = InputHandleVec::<u64, Reading>::new();
        let (alarms, leaks_out) = (Rc::clone(&events), Rc::clone(&events));
        worker.dataflow::<u64, _, _>(|scope| {
            let by_sensor = Exchange::new(|r: &Reading| u64::from(r.sensor));
            input
                .to_stream(scope)
                .unary_frontier(by_sensor, "Alarm", move |_, _| {
                    let mut runs = Runs::default();
                    let mut stash: BTreeMap<u64, (Capability<u64>, FxHashMap<u64, u32>)> =
                        BTreeMap::new();
                    move |(input, frontier), output| {
                        input.for_each(|cap, data| {
                            let Some(held) = cap.retain_least(output.output_index()) else {
                                return;
                            };
                            let epoch = *held.time();
                            let (_, counts) = stash
                                .entry(epoch)
                                .or_insert_with(|| (held, FxHashMap::default()));
                            let mut alarms = alarms.borrow_mut();
                            for r in data.drain(..) {
                                let a = runs.observe(&r, k, level, &mut alarms);
                                *counts.entry(r.seq).or_insert(0) += u32::from(a);
                            }
                        });
                        while let Some(entry) = stash.first_entry() {
                            if frontier.frontier().less_equal(entry.key()) {
                                break;
                            }
                            let (cap, counts) = entry.remove();
                            output.session(&cap).give_iterator(counts.into_iter());
                        }
                    }
                })
                .sink(Exchange::new(|_: &(u64, u32)| 0), "Leak", {
                    let mut leaks = Leaks::default();
                    let mut stash: BTreeMap<u64, FxHashMap<u64, u32>> = BTreeMap::new();
                    move |(input, frontier)| {
                        input.for_each(|cap, data| {
                            let Some(&epoch) = cap.least() else { return };
                            let counts = stash.entry(epoch).or_default();
                            for (seq, m) in data.drain(..) {
                                *counts.entry(seq).or_insert(0) += m;
                            }
                        });
                        while let Some(entry) = stash.first_entry() {
                            if frontier.frontier().less_equal(entry.key()) {
                                break;
                            }
                            let mut seqs: Vec<(u64, u32)> = entry.remove().into_iter().collect();
                            seqs.sort_unstable();
                            let mut out = leaks_out.borrow_mut();
                            for (seq, m) in seqs {
                                leaks.close(seq, m, n, k, &mut out);
                            }
                        }
                    }
                });
        });
        let mine: Vec<u32> = (0..n).filter(|s| s % peers == index).collect();
        for seq in 0..a.sim.samples {
            for &sensor in &mine {
                input.send(a.draw(sensor, seq));
            }
            if (seq + 1) % EPOCH == 0 {
                input.advance_to((seq + 1) / EPOCH);
                worker.step();
            }
        }
        input.close();
        while worker.step_or_park(None) {}
        let out = std::mem::take(&mut *events.borrow_mut());
        out
    })
    .map_err(|e| anyhow!("timely failed to start: {e}"))?;
    let mut events = Vec::new();
    for result in guards.join() {
        events.extend(result.map_err(|e| anyhow!("a timely worker failed: {e}"))?);
    }
    let readings = u64::from(args.sim.sensors) * args.sim.samples;
    let elapsed = start.elapsed();
    write_events(args.output.as_deref(), &events)?;
    eprintln!("{}", summary(readings, &events, elapsed));
    Ok(())
}
