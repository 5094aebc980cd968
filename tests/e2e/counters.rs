//! Counters components keep through `TaskContext::counter`: the report sums each name over the
//! tasks, at parallelism 1 and N, and keeps what a crashed instance had counted.

use std::sync::Arc;
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Counter, Guarantee, LocalCluster,
    Supervision, TaskContext, TopologyBuilder,
};

use super::distributed::Numbers;

const END: u64 = 30_000;

/// Counts the numbers it sees in `seen` and the multiples of 3 in `threes`.
#[derive(Default)]
struct Classify {
    seen: Counter,
    threes: Counter,
}

impl Bolt for Classify {
    type Input = u64;
    type Output = ();
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.seen = ctx.counter("seen");
        self.threes = ctx.counter("threes");
        Ok(())
    }
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.seen.add(1);
        if n % 3 == 0 {
            self.threes.add(1);
        }
        Ok(())
    }
}

fn run(parallelism: usize, guarantee: Guarantee, chaos: f64) -> squall::RunReport {
    let mut b = TopologyBuilder::new("counters");
    let numbers = b.set_spout("numbers", 2, || Numbers {
        next: 0,
        step: 1,
        end: END,
        pause: Duration::ZERO,
        emits: Arc::default(),
    });
    b.set_bolt("classify", parallelism, Classify::default)
        .shuffle_grouping(&numbers);
    let mut config = Config::default();
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(20);
    if chaos > 0.0 {
        config.chaos = Some(Chaos {
            panic_rate: chaos,
            seed: 5,
        });
        config.supervision = Supervision::for_chaos();
    }
    LocalCluster::new(config).run(b.build().unwrap()).unwrap()
}

#[test]
fn the_report_sums_each_counter_over_the_tasks() {
    let threes = (0..END).filter(|n| n % 3 == 0).count() as u64;
    for parallelism in [1, 4] {
        for guarantee in [Guarantee::AtMostOnce, Guarantee::ExactlyOnce] {
            let report = run(parallelism, guarantee, 0.0);
            assert_eq!(report.counter("seen"), END, "{parallelism} {guarantee:?}");
            assert_eq!(
                report.counter("threes"),
                threes,
                "{parallelism} {guarantee:?}"
            );
            assert_eq!(report.counters.len(), 2);
            assert_eq!(report.counter("never counted"), 0);
        }
    }
}

#[test]
fn a_restarted_task_keeps_counting_from_where_the_crashed_one_was() {
    // Exactly once, a crash rolls every task back and the spouts replay: the counters are
    // running totals of what the tasks executed, so they count the replays too, and never
    // less than a run without failures.
    let report = run(4, Guarantee::ExactlyOnce, 0.002);
    assert!(report.restarts() > 0, "no crash was injected");
    // A counter that started again at 0 with each new instance would miss what the crashed
    // ones counted before the last checkpoint.
    assert!(report.counter("seen") >= END, "{}", report.counter("seen"));
}
