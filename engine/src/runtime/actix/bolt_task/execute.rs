//! Executing one batch: tuple by tuple, the watermarks in front of each applied first, with
//! chaos, acking, failures and backpressure.

use super::*;

impl<B: Bolt> BoltTask<B> {
    pub(super) fn execute_batch(
        &mut self,
        link: u32,
        mut batch: Batch<B::Input>,
    ) -> Result<(), (&'static str, HookFailure)> {
        let Some(bolt) = self.bolt.as_mut() else {
            return Ok(());
        };
        let Some(input) = self.inputs.get(link as usize) else {
            let f = HookFailure::Error(format!("batch on unknown link {link}"));
            return Err(("execute", f));
        };
        let now = if self.core.env.config.track_latency {
            origin_of(self.core.env.epoch, Instant::now())
        } else {
            0
        };
        let timer = self.core.metrics.batch_started();
        let total = batch.values.len();
        let mut count = total as u64;
        let trees = std::mem::take(&mut batch.trees);
        let tree_ends = std::mem::take(&mut batch.tree_ends);
        let marks = std::mem::take(&mut batch.marks);
        let mut next_mark = 0;
        self.clock.data(link);
        if let Some(d) = self.drained.get_mut(link as usize) {
            *d = false;
        }
        let tracking = self.core.acks.is_on();
        let mut tuples = batch.values.into_iter().zip(batch.origins).enumerate();
        while let Some((i, (value, origin))) = tuples.next() {
            if self.core.out.is_blocked() {
                // A fan-out filled a link: the rest of the batch waits for credit, so what
                // waits in the outbox stays bounded by one tuple's emits.
                count = i as u64;
                let rest = std::iter::once((i, (value, origin))).chain(tuples);
                let meta = (&trees[..], &tree_ends[..], &marks[..]);
                self.inbox.put_back_rest((link, self.core.gen), rest, meta);
                break;
            }
            // The watermarks in front of this tuple, in band: lateness is judged with them.
            while let Some(&(_, w)) = marks.get(next_mark).filter(|m| m.0 as usize <= i) {
                next_mark += 1;
                let Some(w) = self.clock.mark(link, w) else {
                    continue;
                };
                let moved = task_core::call_bolt(&mut self.core, |out| bolt.on_watermark(w, out));
                if let Err(f) = moved {
                    let rest = std::iter::once((i, (value, origin))).chain(tuples);
                    let meta = (&trees[..], &tree_ends[..], &marks[..]);
                    self.inbox.put_back_rest((link, self.core.gen), rest, meta);
                    return Err(("on_watermark", f));
                }
                self.core.out.set_watermark(w);
            }
            if tracking {
                let start = match i.checked_sub(1) {
                    Some(p) => tree_ends.get(p).map_or(0, |&e| e as usize),
                    None => 0,
                };
                let end = tree_ends.get(i).map_or(start, |&e| e as usize);
                self.core
                    .acks
                    .begin_input(trees.get(start..end).unwrap_or(&[]));
            }
            if let Some(chaos) = self.chaos.as_mut() {
                if chaos.strikes(&value) {
                    let f = HookFailure::Panic("chaos: injected panic".into());
                    // As with a real panic, the tuple in hand is lost (its tree fails with the
                    // crash, or a rollback brings it back); the rest of the batch waits.
                    let meta = (&trees[..], &tree_ends[..], &marks[..]);
                    self.inbox
                        .put_back_rest((link, self.core.gen), tuples, meta);
                    return Err(("execute", f));
                }
            }
            let before = self.core.out.emitted;
            let mut collector = BoltCollector {
                out: &mut self.core.out,
                origin,
                source: Some(&input.source),
                acks: &mut self.core.acks,
            };
            let payload = self.failures.payload_of(&value);
            let result = hook::call(|| bolt.execute(value, &mut collector));
            match result {
                Ok(()) => self.core.acks.end_input(true),
                Err(HookFailure::Error(error)) => {
                    self.core.metrics.add_outcomes(0, 1, 0, 0);
                    let env = &self.core.env;
                    let give_up = self.failures.failed(
                        payload,
                        error,
                        tracking,
                        env.config.max_tuple_attempts,
                        (&env.ctx.component, env.ctx.task),
                    );
                    // Given up on, the tree is acked so the spout stops replaying it; else
                    // Storm's `fail`: the spout replays the tree.
                    self.core.acks.end_input(give_up);
                    if give_up {
                        self.core.metrics.dead_letters(self.failures.unshown());
                    }
                    continue;
                }
                Err(panic) => {
                    // The tuple's tree fails with the crash (`AckTracker::fail_lost`); the rest
                    // of the batch waits for the fresh instance (without a rollback nothing
                    // else would bring it back).
                    let meta = (&trees[..], &tree_ends[..], &marks[..]);
                    self.inbox
                        .put_back_rest((link, self.core.gen), tuples, meta);
                    return Err(("execute", panic));
                }
            }
            self.executed += 1;
            // Without acking, a tuple that caused no emit ends its branch of the tree here;
            // with acking the spout records the latency when the whole tree completes.
            if !tracking && origin != 0 && self.core.out.emitted == before {
                self.core.metrics.record_latency(now, origin);
            }
        }
        if let Some(msg) = self.core.out.take_failure() {
            return Err(("emit", HookFailure::Error(msg)));
        }
        if count as usize == total {
            // Marks behind the last tuple.
            for &(_, w) in &marks[next_mark.min(marks.len())..] {
                let Some(w) = self.clock.mark(link, w) else {
                    continue;
                };
                task_core::call_bolt(&mut self.core, |out| bolt.on_watermark(w, out))
                    .map_err(|f| ("on_watermark", f))?;
                self.core.out.set_watermark(w);
            }
        }
        let queued = self.inbox.len();
        self.core
            .metrics
            .batch_done(timer, count, self.core.out.emitted, queued);
        Ok(())
    }
}
