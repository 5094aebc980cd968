//! Progress of long runs on stderr: an indicatif bar on a terminal, plain periodic lines
//! otherwise (logs and pipes get a line every few seconds instead of control codes).

use std::io::IsTerminal;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(200);
/// How often a plain line is printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A progress display; it stops (and its thread ends) when dropped.
pub(crate) struct Progress {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Shows `what` done so far (read by `done`) out of `total` when known.
    pub(crate) fn start(
        what: &'static str,
        total: Option<u64>,
        done: impl Fn() -> u64 + Send + 'static,
    ) -> Self {
        Self::with_replays(what, total, done, || 0)
    }

    /// As [`Progress::start`], with `replays` (read by `replays`) shown apart: a run that
    /// replays after failures reads its input only once however often it replays, so
    /// `done` must not count replays, and the percentage never passes 100.
    pub(crate) fn with_replays(
        what: &'static str,
        total: Option<u64>,
        done: impl Fn() -> u64 + Send + 'static,
        replays: impl Fn() -> u64 + Send + 'static,
    ) -> Self {
        let (stop, stopped) = channel::<()>();
        let terminal = std::io::stderr().is_terminal();
        let thread = std::thread::Builder::new()
            .name("squall-progress".into())
            .spawn(move || {
                let started = Instant::now();
                if terminal {
                    let bar = bar(what, total);
                    while stopped.recv_timeout(TICK) == Err(RecvTimeoutError::Timeout) {
                        bar.set_position(capped(done(), total));
                        let r = replays();
                        if r > 0 {
                            bar.set_message(format!("{what}, {r} replayed"));
                        }
                    }
                    bar.finish_and_clear();
                } else {
                    while stopped.recv_timeout(LINE_EVERY) == Err(RecvTimeoutError::Timeout) {
                        let (d, r) = (capped(done(), total), replays());
                        eprintln!("{}", line(what, d, r, total, started.elapsed()));
                    }
                }
            })
            .ok();
        Progress {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bar(what: &str, total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n),
            "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} {msg} ({per_sec}, eta {eta})",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{elapsed_precise} {spinner} {human_pos} {msg} ({per_sec})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// `done`, at most `total` (a rollback may have counted a few emits twice for a moment).
fn capped(done: u64, total: Option<u64>) -> u64 {
    total.map_or(done, |t| done.min(t))
}

/// `progress: 1200000/3000000 readings (40%) after 12s, 100000/s`, and `, R replayed` when
/// there were replays.
fn line(what: &str, done: u64, replays: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let replays = if replays > 0 {
        format!(", {replays} replayed")
    } else {
        String::new()
    };
    match total {
        Some(n) if n > 0 => format!(
            "progress: {done}/{n} {what} ({:.0}%) after {secs:.0}s, {rate:.0}/s{replays}",
            done as f64 * 100.0 / n as f64
        ),
        _ => format!("progress: {done} {what} after {secs:.0}s, {rate:.0}/s{replays}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines() {
        assert_eq!(
            line("readings", 50, 0, Some(200), Duration::from_secs(2)),
            "progress: 50/200 readings (25%) after 2s, 25/s"
        );
        assert_eq!(
            line("lines", 10, 0, None, Duration::from_secs(5)),
            "progress: 10 lines after 5s, 2/s"
        );
    }

    #[test]
    fn replays_are_counted_apart_and_never_pass_the_total() {
        // 32,000 readings, each emitted many times over by replays.
        let emitted: u64 = 32_000 * 400;
        let replays = emitted - 31_000;
        let done = capped(emitted - replays, Some(32_000));
        assert_eq!(
            line(
                "readings",
                done,
                replays,
                Some(32_000),
                Duration::from_secs(10)
            ),
            "progress: 31000/32000 readings (97%) after 10s, 3100/s, 12769000 replayed"
        );
        assert_eq!(capped(40_000, Some(32_000)), 32_000);
    }
}
