//! The topology's supervisor: which tasks restart after a failure, when, and when to give up.
//!
//! Restart intensity as in Erlang/OTP (at most N restarts in T, one more fails the run with an
//! error naming the task and its last failure); exponential backoff with jitter between
//! restarts in a row, back to the minimum after a stable period.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::{Strategy, Supervision};

/// A task by component index (declaration order) and task index.
pub(crate) type TaskRef = (usize, usize);

pub(crate) struct Supervisor {
    config: Supervision,
    /// When the restarts inside the intensity window happened.
    recent: VecDeque<Instant>,
    /// Restarts in a row without a stable period: the backoff's exponent.
    streak: u32,
    last_failure: Option<Instant>,
    rng: SmallRng,
}

impl Supervisor {
    pub(crate) fn new(config: Supervision) -> Self {
        Supervisor {
            config,
            recent: VecDeque::new(),
            streak: 0,
            last_failure: None,
            rng: SmallRng::seed_from_u64(0x5eed),
        }
    }

    /// Records a failure at `now`: the backoff before the restart, or `None` when the
    /// restart intensity is exceeded and the run must fail.
    pub(crate) fn on_failure(&mut self, now: Instant) -> Option<Duration> {
        while let Some(&t) = self.recent.front() {
            if now.saturating_duration_since(t) > self.config.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() as u64 >= u64::from(self.config.max_restarts) {
            return None;
        }
        self.recent.push_back(now);
        if self
            .last_failure
            .is_some_and(|t| now.saturating_duration_since(t) >= self.config.reset_after)
        {
            self.streak = 0;
        }
        self.last_failure = Some(now);
        let base = self
            .config
            .backoff_min
            .saturating_mul(1u32 << self.streak.min(20));
        self.streak = self.streak.saturating_add(1);
        let capped = base.min(self.config.backoff_max);
        // Full jitter on the upper half keeps restarts of many tasks from moving in lockstep.
        let jitter = self.rng.gen_range(0.5..=1.0);
        Some(capped.mul_f64(jitter))
    }

    /// Restarts counted in the current window.
    pub(crate) fn window_restarts(&self) -> u32 {
        u32::try_from(self.recent.len()).unwrap_or(u32::MAX)
    }

    pub(crate) fn window(&self) -> Duration {
        self.config.within
    }
}

/// The tasks `strategy` restarts when `failed` fails. `order` is the topological order of
/// the components, `parallelism` their task counts.
pub(crate) fn targets(
    strategy: Strategy,
    failed: TaskRef,
    order: &[usize],
    parallelism: &[usize],
) -> Vec<TaskRef> {
    let all = |nodes: &[usize]| -> Vec<TaskRef> {
        nodes
            .iter()
            .flat_map(|&n| (0..parallelism[n]).map(move |t| (n, t)))
            .collect()
    };
    match strategy {
        Strategy::OneForOne => vec![failed],
        Strategy::OneForAll => all(order),
        Strategy::RestForOne => {
            let pos = order.iter().position(|&n| n == failed.0).unwrap_or(0);
            let mut v = vec![failed];
            v.extend(all(&order[pos + 1..]));
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Supervision {
        Supervision {
            max_restarts: 3,
            within: Duration::from_secs(10),
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_millis(50),
            reset_after: Duration::from_secs(1),
            ..Supervision::default()
        }
    }

    #[test]
    fn intensity_limits_restarts_in_the_window() {
        let mut s = Supervisor::new(config());
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(s.on_failure(t0 + Duration::from_millis(i)).is_some());
        }
        assert!(s.on_failure(t0 + Duration::from_millis(5)).is_none());
        // Outside the window the old restarts no longer count.
        assert!(s.on_failure(t0 + Duration::from_secs(11)).is_some());
    }

    #[test]
    fn backoff_grows_is_capped_and_resets() {
        let mut s = Supervisor::new(Supervision {
            max_restarts: 100,
            ..config()
        });
        let t0 = Instant::now();
        let b: Vec<Duration> = (0..6)
            .map(|i| s.on_failure(t0 + Duration::from_millis(i)).unwrap())
            .collect();
        assert!(b[0] >= Duration::from_millis(5) && b[0] <= Duration::from_millis(10));
        assert!(b[2] >= Duration::from_millis(20) && b[2] <= Duration::from_millis(40));
        assert!(b.iter().all(|d| *d <= Duration::from_millis(50)));
        let after = s.on_failure(t0 + Duration::from_secs(3)).unwrap();
        assert!(after <= Duration::from_millis(10), "{after:?}");
    }

    #[test]
    fn strategies_choose_their_tasks() {
        let order = [0, 2, 1];
        let par = [1, 2, 2];
        assert_eq!(targets(Strategy::OneForOne, (2, 1), &order, &par), [(2, 1)]);
        assert_eq!(targets(Strategy::OneForAll, (2, 1), &order, &par).len(), 5);
        let rest = targets(Strategy::RestForOne, (2, 1), &order, &par);
        assert_eq!(rest, [(2, 1), (1, 0), (1, 1)]);
    }
}
