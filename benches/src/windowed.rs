//! What the window benchmarks share: the generated input and the result checksum.
//!
//! Tuple `i` (from 0) has event time `i / 10` ms (ten tuples per millisecond, in order) and
//! key `mix(i) % KEYS`; windows are tumbling, `WINDOW_MS` long. The result is the number of
//! (window, key) groups and the sum of their counts, which every implementation must agree on.

/// Distinct keys.
pub const KEYS: u64 = 1000;
/// Tumbling window size in milliseconds of event time.
pub const WINDOW_MS: u64 = 10_000;

/// The tuple `i`: (event time in ms, key).
#[inline]
pub fn tuple(i: u64) -> (u64, u32) {
    let mut h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    (i / 10, (h % KEYS) as u32)
}

/// The checksum every implementation prints: groups and total count.
pub fn checksum(groups: u64, total: u64) -> String {
    format!("groups={groups} total={total}")
}

/// The expected checksum for `n` tuples, computed sequentially.
pub fn expected(n: u64) -> String {
    let mut seen = rustc_hash::FxHashSet::default();
    for i in 0..n {
        let (ts, key) = tuple(i);
        seen.insert((ts / WINDOW_MS, key));
    }
    checksum(seen.len() as u64, n)
}

/// `--tuples N` (default 20 M) and `--workers W` (default 2) from the command line, and the
/// other arguments as they are.
pub fn args() -> (u64, usize, Vec<String>) {
    let mut tuples = 20_000_000;
    let mut workers = 2;
    let mut rest = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tuples" => tuples = it.next().and_then(|v| v.parse().ok()).unwrap_or(tuples),
            "--workers" => workers = it.next().and_then(|v| v.parse().ok()).unwrap_or(workers),
            _ => rest.push(a),
        }
    }
    (tuples, workers, rest)
}
