//! Co-occurrence counts of item pairs, by Lin & Dyer's two methods (*Data-Intensive Text
//! Processing with MapReduce*, section 3.2):
//!
//! - **pairs**: one `((a, b), 1)` record per pair of a line; many small records.
//! - **stripes**: one `(a, {b: 1, ...})` record per item of a line, the items paired with it in
//!   an associative array; fewer, larger records, and the combiner merges whole stripes.
//!
//! For every line, every unordered pair of distinct items `{a, b}` with `a < b` (byte order)
//! counts once. Pairs are partitioned by `a`, as stripes are, so both methods write the same
//! lines into the same `part-r-NNNNN` files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use squall::mapreduce::{
    Combiner, HashPartitioner, Job, MapOutput, Mapper, Partitioner, Record, ReduceOutput, Reducer,
    Settings, Values,
};
use squall::ComponentError;

use super::SumCombiner;

/// The distinct items of a line, sorted (byte order).
fn items(line: &str) -> Vec<&str> {
    let mut items: Vec<&str> = line.split_whitespace().collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// A pair of items, `a < b`.
pub type Pair = (String, String);

/// Emits `((a, b), 1)` for every pair of distinct items of a line.
#[derive(Debug, Default, Clone, Copy)]
pub struct PairsMapper;

impl Mapper for PairsMapper {
    type Key = Pair;
    type Value = u64;

    fn map(
        &mut self,
        record: Record<'_>,
        out: &mut MapOutput<'_, Pair, u64>,
    ) -> Result<(), ComponentError> {
        let items = items(record.line);
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                out.emit((a.to_string(), b.to_string()), 1)?;
            }
        }
        Ok(())
    }
}

/// Partitions a pair by its first item, as the stripes method partitions its keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstItemPartitioner;

impl Partitioner<Pair> for FirstItemPartitioner {
    fn partition(&self, key: &Pair, partitions: usize) -> usize {
        HashPartitioner.partition(&key.0, partitions)
    }
}

/// Writes `a<TAB>b<TAB>total`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PairsReducer;

impl Reducer for PairsReducer {
    type Key = Pair;
    type Value = u64;

    fn reduce(
        &mut self,
        (a, b): &Pair,
        counts: Values<'_, Pair, u64>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError> {
        Ok(out.write(format_args!("{a}\t{b}"), counts.sum::<u64>())?)
    }
}

/// The items paired with one item, and how often.
pub type Stripe = BTreeMap<String, u64>;

/// Emits `(a, {b: 1 for every b > a of the line})` for every item `a` of a line.
#[derive(Debug, Default, Clone, Copy)]
pub struct StripesMapper;

impl Mapper for StripesMapper {
    type Key = String;
    type Value = Stripe;

    fn map(
        &mut self,
        record: Record<'_>,
        out: &mut MapOutput<'_, String, Stripe>,
    ) -> Result<(), ComponentError> {
        let items = items(record.line);
        for (i, a) in items.iter().enumerate() {
            let rest = &items[i + 1..];
            if !rest.is_empty() {
                let stripe = rest.iter().map(|b| (b.to_string(), 1)).collect();
                out.emit_ref(*a, stripe)?;
            }
        }
        Ok(())
    }
}

/// Adds `from` into `into`, element-wise.
fn merge_into(into: &mut Stripe, from: Stripe) {
    for (b, n) in from {
        *into.entry(b).or_insert(0) += n;
    }
}

/// Merges stripes element-wise.
#[derive(Debug, Default, Clone, Copy)]
pub struct StripeCombiner;

impl Combiner<String, Stripe> for StripeCombiner {
    fn combine(&mut self, _: &String, stripes: &mut Vec<Stripe>) -> Result<(), ComponentError> {
        // Merge into the largest stripe: the cost is the size of the others.
        let largest = (0..stripes.len())
            .max_by_key(|&i| stripes[i].len())
            .unwrap_or(0);
        let mut merged = if stripes.is_empty() {
            Stripe::new()
        } else {
            stripes.swap_remove(largest)
        };
        for s in stripes.drain(..) {
            merge_into(&mut merged, s);
        }
        stripes.push(merged);
        Ok(())
    }

    fn merge(&mut self, _: &String, acc: &mut Stripe, stripe: Stripe) -> Option<Stripe> {
        merge_into(acc, stripe);
        None
    }
}

/// Writes `a<TAB>b<TAB>total` for every `b` of the merged stripes of `a`.
#[derive(Debug, Default, Clone, Copy)]
pub struct StripesReducer;

impl Reducer for StripesReducer {
    type Key = String;
    type Value = Stripe;

    fn reduce(
        &mut self,
        a: &String,
        stripes: Values<'_, String, Stripe>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError> {
        let mut merged = Stripe::new();
        for s in stripes {
            if s.len() > merged.len() {
                let smaller = std::mem::replace(&mut merged, s);
                merge_into(&mut merged, smaller);
            } else {
                merge_into(&mut merged, s);
            }
        }
        for (b, n) in merged {
            out.write(format_args!("{a}\t{b}"), n)?;
        }
        Ok(())
    }
}

/// The pairs job over `input` into `output`.
pub fn pairs(
    input: PathBuf,
    output: PathBuf,
    settings: Settings,
    combiner: bool,
) -> Job<PairsMapper, PairsReducer> {
    let job = Job::new("cooccurrence-pairs", || PairsMapper, || PairsReducer)
        .input([input])
        .output(output)
        .partitioner(FirstItemPartitioner)
        .settings(settings);
    if combiner {
        job.combiner(|| SumCombiner)
    } else {
        job
    }
}

/// The stripes job over `input` into `output`.
pub fn stripes(
    input: PathBuf,
    output: PathBuf,
    settings: Settings,
    combiner: bool,
) -> Job<StripesMapper, StripesReducer> {
    let job = Job::new("cooccurrence-stripes", || StripesMapper, || StripesReducer)
        .input([input])
        .output(output)
        .settings(settings);
    if combiner {
        job.combiner(|| StripeCombiner)
    } else {
        job
    }
}
