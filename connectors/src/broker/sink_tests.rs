//! The sink's writer against a scripted publisher.

use super::*;

/// A client that connects in the background to a broker that is not there: `connect` returns
/// at once, `publish` never ends, and nothing is ever reported connected.
struct Silent(Endpoint);

impl Publisher for Silent {
    type Conn = ();
    const REPORTS: bool = true;

    fn endpoint(&self) -> &Endpoint {
        &self.0
    }

    async fn connect(&self, _: &ConnectionState) -> Result<(), BrokerError> {
        Ok(())
    }

    async fn publish(&self, _: &mut (), _: &[Record]) -> Result<(), BrokerError> {
        std::future::pending().await
    }
}

/// Runs `f` on a thread of its own; `None` if it is still running after `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

#[test]
fn a_flush_queued_behind_a_write_that_never_connects_fails_at_the_deadline() {
    let endpoint: Endpoint = "nats://127.0.0.1:1/out".parse().unwrap();
    let mut sink = BrokerSink::<u32>::from_publisher(Silent(endpoint))
        .with_connect_deadline(Duration::from_millis(300));
    sink.start().unwrap();
    // The writer takes the tuple and waits in `publish` until the deadline; the flush, sent
    // once the writer is in there (as a checkpoint's commit comes later), waits in the channel
    // behind it and is never read by the writer, which gives up.
    sink.write(&7).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Before the fix, the flush waited for a reply that could not come: FLUSH_WAIT (60 s).
    let flushed = within(Duration::from_secs(20), move || sink.flush())
        .expect("the flush did not end within 20 s of a 0.3 s deadline");
    match flushed {
        Err(BrokerError::NeverConnected { address, .. }) => assert_eq!(address, "127.0.0.1:1"),
        other => panic!("expected NeverConnected, got {other:?}"),
    }
}
