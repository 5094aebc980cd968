//! Typed named streams: a bolt emits numbers on its default stream, words on a stream of
//! `String` and pairs on a stream of `(u64, bool)`; subscribers of each, at parallelism 1 and
//! N, with every grouping, under every guarantee and with `always_serialize`, receive exactly
//! what a sequential pass over the input predicts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, BuildError, Chaos, ComponentError, Config, CustomGrouping, Guarantee,
    LocalCluster, RunReport, Spout, SpoutCollector, State, StreamTag, Supervision, TaskContext,
    TopologyBuilder, Tuple,
};

const WORDS: StreamTag<String> = StreamTag::new("words");
const PAIRS: StreamTag<(u64, bool)> = StreamTag::new("pairs");
/// Declared, never subscribed: emits on it are dropped, as in Storm.
const UNHEARD: StreamTag<Vec<u8>> = StreamTag::new("unheard");

/// What the classifier sends where, computed sequentially: the oracle.
fn default_of(n: u64) -> Option<u64> {
    (n % 3 == 0).then_some(n * 10)
}
fn word_of(n: u64) -> Option<String> {
    (n % 3 == 1).then(|| format!("w{n}"))
}
fn pair_of(n: u64) -> Option<(u64, bool)> {
    (n % 3 == 2).then_some((n, n % 2 == 0))
}

/// `0..end` over the spout's tasks, each number its own message id; rewinds to a snapshot
/// (exactly once) and replays failed numbers (at least once).
struct Numbers {
    next: u64,
    step: u64,
    end: u64,
    pending: BTreeSet<u64>,
    replay: Vec<u64>,
}

impl Numbers {
    fn upto(end: u64) -> impl Fn() -> Numbers + Send + Sync + 'static {
        move || Numbers {
            next: 0,
            step: 1,
            end,
            pending: BTreeSet::new(),
            replay: Vec::new(),
        }
    }
    fn send(&mut self, n: u64, out: &mut SpoutCollector<'_, u64>) {
        out.emit_with_id(n, n);
        self.pending.insert(n);
    }
}

impl Spout for Numbers {
    type Output = u64;
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.next = ctx.task_index() as u64;
        self.step = ctx.component_tasks() as u64;
        Ok(())
    }
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if let Some(n) = self.replay.pop() {
            self.send(n, out);
            return Ok(());
        }
        for _ in 0..64 {
            if self.next >= self.end {
                break;
            }
            self.send(self.next, out);
            self.next += self.step;
        }
        Ok(())
    }
    fn ack(&mut self, n: u64) {
        self.pending.remove(&n);
    }
    fn fail(&mut self, n: u64) {
        if self.pending.remove(&n) {
            self.replay.push(n);
        }
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end && self.replay.is_empty() && self.pending.is_empty()
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        Ok(())
    }
}

/// Sends each number to one of three streams of three types (and every one to `unheard`).
struct Classify;

impl Bolt for Classify {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        if let Some(d) = default_of(n) {
            out.emit(d);
        }
        if let Some(w) = word_of(n) {
            out.emit_to(&WORDS, w)?;
        }
        if let Some(p) = pair_of(n) {
            out.emit_to(&PAIRS, p)?;
        }
        out.emit_to(&UNHEARD, n.to_le_bytes().to_vec())?;
        Ok(())
    }
}

/// What every recorder saw: per component, per task, the values (in arrival order).
type Seen<T> = Arc<Mutex<BTreeMap<(String, usize), Vec<T>>>>;

/// Keeps what it receives as its state (so exactly once restores it) and publishes it when
/// its input ends.
struct Recorder<T: Tuple> {
    kept: Vec<T>,
    key: (String, usize),
    seen: Seen<T>,
}

impl<T: Tuple> Recorder<T> {
    fn factory(seen: &Seen<T>) -> impl Fn() -> Recorder<T> + Send + Sync + 'static {
        let seen = seen.clone();
        move || Recorder {
            kept: Vec::new(),
            key: (String::new(), 0),
            seen: seen.clone(),
        }
    }
}

