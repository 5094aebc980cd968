//! The outbox alone: tuples emitted through route (shuffle grouping) -> batch -> credited
//! link into fake links that count what they receive and credit it back, with 1 and 4
//! consumer tasks, at the default batch size and credits.
//!
//! `cargo bench -p squall --bench outbox`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use squall::runtime::bench_api::OutboxDriver;
use std::hint::black_box;

/// Tuples emitted per measured iteration.
const TUPLES: u64 = 100_000;
/// `Config::default()`'s batch size and batches in flight per link.
const BATCH_SIZE: usize = 1024;
const CREDITS: usize = 4;

fn outbox(c: &mut Criterion) {
    let mut group = c.benchmark_group("outbox_emit");
    group.throughput(Throughput::Elements(TUPLES));
    for consumers in [1, 4] {
        group.bench_with_input(
            BenchmarkId::new("consumers", consumers),
            &consumers,
            |b, &consumers| {
                let mut driver = OutboxDriver::new(consumers, BATCH_SIZE, CREDITS);
                b.iter(|| black_box(driver.emit(black_box(TUPLES))));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, outbox);
criterion_main!(benches);
