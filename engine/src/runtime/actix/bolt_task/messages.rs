//! The messages a bolt task answers: its wiring, input, drains, credits and the controller's
//! commands.

use super::*;

impl<B: Bolt> Actor for BoltTask<B> {
    type Context = Context<Self>;
}

impl<B: Bolt> Handler<WireBolt<B::Output>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, wired: WireBolt<B::Output>, ctx: &mut Context<Self>) {
        let mut wire = wired.wire;
        let restore = wire.restore.take();
        self.converts = wired.converts;
        self.core.wire(wire.edges, wire.sides);
        // A bolt's emits carry its watermark in front of them, so lateness downstream is
        // judged exactly; without event time the watermark stays 0 and nothing is added.
        self.core.out.set_precise(true);
        self.clock = InputClock::new(wire.inputs.len(), 0);
        self.drained = vec![false; wire.inputs.len()];
        self.inbox.reopen(wire.inputs.len(), &[]);
        self.inputs = wire.inputs;
        if let Err((hook, f)) = self.build() {
            return self.crash(hook, f);
        }
        self.arm_ticks(ctx);
        self.core.phase = Phase::Running;
        if let Some(r) = restore {
            // A distributed run resuming its last checkpoint: restored before any input.
            return self.restart(r, ctx);
        }
        // Input may have arrived before the wiring.
        self.schedule_drain(ctx);
    }
}

/// Input from a producer of `X`: the bolt's input type itself, or another type the
/// subscription converts (a two-input bolt's side).
impl<B: Bolt, X: Tuple> Handler<Inbound<X>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, msg: Inbound<X>, ctx: &mut Context<Self>) {
        let batch = match msg.payload {
            Payload::Batch(b) => Ok(b),
            Payload::Encoded(bytes) => decode_batch::<X>(&bytes).map_err(|e| e.to_string()),
            Payload::Barrier(id) => return self.arrive(msg.link, msg.gen, Item::Barrier(id), ctx),
            Payload::Eos => return self.arrive(msg.link, msg.gen, Item::Eos, ctx),
            Payload::Watermark(w) => {
                return self.arrive(msg.link, msg.gen, Item::Watermark(w), ctx)
            }
            Payload::Idle => return self.arrive(msg.link, msg.gen, Item::Idle, ctx),
            Payload::Drained => return self.arrive(msg.link, msg.gen, Item::Drained, ctx),
        };
        match batch.and_then(|b| self.convert(msg.link, b)) {
            Ok(b) => self.arrive(msg.link, msg.gen, Item::Batch(b), ctx),
            Err(e) => self.core.env.report_fatal("decode", &HookFailure::Error(e)),
        }
    }
}

impl<B: Bolt> BoltTask<B> {
    /// A batch from a producer of `X` as a batch of the bolt's input.
    fn convert<X: Tuple>(&self, link: u32, batch: Batch<X>) -> Result<Batch<B::Input>, String> {
        let convert = self
            .converts
            .get(link as usize)
            .and_then(Option::as_ref)
            .and_then(|c| c.downcast_ref::<Convert<X, B::Input>>());
        let Some(convert) = convert else {
            let any: Box<dyn std::any::Any> = Box::new(batch);
            return any.downcast::<Batch<B::Input>>().map(|b| *b).map_err(|_| {
                format!(
                    "link {link} carries {}, not the bolt's input",
                    std::any::type_name::<X>()
                )
            });
        };
        Ok(Batch {
            values: batch.values.into_iter().map(|x| convert(x)).collect(),
            origins: batch.origins,
            trees: batch.trees,
            tree_ends: batch.tree_ends,
            marks: batch.marks,
        })
    }

    /// Something arrived on `link`: queue it (a batch of an older generation is dropped and
    /// its credit returned).
    fn arrive(&mut self, link: u32, gen: u64, item: Item<B::Input>, ctx: &mut Context<Self>) {
        if gen < self.core.gen {
            if matches!(item, Item::Batch(_)) {
                self.return_credit(link);
            }
            return;
        }
        let arrival: Arrival<B::Input> = (link, gen, item);
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
            Control::Drain | Control::Checkpoint(_) | Control::Savepoint(_) => {}
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
