//! MapReduce jobs against oracles computed here with plain sequential code: several mapper and
//! reducer counts, with and without the combiner, under injected failures, with a straggler
//! (speculative execution), with a tiny sort buffer (spills), and the error cases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::mapreduce::{FailureInjection, Job, JobError, MapOutput, Mapper, Record, Settings};
use squall::ComponentError;
use squall_topologies::mapreduce::wordcount::{SumReducer, WordMapper};
use squall_topologies::mapreduce::SumCombiner;
use squall_topologies::mapreduce::{cooccurrence, inverted_index, wordcount};

const WORDS: &[&str] = &[
    "the",
    "The",
    "THE",
    "storm",
    "Storm",
    "squall",
    "bolt",
    "spout",
    "Ünïcode",
    "ünïcode",
    "ΣΟΦΙΑ",
    "σοφια",
    "Σοφία",
    "straße",
    "naïve",
    "café",
    "Café",
    "日本語",
    "x²",
    "٣٤",
    "42",
    "a1b2",
    "ǅemal",
    "don't",
    "zebra",
    "apple",
    "Zürich",
];
const SEPARATORS: &[&str] = &[" ", "  ", ", ", "; ", "-", "\t", "!", " (", ") ", "_"];

/// Seeded text: `lines` lines of random words and separators, CRLF or LF, some empty.
fn text(rng: &mut SmallRng, lines: usize) -> String {
    let mut s = String::new();
    for _ in 0..lines {
        for _ in 0..rng.gen_range(0..12) {
            s.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
            s.push_str(SEPARATORS[rng.gen_range(0..SEPARATORS.len())]);
        }
        s.push_str(if rng.gen_bool(0.3) { "\r\n" } else { "\n" });
    }
    s
}

/// A corpus directory: three files, one in a subdirectory, one without a final newline.
fn corpus(dir: &Path, seed: u64) -> Vec<(PathBuf, String)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let mut files = Vec::new();
    for (name, lines) in [("a.txt", 400), ("sub/b.txt", 250), ("c.txt", 120)] {
        let mut t = text(&mut rng, lines);
        if name == "c.txt" {
            t.push_str("Tail WORD without newline");
        }
        let path = dir.join(name);
        std::fs::write(&path, &t).unwrap();
        files.push((PathBuf::from(name), t));
    }
    files
}

/// DESIGN.md's words, the slow obvious way.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn wordcount_oracle(files: &[(PathBuf, String)]) -> BTreeMap<String, String> {
    let mut counts = BTreeMap::<String, u64>::new();
    for (_, t) in files {
        for w in words(t) {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(w, n)| (w, n.to_string()))
        .collect()
}

/// Reads a job's output: checks `_SUCCESS`, `reducers` part files each sorted by key with no
/// key in two files, no leftovers; returns key -> rest of the line.
fn read_output(out: &Path, reducers: usize, key_fields: usize) -> BTreeMap<String, String> {
    assert!(
        out.join("_SUCCESS").is_file(),
        "no _SUCCESS in {}",
        out.display()
    );
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..reducers).map(|p| format!("part-r-{p:05}")).collect();
    expected.push("_SUCCESS".into());
    expected.sort();
    assert_eq!(names, expected);
    let mut all = BTreeMap::new();
    for p in 0..reducers {
        let t = std::fs::read_to_string(out.join(format!("part-r-{p:05}"))).unwrap();
        let mut previous: Option<Vec<String>> = None;
        for line in t.lines() {
            let fields: Vec<String> = line.split('\t').map(str::to_string).collect();
            let key = fields[..key_fields].to_vec();
            assert!(
                previous.as_ref().is_none_or(|prev| prev < &key),
                "unsorted: {line:?}"
            );
            previous = Some(key.clone());
            let rest = fields[key_fields..].join("\t");
            assert!(
                all.insert(key.join("\t"), rest).is_none(),
                "{line:?} in two files"
            );
        }
    }
    all
}

fn settings(mappers: usize, reducers: usize) -> Settings {
    let mut s = Settings::default();
    s.mappers = mappers;
    s.reducers = reducers;
    s.split_size = 2048;
    s
}

