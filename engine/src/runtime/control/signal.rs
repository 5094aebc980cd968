//! Ending a run on SIGINT or SIGTERM: the first one drains the topology (so sinks flush and
//! the report is written), a second one ends the process at once.
//!
//! The handlers only set flags (nothing else is safe in a signal handler); the thread waiting
//! for a run polls them between events.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::RunError;

/// Set by the first stop signal; arms the second one to end the process.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// The number of the first stop signal (0: none yet).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// Handlers are registered once per process: each registration adds one more.
static CAUGHT: OnceLock<Result<(), String>> = OnceLock::new();

/// A signal asking the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, service managers).
    Terminate,
}

impl StopSignal {
    fn from_number(n: usize) -> Option<StopSignal> {
        match i32::try_from(n).ok()? {
            SIGINT => Some(StopSignal::Interrupt),
            SIGTERM => Some(StopSignal::Terminate),
            _ => None,
        }
    }

    fn number(self) -> i32 {
        match self {
            StopSignal::Interrupt => SIGINT,
            StopSignal::Terminate => SIGTERM,
        }
    }

    /// The conventional exit status of a process ended by this signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_code(self) -> u8 {
        // Both numbers are small on every platform signal-hook supports.
        (128 + self.number()).clamp(0, 255) as u8
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// From now on, SIGINT and SIGTERM no longer kill the process: the first one is recorded for
/// [`stop_requested`] (and drains a run started with
/// [`crate::LocalCluster::run_until_signal`]); a second one ends the process at once with
/// status 128 + its number. Idempotent.
///
/// ```
/// squall::runtime::catch_stop_signals()?;
/// assert_eq!(squall::runtime::stop_requested(), None);
/// # Ok::<(), squall::RunError>(())
/// ```
pub fn catch_stop_signals() -> Result<(), RunError> {
    CAUGHT
        .get_or_init(|| {
            for signal in [SIGINT, SIGTERM] {
                // The order matters: the exit checks the flag before the next handler sets it,
                // so the first signal only arms it.
                flag::register_conditional_shutdown(signal, 128 + signal, &STOPPING)
                    .and_then(|_| flag::register(signal, &STOPPING))
                    .and_then(|_| flag::register_usize(signal, &RECEIVED, signal as usize))
                    .map_err(|e| format!("cannot catch signal {signal}: {e}"))?;
            }
            Ok(())
        })
        .clone()
        .map_err(RunError::Runtime)
}

/// The first stop signal received since [`catch_stop_signals`], if any. It stays set: a
/// process asked to stop ends every later run at once too.
pub fn stop_requested() -> Option<StopSignal> {
    StopSignal::from_number(RECEIVED.load(Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(StopSignal::Interrupt.exit_code(), 130);
        assert_eq!(StopSignal::Terminate.exit_code(), 143);
        assert_eq!(StopSignal::from_number(15), Some(StopSignal::Terminate));
        assert_eq!(StopSignal::from_number(0), None);
        assert_eq!(StopSignal::Interrupt.to_string(), "SIGINT");
    }
}
