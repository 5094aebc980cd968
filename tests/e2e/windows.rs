//! Event time, ticks and windows end to end: watermarks through every grouping and two
//! inputs, an idle input, ticks from a timer, processing-time and count windows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::component::{Collect, Map, VecSpout};
use squall::window::{Watermarks, WindowRange, WindowSpec, Windowed, WindowedBolt};
use squall::{
    Bolt, BoltCollector, BoltDeclarer, ComponentError, Config, Guarantee, LocalCluster, Spout,
    SpoutCollector, Stream, TopologyBuilder,
};

/// What a probe task saw: each watermark, and each tuple that arrived behind its watermark.
#[derive(Default)]
struct Seen {
    watermarks: Vec<u64>,
    behind: Vec<(u64, u64)>,
    tuples: u64,
}

/// Records, per task, the watermarks it gets and any tuple older than its watermark.
struct Probe {
    seen: Arc<Mutex<Vec<Seen>>>,
    watermark: u64,
    log: Seen,
}

impl Bolt for Probe {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, ts: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.log.tuples += 1;
        if ts < self.watermark {
            self.log.behind.push((ts, self.watermark));
        }
        Ok(())
    }
    fn on_watermark(
        &mut self,
        w: u64,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        self.watermark = w;
        self.log.watermarks.push(w);
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push(std::mem::take(&mut self.log));
        Ok(())
    }
}

type Subscribe = for<'a> fn(BoltDeclarer<'a, Probe>, &Stream<u64>) -> BoltDeclarer<'a, Probe>;

/// Two spouts in event time (timestamps 0..n and 0..10n, in order, lag 0) -> a relay of 3
/// tasks -> a probe of 2 tasks subscribed with `grouping`. Every probe task must see
/// watermarks rise to the lower spout's end and never a tuple behind its watermark.
fn run_probe(grouping: Subscribe, always_serialize: bool) -> Vec<Seen> {
    const N: u64 = 20_000;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("watermarks");
    let slow = b.set_spout("slow", 1, || VecSpout::new((0..N).collect()));
    let fast = b.set_spout("fast", 1, || {
        VecSpout::new((0..N).map(|t| t * 10).collect())
    });
    b.set_watermarks(&slow, Watermarks::bounded(0, |t: &u64| *t));
    b.set_watermarks(&fast, Watermarks::bounded(0, |t: &u64| *t));
    let relayed = b
        .set_bolt("relay", 3, || Map::new(|t: u64| t))
        .shuffle_grouping(&slow)
        .shuffle_grouping(&fast)
        .stream();
    let s = seen.clone();
    let probe = b.set_bolt("probe", 2, move || Probe {
        seen: s.clone(),
        watermark: 0,
        log: Seen::default(),
    });
    grouping(probe, &relayed);
    let mut config = Config::default();
    config.workers = 2;
    config.batch_size = 64;
    config.always_serialize = always_serialize;
    LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let mut seen = seen.lock().unwrap();
    for s in seen.iter() {
        assert!(
            s.behind.is_empty(),
            "tuples behind the watermark: {:?}",
            &s.behind[..5.min(s.behind.len())]
        );
        assert!(
            s.watermarks.windows(2).all(|w| w[0] < w[1]),
            "watermarks go up"
        );
        if s.tuples > 0 {
            assert!(
                s.watermarks.last().copied().unwrap_or(0) >= N - 1,
                "the watermark reached the end"
            );
        }
    }
    std::mem::take(&mut *seen)
}

#[test]
fn watermarks_cross_every_grouping_as_the_minimum_over_inputs() {
    let groupings: [(&str, Subscribe); 5] = [
        ("shuffle", |p, s| p.shuffle_grouping(s)),
        ("fields", |p, s| p.fields_grouping(s, |t: &u64| *t)),
        ("all", |p, s| p.all_grouping(s)),
        ("global", |p, s| p.global_grouping(s)),
        ("local-or-shuffle", |p, s| p.local_or_shuffle_grouping(s)),
    ];
    for (name, g) in groupings {
        let seen = run_probe(g, false);
        let total: u64 = seen.iter().map(|s| s.tuples).sum();
        let expected = if name == "all" { 80_000 } else { 40_000 };
        assert_eq!(total, expected, "{name}");
    }
    // Encoded batches carry their watermarks too.
    run_probe(|p, s| p.shuffle_grouping(s), true);
}