#[test]
fn wordcount_matches_the_oracle_at_several_task_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let expected = wordcount_oracle(&corpus(&input, 1));
    for (m, r, combine) in [(1, 1, true), (2, 3, true), (4, 2, true), (3, 2, false)] {
        let out = dir.path().join(format!("out-{m}-{r}-{combine}"));
        let job = wordcount::wordcount(vec![input.clone()], out.clone(), settings(m, r), combine);
        let report = job.run().unwrap();
        assert_eq!(
            read_output(&out, r, 1),
            expected,
            "{m} mappers, {r} reducers"
        );
        let c = &report.counters;
        assert_eq!(c.map_input_records, 771, "lines");
        assert_eq!(c.reduce_output_records, expected.len() as u64);
        assert_eq!(c.reduce_input_groups, expected.len() as u64);
        assert_eq!(c.failed_attempts + c.killed_attempts, 0);
        if combine {
            assert!(c.combine_input_records > c.combine_output_records);
        } else {
            assert_eq!(c.combine_input_records, 0);
            assert_eq!(c.reduce_input_records, c.map_output_records);
        }
    }
}

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
fn a_tiny_sort_buffer_spills_and_merges_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let expected = wordcount_oracle(&corpus(&input, 4));
    for combine in [true, false] {
        let out = dir.path().join(format!("out-{combine}"));
        let mut s = settings(2, 3);
        s.split_size = 1 << 20;
        s.sort_buffer_bytes = 2048;
        let report = wordcount::wordcount(vec![input.clone()], out.clone(), s, combine)
            .run()
            .unwrap();
        assert_eq!(read_output(&out, 3, 1), expected);
        let c = &report.counters;
        assert!(c.spills > 3 * c.map_tasks, "{c}");
        assert!(c.spilled_records > 0);
        assert_eq!(c.reduce_input_records, c.spilled_records);
    }
}

#[test]
fn inverted_index_matches_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let files = corpus(&input, 5);
    let mut postings = BTreeMap::<String, BTreeSet<String>>::new();
    for (name, t) in &files {
        for w in words(t) {
            postings
                .entry(w)
                .or_default()
                .insert(name.to_string_lossy().into_owned());
        }
    }
    let expected: BTreeMap<String, String> = postings
        .into_iter()
        .map(|(w, docs)| (w, docs.into_iter().collect::<Vec<_>>().join(",")))
        .collect();
    assert!(expected.values().any(|d| d.contains(",sub/b.txt")));
    for (m, r, combine) in [(1, 1, true), (3, 2, true), (2, 4, false)] {
        let out = dir.path().join(format!("out-{m}-{r}"));
        inverted_index::inverted_index(input.clone(), out.clone(), settings(m, r), combine)
            .run()
            .unwrap();
        assert_eq!(
            read_output(&out, r, 1),
            expected,
            "{m} mappers, {r} reducers"
        );
    }
}

#[test]
fn cooccurrence_pairs_and_stripes_match_the_oracle_and_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SmallRng::seed_from_u64(6);
    let items = ["a", "b", "c", "dé", "Ω", "x1", "B", "zz"];
    let mut t = String::new();
    let mut expected = BTreeMap::<String, u64>::new();
    for _ in 0..600 {
        let line: Vec<&str> = (0..rng.gen_range(0..7))
            .map(|_| items[rng.gen_range(0..items.len())])
            .collect();
        t.push_str(&line.join(if rng.gen_bool(0.5) { " " } else { "\t " }));
        t.push_str(if rng.gen_bool(0.3) { "\r\n" } else { "\n" });
        let distinct: BTreeSet<&str> = line.iter().copied().collect();
        for a in &distinct {
            for b in distinct.iter().filter(|b| a < *b) {
                *expected.entry(format!("{a}\t{b}")).or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, String> = expected
        .into_iter()
        .map(|(k, n)| (k, n.to_string()))
        .collect();
    let input = dir.path().join("tuples.txt");
    std::fs::write(&input, t).unwrap();
    for (m, r, inject) in [(1, 1, None), (3, 3, Some(0.3))] {
        let mut s = settings(m, r);
        s.split_size = 1024;
        s.inject_failures = inject.map(|rate| FailureInjection { rate, seed: 9 });
        let (pairs, stripes) = (
            dir.path().join(format!("p{m}")),
            dir.path().join(format!("s{m}")),
        );
        cooccurrence::pairs(input.clone(), pairs.clone(), s.clone(), true)
            .run()
            .unwrap();
        cooccurrence::stripes(input.clone(), stripes.clone(), s, true)
            .run()
            .unwrap();
        assert_eq!(read_output(&pairs, r, 2), expected, "pairs, {m} mappers");
        for p in 0..r {
            let name = format!("part-r-{p:05}");
            assert_eq!(
                std::fs::read(pairs.join(&name)).unwrap(),
                std::fs::read(stripes.join(&name)).unwrap(),
                "{name} differs between pairs and stripes"
            );
        }
    }
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
