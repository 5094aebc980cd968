//! The JSON the UI serves (`/api/v1/topology`, `/api/v1/job`), built from the engine's
//! snapshots. Field names are a contract (`docs/ui.md`): add fields, never rename them.

use hdrhistogram::Histogram;
use serde::Serialize;
use squall::mapreduce::{Counters, JobStatus, TaskStatus};
use squall::{DeadLetter, Guarantee, LiveSnapshot};

/// `/api/v1/topology`.
#[derive(Debug, Clone, Serialize)]
pub struct TopologyJson {
    /// The topology's name.
    pub name: String,
    /// `exactly-once`, `at-least-once` or `at-most-once`.
    pub guarantee: &'static str,
    /// Seconds since the run started.
    pub uptime_s: f64,
    /// `running`, or `finished` once the run ended.
    pub state: &'static str,
    /// Components, producers first.
    pub components: Vec<ComponentJson>,
    /// Subscriptions.
    pub edges: Vec<EdgeJson>,
    /// Checkpoints and rollbacks.
    pub checkpoints: CheckpointsJson,
    /// Task restarts over all components.
    pub restarts: u64,
    /// Tuples given up on (the first thousand).
    pub dead_letters: Vec<DeadLetterJson>,
    /// End-to-end latency so far.
    pub latency_us: LatencyJson,
    /// One point per sample of the last minutes, oldest first.
    pub timeline: Vec<TimelineJson>,
}

/// One component in `/api/v1/topology`.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentJson {
    /// The component's id.
    pub id: String,
    /// `spout` or `bolt`.
    pub kind: &'static str,
    /// Its tasks.
    pub parallelism: usize,
    /// Tuples emitted.
    pub emitted: u64,
    /// Tuples executed (bolts).
    pub executed: u64,
    /// Tuple trees completed (spouts, at-least-once).
    pub acked: u64,
    /// Tuples failed.
    pub failed: u64,
    /// Tuples emitted again after a failure.
    pub replayed: u64,
    /// Task restarts.
    pub restarts: u64,
    /// The busiest task's busy share of the last second, 0 to 1 (bolts).
    pub capacity: f64,
    /// Batches waiting in its tasks' inboxes.
    pub queue_depth: u64,
    /// Bolts: execute time per tuple. Spouts: end-to-end (complete) latency of the topology's
    /// tuple trees.
    pub latency_us: Percentiles,
    /// Per second over the last sample interval.
    pub rates: RatesJson,
}

/// Per-second rates of a component's counters.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RatesJson {
    /// Emitted per second.
    pub emitted: f64,
    /// Executed per second.
    pub executed: f64,
    /// Acked per second.
    pub acked: f64,
    /// Failed per second.
    pub failed: f64,
    /// Replayed per second.
    pub replayed: f64,
}

/// p50, p99 and max in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// One subscription.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeJson {
    /// Producer id.
    pub from: String,
    /// Consumer id.
    pub to: String,
    /// Stream name.
    pub stream: String,
    /// Grouping name.
    pub grouping: &'static str,
}

/// Checkpoint counters.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckpointsJson {
    /// Checkpoints completed.
    pub completed: u64,
    /// Rollbacks of the whole topology to a checkpoint.
    pub rollbacks: u64,
}

/// A tuple given up on.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetterJson {
    /// The bolt that failed it.
    pub component: String,
    /// The task index.
    pub task: usize,
    /// Times it was tried.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// The tuple, decoded from MessagePack and written as JSON.
    pub tuple: String,
}

/// End-to-end latency in microseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyJson {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// 99.99th percentile.
    pub p9999: f64,
    /// Largest.
    pub max: f64,
    /// The distribution as `[x, us]` points, x = `1/(1-percentile)` (the axis of
    /// `latency.svg`: 10 is 90%, 100 is 99%, ...).
    pub distribution: Vec<[f64; 2]>,
}

/// One sample of the run over time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TimelineJson {
    /// Seconds since the start.
    pub t: f64,
    /// Spout emits per second over the interval.
    pub emitted_per_s: f64,
    /// Bolt executes per second over the interval.
    pub executed_per_s: f64,
    /// Median end-to-end latency of the samples published in the last two seconds (`null`
    /// when none were).
    pub p50_us: Option<f64>,
    /// 99th percentile of the same.
    pub p99_us: Option<f64>,
}

