//! Why a run ended, as typed `RunError` variants: callers match on causes, not on message text.

use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, RunError, Spout,
    SpoutCollector, StateBackend, TopologyBuilder,
};

/// Counts up without end (a live source), or to `end`.
struct Count {
    next: u64,
    end: Option<u64>,
}

impl Spout for Count {
    type Output = u64;

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if self.end.is_none_or(|end| self.next < end) {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.end.is_some_and(|end| self.next >= end)
    }
}

/// Takes `delay` per tuple: a bolt far slower than its spout.
struct Slow {
    delay: Duration,
}

impl Bolt for Slow {
    type Input = u64;
    type Output = ();

    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        std::thread::sleep(self.delay);
        Ok(())
    }
}

fn topology(end: Option<u64>, delay: Duration) -> squall::Topology {
    let mut b = TopologyBuilder::new("errors");
    let numbers = b.set_spout("numbers", 1, move || Count { next: 0, end });
    b.set_bolt("slow", 1, move || Slow { delay })
        .shuffle_grouping(&numbers);
    b.build().unwrap()
}

#[test]
fn a_checkpoint_that_cannot_be_written_is_a_checkpoint_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("occupied");
    std::fs::write(&not_a_dir, b"a file where the checkpoints would go").unwrap();
    let mut config = Config::default();
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(5);
    config.state_backend = StateBackend::Directory(not_a_dir.clone());
    let result = LocalCluster::new(config).run(topology(Some(1_000_000), Duration::ZERO));
    match result {
        Err(RunError::Checkpoint {
            path: Some(path), ..
        }) => assert!(path.starts_with(&not_a_dir), "{}", path.display()),
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
}

#[test]
fn a_drain_that_outlasts_its_timeout_is_a_drain_timeout() {
    let mut config = Config::default();
    config.guarantee = Guarantee::AtMostOnce;
    config.drain_timeout = Duration::from_millis(100);
    // Small batches and few credits: about 0.6 s of queued work, well past the timeout, and
    // a teardown that does not wait for thousands of slow tuples.
    config.batch_size = 8;
    config.max_batches_in_flight = 4;
    let mut running = LocalCluster::new(config)
        .spawn(topology(None, Duration::from_millis(20)))
        .unwrap();
    // Let the queues in front of the slow bolt fill: far more than 100 ms of work.
    assert!(!running.wait_for(Duration::from_millis(300)).unwrap());
    match running.shutdown() {
        Err(RunError::DrainTimeout { timeout }) => {
            assert_eq!(timeout, Duration::from_millis(100))
        }
        other => panic!("expected a drain timeout, got {other:?}"),
    }
}

#[test]
fn a_rejected_topology_converts_into_a_build_error() {
    let b = TopologyBuilder::new("empty");
    let error: RunError = b.build().err().unwrap().into();
    assert!(matches!(
        error,
        RunError::Build(squall::BuildError::NoSpout)
    ));
}
