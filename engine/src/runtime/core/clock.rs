//! Event time in the task core: the watermark a spout task generates, and the watermark a bolt
//! task derives from its inputs.
//!
//! - [`SpoutClock`]: bounded out-of-orderness (the highest timestamp emitted minus a lag),
//!   held back, under at-least-once, by the oldest tuple whose tree is still open: a failed
//!   tuple is replayed after newer ones, and a watermark past it would make its replay late
//!   (and its count lost). It says when the watermark is due on every link (every N tuples,
//!   every interval) and when the spout has been idle long enough to be left out.
//! - [`InputClock`]: per input link the last watermark, idleness and end-of-stream; the task's
//!   watermark is the minimum over the links that are neither idle nor closed, and never goes
//!   back.

use std::collections::BTreeMap;
use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::component::MessageId;
use crate::window::Watermarks;

/// The watermark generator of one spout task.
pub(crate) struct SpoutClock<T> {
    spec: Watermarks<T>,
    /// The highest timestamp emitted so far.
    max_ts: Option<u64>,
    /// Tracked tuples not acked yet, with their timestamps (at-least-once).
    held: FxHashMap<MessageId, u64>,
    /// The same timestamps as a multiset, for their minimum.
    held_ts: BTreeMap<u64, u32>,
    /// Emits since the watermark last went out on every link.
    since_sync: u32,
    last_sync: Instant,
    last_emit: Instant,
    /// The links were told this spout is idle, and nothing was emitted since.
    idle_sent: bool,
}

impl<T> SpoutClock<T> {
    /// A clock generating watermarks as `spec` says.
    pub(crate) fn new(spec: Watermarks<T>) -> Self {
        let now = Instant::now();
        SpoutClock {
            spec,
            max_ts: None,
            held: FxHashMap::default(),
            held_ts: BTreeMap::new(),
            since_sync: 0,
            last_sync: now,
            last_emit: now,
            idle_sent: false,
        }
    }

    /// The event time of `value`.
    #[inline]
    pub(crate) fn timestamp(&self, value: &T) -> u64 {
        (self.spec.extract)(value)
    }

    /// The watermark now: 0 (nothing known) before the first emit.
    #[inline]
    pub(crate) fn watermark(&self) -> u64 {
        let bounded = self
            .max_ts
            .map_or(0, |m| m.saturating_sub(self.spec.lag_ms));
        match self.held_ts.keys().next() {
            Some(&oldest) => bounded.min(oldest),
            None => bounded,
        }
    }

    /// A tuple with timestamp `ts` was emitted (with `msg_id` when tracked).
    #[inline]
    pub(crate) fn emitted(&mut self, ts: u64, msg_id: Option<MessageId>) {
        self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
        self.since_sync += 1;
        self.idle_sent = false;
        if let Some(id) = msg_id {
            if let Some(old) = self.held.insert(id, ts) {
                self.unhold(old);
            }
            *self.held_ts.entry(ts).or_insert(0) += 1;
        }
    }

    fn unhold(&mut self, ts: u64) {
        if let Some(n) = self.held_ts.get_mut(&ts) {
            *n -= 1;
            if *n == 0 {
                self.held_ts.remove(&ts);
            }
        }
    }

    /// The tree of `msg_id` completed: it no longer holds the watermark back. A failed tree
    /// keeps holding it until the spout emits the id again (its replay) or it is acked.
    pub(crate) fn acked(&mut self, msg_id: MessageId) {
        if let Some(ts) = self.held.remove(&msg_id) {
            self.unhold(ts);
        }
    }

    /// True when the watermark is due on every link (every `every_tuples` emits or every
    /// `every`); resets the count.
    pub(crate) fn sync_due(&mut self, now: Instant) -> bool {
        if self.since_sync == 0 {
            return false;
        }
        if self.since_sync >= self.spec.every_tuples
            || now.saturating_duration_since(self.last_sync) >= self.spec.every
        {
            self.since_sync = 0;
            self.last_sync = now;
            return true;
        }
        false
    }

    /// Notes an emit call that emitted something, for the idle timeout.
    pub(crate) fn active(&mut self, now: Instant) {
        self.last_emit = now;
    }

    /// True once when the spout has emitted nothing for the idle timeout and holds no tracked
    /// tuple: its links are then told to leave it out of their minimum.
    pub(crate) fn idle_due(&mut self, now: Instant) -> bool {
        let Some(after) = self.spec.idle else {
            return false;
        };
        if self.idle_sent || !self.held.is_empty() {
            return false;
        }
        if now.saturating_duration_since(self.last_emit) >= after {
            self.idle_sent = true;
            return true;
        }
        false
    }

    /// What a checkpoint records: the highest timestamp emitted.
    pub(crate) fn position(&self) -> Option<u64> {
        self.max_ts
    }

    /// A rewind to a checkpoint: the spout emits again what came after it.
    pub(crate) fn restore(&mut self, max_ts: Option<u64>) {
        self.max_ts = max_ts;
        self.held.clear();
        self.held_ts.clear();
        self.idle_sent = false;
    }

    /// A fresh spout instance starting over: forget what was emitted.
    pub(crate) fn start_over(&mut self) {
        self.restore(None);
    }
}

