//! The names of the metrics every task exports through the [`metrics`] facade.
//!
//! Every metric carries two labels, [`COMPONENT_LABEL`] (the component id) and [`TASK_LABEL`]
//! (the task index within the component), so a Prometheus scrape reads, for example:
//!
//! ```text
//! squall_executed_total{component="alarm",task="0"} 1048576
//! squall_capacity{component="alarm",task="0"} 0.42
//! ```
//!
//! Nothing is exported unless the program installs a recorder (the `squall` command does so for
//! `--metrics-addr`); without one every update is a no-op. Tasks update their handles once per
//! batch, not per tuple.

/// Label naming the component.
pub const COMPONENT_LABEL: &str = "component";
/// Label naming the task index within its component.
pub const TASK_LABEL: &str = "task";

/// Counter: tuples emitted by the task's user code.
pub const EMITTED: &str = "squall_emitted_total";
/// Counter: tuples a bolt task executed.
pub const EXECUTED: &str = "squall_executed_total";
/// Counter: spout tuples whose tree completed (acked).
pub const ACKED: &str = "squall_acked_total";
/// Counter: spout tuples whose tree failed or timed out.
pub const FAILED: &str = "squall_failed_total";
/// Counter: tuples a spout emitted again after a failure.
pub const REPLAYED: &str = "squall_replayed_total";
/// Counter: times the supervisor restarted the task's user instance.
pub const RESTARTS: &str = "squall_restarts_total";
/// Gauge: input batches received by a bolt task and not executed yet (batches in flight to it).
pub const QUEUE_DEPTH: &str = "squall_queue_depth";
/// Histogram: time `execute` took per tuple, in seconds, averaged over each batch.
pub const EXECUTE_LATENCY: &str = "squall_execute_latency_seconds";
/// Gauge: Storm's capacity, the fraction of wall time the task spent executing over the last
/// window of about a second (near 1: the task is the bottleneck). Updated when a batch ends a
/// window, so a task that receives nothing keeps its last value.
pub const CAPACITY: &str = "squall_capacity";

/// Every metric name with its kind and help text.
pub const ALL: [(&str, &str, &str); 9] = [
    (EMITTED, "counter", "Tuples emitted by the task's user code"),
    (EXECUTED, "counter", "Tuples executed by the bolt task"),
    (ACKED, "counter", "Spout tuples whose tree completed"),
    (
        FAILED,
        "counter",
        "Spout tuples whose tree failed or timed out",
    ),
    (
        REPLAYED,
        "counter",
        "Tuples replayed by the spout after a failure",
    ),
    (RESTARTS, "counter", "Restarts of the task's user instance"),
    (
        QUEUE_DEPTH,
        "gauge",
        "Input batches received by the bolt task and not executed yet",
    ),
    (
        EXECUTE_LATENCY,
        "histogram",
        "Seconds execute took per tuple, averaged per batch",
    ),
    (
        CAPACITY,
        "gauge",
        "Fraction of wall time spent executing over the last second",
    ),
];

/// Registers the help text of every metric with the installed recorder (call once, after
/// installing it).
pub fn describe() {
    for (name, kind, help) in ALL {
        match kind {
            "counter" => metrics::describe_counter!(name, help),
            "gauge" => metrics::describe_gauge!(name, help),
            _ => metrics::describe_histogram!(name, metrics::Unit::Seconds, help),
        }
    }
}
