//! The messages a bolt task answers: its wiring, input, drains, credits and the controller's
//! commands.

use super::*;

impl<B: Bolt> Actor for BoltTask<B> {
    type Context = Context<Self>;
}

impl<B: Bolt> Handler<Wire<B::Output>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, wire: Wire<B::Output>, ctx: &mut Context<Self>) {
        self.core.wire(wire.edges, &wire.streams);
        // A bolt's emits carry its watermark in front of them, so lateness downstream is
        // judged exactly; without event time the watermark stays 0 and nothing is added.
        self.core.out.set_precise(true);
        self.clock = InputClock::new(wire.inputs.len(), 0);
        self.inbox.reopen(wire.inputs.len(), &[]);
        self.inputs = wire.inputs;
        if let Err((hook, f)) = self.build() {
            return self.crash(hook, f);
        }
        self.arm_ticks(ctx);
        self.core.phase = Phase::Running;
        // Input may have arrived before the wiring.
        self.schedule_drain(ctx);
    }
}

impl<B: Bolt> Handler<Inbound<B::Input>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, msg: Inbound<B::Input>, ctx: &mut Context<Self>) {
        let item = match msg.payload {
            Payload::Batch(b) => Item::Batch(b),
            Payload::Encoded(bytes) => match decode_batch(&bytes) {
                Ok(b) => Item::Batch(b),
                Err(e) => {
                    return self
                        .core
                        .env
                        .report_fatal("decode", &HookFailure::Error(e.to_string()))
                }
            },
            Payload::Barrier(id) => Item::Barrier(id),
            Payload::Eos => Item::Eos,
            Payload::Watermark(w) => Item::Watermark(w),
            Payload::Idle => Item::Idle,
        };
        if msg.gen < self.core.gen {
            if matches!(item, Item::Batch(_)) {
                self.return_credit(msg.link);
            }
            return;
        }
        let arrival: Arrival<B::Input> = (msg.link, msg.gen, item);
        self.inbox.push(arrival);
        if self.core.phase == Phase::Running {
            self.schedule_drain(ctx);
        }
    }
}

impl<B: Bolt> Handler<Drain> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, _: Drain, ctx: &mut Context<Self>) {
        self.drain_scheduled = false;
        self.drain(ctx);
    }
}

impl<B: Bolt> Handler<Credit> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, credit: Credit, ctx: &mut Context<Self>) {
        let unblocked = self.core.out.credit(credit.edge, credit.target);
        match self.core.phase {
            Phase::Running if unblocked => self.schedule_drain(ctx),
            Phase::Draining => self.maybe_done(ctx),
            _ => {}
        }
    }
}

impl<B: Bolt> Handler<Control> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, control: Control, ctx: &mut Context<Self>) {
        match control {
            // Bolts drain when their inputs end; spouts start checkpoints.
            Control::Drain | Control::Checkpoint(_) => {}
            Control::Restart(r) => self.restart(r, ctx),
            Control::Committed(id) => {
                // The checkpoint holds the effect of these inputs: their acks may go out.
                self.core.acks.committed(id);
                self.core.send_acks();
                if let Some(bolt) = self.bolt.as_mut() {
                    if let Err(f) = hook::call(|| bolt.commit(id)) {
                        self.crash("commit", f);
                    }
                }
            }
        }
    }
}