/// Emits nothing until `go` is set (or a deadline passes, so a broken test fails instead of
/// hanging), then finishes.
struct Quiet {
    go: Arc<AtomicBool>,
    deadline: Instant,
}

impl Spout for Quiet {
    type Output = u64;
    fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.go.load(Ordering::Relaxed) || Instant::now() > self.deadline
    }
}

/// Sets `go` once its watermark reaches `at`.
struct Watch {
    go: Arc<AtomicBool>,
    at: u64,
}

impl Bolt for Watch {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(())
    }
    fn on_watermark(
        &mut self,
        w: u64,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        if w >= self.at {
            self.go.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn an_idle_input_does_not_stall_the_watermark() {
    let go = Arc::new(AtomicBool::new(false));
    let mut b = TopologyBuilder::new("idle");
    let g = go.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let quiet = b.set_spout("quiet", 1, move || Quiet {
        go: g.clone(),
        deadline,
    });
    b.set_watermarks(
        &quiet,
        Watermarks::bounded(0, |t: &u64| *t).idle_after(Duration::from_millis(50)),
    );
    let busy = b.set_spout("busy", 1, || VecSpout::new((0..5_000).collect()));
    b.set_watermarks(&busy, Watermarks::bounded(0, |t: &u64| *t));
    let g = go.clone();
    b.set_bolt("watch", 1, move || Watch {
        go: g.clone(),
        at: 4_999,
    })
    .shuffle_grouping(&quiet)
    .shuffle_grouping(&busy);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    assert!(
        go.load(Ordering::Relaxed),
        "the watermark waited for the idle input"
    );
}

/// Counts its ticks; passes its input on.
struct Ticking {
    ticks: Arc<AtomicU64>,
}

impl Bolt for Ticking {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit(n);
        Ok(())
    }
    fn tick_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(10))
    }
    fn on_tick(&mut self, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        self.ticks.fetch_add(1, Ordering::Relaxed);
        out.emit(u64::MAX);
        Ok(())
    }
}

/// Emits one tuple every few milliseconds for `for_ms`, then finishes.
struct Slow {
    until: Instant,
    next: Instant,
    n: u64,
}

impl Spout for Slow {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let now = Instant::now();
        if now >= self.next && now < self.until {
            out.emit(self.n);
            self.n += 1;
            self.next = now + Duration::from_millis(3);
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        Instant::now() >= self.until
    }
}

fn slow(for_ms: u64) -> Slow {
    Slow {
        until: Instant::now() + Duration::from_millis(for_ms),
        next: Instant::now(),
        n: 0,
    }
}

#[test]
fn ticks_come_to_their_hook_from_a_timer() {
    let ticks = Arc::new(AtomicU64::new(0));
    let got = Collect::<u64>::new();
    let mut b = TopologyBuilder::new("ticks");
    let n = b.set_spout("n", 1, || slow(300));
    let t = ticks.clone();
    let out = b
        .set_bolt("tick", 1, move || Ticking { ticks: t.clone() })
        .shuffle_grouping(&n)
        .stream();
    let sink = got.clone();
    b.set_bolt("sink", 1, move || sink.clone())
        .shuffle_grouping(&out);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let ticks = ticks.load(Ordering::Relaxed);
    let items = got.items();
    let tick_emits = items.iter().filter(|&&v| v == u64::MAX).count() as u64;
    assert!(ticks >= 5, "ticks every 10 ms over 300 ms: {ticks}");
    assert_eq!(tick_emits, ticks, "what on_tick emits reaches the sink");
    assert!(
        items.len() as u64 > ticks,
        "the input flowed beside the ticks"
    );
}

