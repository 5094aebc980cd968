//! The inbox alone: batches from 2 input links pushed, then drained as an exactly-once bolt
//! task drains them, with a checkpoint barrier every 16 batches on each link and the second
//! link 4 batches late, so that the first link's batches wait for every barrier's alignment.
//!
//! `cargo bench -p squall --bench inbox`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use squall::runtime::bench_api::{Arrivals, InboxDriver};
use std::hint::black_box;

const LINKS: u32 = 2;
/// Batches per link per measured iteration.
const BATCHES: u64 = 512;
/// Tuples per batch: small, since the inbox moves whole batches and never looks inside.
const BATCH_SIZE: usize = 8;
const BARRIER_EVERY: u64 = 16;
const LAG: u64 = 4;

fn inbox(c: &mut Criterion) {
    let mut group = c.benchmark_group("inbox_aligned");
    // Every batch of every link, the late link's lag included.
    let total = u64::from(LINKS) * BATCHES + LAG * u64::from(LINKS - 1);
    group.throughput(Throughput::Elements(total));
    group.bench_function("links/2", |b| {
        let mut driver = InboxDriver::new(LINKS as usize);
        b.iter_batched(
            || Arrivals::new(LINKS, BATCHES, BATCH_SIZE, BARRIER_EVERY, LAG),
            |arrivals| black_box(driver.run(arrivals)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, inbox);
criterion_main!(benches);
