//! The COST baseline for word count: one thread, a hand-written loop, no framework.
//!
//! `wc_loop [--output FILE] PATH...` reads each file whole into memory, splits it into words (a
//! maximal run of `char::is_alphanumeric` characters, lowercased with `str::to_lowercase`; ASCII
//! fast path), and counts them in one `FxHashMap<String, u64>` looked up by `&str`, so only a new
//! word allocates. It writes `word\tcount` lines sorted by word to FILE (stdout without
//! `--output`) and prints `words=N elapsed_s=X words_per_s=Y wall_s=Z` on stderr, where elapsed
//! covers reading and counting and wall also covers writing the output.

use std::time::Instant;

use anyhow::{Context, Result};
use squall_benches::wordcount::{count_text, summary, write_counts, Counts, WcArgs};

fn main() -> std::process::ExitCode {
    squall_benches::wordcount::finish(run())
}

fn run() -> Result<()> {
    let args = WcArgs::parse()?;
    let start = Instant::now();
    let mut counts = Counts::default();
    let mut words = 0;
    for path in &args.inputs {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
        words += count_text(&text, &mut counts);
    }
    let elapsed = start.elapsed();
    write_counts(args.output.as_deref(), counts)?;
    eprintln!("{}", summary(words, elapsed, start.elapsed()));
    Ok(())
}