/// Sums its windows' counts, by window.
#[derive(Clone)]
struct Sum(Arc<Mutex<BTreeMap<WindowRange, u64>>>);

impl WindowedBolt for Sum {
    type Input = u64;
    type Output = ();
    type Acc = u64;
    fn add(&mut self, acc: &mut u64, _: &u64) {
        *acc += 1;
    }
    fn fire(
        &mut self,
        w: WindowRange,
        acc: &u64,
        _: bool,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        *self.0.lock().unwrap().entry(w).or_default() += acc;
        Ok(())
    }
    fn late(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Err("processing time has no late tuples".into())
    }
}

#[test]
fn processing_time_windows_fire_on_ticks_and_hold_every_tuple_once() {
    let fired = Arc::new(Mutex::new(BTreeMap::new()));
    let mut b = TopologyBuilder::new("processing");
    let n = b.set_spout("n", 1, || slow(400));
    let sum = Sum(fired.clone());
    let spec = WindowSpec::<u64>::tumbling(Duration::from_millis(50));
    b.set_bolt("windows", 2, move || {
        Windowed::new(sum.clone(), spec.clone())
    })
    .shuffle_grouping(&n);
    let report = LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let fired = fired.lock().unwrap();
    let emitted = report.component("n").unwrap().emitted;
    assert_eq!(
        fired.values().sum::<u64>(),
        emitted,
        "every tuple in exactly one window"
    );
    assert!(fired
        .keys()
        .all(|w| w.end - w.start == 50 && w.start % 50 == 0));
    assert!(
        fired.len() >= 4,
        "about 8 windows of 50 ms over 400 ms: {}",
        fired.len()
    );
}

#[test]
fn count_windows_under_exactly_once_hold_the_last_n_tuples() {
    let fired = Arc::new(Mutex::new(BTreeMap::new()));
    let mut b = TopologyBuilder::new("count");
    let n = b.set_spout("n", 1, || VecSpout::new((0..1000u64).collect()));
    let sum = Sum(fired.clone());
    b.set_bolt("windows", 1, move || {
        Windowed::new(sum.clone(), WindowSpec::sliding_count(10, 5))
    })
    .shuffle_grouping(&n);
    let mut config = Config::default();
    config.guarantee = Guarantee::ExactlyOnce;
    LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let fired = fired.lock().unwrap();
    // Windows [5k, 5k + 10): the first 199 full, the last ([995, 1005)) with 5.
    assert_eq!(fired.len(), 200);
    assert!(fired
        .iter()
        .all(|(w, &c)| c == if w.start == 995 { 5 } else { 10 }));
}

/// Sums numbers and word lengths per key (key = value % 5, length % 5): two inputs of two
/// types, no wrapper enum at the producers.
#[derive(Default)]
struct PerKey(BTreeMap<u64, (u64, u64)>);

