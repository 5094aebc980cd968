//! A spout wrapper that exercises recovery hooks in tests, whatever the runtime does.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use squall::{ComponentError, Guarantee, MessageId, Spout, SpoutCollector, State, TaskContext};

/// Which message ids to fail (once each).
type FailFn = Arc<dyn Fn(MessageId) -> bool + Send + Sync>;

/// Wraps a replayable spout and drives its recovery hooks itself: once the task has emitted
/// `snapshot_after` tuples it takes a [`Spout::snapshot`], and once it has emitted
/// `restore_after` tuples (or the spout finished) it hands that snapshot back to
/// [`Spout::restore`]; and it turns the first `ack` of chosen message ids into a `fail`, with
/// the wrapped spout opened as if the run were at-least-once.
///
/// A consumer of one task then receives, in order, the tuples up to the restore and again
/// everything after the snapshot (`all[..restored] ++ all[snapshotted..]`, the counts read
/// from [`Drill::rewound`]), plus each failed tuple a second time. Snapshots are taken between
/// `next_tuple` calls, as the runtime takes them, so the counts fall on call boundaries.
///
/// ```
/// use squall::{Config, LocalCluster, TopologyBuilder};
/// use squall_connectors::file::{Destination, JsonLinesWriter, LinesSpout};
/// use squall_connectors::replay::Drill;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("in.txt");
/// let lines: Vec<String> = (0..10).map(|i| i.to_string()).collect();
/// std::fs::write(&input, lines.join("\n"))?;
/// let drill = Drill::new(LinesSpout::new(vec![input]).with_batch(2)).rewind(4, 8);
/// let rewound = drill.rewound();
/// let output = dir.path().join("out.jsonl");
/// let writer = JsonLinesWriter::<String>::new(Destination::File(output.clone()));
/// let mut builder = TopologyBuilder::new("drill");
/// let stream = builder.set_spout("lines", 1, move || drill.clone());
/// builder.set_bolt("out", 1, move || writer.clone()).shuffle_grouping(&stream);
/// LocalCluster::new(Config::default()).run(builder.build()?)?;
///
/// let (snapshotted, restored) = rewound.lock().unwrap().expect("the drill rewound");
/// let expected: Vec<String> = lines[..restored as usize]
///     .iter()
///     .chain(&lines[snapshotted as usize..])
///     .map(|l| format!("\"{l}\""))
///     .collect();
/// assert_eq!(std::fs::read_to_string(&output)?.lines().collect::<Vec<_>>(), expected);
/// # Ok(())
/// # }
/// ```
pub struct Drill<S> {
    inner: S,
    snapshot_after: Option<u64>,
    restore_after: u64,
    saved: Option<(u64, State)>,
    restored: bool,
    rewound: Arc<Mutex<Option<(u64, u64)>>>,
    fail: Option<FailFn>,
    failed: HashSet<MessageId>,
}

impl<S: Spout + Clone> Clone for Drill<S> {
    /// A fresh drill around a clone of the spout, reporting into the same [`Drill::rewound`].
    fn clone(&self) -> Self {
        Drill {
            inner: self.inner.clone(),
            snapshot_after: self.snapshot_after,
            restore_after: self.restore_after,
            saved: None,
            restored: false,
            rewound: Arc::clone(&self.rewound),
            fail: self.fail.clone(),
            failed: HashSet::new(),
        }
    }
}

impl<S: Spout> Drill<S> {
    /// Wraps `spout`; it does nothing unusual until told to.
    pub fn new(spout: S) -> Self {
        Drill {
            inner: spout,
            snapshot_after: None,
            restore_after: 0,
            saved: None,
            restored: false,
            rewound: Arc::new(Mutex::new(None)),
            fail: None,
            failed: HashSet::new(),
        }
    }

    /// Snapshots after `snapshot_after` tuples and restores after `restore_after` (at least as
    /// many) tuples.
    pub fn rewind(mut self, snapshot_after: u64, restore_after: u64) -> Self {
        self.snapshot_after = Some(snapshot_after);
        self.restore_after = restore_after.max(snapshot_after);
        self
    }

    /// Fails the first ack of every message id for which `which` holds; the spout is opened as
    /// if the run were at-least-once.
    pub fn fail_once(mut self, which: impl Fn(MessageId) -> bool + Send + Sync + 'static) -> Self {
        self.fail = Some(Arc::new(which));
        self
    }

    /// Where the rewind happened, once it did: tuples emitted by the task when the snapshot was
    /// taken and when it was restored.
    pub fn rewound(&self) -> Arc<Mutex<Option<(u64, u64)>>> {
        Arc::clone(&self.rewound)
    }

    fn rewinding(&self) -> bool {
        self.saved.is_some() && !self.restored
    }
}

impl<S: Spout> Spout for Drill<S> {
    type Output = S::Output;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        if self.fail.is_some() {
            let ctx = ctx
                .clone()
                .with_recovery(Guarantee::AtLeastOnce, ctx.restarts());
            return self.inner.open(&ctx);
        }
        self.inner.open(ctx)
    }

    fn next_tuple(
        &mut self,
        out: &mut SpoutCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError> {
        self.inner.next_tuple(out)?;
        let emitted = out.emitted();
        match self.snapshot_after {
            Some(at) if self.saved.is_none() && !self.restored && emitted >= at => {
                if let Some(state) = self.inner.snapshot()? {
                    self.saved = Some((emitted, state));
                }
            }
            _ if self.rewinding()
                && (emitted >= self.restore_after || self.inner.is_finished()) =>
            {
                if let Some((snapshotted, state)) = self.saved.take() {
                    self.inner.restore(state)?;
                    self.restored = true;
                    let mut rewound = self.rewound.lock().map_err(|_| "rewound: poisoned")?;
                    *rewound = Some((snapshotted, emitted));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn ack(&mut self, msg_id: MessageId) {
        match &self.fail {
            Some(which) if which(msg_id) && self.failed.insert(msg_id) => self.inner.fail(msg_id),
            _ => self.inner.ack(msg_id),
        }
    }

    fn fail(&mut self, msg_id: MessageId) {
        self.inner.fail(msg_id);
    }

    fn activate(&mut self) {
        self.inner.activate();
    }

    fn deactivate(&mut self) {
        self.inner.deactivate();
    }

    fn close(&mut self) {
        self.inner.close();
    }

    fn is_finished(&self) -> bool {
        self.inner.is_finished() && !self.rewinding()
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.inner.snapshot()
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.inner.restore(state)
    }
}
