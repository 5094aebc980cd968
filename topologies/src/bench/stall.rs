//! A stall injected into one bolt task, to check that latency reports see it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use squall::{Bolt, BoltCollector, ComponentError, TaskContext};

/// Makes the first task of a [`Stalling`] bolt sleep once for `length`, on the first tuple it
/// executes at or after `at`.
#[derive(Debug)]
pub struct Stall {
    at: Instant,
    length: Duration,
    done: AtomicBool,
}

impl Stall {
    /// A stall of `length` at `at`.
    pub fn new(at: Instant, length: Duration) -> Self {
        Stall {
            at,
            length,
            done: AtomicBool::new(false),
        }
    }

    /// Whether the stall has happened.
    pub fn happened(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }
}

/// A bolt that behaves as `B`, except that its task 0 stalls once when a [`Stall`] is given.
/// The sleep blocks the task's worker thread, as a long garbage-collection pause or a slow
/// synchronous call would.
#[derive(Debug)]
pub struct Stalling<B> {
    inner: B,
    stall: Option<Arc<Stall>>,
}

impl<B> Stalling<B> {
    /// `inner`, stalling once as `stall` says (never when `None`).
    pub fn new(inner: B, stall: Option<Arc<Stall>>) -> Self {
        Stalling { inner, stall }
    }
}

impl<B: Bolt> Bolt for Stalling<B> {
    type Input = B::Input;
    type Output = B::Output;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        if ctx.task_index() != 0 {
            self.stall = None;
        }
        self.inner.prepare(ctx)
    }

    fn execute(
        &mut self,
        input: B::Input,
        out: &mut BoltCollector<'_, B::Output>,
    ) -> Result<(), ComponentError> {
        if let Some(stall) = &self.stall {
            if Instant::now() >= stall.at {
                if !stall.done.swap(true, Ordering::Relaxed) {
                    std::thread::sleep(stall.length);
                }
                self.stall = None;
            }
        }
        self.inner.execute(input, out)
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, B::Output>) -> Result<(), ComponentError> {
        self.inner.finish(out)
    }

    fn cleanup(&mut self) {
        self.inner.cleanup();
    }
}
