//! Waking an idle spout task when its source has input, instead of polling it.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Wakes the spout task it belongs to (from [`crate::TaskContext::waker`]).
///
/// A spout whose input arrives on another thread (a broker client) takes the waker in `open`
/// and calls [`SpoutWaker::wake`] after handing over each message. Its task then sleeps while
/// `next_tuple` has nothing to emit, instead of polling every `Config::idle_wait`: an idle live
/// topology costs next to nothing, and a message is picked up as soon as it arrives. A task
/// that took a waker still looks at its spout now and then while asleep (every
/// [`SpoutWaker::FALLBACK`], or `Config::idle_wait` if longer), so time-based decisions such as
/// an idle exit still happen.
///
/// Waking is cheap and never queues more than one message to the task, however often it is
/// called.
#[derive(Clone)]
pub struct SpoutWaker {
    shared: Arc<Shared>,
}

struct Shared {
    /// Set by every `wake`; cleared when the task starts a poll.
    woken: AtomicBool,
    /// Set while the task sleeps: the next `wake` sends it one message.
    armed: AtomicBool,
    /// Whether the spout took the waker (only then does its task sleep).
    used: AtomicBool,
    send: Box<dyn Fn() + Send + Sync>,
}

impl SpoutWaker {
    /// How long a sleeping task waits before it looks at its spout without being woken.
    pub const FALLBACK: std::time::Duration = std::time::Duration::from_millis(50);

    /// A waker that calls `send` to wake the task.
    pub(crate) fn new(send: impl Fn() + Send + Sync + 'static) -> Self {
        SpoutWaker {
            shared: Arc::new(Shared {
                woken: AtomicBool::new(false),
                armed: AtomicBool::new(false),
                used: AtomicBool::new(false),
                send: Box::new(send),
            }),
        }
    }

    /// Tells the task that its spout has something to emit.
    pub fn wake(&self) {
        self.shared.woken.store(true, Ordering::SeqCst);
        if self.shared.armed.swap(false, Ordering::SeqCst) {
            (self.shared.send)();
        }
    }

    pub(crate) fn mark_used(&self) {
        self.shared.used.store(true, Ordering::Relaxed);
    }

    /// Whether the spout took this waker.
    pub(crate) fn used(&self) -> bool {
        self.shared.used.load(Ordering::Relaxed)
    }

    /// The task starts a poll: wakes before this point are covered by it.
    pub(crate) fn polling(&self) {
        self.shared.woken.store(false, Ordering::SeqCst);
    }

    /// The task found nothing to emit and wants to sleep: true if it may (the next `wake`
    /// will send it a message), false if a wake came since it started polling (poll again).
    pub(crate) fn arm(&self) -> bool {
        self.shared.armed.store(true, Ordering::SeqCst);
        if self.shared.woken.swap(false, Ordering::SeqCst) {
            self.shared.armed.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }
}

impl fmt::Debug for SpoutWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpoutWaker")
            .field("used", &self.used())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counting() -> (SpoutWaker, Arc<AtomicUsize>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let s = sent.clone();
        let waker = SpoutWaker::new(move || {
            s.fetch_add(1, Ordering::SeqCst);
        });
        (waker, sent)
    }

    #[test]
    fn a_sleeping_task_gets_one_message_however_many_wakes() {
        let (waker, sent) = counting();
        waker.polling();
        assert!(waker.arm());
        for _ in 0..1000 {
            waker.wake();
        }
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_wake_during_the_poll_keeps_the_task_awake() {
        let (waker, sent) = counting();
        waker.polling();
        waker.wake();
        assert!(!waker.arm(), "input came while polling: poll again");
        assert_eq!(sent.load(Ordering::SeqCst), 0);
        waker.polling();
        assert!(waker.arm());
    }

    #[test]
    fn an_awake_task_gets_no_message() {
        let (waker, sent) = counting();
        waker.polling();
        waker.wake();
        waker.wake();
        assert_eq!(sent.load(Ordering::SeqCst), 0);
    }
}
