//! Test helpers: a bolt wrapper that crashes and recovers its bolt the way the runtime does.

use std::sync::Arc;

use squall::{Bolt, BoltCollector, ComponentError, State, TaskContext};

/// Wraps a bolt built by `factory`: after `snapshot_after` inputs it takes a snapshot, and after
/// `crash_after` inputs it throws the instance away as a crash would, builds a fresh one,
/// prepares it, restores the snapshot (when `restore` is set) and executes again the inputs
/// received since the snapshot, as a rewound spout would send them. Bolts that emit only in
/// `finish` must then finish exactly as without the crash.
pub(crate) struct Rewind<B: Bolt> {
    factory: Arc<dyn Fn() -> B + Send + Sync>,
    inner: B,
    ctx: Option<TaskContext>,
    snapshot_after: usize,
    crash_after: usize,
    restore: bool,
    seen: usize,
    saved: Option<State>,
    since: Vec<B::Input>,
}

impl<B: Bolt> Rewind<B> {
    pub(crate) fn new(
        factory: Arc<dyn Fn() -> B + Send + Sync>,
        snapshot_after: usize,
        crash_after: usize,
        restore: bool,
    ) -> Self {
        Rewind {
            inner: factory(),
            factory,
            ctx: None,
            snapshot_after,
            crash_after: crash_after.max(snapshot_after),
            restore,
            seen: 0,
            saved: None,
            since: Vec::new(),
        }
    }
}

impl<B: Bolt> Bolt for Rewind<B> {
    type Input = B::Input;
    type Output = B::Output;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.ctx = Some(ctx.clone());
        self.inner.prepare(ctx)
    }

    fn execute(
        &mut self,
        input: B::Input,
        out: &mut BoltCollector<'_, B::Output>,
    ) -> Result<(), ComponentError> {
        if self.seen == self.snapshot_after {
            self.saved = self.inner.snapshot()?;
        }
        self.seen += 1;
        if self.saved.is_some() {
            self.since.push(input.clone());
        }
        self.inner.execute(input, out)?;
        if self.seen == self.crash_after {
            let ctx = self.ctx.clone().ok_or("not prepared")?;
            self.inner = (self.factory)();
            self.inner
                .prepare(&ctx.clone().with_recovery(ctx.guarantee(), 1))?;
            if let (true, Some(state)) = (self.restore, self.saved.take()) {
                self.inner.restore(state)?;
                for input in std::mem::take(&mut self.since) {
                    self.inner.execute(input, out)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, B::Output>) -> Result<(), ComponentError> {
        self.inner.finish(out)
    }
}
