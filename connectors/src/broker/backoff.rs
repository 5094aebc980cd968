//! Reconnect delays: exponential backoff with a cap, shared by every broker client.

use std::time::Duration;

/// Delays between reconnect attempts: `initial`, doubling up to `max`, back to `initial` after
/// a success. Jitter of up to a quarter of the delay keeps many clients from retrying in step.
///
/// ```
/// use std::time::Duration;
/// use squall_connectors::broker::Backoff;
/// let mut b = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
/// assert!(b.next_delay() <= Duration::from_millis(10));
/// for _ in 0..5 { b.next_delay(); }
/// assert!(b.next_delay() <= Duration::from_millis(40));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    // A tiny xorshift state: jitter needs no quality, only variety across clients.
    jitter: u64,
}

impl Backoff {
    /// Backoff from `initial` up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u64 | 1);
        Backoff {
            initial,
            max: max.max(initial),
            next: initial,
            jitter: seed,
        }
    }

    /// The delay before the next attempt; each call doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let quarter = base.as_nanos() as u64 / 4;
        let off = if quarter == 0 {
            0
        } else {
            self.jitter % quarter
        };
        base - Duration::from_nanos(off)
    }

    /// The delay before attempt `n` (from 0), without jitter: for clients that reconnect by
    /// themselves and ask for a delay by attempt number.
    pub fn delay_for(&self, attempt: usize) -> Duration {
        let doublings = attempt.min(31) as u32;
        self.initial
            .checked_mul(1 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }

    /// A connection succeeded: start again from the initial delay.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

impl Default for Backoff {
    /// 100 ms doubling up to 5 s: a restarted broker is found again within about 5 s, and a
    /// broker that is not there costs an attempt every 5 s, not a busy loop.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(350));
        let d: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        for (got, base) in d.iter().zip([100, 200, 350, 350, 350]) {
            assert!(
                *got <= ms(base) && *got >= ms(base) * 3 / 4,
                "{got:?} vs {base}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= ms(100));
    }
}
