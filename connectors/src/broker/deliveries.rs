//! The client thread's end of the channel to its spout: hands over a message and wakes the
//! spout's task, so the task sleeps while the broker is quiet instead of polling.

use squall::SpoutWaker;
use tokio::sync::mpsc;

use super::Delivery;

/// Sends deliveries to the spout and wakes its task (see [`squall::SpoutWaker`]). Bounded:
/// when the spout falls behind, `send` waits and the client stops reading, so the broker holds
/// the messages (backpressure reaches the broker).
#[derive(Debug, Clone)]
pub struct Deliveries {
    tx: mpsc::Sender<Delivery>,
    waker: Option<SpoutWaker>,
}

impl Deliveries {
    /// Wraps the channel's sending end; `waker` is the spout task's, when it has one.
    pub fn new(tx: mpsc::Sender<Delivery>, waker: Option<SpoutWaker>) -> Self {
        Deliveries { tx, waker }
    }

    /// Hands `d` over (waiting for room), then wakes the spout. An error means the spout has
    /// gone: the client should stop.
    pub async fn send(&self, d: Delivery) -> Result<(), mpsc::error::SendError<Delivery>> {
        self.tx.send(d).await?;
        self.wake();
        Ok(())
    }

    /// [`Deliveries::send`] for a client thread outside an async runtime.
    pub fn blocking_send(&self, d: Delivery) -> Result<(), mpsc::error::SendError<Delivery>> {
        self.tx.blocking_send(d)?;
        self.wake();
        Ok(())
    }

    fn wake(&self) {
        if let Some(waker) = &self.waker {
            waker.wake();
        }
    }
}
