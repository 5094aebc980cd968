//! The README's topology: word count over a few lines of text, in local mode.
//!
//! Run with `cargo run -p squall --example word_count`.

use std::collections::HashMap;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector,
    TopologyBuilder,
};

/// Emits each line once, then finishes (a bounded spout).
struct Lines(Vec<&'static str>);

impl Spout for Lines {
    type Output = String;

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, String>) -> Result<(), ComponentError> {
        if let Some(line) = self.0.pop() {
            out.emit(line.to_string());
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.0.is_empty()
    }
}

/// Splits a line into lowercase words.
struct Split;

impl Bolt for Split {
    type Input = String;
    type Output = String;

    fn execute(
        &mut self,
        line: String,
        out: &mut BoltCollector<'_, String>,
    ) -> Result<(), ComponentError> {
        for word in line
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            out.emit(word.to_lowercase());
        }
        Ok(())
    }
}

/// Counts the words routed to this task; emits the totals when the input ends.
#[derive(Default)]
struct Count(HashMap<String, u64>);

impl Bolt for Count {
    type Input = String;
    type Output = (String, u64);

    fn execute(
        &mut self,
        word: String,
        _: &mut BoltCollector<'_, (String, u64)>,
    ) -> Result<(), ComponentError> {
        *self.0.entry(word).or_default() += 1;
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, (String, u64)>) -> Result<(), ComponentError> {
        for pair in self.0.drain() {
            out.emit(pair);
        }
        Ok(())
    }
}

/// Prints every total.
struct Print;

impl Bolt for Print {
    type Input = (String, u64);
    type Output = ();

    fn execute(
        &mut self,
        (word, n): (String, u64),
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        println!("{word}\t{n}");
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = vec![
        "The quick brown fox",
        "jumps over the lazy dog",
        "The dog sleeps",
    ];
    let mut builder = TopologyBuilder::new("word-count");
    let lines = builder.set_spout("lines", 1, move || Lines(text.clone()));
    let words = builder
        .set_bolt("split", 2, || Split)
        .shuffle_grouping(&lines)
        .stream();
    let totals = builder
        .set_bolt("count", 2, Count::default)
        .fields_grouping(&words, |w: &String| w.clone())
        .stream();
    builder
        .set_bolt("print", 1, || Print)
        .global_grouping(&totals);

    let report = LocalCluster::new(Config::default()).run(builder.build()?)?;
    eprintln!(
        "{} words counted in {:?}",
        report.component("count").map_or(0, |c| c.executed),
        report.elapsed
    );
    Ok(())
}