impl<T: Tuple> Bolt for Recorder<T> {
    type Input = T;
    type Output = ();
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.key = (ctx.component().to_string(), ctx.task_index());
        Ok(())
    }
    fn execute(&mut self, v: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.kept.push(v);
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let kept = std::mem::take(&mut self.kept);
        self.seen.lock().unwrap().insert(self.key.clone(), kept);
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.kept)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.kept = state.decode()?;
        Ok(())
    }
}

/// Every task of `component` and what it saw.
fn of<T: Clone>(seen: &Seen<T>, component: &str) -> Vec<(usize, Vec<T>)> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|((c, _), _)| c == component)
        .map(|((_, t), v)| (*t, v.clone()))
        .collect()
}

fn all<T: Clone + Ord>(seen: &Seen<T>, component: &str) -> Vec<T> {
    let mut v: Vec<T> = of(seen, component)
        .into_iter()
        .flat_map(|(_, v)| v)
        .collect();
    v.sort();
    v
}

struct Outputs {
    tens: Seen<u64>,
    words: Seen<String>,
    pairs: Seen<(u64, bool)>,
}

const N: usize = 3;

/// The classifier at parallelism `p`, and subscribers of each of its streams at parallelism
/// 1 and N.
fn topology(end: u64, p: usize) -> (TopologyBuilder, Outputs) {
    let outputs = Outputs {
        tens: Seen::default(),
        words: Seen::default(),
        pairs: Seen::default(),
    };
    let mut b = TopologyBuilder::new("typed-streams");
    let numbers = b.set_spout("numbers", p, Numbers::upto(end));
    let mut classify = b
        .set_bolt("classify", p, || Classify)
        .shuffle_grouping(&numbers);
    let tens = classify.stream();
    let words = classify.declare_stream(&WORDS);
    let pairs = classify.declare_stream(&PAIRS);
    classify.declare_stream(&UNHEARD);
    b.set_bolt("tens-1", 1, Recorder::factory(&outputs.tens))
        .global_grouping(&tens);
    b.set_bolt("tens-n", N, Recorder::factory(&outputs.tens))
        .fields_grouping(&tens, |n: &u64| *n);
    b.set_bolt("words-1", 1, Recorder::factory(&outputs.words))
        .shuffle_grouping(&words);
    b.set_bolt("words-n", N, Recorder::factory(&outputs.words))
        .fields_grouping(&words, |w: &String| w.clone());
    b.set_bolt("pairs-1", 1, Recorder::factory(&outputs.pairs))
        .local_or_shuffle_grouping(&pairs);
    b.set_bolt("pairs-n", N, Recorder::factory(&outputs.pairs))
        .partial_key_grouping(&pairs, |p: &(u64, bool)| p.1);
    (b, outputs)
}

fn config(guarantee: Guarantee) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.batch_size = 64;
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(5);
    config
}

fn run(end: u64, p: usize, config: Config) -> (Outputs, RunReport) {
    let (b, outputs) = topology(end, p);
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    (outputs, report)
}

/// Every subscriber received exactly the oracle's tuples of its stream.
fn assert_exact(out: &Outputs, end: u64, what: &str) {
    let tens: Vec<u64> = (0..end).filter_map(default_of).collect();
    let mut words: Vec<String> = (0..end).filter_map(word_of).collect();
    words.sort();
    let pairs: Vec<(u64, bool)> = (0..end).filter_map(pair_of).collect();
    for c in ["tens-1", "tens-n"] {
        assert_eq!(all(&out.tens, c), tens, "{what}: {c}");
    }
    for c in ["words-1", "words-n"] {
        assert_eq!(all(&out.words, c), words, "{what}: {c}");
    }
    for c in ["pairs-1", "pairs-n"] {
        assert_eq!(all(&out.pairs, c), pairs, "{what}: {c}");
    }
}