/// One input link's part of a bolt task's watermark.
#[derive(Debug, Clone, Copy, Default)]
struct LinkTime {
    /// The last watermark the link delivered (none yet: it holds the minimum at 0).
    watermark: Option<u64>,
    idle: bool,
    closed: bool,
}

/// A bolt task's input watermark: the minimum over its active input links.
#[derive(Debug, Default)]
pub(crate) struct InputClock {
    links: Vec<LinkTime>,
    /// The task's watermark (0: none yet). It never goes back.
    current: u64,
}

impl InputClock {
    /// A clock over `links` input links starting at `watermark` (a restored checkpoint's).
    pub(crate) fn new(links: usize, watermark: u64) -> Self {
        InputClock {
            links: vec![LinkTime::default(); links],
            current: watermark,
        }
    }

    /// The task's watermark (0: none yet).
    pub(crate) fn current(&self) -> u64 {
        self.current
    }

    /// `link` delivered watermark `w`. Returns the task's new watermark when it moved.
    #[inline]
    pub(crate) fn mark(&mut self, link: u32, w: u64) -> Option<u64> {
        let l = self.links.get_mut(link as usize)?;
        l.idle = false;
        l.watermark = Some(l.watermark.map_or(w, |old| old.max(w)));
        self.advance()
    }

    /// `link` delivered tuples: it is active again if it was idle. Returns the new watermark
    /// when that moved it (it can only hold it back, so never).
    #[inline]
    pub(crate) fn data(&mut self, link: u32) {
        if let Some(l) = self.links.get_mut(link as usize) {
            l.idle = false;
        }
    }

    /// `link`'s producer went idle. Returns the new watermark when it moved.
    pub(crate) fn idle(&mut self, link: u32) -> Option<u64> {
        self.links.get_mut(link as usize)?.idle = true;
        self.advance()
    }

    /// `link` ended. Returns the new watermark when it moved (not when every link has ended:
    /// the task's `finish` follows, and windows fire there).
    pub(crate) fn close(&mut self, link: u32) -> Option<u64> {
        self.links.get_mut(link as usize)?.closed = true;
        self.advance()
    }

    /// The minimum over the links that are not idle; an ended link counts as past every
    /// timestamp (as a finished Flink source sends its maximal watermark). When every link is
    /// idle the watermark holds.
    fn advance(&mut self) -> Option<u64> {
        let mut min: Option<u64> = None;
        for l in self.links.iter().filter(|l| !l.idle) {
            let w = if l.closed { u64::MAX } else { l.watermark? };
            min = Some(min.map_or(w, |m| m.min(w)));
        }
        match min {
            Some(w) if w > self.current => {
                self.current = w;
                Some(w)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(lag: u64) -> SpoutClock<u64> {
        SpoutClock::new(Watermarks::bounded(lag, |t: &u64| *t))
    }

    #[test]
    fn the_spout_watermark_is_the_highest_timestamp_minus_the_lag() {
        let mut c = clock(10);
        assert_eq!(c.watermark(), 0);
        c.emitted(100, None);
        c.emitted(50, None);
        assert_eq!(c.watermark(), 90);
        c.emitted(130, None);
        assert_eq!(c.watermark(), 120);
    }

    #[test]
    fn open_trees_hold_the_watermark_until_acked() {
        let mut c = clock(0);
        c.emitted(100, Some(1));
        c.emitted(200, Some(2));
        assert_eq!(c.watermark(), 100);
        c.acked(1);
        assert_eq!(c.watermark(), 200);
        // A replay under the same id replaces the old entry.
        c.emitted(200, Some(2));
        c.acked(2);
        assert_eq!(c.watermark(), 200);
    }

    #[test]
    fn a_rewind_restores_the_position() {
        let mut c = clock(5);
        c.emitted(100, None);
        let at = c.position();
        c.emitted(900, None);
        c.restore(at);
        assert_eq!(c.watermark(), 95);
    }

    #[test]
    fn the_input_watermark_is_the_minimum_over_active_links() {
        let mut c = InputClock::new(2, 0);
        assert_eq!(c.mark(0, 50), None, "link 1 has said nothing yet");
        assert_eq!(c.mark(1, 30), Some(30));
        assert_eq!(c.mark(1, 70), Some(50));
        assert_eq!(c.mark(0, 40), None, "a link never goes back");
        assert_eq!(c.idle(0), Some(70), "an idle link is left out");
        assert_eq!(c.mark(0, 60), None, "active again, it holds the minimum");
        assert_eq!(c.current(), 70, "the task's watermark never goes back");
        assert_eq!(c.mark(0, 90), None);
        assert_eq!(c.close(1), Some(90));
    }

    #[test]
    fn an_ended_link_does_not_hold_the_minimum_and_idle_ones_are_left_out() {
        let mut c = InputClock::new(2, 0);
        c.mark(0, 10);
        assert_eq!(c.close(0), None, "link 1 has said nothing yet");
        assert_eq!(c.idle(1), Some(u64::MAX), "only an ended link is left");
    }

    #[test]
    fn all_links_idle_holds_the_watermark() {
        let mut c = InputClock::new(2, 10);
        c.idle(0);
        assert_eq!(c.idle(1), None);
        assert_eq!(c.current(), 10);
    }
}