/// `/api/v1/job`.
#[derive(Debug, Clone, Serialize)]
pub struct JobJson {
    /// The job's name.
    pub name: String,
    /// `running` or `finished`.
    pub state: &'static str,
    /// Map tasks committed and in all.
    pub maps_done: usize,
    /// Map tasks.
    pub maps_total: usize,
    /// Reduce tasks committed.
    pub reduces_done: usize,
    /// Reduce tasks.
    pub reduces_total: usize,
    /// Failed attempts.
    pub failed_attempts: u64,
    /// Killed attempts (losing backups).
    pub killed_attempts: u64,
    /// Map and reduce tasks.
    pub tasks: Vec<JobTaskJson>,
    /// The job's counters by name (`map_input_records`, ..., and user counters).
    pub counters: serde_json::Map<String, serde_json::Value>,
}

/// A map or reduce task.
#[derive(Debug, Clone, Serialize)]
pub struct JobTaskJson {
    /// `map` or `reduce`.
    pub kind: &'static str,
    /// Split (map) or partition (reduce).
    pub index: usize,
    /// `pending`, `running`, `committed` or `failed`.
    pub state: &'static str,
    /// Attempts launched.
    pub attempts: u32,
    /// Attempts failed.
    pub failures: u32,
    /// 0 to 1.
    pub progress: f64,
    /// Seconds its oldest running attempt has run.
    pub running_s: Option<f64>,
    /// The last failure's message.
    pub last_failure: String,
}

fn guarantee_name(g: Guarantee) -> &'static str {
    match g {
        Guarantee::ExactlyOnce => "exactly-once",
        Guarantee::AtLeastOnce => "at-least-once",
        _ => "at-most-once",
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

/// p50, p99 and max of a histogram of nanoseconds.
pub(crate) fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        p50: us(h.value_at_quantile(0.5)),
        p99: us(h.value_at_quantile(0.99)),
        max: us(h.max()),
    }
}

fn latency(h: &Histogram<u64>) -> LatencyJson {
    if h.is_empty() {
        return LatencyJson::default();
    }
    let q = |q: f64| us(h.value_at_quantile(q));
    LatencyJson {
        count: h.len(),
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
        p9999: q(0.9999),
        max: us(h.max()),
        distribution: h
            .iter_quantiles(4)
            .map(|v| (v.quantile_iterated_to(), v.value_iterated_to()))
            .filter(|&(q, _)| q < 1.0)
            .map(|(q, v)| [1.0 / (1.0 - q), us(v)])
            .collect(),
    }
}

