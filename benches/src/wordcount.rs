//! Shared pieces of the word-count benchmark binaries (`wc_loop`, `wc_timely`, `wc_renoir`).
//!
//! Words are as `docs/cli.md` defines them for `squall mapreduce wordcount`: a maximal run of
//! characters for which [`char::is_alphanumeric`] holds, lowercased with [`str::to_lowercase`].
//! ASCII words take a fast path with identical results. Every binary prints the same summary line
//! on stderr and writes `word\tcount` lines sorted by word (byte order), so outputs can be diffed.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustc_hash::FxHashMap;

/// Word -> count, the one map every implementation ends up with.
pub type Counts = FxHashMap<String, u64>;

/// Calls `f` with every word of `text`, lowercased: the one definition shared with Squall
/// (`squall_topologies::words`), so every engine in the comparison tokenizes with the same code
/// and the ratios measure the engines, not their tokenizers.
pub use squall_topologies::words::for_each_word;

/// Adds one occurrence of `word` (already lowercased), allocating only for a new word.
pub fn add_word(counts: &mut Counts, word: &str, n: u64) {
    if let Some(c) = counts.get_mut(word) {
        *c += n;
    } else {
        counts.insert(word.to_owned(), n);
    }
}

/// Counts the words of `text` into `counts`; returns how many words it saw.
pub fn count_text(text: &str, counts: &mut Counts) -> u64 {
    let mut buf = String::new();
    let mut words = 0;
    for_each_word(text, &mut buf, |w| {
        add_word(counts, w, 1);
        words += 1;
    });
    words
}

/// Command line shared by the word-count binaries:
/// `[--output FILE] [--workers N] [--mode words|preagg] PATH...`.
#[derive(Debug, Clone)]
pub struct WcArgs {
    /// Input files (directories already expanded to the regular files below them, sorted).
    pub inputs: Vec<PathBuf>,
    /// Where to write `word\tcount` lines; stdout when absent.
    pub output: Option<PathBuf>,
    /// Worker threads (peer engines only; default 2).
    pub workers: usize,
    /// `words`: shuffle every word; `preagg`: count locally before the shuffle.
    pub preagg: bool,
}

impl WcArgs {
    /// Parses `std::env::args()`.
    pub fn parse() -> Result<Self> {
        let mut args = std::env::args().skip(1);
        let mut inputs = Vec::new();
        let mut output = None;
        let mut workers = 2;
        let mut preagg = false;
        while let Some(a) = args.next() {
            match a.as_str() {
                "--output" | "-o" => {
                    output = Some(PathBuf::from(args.next().context("--output needs a file")?))
                }
                "--workers" => {
                    let v = args.next().context("--workers needs a number")?;
                    workers = v.parse().ok().filter(|&n: &usize| n > 0).with_context(|| {
                        format!("--workers must be a positive number, not {v:?}")
                    })?;
                }
                "--mode" => match args.next().as_deref() {
                    Some("words") => preagg = false,
                    Some("preagg") => preagg = true,
                    other => bail!(
                        "--mode must be words or preagg, not {:?}",
                        other.unwrap_or("")
                    ),
                },
                s if s.starts_with('-') => bail!("unknown flag {s:?}"),
                _ => expand(Path::new(&a), &mut inputs)?,
            }
        }
        if inputs.is_empty() {
            bail!("no input: usage: [--output FILE] [--workers N] [--mode words|preagg] PATH...");
        }
        Ok(Self {
            inputs,
            output,
            workers,
            preagg,
        })
    }
}

