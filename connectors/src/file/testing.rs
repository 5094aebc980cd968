//! Test helpers: a numbered spout, a collecting bolt, and a runner.

use std::sync::{Arc, Mutex};

use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, RunError, RunReport, Spout,
    SpoutCollector, TopologyBuilder, Tuple,
};

/// Emits `make(0)`, `make(1)`, ... `make(n - 1)`, then finishes.
pub(crate) struct Numbered<T> {
    n: u64,
    next: u64,
    make: Arc<dyn Fn(u64) -> T + Send + Sync>,
}

impl<T> Clone for Numbered<T> {
    fn clone(&self) -> Self {
        Numbered {
            n: self.n,
            next: 0,
            make: Arc::clone(&self.make),
        }
    }
}

pub(crate) fn numbered<T: Tuple>(
    n: u64,
    make: impl Fn(u64) -> T + Send + Sync + 'static,
) -> Numbered<T> {
    Numbered {
        n,
        next: 0,
        make: Arc::new(make),
    }
}

impl<T: Tuple> Spout for Numbered<T> {
    type Output = T;

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        if self.next < self.n {
            out.emit((self.make)(self.next));
            self.next += 1;
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.next >= self.n
    }
}

/// Pushes every tuple it executes into a shared vector.
pub(crate) struct Collect<T>(pub(crate) Arc<Mutex<Vec<T>>>);

impl<T: Tuple> Bolt for Collect<T> {
    type Input = T;
    type Output = ();

    fn execute(&mut self, input: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.0.lock().unwrap().push(input);
        Ok(())
    }
}

fn config() -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config
}

/// Runs `spout` (with `parallelism` tasks) into one task of the bolt `bolt` builds.
pub(crate) fn run<S, B>(
    spout: S,
    parallelism: usize,
    bolt: impl Fn() -> B + Send + Sync + 'static,
) -> Result<RunReport, RunError>
where
    S: Spout + Clone + Send + Sync,
    B: Bolt<Input = S::Output>,
{
    let mut builder = TopologyBuilder::new("file-test");
    let stream = builder.set_spout("source", parallelism, move || spout.clone());
    builder.set_bolt("sink", 1, bolt).shuffle_grouping(&stream);
    let topology = builder
        .build()
        .map_err(|e| RunError::Runtime(e.to_string()))?;
    LocalCluster::new(config()).run(topology)
}

/// Runs `spout` (with `parallelism` tasks) and returns what one collecting task received, in
/// arrival order.
pub(crate) fn collect<S>(spout: S, parallelism: usize) -> Result<Vec<S::Output>, RunError>
where
    S: Spout + Clone + Send + Sync,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    run(spout, parallelism, move || Collect(Arc::clone(&sink)))?;
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    Ok(seen)
}
