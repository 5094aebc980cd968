//! Test helpers: a numbered spout, a collecting bolt, a runner, and recovery checks.

use std::sync::{Arc, Mutex};

use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, MessageId, RunError, RunReport,
    Spout, SpoutCollector, TopologyBuilder, Tuple,
};

use crate::replay::Drill;

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
    let topology = builder.build()?;
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

/// Checks that `spout` rewinds exactly: a drill snapshots it after `snapshot` tuples and
/// restores after `restore`, and one consumer must receive `all[..restored] ++
/// all[snapshotted..]`, where `all` is the spout's uninterrupted output.
pub(crate) fn check_rewind<S>(spout: S, snapshot: u64, restore: u64)
where
    S: Spout + Clone + Send + Sync,
    S::Output: PartialEq + std::fmt::Debug,
{
    let all = collect(spout.clone(), 1).unwrap();
    let drill = Drill::new(spout).rewind(snapshot, restore);
    let rewound = drill.rewound();
    let got = collect(drill, 1).unwrap();
    let (snapshotted, restored) = rewound.lock().unwrap().expect("the drill rewound");
    assert!(snapshotted <= restored && restored as usize <= all.len());
    let expected: Vec<&S::Output> = all[..restored as usize]
        .iter()
        .chain(&all[snapshotted as usize..])
        .collect();
    let got: Vec<&S::Output> = got.iter().collect();
    assert_eq!(
        got, expected,
        "snapshot after {snapshotted}, restore after {restored}"
    );
}

/// Checks that `spout` replays failed tuples under at-least-once: a drill fails the first ack
/// of every message id `which` selects; one consumer must receive every tuple once in order,
/// and the failed ones a second time later, in the order they were first emitted. The
/// spout's tuples must be distinct.
pub(crate) fn check_replay<S>(spout: S, which: fn(MessageId) -> bool) -> usize
where
    S: Spout + Clone + Send + Sync,
    S::Output: PartialEq + std::fmt::Debug,
{
    let all = collect(spout.clone(), 1).unwrap();
    let got = collect(Drill::new(spout).fail_once(which), 1).unwrap();
    let mut first = Vec::new();
    let mut again = Vec::new();
    for t in &got {
        if first.contains(&t) {
            again.push(t);
        } else {
            first.push(t);
        }
    }
    assert_eq!(first, all.iter().collect::<Vec<_>>(), "first emissions");
    let position = |t: &S::Output| all.iter().position(|a| a == t).unwrap();
    let order: Vec<usize> = again.iter().map(|t| position(t)).collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "replays out of order: {order:?}"
    );
    again.len()
}
