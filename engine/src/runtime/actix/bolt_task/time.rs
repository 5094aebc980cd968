//! A bolt task's time and end of input: ticks from a timer, the input watermark moving, and
//! `end_of_input` once every producer is drained. The logic lives in the task core
//! (`InputClock`, `task_core::call_bolt`); these are the executor's calls into it.

use super::*;

impl<B: Bolt> BoltTask<B> {
    /// Starts the tick timer when the bolt asks for ticks: a timer of the task, so ticks cost
    /// nothing while nothing happens.
    pub(super) fn arm_ticks(&mut self, ctx: &mut Context<Self>) {
        if self.ticks.is_some() {
            return;
        }
        let every = self.bolt.as_ref().and_then(|b| b.tick_interval());
        if let Some(every) = every.filter(|d| !d.is_zero()) {
            self.ticks = Some(ctx.run_interval(every, |task, _| task.tick()));
        }
    }

    /// A tick: the bolt's `on_tick`, then what it emitted goes out.
    pub(super) fn tick(&mut self) {
        if self.core.phase != Phase::Running {
            return;
        }
        let Some(bolt) = self.bolt.as_mut() else {
            return;
        };
        if let Err(f) = task_core::call_bolt(&mut self.core, |out| bolt.on_tick(out)) {
            return self.crash("on_tick", f);
        }
        self.core.out.flush();
        self.core.send_acks();
    }

    /// The input watermark moved to `w` (`None`: it did not): the bolt's `on_watermark`,
    /// then the watermark goes on downstream behind what it emitted.
    pub(super) fn watermark_moved(&mut self, w: Option<u64>) -> Result<(), HookFailure> {
        let (Some(w), Some(bolt)) = (w, self.bolt.as_mut()) else {
            return Ok(());
        };
        task_core::call_bolt(&mut self.core, |out| bolt.on_watermark(w, out))?;
        self.core.out.set_watermark(w);
        Ok(())
    }

    /// Every open link delivered `Drained` (and one did just now): the bolt's `end_of_input`,
    /// then `Drained` goes on downstream behind what it emitted.
    pub(super) fn maybe_end_of_input(&mut self) -> Result<(), HookFailure> {
        let all = self
            .drained
            .iter()
            .zip(&self.inbox.closed)
            .all(|(d, c)| *d || *c);
        if !all || !self.drained.iter().any(|d| *d) {
            return Ok(());
        }
        self.drained.iter_mut().for_each(|d| *d = false);
        if let Some(bolt) = self.bolt.as_mut() {
            task_core::call_bolt(&mut self.core, |out| bolt.end_of_input(out))?;
        }
        self.core.out.end_of_input();
        Ok(())
    }
}
