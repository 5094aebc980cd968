//! Attempts: injected failures retried with exact output, a straggler's backup attempt (first
//! commit wins, the other is killed), a task failing every attempt, and the input errors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use squall::mapreduce::{
    FailureInjection, Job, JobError, MapOutput, Mapper, Record, ReduceOutput, Reducer, Values,
};
use squall::ComponentError;
use squall_topologies::mapreduce::wordcount::{self, SumReducer, WordMapper};
use squall_topologies::mapreduce::SumCombiner;

use super::{corpus, read_output, settings, text, wordcount_oracle};

#[test]
fn injected_failures_are_retried_and_the_output_stays_exact() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let files = corpus(&input, 2);
    let expected = wordcount_oracle(&files);
    for (seed, rate) in [(1, 0.3), (2, 0.3), (3, 0.2)] {
        let out = dir.path().join(format!("out-{seed}"));
        let mut s = settings(3, 3);
        s.inject_failures = Some(FailureInjection { rate, seed });
        let report = wordcount::wordcount(vec![input.clone()], out.clone(), s, true)
            .run()
            .unwrap();
        assert_eq!(read_output(&out, 3, 1), expected, "seed {seed}");
        assert!(
            report.counters.failed_attempts > 0,
            "seed {seed}: nothing failed"
        );
        assert_eq!(
            report.counters.map_input_records, 771,
            "counted once per line"
        );
    }
}

/// Word count's mapper, made slow on `slow.txt` the first time any attempt reads it: that
/// attempt straggles, so the scheduler launches a backup, which commits first.
struct Straggler {
    inner: WordMapper,
    claimed: Arc<AtomicBool>,
    slow: bool,
}

impl Mapper for Straggler {
    type Key = String;
    type Value = u64;

    fn map(
        &mut self,
        r: Record<'_>,
        out: &mut MapOutput<'_, String, u64>,
    ) -> Result<(), ComponentError> {
        if r.path.ends_with("slow.txt") && !self.slow && !self.claimed.swap(true, Ordering::SeqCst)
        {
            self.slow = true;
        }
        if self.slow {
            // Simulated slowness (not synchronization): the attempt is killed long before it
            // could finish 400 lines at this pace.
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        self.inner.map(r, out)
    }
}

#[test]
fn a_straggler_gets_a_backup_attempt_and_the_first_commit_wins() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let mut files = corpus(&input, 3);
    let mut rng = SmallRng::seed_from_u64(33);
    let slow = text(&mut rng, 400);
    std::fs::write(input.join("slow.txt"), &slow).unwrap();
    files.push(("slow.txt".into(), slow));
    let expected = wordcount_oracle(&files);
    let claimed = Arc::new(AtomicBool::new(false));
    let mut s = settings(3, 2);
    s.split_size = 1 << 20;
    s.speculative_cap = 1.0;
    s.speculative_min_runtime = std::time::Duration::from_millis(100);
    let out = dir.path().join("out");
    let report = Job::new(
        "straggler",
        move || Straggler {
            inner: WordMapper::default(),
            claimed: claimed.clone(),
            slow: false,
        },
        || SumReducer,
    )
    .combiner(|| SumCombiner)
    .input([input])
    .output(&out)
    .settings(s)
    .run()
    .unwrap();
    assert_eq!(read_output(&out, 2, 1), expected);
    let c = &report.counters;
    assert_eq!(c.speculative_attempts, 1, "{c}");
    assert_eq!(c.killed_attempts, 1, "{c}");
    assert_eq!(c.failed_attempts, 0, "{c}");
    assert_eq!(
        c.map_input_records, 1171,
        "the killed attempt's records are not counted"
    );
}

#[test]
fn an_existing_output_directory_is_an_error_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    corpus(&input, 7);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("precious"), "keep").unwrap();
    let e = wordcount::wordcount(vec![input], out.clone(), settings(2, 2), true)
        .run()
        .unwrap_err();
    assert!(matches!(e, JobError::OutputExists(_)), "{e}");
    assert_eq!(
        e.to_string(),
        format!("output directory {} already exists", out.display())
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(out.join("precious")).unwrap(),
        "keep"
    );
}

/// Panics on every line holding "poison", whatever the attempt.
struct Poisoned;

impl Mapper for Poisoned {
    type Key = String;
    type Value = u64;

    fn map(
        &mut self,
        r: Record<'_>,
        out: &mut MapOutput<'_, String, u64>,
    ) -> Result<(), ComponentError> {
        assert!(
            !r.line.contains("poison"),
            "poisoned line at byte {}",
            r.offset
        );
        out.emit(r.line.to_string(), 1)?;
        Ok(())
    }
}

#[test]
fn a_task_failing_every_attempt_fails_the_job_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "fine\nfine\npoison\nfine\n").unwrap();
    let out = dir.path().join("out");
    let e = Job::new("poisoned", || Poisoned, || SumReducer)
        .input([input.clone()])
        .output(&out)
        .settings(settings(1, 1))
        .run()
        .unwrap_err();
    let JobError::TaskFailed {
        task,
        attempts,
        last,
    } = &e
    else {
        panic!("unexpected error: {e}");
    };
    assert!(task.starts_with("map task "), "{e}");
    assert!(task.contains("in.txt"), "{e}");
    assert_eq!(*attempts, 4);
    assert!(last.contains("poisoned line at byte 10"), "{e}");
    assert!(!out.join("_SUCCESS").exists());
    assert!(!out.join("part-r-00000").exists());
}

#[test]
fn invalid_utf8_fails_the_job_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("latin1.txt");
    std::fs::write(&input, b"ok line\r\ncaf\xe9\n").unwrap();
    let e = wordcount::wordcount(
        vec![input.clone()],
        dir.path().join("out"),
        settings(2, 1),
        true,
    )
    .run()
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: invalid UTF-8 in the line starting at byte offset 9",
            input.display()
        )
    );
}

/// Word count's reducer, made slow from key `apple` on by the first attempt that meets it: that
/// reduce task straggles, so an idle reduce task runs a backup, which commits first.
struct SlowReducer {
    claimed: Arc<AtomicBool>,
    slow: bool,
}

impl Reducer for SlowReducer {
    type Key = String;
    type Value = u64;

    fn reduce(
        &mut self,
        word: &String,
        counts: Values<'_, String, u64>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError> {
        if word == "apple" && !self.slow && !self.claimed.swap(true, Ordering::SeqCst) {
            self.slow = true;
        }
        if self.slow {
            // Simulated slowness (not synchronization), as in `Straggler`.
            std::thread::sleep(std::time::Duration::from_millis(40));
        }
        Ok(out.write(word, counts.sum::<u64>())?)
    }
}

#[test]
fn a_straggling_reduce_task_gets_a_backup_on_an_idle_reduce_task() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let expected = wordcount_oracle(&corpus(&input, 8));
    let claimed = Arc::new(AtomicBool::new(false));
    let mut s = settings(2, 3);
    s.speculative_min_runtime = std::time::Duration::from_millis(100);
    let out = dir.path().join("out");
    let report = Job::new("slow-reduce", WordMapper::default, move || SlowReducer {
        claimed: claimed.clone(),
        slow: false,
    })
    .combiner(|| SumCombiner)
    .input([input])
    .output(&out)
    .settings(s)
    .run()
    .unwrap();
    assert_eq!(read_output(&out, 3, 1), expected);
    let c = &report.counters;
    assert_eq!(c.speculative_attempts, 1, "{c}");
    assert_eq!(c.killed_attempts, 1, "{c}");
    assert_eq!(
        c.reduce_output_records,
        expected.len() as u64,
        "counted once: {c}"
    );
}
