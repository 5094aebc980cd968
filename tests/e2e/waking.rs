//! A spout fed from another thread sleeps while it has nothing to emit and is woken by its
//! waker, instead of being polled.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector, SpoutWaker,
    TaskContext, TopologyBuilder,
};

/// The end of input.
const END: u64 = u64::MAX;

/// Emits what the test sends on a channel; hands its waker to the test in `open`.
struct Fed {
    input: Arc<Mutex<Option<mpsc::Receiver<u64>>>>,
    rx: Option<mpsc::Receiver<u64>>,
    wakers: mpsc::Sender<SpoutWaker>,
    done: bool,
}

impl Spout for Fed {
    type Output = u64;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.rx = self.input.lock().unwrap().take();
        let waker = ctx.waker().ok_or("a spout task has a waker")?;
        self.wakers.send(waker)?;
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        while let Some(n) = self.rx.as_ref().and_then(|rx| rx.try_recv().ok()) {
            if n == END {
                self.done = true;
                break;
            }
            out.emit(n);
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.done
    }
}

struct Forward(mpsc::Sender<u64>);

impl Bolt for Forward {
    type Input = u64;
    type Output = ();

    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let _ = self.0.send(n);
        Ok(())
    }
}

#[test]
fn a_woken_spout_emits_at_once_though_its_idle_poll_is_a_minute_away() {
    let (input_tx, input_rx) = mpsc::channel();
    let input = Arc::new(Mutex::new(Some(input_rx)));
    let (wakers_tx, wakers_rx) = mpsc::channel();
    let (seen_tx, seen_rx) = mpsc::channel();
    let mut b = TopologyBuilder::new("woken");
    let numbers = b.set_spout("fed", 1, move || Fed {
        input: input.clone(),
        rx: None,
        wakers: wakers_tx.clone(),
        done: false,
    });
    b.set_bolt("forward", 1, move || Forward(seen_tx.clone()))
        .shuffle_grouping(&numbers);
    let mut config = Config::default();
    // Without waking, an idle spout would look again only after a minute.
    config.idle_wait = Duration::from_secs(60);
    let running = LocalCluster::new(config).spawn(b.build().unwrap()).unwrap();
    let waker = wakers_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    for n in 0..5 {
        input_tx.send(n).unwrap();
        waker.wake();
        let seen = seen_rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(seen, Ok(n), "tuple {n} was not emitted on waking");
    }
    input_tx.send(END).unwrap();
    waker.wake();
    let report = running.join().unwrap();
    assert_eq!(report.component("forward").unwrap().executed, 5);
}
