//! At-least-once in a spout task: the ackers' verdicts on its trees, and what a restart does
//! with the trees still open.

use super::*;

impl<S: Spout> SpoutTask<S> {
    /// At least once, when this spout task restarts: the spout is not rewound; every tree it
    /// still has open fails at once (a fresh instance does not know their message ids; one
    /// kept replays them in `fail`). A spout that finished with every tree acked stays done.
    pub(super) fn recover_trees(&mut self, r: Restart, ctx: &mut Context<Self>) {
        let failed = self.core.acks.fail_open_trees();
        self.failed += failed.len() as u64;
        let n = failed.len() as u64;
        self.core.metrics.add_outcomes(0, n, 0, 0);
        let closed = matches!(self.core.phase, Phase::Draining | Phase::Done);
        if closed && failed.is_empty() {
            // Finished with every tree acked: all of it is in the checkpoint rolled back to.
            // End-of-stream goes out again, since that checkpoint may predate it (a consumer
            // that already closed the link ignores the second one).
            self.core.phase = Phase::Draining;
            self.core.out.finish();
            return self.maybe_done(ctx);
        }
        if r.fresh || self.spout.is_none() || closed {
            // A new instance starts over from the beginning: more duplicates, nothing lost.
            self.progress.start_over();
            if let Some(clock) = self.clock.as_mut() {
                clock.start_over();
            }
            self.spout = None;
            if let Err((hook, f)) = self.build() {
                return self.fail(hook, f, ctx);
            }
        } else if let Some(spout) = self.spout.as_mut() {
            self.progress.failed(failed.iter().copied());
            if let Err(f) =
                hook::call_infallible(|| failed.into_iter().for_each(|id| spout.fail(id)))
            {
                return self.fail("fail", f, ctx);
            }
        }
        self.core.phase = Phase::Running;
        self.schedule_poll(ctx);
    }

    /// Trees the ackers saw complete or fail: the spout's `ack` and `fail` run here.
    pub(super) fn tree_done(&mut self, done: TreeDone, ctx: &mut Context<Self>) {
        let now = origin_of(self.core.env.epoch, Instant::now());
        let (acked, failed) = self.core.acks.trees_done(&done.completed, &done.failed);
        for &(_, origin) in &acked {
            if origin != 0 {
                self.core.metrics.record_latency(now, origin);
            }
        }
        if let Some(clock) = self.clock.as_mut() {
            acked.iter().for_each(|&(id, _)| clock.acked(id));
            self.core.out.set_watermark(clock.watermark());
        }
        self.acked += acked.len() as u64;
        self.failed += failed.len() as u64;
        self.progress.failed(failed.iter().copied());
        self.awaiting_acks = false;
        let (a, f) = (acked.len() as u64, failed.len() as u64);
        self.core.metrics.add_outcomes(a, f, 0, 0);
        if let Some(spout) = self.spout.as_mut() {
            let called = hook::call_infallible(|| {
                acked.into_iter().for_each(|(id, _)| spout.ack(id));
                failed.into_iter().for_each(|id| spout.fail(id));
            });
            if let Err(f) = called {
                return self.fail("ack", f, ctx);
            }
        }
        if self.core.phase == Phase::Running {
            self.schedule_poll(ctx);
        }
    }
}
