//! The run's report, from what every task reported when it finished.

use std::time::Duration;

use super::Controller;
use crate::report::Timeline;
use crate::runtime::observability::run_report::{ComponentReport, RunReport};
use crate::runtime::observability::stats::{new_histogram, TaskStats};

impl Controller {
    /// The report of a completed (or drained) run.
    pub(crate) fn report(&mut self) -> RunReport {
        let mut latency = new_histogram();
        let mut timeline = Timeline::new();
        let mut dead_letters = Vec::new();
        let mut counters = std::collections::BTreeMap::new();
        let mut components = Vec::with_capacity(self.order.len());
        for &node in &self.order {
            let (id, tasks) = &self.components[node];
            let range = self.base[node]..self.base[node] + tasks;
            let mut c = ComponentReport {
                id: id.clone(),
                tasks: *tasks,
                emitted: 0,
                executed: 0,
                elapsed: Duration::ZERO,
                restarts: self.restarts[range.clone()]
                    .iter()
                    .map(|&r| u64::from(r))
                    .sum(),
                acked: 0,
                failed: 0,
                replayed: 0,
                execute_latency: new_histogram(),
            };
            let stats: Vec<&mut TaskStats> = self.stats[range].iter_mut().flatten().collect();
            let first = stats.iter().map(|s| s.started).min();
            let last = stats.iter().map(|s| s.ended).max();
            if let (Some(first), Some(last)) = (first, last) {
                c.elapsed = last.saturating_duration_since(first);
            }
            for s in stats {
                c.emitted += s.emitted;
                c.executed += s.executed;
                c.acked += s.acked;
                c.failed += s.failed;
                c.replayed += s.replayed;
                // Both histograms auto-resize, so adding cannot fail on range.
                let _ = latency.add(&s.latency);
                let _ = c.execute_latency.add(&s.execute);
                timeline.merge(&s.timeline);
                dead_letters.append(&mut s.dead_letters);
                crate::component::add_counters(&mut counters, &s.counters);
            }
            components.push(c);
        }
        RunReport {
            topology: self.name.clone(),
            elapsed: self.start.elapsed(),
            components,
            latency,
            timeline,
            dead_letters,
            rollbacks: self.rollbacks,
            checkpoints: self.checkpoints,
            interrupted: None,
            counters,
        }
    }
}
