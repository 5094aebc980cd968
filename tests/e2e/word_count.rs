//! Word count against a sequential oracle: parallelism 1 and 4, with `always_serialize`, and past
//! the split bolt's combiner limit.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::{Config, LocalCluster};
use squall_topologies::word_count::{CountsOutput, WordCountJob};

/// The split bolt's combiner limit (`split::COMBINE_LIMIT`, 65536 distinct words; not exported).
const COMBINE_LIMIT: usize = 1 << 16;

/// The definition of a word in `docs/cli.md`, the slow obvious way.
pub(crate) fn oracle<'a>(texts: impl IntoIterator<Item = &'a String>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for text in texts {
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
        {
            *counts.entry(word).or_insert(0) += 1;
        }
    }
    counts
}

const VOCABULARY: &[&str] = &[
    "the",
    "The",
    "THE",
    "storm",
    "Storm",
    "squall",
    "SQUALL",
    "bolt",
    "spout",
    "tuple",
    "Ünïcode",
    "ünïcode",
    "ΣΟΦΙΑ",
    "σοφια",
    "Σοφία",
    "straße",
    "STRASSE",
    "naïve",
    "café",
    "Café",
    "日本語",
    "x²",
    "٣٤",
    "42",
    "007",
    "a1b2",
    "İstanbul",
    "ǅemal",
    "don't",
    "e-mail",
    "C++",
    "snake_case",
];
const SEPARATORS: &[&str] = &[
    " ", "  ", ", ", ". ", "; ", "!", "?", "\t", " -- ", "(", ")", "\u{a0}", "…", "/", "\"", "'",
];

/// A seeded text of `lines` lines: vocabulary words, numbers and separators, mixed case, empty
/// lines, CRLF endings, and no final newline when `ragged`.
pub(crate) fn text(rng: &mut SmallRng, lines: usize, ragged: bool) -> String {
    let mut out = String::new();
    for l in 0..lines {
        let words = rng.gen_range(0..14);
        for w in 0..words {
            if w > 0 || rng.gen_bool(0.2) {
                out.push_str(SEPARATORS[rng.gen_range(0..SEPARATORS.len())]);
            }
            if rng.gen_bool(0.1) {
                out.push_str(&rng.gen_range(0..500u32).to_string());
            } else {
                out.push_str(VOCABULARY[rng.gen_range(0..VOCABULARY.len())]);
            }
        }
        if l + 1 < lines || !ragged {
            out.push_str(if rng.gen_bool(0.1) { "\r\n" } else { "\n" });
        }
    }
    out
}

pub(crate) fn write_inputs(dir: &std::path::Path, texts: &[String]) -> Vec<PathBuf> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let path = dir.join(format!("input-{i}.txt"));
            std::fs::write(&path, t).unwrap();
            path
        })
        .collect()
}

fn run(inputs: Vec<PathBuf>, parallelism: usize, always_serialize: bool) -> Vec<(String, u64)> {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let job = WordCountJob {
        inputs,
        parallelism,
        output: CountsOutput::Collect(collected.clone()),
    };
    let mut config = Config::default();
    config.workers = 2;
    config.always_serialize = always_serialize;
    LocalCluster::new(config)
        .run(job.topology().unwrap())
        .unwrap();
    let counts = collected.lock().unwrap().clone();
    counts
}

pub(crate) fn check(got: &[(String, u64)], expected: &BTreeMap<String, u64>, what: &str) {
    let words: Vec<&String> = got.iter().map(|(w, _)| w).collect();
    assert!(
        words.windows(2).all(|p| p[0] < p[1]),
        "{what}: not sorted by word, or a word twice"
    );
    let got: BTreeMap<String, u64> = got.iter().cloned().collect();
    let missing: Vec<_> = expected.keys().filter(|w| !got.contains_key(*w)).collect();
    let extra: Vec<_> = got.keys().filter(|w| !expected.contains_key(*w)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(&got, expected, "{what}: counts differ from the oracle");
}

#[test]
fn word_count_matches_the_oracle() {
    let mut rng = SmallRng::seed_from_u64(2024);
    let texts: Vec<String> = (0..5)
        .map(|i| text(&mut rng, 300 + 150 * i, i % 2 == 1))
        .chain([String::new(), "\n\n".to_string()])
        .collect();
    let expected = oracle(&texts);
    assert!(expected.contains_key("ünïcode") && expected.contains_key("σοφια"));
    assert!(expected.len() > 100);
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), &texts);
    for (parallelism, serialize) in [(1, false), (4, false), (4, true)] {
        let got = run(inputs.clone(), parallelism, serialize);
        check(
            &got,
            &expected,
            &format!("parallelism {parallelism}, always_serialize {serialize}"),
        );
    }
}

#[test]
fn word_count_past_the_combiner_limit() {
    // More distinct words than a split task holds, each seen twice, so partial counts of the
    // same word leave a split task more than once and must be summed.
    let distinct = COMBINE_LIMIT + 5_000;
    let mut rng = SmallRng::seed_from_u64(7);
    let mut words: Vec<String> = (0..distinct).map(|i| format!("w{i:x}")).collect();
    words.extend((0..distinct).map(|i| format!("W{i:X}")));
    // Shuffle (Fisher-Yates) so the repeats fall after a flush.
    for i in (1..words.len()).rev() {
        words.swap(i, rng.gen_range(0..=i));
    }
    let lines: Vec<String> = words.chunks(1000).map(|c| c.join(" ")).collect();
    let texts: Vec<String> = lines
        .chunks(lines.len() / 4 + 1)
        .map(|c| c.join("\n") + "\n")
        .collect();
    let expected = oracle(&texts);
    assert_eq!(expected.len(), distinct);
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), &texts);
    let got = run(inputs, 1, false);
    check(&got, &expected, "past the combiner limit");
}