/// A dead letter's tuple as text: its MessagePack decoded to JSON, or its bytes in hex.
pub fn tuple_text(payload: &[u8]) -> String {
    if payload.is_empty() {
        return "(not recorded: the task's first failure comes before it keeps tuples)".into();
    }
    match rmp_serde::from_slice::<serde_json::Value>(payload) {
        Ok(v) => v.to_string(),
        Err(_) => payload.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn dead_letter(d: &DeadLetter) -> DeadLetterJson {
    DeadLetterJson {
        component: d.component.clone(),
        task: d.task,
        attempts: d.attempts,
        error: d.error.clone(),
        tuple: tuple_text(&d.payload),
    }
}

/// `/api/v1/topology` from a snapshot, the rates since the previous sample and the timeline.
pub(crate) fn topology(
    s: &LiveSnapshot,
    rates: &[RatesJson],
    timeline: Vec<TimelineJson>,
    finished: bool,
) -> TopologyJson {
    let complete = percentiles(&s.latency);
    TopologyJson {
        name: s.graph.name.clone(),
        guarantee: guarantee_name(s.guarantee),
        uptime_s: s.uptime.as_secs_f64(),
        state: if finished { "finished" } else { "running" },
        components: s
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| ComponentJson {
                id: c.id.clone(),
                kind: if c.spout { "spout" } else { "bolt" },
                parallelism: c.parallelism,
                emitted: c.emitted,
                executed: c.executed,
                acked: c.acked,
                failed: c.failed,
                replayed: c.replayed,
                restarts: c.restarts,
                capacity: c.capacity,
                queue_depth: c.queue_depth,
                latency_us: if c.spout {
                    complete
                } else {
                    percentiles(&c.execute_latency)
                },
                rates: rates.get(i).copied().unwrap_or_default(),
            })
            .collect(),
        edges: s
            .graph
            .edges
            .iter()
            .map(|e| EdgeJson {
                from: e.from.clone(),
                to: e.to.clone(),
                stream: e.stream.clone(),
                grouping: e.grouping,
            })
            .collect(),
        checkpoints: CheckpointsJson {
            completed: s.checkpoints,
            rollbacks: s.rollbacks,
        },
        restarts: s.components.iter().map(|c| c.restarts).sum(),
        dead_letters: s.dead_letters.iter().map(dead_letter).collect(),
        latency_us: latency(&s.latency),
        timeline,
    }
}

fn task(kind: &'static str, t: &TaskStatus) -> JobTaskJson {
    JobTaskJson {
        kind,
        index: t.index,
        state: t.state.name(),
        attempts: t.attempts,
        failures: t.failures,
        progress: t.progress,
        running_s: t.running_for.map(|d| d.as_secs_f64()),
        last_failure: t.last_failure.clone(),
    }
}

/// `/api/v1/job` from the job's status.
pub(crate) fn job(s: &JobStatus, finished: bool) -> JobJson {
    let counters = counters(&s.counters);
    JobJson {
        name: s.name.clone(),
        state: if finished { "finished" } else { "running" },
        maps_done: s.progress.maps_done,
        maps_total: s.progress.maps,
        reduces_done: s.progress.reduces_done,
        reduces_total: s.progress.reduces,
        failed_attempts: s.progress.failed,
        killed_attempts: s.progress.killed,
        tasks: s
            .maps
            .iter()
            .map(|t| task("map", t))
            .chain(s.reduces.iter().map(|t| task("reduce", t)))
            .collect(),
        counters,
    }
}

/// The built-in counters by their Hadoop-style names, then the user's.
fn counters(c: &Counters) -> serde_json::Map<String, serde_json::Value> {
    let builtin = [
        ("map_input_records", c.map_input_records),
        ("map_output_records", c.map_output_records),
        ("combine_input_records", c.combine_input_records),
        ("combine_output_records", c.combine_output_records),
        ("spilled_records", c.spilled_records),
        ("spills", c.spills),
        ("reduce_input_groups", c.reduce_input_groups),
        ("reduce_input_records", c.reduce_input_records),
        ("reduce_output_records", c.reduce_output_records),
        ("map_tasks", c.map_tasks),
        ("reduce_tasks", c.reduce_tasks),
        ("failed_attempts", c.failed_attempts),
        ("killed_attempts", c.killed_attempts),
        ("speculative_attempts", c.speculative_attempts),
    ];
    let mut map = serde_json::Map::new();
    for (name, n) in builtin {
        map.insert(name.into(), n.into());
    }
    for (name, n) in &c.user {
        map.entry(name.clone()).or_insert((*n).into());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tuple_is_shown_as_json_or_hex() {
        let payload = rmp_serde::to_vec(&(7u32, "seven".to_string())).unwrap();
        assert_eq!(tuple_text(&payload), r#"[7,"seven"]"#);
        assert_eq!(tuple_text(&[0xc1]), "c1", "0xc1 is never valid MessagePack");
        assert!(tuple_text(&[]).starts_with("(not recorded"));
    }

    #[test]
    fn latency_distribution_uses_the_nines_axis() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let l = latency(&h);
        assert_eq!(l.count, 1000);
        assert!((l.p50 - 500.0).abs() < 1.0, "{}", l.p50);
        assert!(l.distribution.iter().all(|p| p[0] >= 1.0));
        assert!(l.distribution.windows(2).all(|w| w[0][0] <= w[1][0]));
        assert!(l.distribution.iter().any(|p| p[0] >= 100.0), "reaches 99%");
    }
}
