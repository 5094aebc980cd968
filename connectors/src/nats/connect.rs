//! One way to connect to NATS for every NATS spout and sink.

use async_nats::{Client, ConnectOptions, Event};

use crate::broker::{Backoff, BrokerError, ConnectionState, Endpoint};

/// A client that keeps reconnecting (forever, with [`Backoff`]'s delays) and tells `state` when
/// it connects, loses the server or fails to reach it (said on stderr at a bounded rate).
/// Returns at once; the first connection is made in the background, so a server that starts
/// late is found.
pub(super) async fn connect(
    endpoint: &Endpoint,
    state: &ConnectionState,
) -> Result<Client, BrokerError> {
    let backoff = Backoff::default();
    let delays = backoff.clone();
    let state = state.clone();
    ConnectOptions::new()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempt| delays.delay_for(attempt))
        .event_callback(move |event| {
            let state = state.clone();
            async move {
                match event {
                    Event::Disconnected => state.lost(),
                    Event::Connected => state.connected(),
                    // Each failed attempt to (re)connect comes as a client error.
                    Event::ClientError(e) => state.failed(&e, None),
                    _ => {}
                }
            }
        })
        .connect(endpoint.address())
        .await
        .map_err(|e| BrokerError::connection(endpoint, e))
}