impl squall::component::TwoInputBolt for PerKey {
    type Left = u64;
    type Right = String;
    type Output = (u64, u64, u64);
    fn execute_left(
        &mut self,
        n: u64,
        _: &mut BoltCollector<'_, (u64, u64, u64)>,
    ) -> Result<(), ComponentError> {
        self.0.entry(n % 5).or_default().0 += n;
        Ok(())
    }
    fn execute_right(
        &mut self,
        w: String,
        _: &mut BoltCollector<'_, (u64, u64, u64)>,
    ) -> Result<(), ComponentError> {
        self.0.entry(w.len() as u64 % 5).or_default().1 += w.len() as u64;
        Ok(())
    }
    fn finish(
        &mut self,
        out: &mut BoltCollector<'_, (u64, u64, u64)>,
    ) -> Result<(), ComponentError> {
        self.0.iter().for_each(|(&k, &(a, b))| out.emit((k, a, b)));
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<squall::State>, ComponentError> {
        Ok(Some(squall::State::encode(&self.0)?))
    }
    fn restore(&mut self, state: squall::State) -> Result<(), ComponentError> {
        self.0 = state.decode()?;
        Ok(())
    }
}

#[test]
fn a_bolt_takes_two_differently_typed_inputs() {
    use squall::component::TwoInputs;
    use squall::Group;
    let numbers: Vec<u64> = (0..5000).collect();
    let words: Vec<String> = (0..3000).map(|i| "x".repeat(i % 13)).collect();
    let mut want: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    numbers
        .iter()
        .for_each(|n| want.entry(n % 5).or_default().0 += n);
    words
        .iter()
        .for_each(|w| want.entry(w.len() as u64 % 5).or_default().1 += w.len() as u64);
    for always_serialize in [false, true] {
        let got = Collect::<(u64, u64, u64)>::new();
        let mut b = TopologyBuilder::new("two-inputs");
        let (n, w) = (numbers.clone(), words.clone());
        let numbers_s = b.set_spout("numbers", 1, move || VecSpout::new(n.clone()));
        let words_s = b.set_spout("words", 1, move || VecSpout::new(w.clone()));
        let sums = b
            .set_bolt("per-key", 3, || TwoInputs(PerKey::default()))
            .left(&numbers_s, Group::fields(|n: &u64| n % 5))
            .right(&words_s, Group::fields(|w: &String| w.len() as u64 % 5))
            .stream();
        let sink = got.clone();
        b.set_bolt("sink", 1, move || sink.clone())
            .shuffle_grouping(&sums);
        let mut config = Config::default();
        config.always_serialize = always_serialize;
        config.guarantee = Guarantee::ExactlyOnce;
        LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        // A key's numbers and words may go to different tasks: add them up per key.
        let mut sums: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for (k, a, c) in got.items() {
            let e = sums.entry(k).or_default();
            e.0 += a;
            e.1 += c;
        }
        assert_eq!(sums, want, "always_serialize {always_serialize}");
    }
}

/// Input that reaches a two-input bolt at once is converted with its wiring: the launcher wires
/// consumers before their producers. Here many components are declared between the producers
/// and the bolt (3,000 spout-bolt pairs), so wiring in declaration order would leave the producers emitting for a while
/// before the bolt's wiring was even sent.
#[test]
fn input_at_once_reaches_a_two_input_bolt_after_its_wiring() {
    use squall::component::TwoInputs;
    use squall::Group;
    let numbers: Vec<u64> = (0..2000).collect();
    let words: Vec<String> = (0..2000).map(|i| "y".repeat(i % 7)).collect();
    let mut want: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    numbers
        .iter()
        .for_each(|n| want.entry(n % 5).or_default().0 += n);
    words
        .iter()
        .for_each(|w| want.entry(w.len() as u64 % 5).or_default().1 += w.len() as u64);
    let got = Collect::<(u64, u64, u64)>::new();
    let mut b = TopologyBuilder::new("wired-first");
    let (n, w) = (numbers.clone(), words.clone());
    let numbers_s = b.set_spout("numbers", 1, move || VecSpout::new(n.clone()));
    let words_s = b.set_spout("words", 1, move || VecSpout::new(w.clone()));
    for i in 0..3000 {
        let filler = b.set_spout(&format!("filler-{i}"), 1, || VecSpout::new(vec![0u64]));
        b.set_bolt(&format!("drop-{i}"), 1, Collect::<u64>::new)
            .shuffle_grouping(&filler);
    }
    let sums = b
        .set_bolt("per-key", 2, || TwoInputs(PerKey::default()))
        .left(&numbers_s, Group::fields(|n: &u64| n % 5))
        .right(&words_s, Group::fields(|w: &String| w.len() as u64 % 5))
        .stream();
    let sink = got.clone();
    b.set_bolt("sink", 1, move || sink.clone())
        .shuffle_grouping(&sums);
    let mut config = Config::default();
    config.guarantee = Guarantee::AtMostOnce;
    LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let mut sums: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (k, a, c) in got.items() {
        let e = sums.entry(k).or_default();
        e.0 += a;
        e.1 += c;
    }
    assert_eq!(sums, want);
}
