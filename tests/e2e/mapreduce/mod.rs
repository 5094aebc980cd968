//! MapReduce jobs against oracles computed here with plain sequential code: several mapper and
//! reducer counts, with and without the combiner, with a tiny sort buffer (spills); pairs and
//! stripes give identical files. `attempts` covers failures, retries and speculation.

mod attempts;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::mapreduce::{FailureInjection, Settings};
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
pub(super) fn text(rng: &mut SmallRng, lines: usize) -> String {
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
pub(super) fn corpus(dir: &Path, seed: u64) -> Vec<(PathBuf, String)> {
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

/// The words of `docs/cli.md`, the slow obvious way.
pub(super) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

pub(super) fn wordcount_oracle(files: &[(PathBuf, String)]) -> BTreeMap<String, String> {
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
pub(super) fn read_output(
    out: &Path,
    reducers: usize,
    key_fields: usize,
) -> BTreeMap<String, String> {
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

pub(super) fn settings(mappers: usize, reducers: usize) -> Settings {
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
fn a_tiny_sort_buffer_spills_and_merges_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let expected = wordcount_oracle(&corpus(&input, 4));
    for combine in [true, false] {
        let out = dir.path().join(format!("out-{combine}"));
        let mut s = settings(2, 3);
        s.split_size = 1 << 20;
        s.sort_buffer_bytes = 512;
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