#[test]
fn each_typed_stream_reaches_its_subscribers_exactly() {
    let end = 6_000;
    for p in [1, N] {
        for serialize in [false, true] {
            let mut config = config(Guarantee::AtMostOnce);
            config.always_serialize = serialize;
            let (out, report) = run(end, p, config);
            let what = format!("p={p} always_serialize={serialize}");
            assert_exact(&out, end, &what);
            // Every input counts one emit per stream it reached, `unheard` included.
            assert_eq!(
                report.component("classify").map(|c| c.emitted),
                Some(2 * end),
                "{what}"
            );
            // Fields grouping: a key's tuples all reach one task.
            let mut task_of: BTreeMap<String, usize> = BTreeMap::new();
            for (task, words) in of(&out.words, "words-n") {
                for w in words {
                    assert_eq!(*task_of.entry(w.clone()).or_insert(task), task, "{w}");
                }
            }
        }
    }
}

#[test]
fn at_least_once_acks_every_tree_across_the_typed_streams() {
    let end = 6_000;
    let (out, report) = run(end, N, config(Guarantee::AtLeastOnce));
    assert_exact(&out, end, "at least once");
    let numbers = report.component("numbers").unwrap();
    assert_eq!((numbers.acked, numbers.failed), (end, 0));
}

#[test]
fn exactly_once_under_chaos_equals_the_oracle_on_every_stream() {
    let end = 20_000;
    let mut config = config(Guarantee::ExactlyOnce);
    config.chaos = Some(Chaos {
        panic_rate: 0.0005,
        seed: 11,
    });
    config.supervision = Supervision::for_chaos();
    let (out, report) = run(end, 2, config);
    assert!(report.restarts() > 0, "chaos never struck");
    assert_exact(&out, end, "exactly once under chaos");
}

#[test]
fn at_least_once_under_chaos_loses_nothing_on_the_typed_streams() {
    let end = 20_000;
    let mut config = config(Guarantee::AtLeastOnce);
    config.chaos = Some(Chaos {
        panic_rate: 0.0005,
        seed: 5,
    });
    config.supervision = Supervision::for_chaos();
    let (out, report) = run(end, 2, config);
    assert!(report.restarts() > 0, "chaos never struck");
    let dedup = |mut v: Vec<(u64, bool)>| {
        v.dedup();
        v
    };
    let pairs: Vec<(u64, bool)> = (0..end).filter_map(pair_of).collect();
    for c in ["pairs-1", "pairs-n"] {
        assert_eq!(dedup(all(&out.pairs, c)), pairs, "{c} lost a pair");
    }
    let words: BTreeSet<String> = (0..end).filter_map(word_of).collect();
    for c in ["words-1", "words-n"] {
        let seen: BTreeSet<String> = all(&out.words, c).into_iter().collect();
        assert_eq!(seen, words, "{c} lost a word");
    }
}

/// Sends each pair to the task its number names.
struct Direct;

impl Bolt for Direct {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit_direct_to(&PAIRS, (n % N as u64) as usize, (n, true))?;
        out.emit_to(&WORDS, format!("w{n}"))?;
        Ok(())
    }
}

/// Odd lengths to the last task, even ones to task 0.
#[derive(Clone)]
struct ByLength;

impl CustomGrouping<String> for ByLength {
    fn choose_tasks(&mut self, w: &String, tasks: usize, out: &mut Vec<usize>) {
        out.push(if w.len() % 2 == 1 { tasks - 1 } else { 0 });
    }
}

