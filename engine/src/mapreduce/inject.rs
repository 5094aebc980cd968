//! Failure injection for tests and demos, and naming the panics of attempts.

use std::any::Any;
use std::hash::{Hash, Hasher};

use rand::{rngs::SmallRng, Rng, SeedableRng};

use super::Settings;

/// The panic payload of an injected failure, so a panic hook can tell injected panics from real
/// ones (the `squall` command keeps them off stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedFailure;

/// Whether attempt `attempt` of task `task` fails, and at what fraction of its input. A task's
/// last allowed attempt never fails by injection, so injection alone never fails a job.
pub(crate) fn decide(
    settings: &Settings,
    kind: &str,
    task: usize,
    attempt: u32,
    failures: u32,
    max_attempts: u32,
) -> Option<f64> {
    let f = settings.inject_failures?;
    if failures + 1 >= max_attempts {
        return None;
    }
    let mut h = rustc_hash::FxHasher::default();
    (f.seed, kind, task, attempt).hash(&mut h);
    let mut rng = SmallRng::seed_from_u64(h.finish());
    rng.gen_bool(f.rate.clamp(0.0, 1.0))
        .then(|| rng.gen_range(0.05..0.95))
}

/// Panics with [`InjectedFailure`].
pub(crate) fn fail_now() -> ! {
    std::panic::panic_any(InjectedFailure)
}

/// A panic payload as text.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if payload.is::<InjectedFailure>() {
        "injected failure".to_string()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked with a non-text payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::FailureInjection;
    use super::*;

    #[test]
    fn decisions_are_seeded_and_spare_the_last_attempt() {
        let mut s = Settings {
            inject_failures: Some(FailureInjection { rate: 1.0, seed: 7 }),
            ..Settings::default()
        };
        let at = decide(&s, "map", 3, 0, 0, 4).unwrap();
        assert!((0.05..0.95).contains(&at));
        assert_eq!(decide(&s, "map", 3, 0, 0, 4), Some(at));
        assert_eq!(decide(&s, "map", 3, 3, 3, 4), None);
        s.inject_failures = Some(FailureInjection { rate: 0.0, seed: 7 });
        assert_eq!(decide(&s, "map", 3, 0, 0, 4), None);
    }
}
