//! A bolt holding anchors releases them when its input ends (at-least-once), instead of
//! waiting for the message timeout to fail them.

use std::collections::BTreeSet;
use std::time::Duration;

use squall::{
    Anchor, Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, Spout,
    SpoutCollector, TopologyBuilder,
};

/// Emits 0..end with ids; unfinished until every tree is acked, exhausted at its end.
struct Ids {
    next: u64,
    end: u64,
    pending: BTreeSet<u64>,
}

impl Spout for Ids {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if self.next < self.end {
            out.emit_with_id(self.next, self.next);
            self.pending.insert(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn ack(&mut self, id: u64) {
        self.pending.remove(&id);
    }
    fn fail(&mut self, id: u64) {
        self.pending.remove(&id);
    }
    fn is_exhausted(&self) -> bool {
        self.next >= self.end
    }
    fn is_finished(&self) -> bool {
        self.is_exhausted() && self.pending.is_empty()
    }
}

/// Holds every input's anchor, as a join waiting for its other side would; emits the sum of
/// what it held, anchored to all of it, and acks them at the end of its input.
#[derive(Default)]
struct Hold {
    held: Vec<Anchor>,
    sum: u64,
}

impl Bolt for Hold {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        self.held.push(out.anchor());
        self.sum += n;
        Ok(())
    }
    fn end_of_input(&mut self, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        let mut held = std::mem::take(&mut self.held);
        out.emit_anchored(&mut held, self.sum);
        held.into_iter().for_each(|a| out.ack(a));
        Ok(())
    }
}

#[test]
fn held_anchors_are_released_at_the_end_of_input() {
    let mut b = TopologyBuilder::new("hold");
    let ids = b.set_spout("ids", 1, || Ids {
        next: 0,
        end: 500,
        pending: BTreeSet::new(),
    });
    let sums = b
        .set_bolt("hold", 2, Hold::default)
        .shuffle_grouping(&ids)
        .stream();
    let got = squall::component::Collect::<u64>::new();
    let sink = got.clone();
    b.set_bolt("sink", 1, move || sink.clone())
        .shuffle_grouping(&sums);
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    // Far longer than the test may take: released only by the timeout, the trees would fail.
    config.message_timeout = Duration::from_secs(120);
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let spout = report.component("ids").unwrap();
    assert_eq!((spout.acked, spout.failed), (500, 0));
    assert_eq!(got.items().iter().sum::<u64>(), (0..500).sum::<u64>());
}

/// Holds every line's anchor until its input ends, then emits how many it held.
#[derive(Default)]
struct HoldAny {
    held: Vec<Anchor>,
}

impl<T: squall::Tuple> Bolt for HoldAnyOf<T> {
    type Input = T;
    type Output = u64;
    fn execute(&mut self, _: T, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        self.0.held.push(out.anchor());
        Ok(())
    }
    fn end_of_input(&mut self, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        let mut held = std::mem::take(&mut self.0.held);
        let count = held.len() as u64;
        out.emit_anchored(&mut held, count);
        held.into_iter().for_each(|a| out.ack(a));
        Ok(())
    }
}

struct HoldAnyOf<T>(HoldAny, std::marker::PhantomData<T>);

impl<T> Default for HoldAnyOf<T> {
    fn default() -> Self {
        HoldAnyOf(HoldAny::default(), std::marker::PhantomData)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Row {
    n: u64,
}

/// The file spouts say when their input is exhausted, so a bolt holding anchors over a file
/// input releases them at its end rather than after the message timeout.
#[test]
fn file_spouts_end_the_input_of_bolts_holding_anchors() {
    use squall_connectors::file::{CsvSpout, LinesSpout};
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("lines.txt");
    let csv = dir.path().join("rows.csv");
    let lines: String = (0..700).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&text, lines).unwrap();
    let rows: String = std::iter::once("n\n".to_string())
        .chain((0..300).map(|i| format!("{i}\n")))
        .collect();
    std::fs::write(&csv, rows).unwrap();
    let mut b = TopologyBuilder::new("hold-files");
    let text_path = text.clone();
    let lines = b.set_spout("lines", 1, move || LinesSpout::new(vec![text_path.clone()]));
    let csv_path = csv.clone();
    let rows = b.set_spout("rows", 2, move || CsvSpout::<Row>::new(csv_path.clone()));
    let held_lines = b
        .set_bolt("hold-lines", 2, HoldAnyOf::<String>::default)
        .shuffle_grouping(&lines)
        .stream();
    let held_rows = b
        .set_bolt("hold-rows", 2, HoldAnyOf::<Row>::default)
        .shuffle_grouping(&rows)
        .stream();
    let got = squall::component::Collect::<u64>::new();
    let sink = got.clone();
    b.set_bolt("sink", 1, move || sink.clone())
        .shuffle_grouping(&held_lines)
        .shuffle_grouping(&held_rows);
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    // Far longer than the test may take: released only by the timeout, the trees would fail.
    config.message_timeout = Duration::from_secs(120);
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    for spout in ["lines", "rows"] {
        assert_eq!(report.component(spout).unwrap().failed, 0, "{spout}");
    }
    assert_eq!(got.items().iter().sum::<u64>(), 700 + 300);
}