#[test]
fn direct_all_and_custom_groupings_work_on_typed_streams() {
    let end = 3_000u64;
    let pairs: Seen<(u64, bool)> = Seen::default();
    let words: Seen<String> = Seen::default();
    let mut b = TopologyBuilder::new("groupings");
    let numbers = b.set_spout("numbers", 2, Numbers::upto(end));
    let mut direct = b
        .set_bolt("direct", 2, || Direct)
        .shuffle_grouping(&numbers);
    let (p, w) = (direct.declare_stream(&PAIRS), direct.declare_stream(&WORDS));
    b.set_bolt("chosen", N, Recorder::factory(&pairs))
        .direct_grouping(&p);
    b.set_bolt("everyone", N, Recorder::factory(&words))
        .all_grouping(&w);
    b.set_bolt("custom", N, Recorder::factory(&words))
        .custom_grouping(&w, ByLength);
    LocalCluster::new(config(Guarantee::AtLeastOnce))
        .run(b.build().unwrap())
        .unwrap();
    let chosen = of(&pairs, "chosen");
    assert_eq!(chosen.len(), N);
    for (task, got) in chosen {
        let mut got: Vec<u64> = got.into_iter().map(|(n, _)| n).collect();
        got.sort();
        let expected: Vec<u64> = (0..end).filter(|n| n % N as u64 == task as u64).collect();
        assert_eq!(got, expected, "direct task {task}");
    }
    let mut expected: Vec<String> = (0..end).map(|n| format!("w{n}")).collect();
    expected.sort();
    let everyone = of(&words, "everyone");
    assert_eq!(everyone.len(), N);
    for (task, mut got) in everyone {
        got.sort();
        assert_eq!(got, expected, "all-grouped task {task}");
    }
    for (task, got) in of(&words, "custom") {
        let want = |w: &String| if w.len() % 2 == 1 { N - 1 } else { 0 };
        assert!(got.iter().all(|w| want(w) == task), "custom task {task}");
    }
    assert_eq!(all(&words, "custom"), expected);
}

/// A recorder of text, to subscribe where the stream carries something else.
fn text_sink() -> Recorder<String> {
    Recorder {
        kept: Vec::new(),
        key: (String::new(), 0),
        seen: Seen::default(),
    }
}

#[test]
fn a_subscriber_of_another_type_than_the_stream_fails_the_build() {
    let mut b = TopologyBuilder::new("mismatch");
    let numbers = b.set_spout("numbers", 1, Numbers::upto(1));
    b.set_bolt("classify", 1, || Classify)
        .shuffle_grouping(&numbers)
        .declare_stream(&PAIRS);
    // A handle by name, so the compiler cannot see the stream's type.
    let as_text: StreamTag<String> = StreamTag::new("pairs");
    b.set_bolt("text", 1, text_sink)
        .shuffle_grouping(&as_text.of("classify"));
    match b.build() {
        Err(BuildError::TypeMismatch {
            consumer,
            producer,
            stream,
            expected,
            found,
        }) => {
            assert_eq!(
                (consumer.as_str(), producer.as_str(), stream.as_str()),
                ("text", "classify", "pairs")
            );
            assert_eq!(expected, std::any::type_name::<String>());
            assert_eq!(found, std::any::type_name::<(u64, bool)>());
        }
        other => panic!("expected a type mismatch, got {:?}", other.err()),
    }
}

#[test]
fn subscribing_to_an_undeclared_typed_stream_fails_the_build() {
    let mut b = TopologyBuilder::new("undeclared");
    let numbers = b.set_spout("numbers", 1, Numbers::upto(1));
    b.set_bolt("classify", 1, || Classify)
        .shuffle_grouping(&numbers);
    b.set_bolt("words", 1, text_sink)
        .shuffle_grouping(&WORDS.of("classify"));
    assert_eq!(
        b.build().err(),
        Some(BuildError::UndeclaredStream {
            consumer: "words".into(),
            producer: "classify".into(),
            stream: "words".into(),
        })
    );
}

#[test]
fn declaring_a_stream_again_with_another_type_fails_the_build() {
    let mut b = TopologyBuilder::new("conflict");
    let numbers = b.set_spout("numbers", 1, Numbers::upto(1));
    let mut classify = b
        .set_bolt("classify", 1, || Classify)
        .shuffle_grouping(&numbers);
    classify.declare_stream(&WORDS);
    classify.declare_stream(&WORDS); // the same again: fine
    classify.declare_stream("words"); // a stream of the output, u64
    assert_eq!(
        b.build().err(),
        Some(BuildError::StreamTypeConflict {
            component: "classify".into(),
            stream: "words".into(),
            declared: std::any::type_name::<String>(),
            redeclared: "u64",
        })
    );
}

