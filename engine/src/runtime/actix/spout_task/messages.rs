//! The messages a spout task answers: its wiring, polls, tree verdicts, credits and the
//! controller's commands.

use super::*;

/// Poll the spout again.
pub(super) struct Poll;

impl Message for Poll {
    type Result = ();
}

/// Polls again once every other task of the worker has had its turn.
pub(super) fn yield_then_poll<S: Spout>(ctx: &mut Context<SpoutTask<S>>) {
    let yielded = actix::fut::wrap_future::<_, SpoutTask<S>>(tokio::task::yield_now());
    ctx.spawn(yielded.map(|(), task, ctx| {
        task.poll_scheduled = false;
        task.poll(ctx);
    }));
}

impl<S: Spout> Actor for SpoutTask<S> {
    type Context = Context<Self>;
}

impl<S: Spout> Handler<Wire<S::Output>> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, wire: Wire<S::Output>, ctx: &mut Context<Self>) {
        self.core.wire(wire.edges, wire.sides);
        if let Err((hook, f)) = self.build() {
            return self.fail(hook, f, ctx);
        }
        self.core.phase = Phase::Running;
        if let Some(r) = wire.restore {
            // A distributed run resuming its last checkpoint: restored before the first poll.
            return self.restart(r, ctx);
        }
        self.schedule_poll(ctx);
    }
}

impl<S: Spout> Handler<Poll> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, _: Poll, ctx: &mut Context<Self>) {
        self.poll_scheduled = false;
        self.poll(ctx);
    }
}

impl<S: Spout> Handler<TreeDone> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, done: TreeDone, ctx: &mut Context<Self>) {
        self.tree_done(done, ctx);
    }
}

impl<S: Spout> Handler<Credit> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, credit: Credit, ctx: &mut Context<Self>) {
        let unblocked = self.core.out.credit(credit.edge, credit.target);
        match self.core.phase {
            Phase::Running if unblocked => self.schedule_poll(ctx),
            Phase::Draining => self.maybe_done(ctx),
            _ => {}
        }
    }
}

impl<S: Spout> Handler<Control> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, control: Control, ctx: &mut Context<Self>) {
        match control {
            Control::Drain => {
                self.drained = true;
                if self.core.phase == Phase::Running {
                    if let Some(spout) = self.spout.as_mut() {
                        if let Err(f) = hook::call_infallible(|| spout.deactivate()) {
                            return self.fail("deactivate", f, ctx);
                        }
                    }
                    self.seal(ctx);
                }
            }
            Control::Checkpoint(id) => self.checkpoint(id, ctx),
            Control::Savepoint(id) => {
                self.checkpoint(id, ctx);
                self.suspended = true;
            }
            Control::Committed(id) => self.committed(id, ctx),
            Control::Restart(r) => self.restart(r, ctx),
        }
    }
}

/// From the spout's [`crate::SpoutWaker`]: its source has input (sent only while the task
/// sleeps, at most one at a time).
pub(crate) struct Wake;

impl Message for Wake {
    type Result = ();
}

impl<S: Spout> Handler<Wake> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        // Only a sleeping task is woken; an awake one polls anyway.
        if self.asleep.is_some() {
            self.schedule_poll(ctx);
        }
    }
}
