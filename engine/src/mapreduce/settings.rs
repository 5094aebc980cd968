//! How a job runs: task counts, split size, attempts, speculation, sort buffer.

use std::time::Duration;

use super::JobError;

/// A job's settings. Start from [`Settings::default`] and change what you need.
///
/// ```
/// let mut s = squall::mapreduce::Settings::default();
/// s.reducers = 4;
/// s.sort_buffer_bytes = 16 << 20;
/// assert_eq!(s.max_attempts, 4);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Map task slots: map attempts that run at once (Hadoop's map containers). Default: one
    /// per core.
    pub mappers: usize,
    /// Reduce tasks, one per partition and output file `part-r-NNNNN`. Default: one per core.
    pub reducers: usize,
    /// Largest input split in bytes (Hadoop's block size). The input is cut into a multiple of
    /// `mappers` splits of about equal size, none larger than this. Default 32 MiB.
    pub split_size: u64,
    /// Failed attempts a task may have before the job fails (Hadoop's
    /// `mapreduce.{map,reduce}.maxattempts`). Default 4.
    pub max_attempts: u32,
    /// Launch a backup attempt of a straggling map or reduce task (Hadoop's speculative
    /// execution). Default on.
    pub speculative: bool,
    /// A running task is a straggler once it has run this many times the median duration of
    /// the tasks of its kind (map or reduce) already committed. Default 2.0.
    pub speculative_factor: f64,
    /// A straggler gets a backup only once it has run at least this long, so the noise in
    /// sub-second tasks does not launch backups. Default 1 s.
    pub speculative_min_runtime: Duration,
    /// At most this fraction of the map tasks, and of the reduce tasks, get a backup attempt,
    /// at least one of each (Hadoop caps speculation at 10 %). Default 0.1.
    pub speculative_cap: f64,
    /// Map output held in memory per map attempt before a sorted run is spilled to disk
    /// (Hadoop's `mapreduce.task.io.sort.mb`). Default 64 MiB.
    pub sort_buffer_bytes: usize,
    /// Testing: make task attempts panic at random (see [`FailureInjection`]).
    pub inject_failures: Option<FailureInjection>,
}

/// Makes task attempts fail on purpose, to test retries: each attempt panics with probability
/// `rate`, partway through its input, decided by an RNG seeded from `seed` and the attempt's
/// identity (so a run is repeatable). A task's last allowed attempt is never made to fail, so
/// injection alone never fails a job, as the streaming chaos flag never fails a tuple twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureInjection {
    /// Probability that an attempt fails, from 0 to 1.
    pub rate: f64,
    /// Seed of the decisions.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Settings {
            mappers: cores,
            reducers: cores,
            split_size: 32 << 20,
            max_attempts: 4,
            speculative: true,
            speculative_factor: 2.0,
            speculative_min_runtime: Duration::from_secs(1),
            speculative_cap: 0.1,
            sort_buffer_bytes: 64 << 20,
            inject_failures: None,
        }
    }
}

impl Settings {
    /// Refuses settings no job can run with.
    pub fn check(&self) -> Result<(), JobError> {
        let bad = |what: &str| Err(JobError::Settings(what.to_string()));
        if self.mappers == 0 {
            return bad("mappers must be at least 1");
        }
        if self.reducers == 0 {
            return bad("reducers must be at least 1");
        }
        if self.split_size == 0 {
            return bad("split_size must be at least 1 byte");
        }
        if self.max_attempts == 0 {
            return bad("max_attempts must be at least 1");
        }
        if self.speculative_factor.is_nan() || self.speculative_factor < 1.0 {
            return bad("speculative_factor must be at least 1");
        }
        if let Some(f) = self.inject_failures {
            if !(0.0..=1.0).contains(&f.rate) {
                return bad("the failure injection rate must be between 0 and 1");
            }
        }
        Ok(())
    }
}