/// Pushes `path` if it is a file, or every regular file below it (sorted) if it is a directory.
fn expand(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read input {}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries = fs::read_dir(path)
        .with_context(|| format!("cannot list directory {}", path.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    for e in entries {
        expand(&e, out)?;
    }
    Ok(())
}

/// Reads worker `index`'s share (of `peers`) of every file: the lines starting in its byte range
/// `[len*index/peers, len*(index+1)/peers)`, so every line goes to exactly one worker.
pub fn read_share(paths: &[PathBuf], index: usize, peers: usize) -> Result<String> {
    let mut text = String::new();
    for path in paths {
        let ctx = || format!("cannot read {}", path.display());
        let mut file = File::open(path).with_context(ctx)?;
        let len = file.metadata().with_context(ctx)?.len();
        let nominal = |k: usize| (u128::from(len) * k as u128 / peers as u128) as u64;
        let start = line_start(&mut file, nominal(index)).with_context(ctx)?;
        let end = line_start(&mut file, nominal(index + 1)).with_context(ctx)?;
        let mut bytes = Vec::with_capacity((end - start) as usize);
        file.seek(SeekFrom::Start(start)).with_context(ctx)?;
        file.take(end - start)
            .read_to_end(&mut bytes)
            .with_context(ctx)?;
        let part = String::from_utf8(bytes)
            .map_err(anyhow::Error::from)
            .with_context(ctx)?;
        text.push_str(&part);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n'); // never join the last line of one file with the next file
        }
    }
    Ok(text)
}

/// The first line start at or after `pos`: `pos` itself if it is 0 or follows a newline, else
/// just past the next newline (or the end of the file).
fn line_start(file: &mut File, pos: u64) -> io::Result<u64> {
    if pos == 0 {
        return Ok(0);
    }
    file.seek(SeekFrom::Start(pos - 1))?;
    let mut skipped = Vec::new();
    let n = BufReader::new(file).read_until(b'\n', &mut skipped)?;
    Ok(pos - 1 + n as u64)
}

/// The lines of an owned text as owned `String`s (without their `\n`), for sources that need an
/// iterator that owns its data.
#[derive(Debug, Clone, Default)]
pub struct OwnedLines {
    text: String,
    pos: usize,
}

impl OwnedLines {
    /// Lines of `text`.
    pub fn new(text: String) -> Self {
        Self { text, pos: 0 }
    }
}

impl Iterator for OwnedLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let (line, used) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        let line = line.to_owned();
        self.pos += used;
        Some(line)
    }
}

/// Writes `word\tcount` lines sorted by word (byte order) to `path`, or stdout.
pub fn write_counts(
    path: Option<&Path>,
    counts: impl IntoIterator<Item = (String, u64)>,
) -> Result<()> {
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let sink: Box<dyn Write> = match path {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    for (word, n) in &sorted {
        writeln!(w, "{word}\t{n}")?;
    }
    w.flush().context("cannot write the counts")?;
    Ok(())
}

/// Ends a binary: on error, prints it as one line (`error: ...: cause`) without a backtrace.
pub fn finish(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The stderr summary line every word-count binary prints, parsed by `run-wordcount.sh`:
/// `words=N elapsed_s=X words_per_s=Y wall_s=Z` (elapsed: reading and counting; wall: all of it).
pub fn summary(words: u64, elapsed: Duration, wall: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { words as f64 / secs } else { 0.0 };
    format!(
        "words={words} elapsed_s={secs:.3} words_per_s={rate:.0} wall_s={:.3}",
        wall.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = String::new();
        for_each_word(text, &mut buf, |w| out.push(w.to_owned()));
        out
    }

    #[test]
    fn words_are_alphanumeric_runs_lowercased() {
        assert_eq!(
            words("Hello, WORLD! x86-64 été"),
            ["hello", "world", "x86", "64", "été"]
        );
        assert_eq!(
            words("STRASSE Straße ΛΌΓΟΣ"),
            ["strasse", "straße", "λόγος"]
        );
        assert_eq!(words("  ...  "), Vec::<String>::new());
        assert_eq!(words("½ 3²"), ["½", "3²"]);
    }

    #[test]
    fn matches_the_definition() {
        let text = "Ünïcode MIXED ÉCOLE Σίσυφος ΣΊΣΥΦΟΣ İstanbul ǅemal 12ab, foo_bar\tq";
        let reference: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        assert_eq!(words(text), reference);
    }

    #[test]
    fn shares_cover_every_line_once() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("squall-wc-share-{}", std::process::id()));
        fs::create_dir_all(&dir)?;
        let a = dir.join("a.txt");
        let b = dir.join("b.txt");
        fs::write(&a, "one two\nthree\n\nfour five six\nseven")?;
        fs::write(&b, "x\ny\n")?;
        let paths = [a, b];
        for peers in 1..6 {
            let mut all = String::new();
            for i in 0..peers {
                all.push_str(&read_share(&paths, i, peers)?);
            }
            let mut lines: Vec<&str> = all.lines().filter(|l| !l.is_empty()).collect();
            lines.sort_unstable();
            assert_eq!(
                lines,
                ["four five six", "one two", "seven", "three", "x", "y"],
                "{peers}"
            );
        }
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn owned_lines_match_str_lines() {
        let text = "a b\n\nc\nlast";
        let lines: Vec<String> = OwnedLines::new(text.to_owned()).collect();
        assert_eq!(lines, text.lines().collect::<Vec<_>>());
    }
}
