//! Seeded generator of the word-count benchmark corpus.
//!
//! `gen_corpus OUT_PATH [MEGABYTES] [SEED]` (defaults: 64 MiB, seed 42) writes mixed-case text:
//! a Zipf-distributed (s = 1) vocabulary of 10 000 distinct made-up words, about 4 % of them non-ASCII
//! (accents, ß, Greek), each occurrence lowercase, Capitalized or UPPERCASE at random, with
//! punctuation and numbers between words and lines of varying length (some empty). The same
//! arguments always give the same bytes.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{bail, Context, Result};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 10_000;
const SYLLABLES: &[&str] = &[
    "ka", "lo", "ri", "ven", "sto", "mar", "el", "quo", "tin", "bra", "de", "shu", "an", "pel",
    "gor", "xi", "na", "tho", "wes", "um", "ci", "dro", "fa", "ly", "zen", "ob", "hai", "ter",
];
const ACCENTED: &[&str] = &["é", "è", "ü", "ö", "ß", "ñ", "ç", "å", "ø", "ï"];
const GREEK: &[&str] = &[
    "λό", "γος", "σο", "φί", "α", "κό", "σμος", "θά", "λασ", "σα", "ψυ", "χή", "ς",
];

/// One made-up word: one to four syllables; some with a non-ASCII letter, some all Greek.
fn make_word(rng: &mut SmallRng) -> String {
    let n = rng.gen_range(1..=4);
    let mut w = String::new();
    match rng.gen_range(0..100) {
        0..=1 => {
            for _ in 0..n.max(2) {
                w.push_str(GREEK[rng.gen_range(0..GREEK.len() - 1)]);
            }
            if rng.gen_bool(0.5) {
                w.push('ς'); // final sigma: "ΛΌΓΟΣ".to_lowercase() is "λόγος"
            }
        }
        2..=3 => {
            for i in 0..n {
                w.push_str(SYLLABLES[rng.gen_range(0..SYLLABLES.len())]);
                if i == 0 {
                    w.push_str(ACCENTED[rng.gen_range(0..ACCENTED.len())]);
                }
            }
        }
        _ => {
            for _ in 0..n {
                w.push_str(SYLLABLES[rng.gen_range(0..SYLLABLES.len())]);
            }
        }
    }
    w
}

/// Writes `word` to `out` lowercase (70 %), Capitalized (20 %) or UPPERCASE (10 %).
fn push_cased(out: &mut String, word: &str, rng: &mut SmallRng) {
    match rng.gen_range(0..10) {
        0..=6 => out.push_str(word),
        7..=8 => {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
        _ => out.push_str(&word.to_uppercase()),
    }
}

/// What goes between two words: mostly a space, sometimes punctuation or a number.
fn push_separator(out: &mut String, rng: &mut SmallRng) {
    match rng.gen_range(0..100) {
        0..=79 => out.push(' '),
        80..=87 => out.push_str(", "),
        88..=91 => out.push_str(". "),
        92 => out.push_str("; "),
        93 => out.push_str(" - "),
        94 => out.push_str("'s "),
        95 => out.push_str(&format!(" {} ", rng.gen_range(0..2030))),
        96 => out.push_str(&format!(" ({}%) ", rng.gen_range(0..100))),
        97 => out.push_str(&format!(
            " {}.{:02} ",
            rng.gen_range(0..100),
            rng.gen_range(0..100)
        )),
        98 => out.push_str("! \""),
        _ => out.push_str("? "),
    }
}

fn main() -> std::process::ExitCode {
    squall_benches::wordcount::finish(run())
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out_path) = args.get(1) else {
        bail!("usage: gen_corpus OUT_PATH [MEGABYTES] [SEED]");
    };
    let megabytes: u64 = match args.get(2) {
        Some(s) => s
            .parse()
            .with_context(|| format!("MEGABYTES must be a number, not {s:?}"))?,
        None => 64,
    };
    let seed: u64 = match args.get(3) {
        Some(s) => s
            .parse()
            .with_context(|| format!("SEED must be a number, not {s:?}"))?,
        None => 42,
    };
    let target = megabytes << 20;

    let mut rng = SmallRng::seed_from_u64(seed);
    let mut seen = rustc_hash::FxHashSet::default();
    let mut vocabulary = Vec::with_capacity(VOCABULARY);
    while vocabulary.len() < VOCABULARY {
        let word = make_word(&mut rng);
        if seen.insert(word.to_lowercase()) {
            vocabulary.push(word);
        }
    }
    let zipf = WeightedIndex::new((1..=VOCABULARY).map(|rank| 1.0 / rank as f64))?;

    let file = File::create(out_path).with_context(|| format!("cannot create {out_path}"))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut line = String::new();
    while written < target {
        line.clear();
        let words = match rng.gen_range(0..20) {
            0 => 0,
            1..=3 => rng.gen_range(1..5),
            _ => rng.gen_range(5..30),
        };
        for i in 0..words {
            if i > 0 {
                push_separator(&mut line, &mut rng);
            }
            push_cased(&mut line, &vocabulary[zipf.sample(&mut rng)], &mut rng);
        }
        if words > 0 && rng.gen_bool(0.6) {
            line.push('.');
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()
        .with_context(|| format!("cannot write {out_path}"))?;
    eprintln!("wrote {written} bytes to {out_path} (seed {seed})");
    Ok(())
}
