//! A windowed bolt's late tuples on a typed side stream (Storm's `withLateTupleStream`,
//! Flink's `sideOutputLateData`): the late stream carries the input type while the windows
//! emit counts, and exactly the tuples a sequential pass calls late travel on it.

use std::collections::BTreeMap;
use std::time::Duration;

use squall::component::{Collect, VecSpout};
use squall::window::{Watermarks, WindowRange, WindowSpec, Windowed, WindowedBolt};
use squall::{
    BoltCollector, ComponentError, Config, Guarantee, LocalCluster, StreamTag, TopologyBuilder,
};

/// Timestamps that came after their window closed.
const LATE: StreamTag<u64> = StreamTag::new("late");

/// Counts each window's tuples.
struct Count;

impl WindowedBolt for Count {
    type Input = u64;
    type Output = (WindowRange, u64);
    type Acc = u64;
    fn add(&mut self, acc: &mut u64, _: &u64) {
        *acc += 1;
    }
    fn fire(
        &mut self,
        w: WindowRange,
        acc: &u64,
        _: bool,
        out: &mut BoltCollector<'_, (WindowRange, u64)>,
    ) -> Result<(), ComponentError> {
        out.emit((w, *acc));
        Ok(())
    }
    fn late(
        &mut self,
        _: u64,
        _: &mut BoltCollector<'_, (WindowRange, u64)>,
    ) -> Result<(), ComponentError> {
        Err("late tuples go to the late stream".into())
    }
}

const SIZE: u64 = 100;

/// Timestamps 0..n in order, and after every 50th from 1,000 on one from 1,000 before it:
/// with no lag allowed, the watermark has passed that one's window, so it is late.
fn input(n: u64) -> (Vec<u64>, Vec<u64>) {
    let (mut all, mut late) = (Vec::new(), Vec::new());
    for i in 0..n {
        all.push(i);
        if i >= 1000 && i % 50 == 0 {
            all.push(i - 1000);
            late.push(i - 1000);
        }
    }
    (all, late)
}

#[test]
fn late_tuples_travel_on_their_typed_stream() {
    let n = 20_000;
    let (all, mut late) = input(n);
    late.sort();
    let mut windows: BTreeMap<u64, u64> = BTreeMap::new();
    for i in 0..n {
        *windows.entry(i - i % SIZE).or_default() += 1;
    }
    for guarantee in [Guarantee::AtMostOnce, Guarantee::ExactlyOnce] {
        let counts = Collect::<(WindowRange, u64)>::new();
        let lates = Collect::<u64>::new();
        let mut b = TopologyBuilder::new("late-stream");
        let items = all.clone();
        let ts = b.set_spout("ts", 1, move || VecSpout::new(items.clone()));
        b.set_watermarks(&ts, Watermarks::bounded(0, |t: &u64| *t));
        let spec = WindowSpec::tumbling(Duration::from_millis(SIZE)).event_time(|t: &u64| *t);
        let mut windowed = b
            .set_bolt("count", 2, move || {
                Windowed::new(Count, spec.clone()).late_stream(LATE)
            })
            .fields_grouping(&ts, |t: &u64| t % 7);
        let (on_time, late_s) = (windowed.stream(), windowed.declare_stream(&LATE));
        let sink = counts.clone();
        b.set_bolt("counts", 1, move || sink.clone())
            .global_grouping(&on_time);
        let sink = lates.clone();
        b.set_bolt("lates", 2, move || sink.clone())
            .shuffle_grouping(&late_s);
        let mut config = Config::default();
        config.guarantee = guarantee;
        config.checkpoint_interval = Duration::from_millis(5);
        LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        assert_eq!(lates.sorted(), late, "{guarantee:?}: the late stream");
        let mut got: BTreeMap<u64, u64> = BTreeMap::new();
        for (w, c) in counts.items() {
            assert_eq!(w.end - w.start, SIZE);
            *got.entry(w.start).or_default() += c;
        }
        assert_eq!(
            got, windows,
            "{guarantee:?}: the windows hold every on-time tuple"
        );
    }
}