/// Emits on a tagged stream it was never given in the builder.
struct Undeclared;

impl Bolt for Undeclared {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit_to(&WORDS, format!("w{n}"))?;
        Ok(())
    }
}

#[test]
fn emitting_on_a_typed_stream_never_declared_fails_the_tuple() {
    let mut b = TopologyBuilder::new("emit-undeclared");
    let numbers = b.set_spout("numbers", 1, Numbers::upto(50));
    b.set_bolt("undeclared", 1, || Undeclared)
        .shuffle_grouping(&numbers);
    let report = LocalCluster::new(config(Guarantee::AtMostOnce))
        .run(b.build().unwrap())
        .unwrap();
    assert_eq!(report.component("undeclared").map(|c| c.failed), Some(50));
    let letter = report.dead_letters.first().expect("a dead letter");
    assert!(letter.error.contains("`words`"), "{letter:?}");
}

/// Emits `0..end` with ids on its default stream and, in the same tuple tree, every tenth
/// number as a word on `WORDS`.
struct Mixed(Numbers);

impl Spout for Mixed {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let n = match self.0.replay.pop() {
            Some(n) => n,
            None if self.0.next < self.0.end => {
                self.0.next += 1;
                self.0.next - 1
            }
            None => return Ok(()),
        };
        out.emit_with_id(n, n);
        if n % 10 == 0 {
            out.emit_to_with_id(&WORDS, format!("w{n}"), n)?;
        }
        self.0.pending.insert(n);
        Ok(())
    }
    fn ack(&mut self, n: u64) {
        self.0.ack(n);
    }
    fn fail(&mut self, n: u64) {
        self.0.fail(n);
    }
    fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

/// Fails each word the first time it comes, and records it the second.
struct FailFirst {
    tried: Arc<Mutex<BTreeSet<String>>>,
    kept: Seen<String>,
}

impl Bolt for FailFirst {
    type Input = String;
    type Output = ();
    fn execute(&mut self, w: String, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if self.tried.lock().unwrap().insert(w.clone()) {
            return Err(format!("{w}: first attempt").into());
        }
        self.kept
            .lock()
            .unwrap()
            .entry(("words".into(), 0))
            .or_default()
            .push(w);
        Ok(())
    }
}

#[test]
fn a_spouts_typed_stream_joins_the_tuple_tree_of_its_message_id() {
    let end = 2_000u64;
    let kept: Seen<String> = Seen::default();
    let tried = Arc::new(Mutex::new(BTreeSet::new()));
    let numbers_seen: Seen<u64> = Seen::default();
    let mut b = TopologyBuilder::new("spout-streams");
    let numbers = b.set_spout("numbers", 1, move || Mixed(Numbers::upto(end)()));
    let words = b.declare_stream(&numbers, &WORDS);
    b.set_bolt("sum", 2, Recorder::factory(&numbers_seen))
        .shuffle_grouping(&numbers);
    let (t, k) = (tried.clone(), kept.clone());
    b.set_bolt("words", 1, move || FailFirst {
        tried: t.clone(),
        kept: k.clone(),
    })
    .shuffle_grouping(&words);
    let report = LocalCluster::new(config(Guarantee::AtLeastOnce))
        .run(b.build().unwrap())
        .unwrap();
    // Every word failed once, and so did its number's whole tree: replayed, then acked.
    let numbers = report.component("numbers").unwrap();
    assert_eq!((numbers.acked, numbers.failed), (end, end / 10));
    let mut want: Vec<String> = (0..end).step_by(10).map(|n| format!("w{n}")).collect();
    want.sort();
    assert_eq!(all(&kept, "words"), want);
    // The default stream saw every number, the replayed ones twice.
    let mut got = all(&numbers_seen, "sum");
    got.dedup();
    assert_eq!(got, (0..end).collect::<Vec<_>>());
    assert_eq!(all(&numbers_seen, "sum").len() as u64, end + end / 10);
}
