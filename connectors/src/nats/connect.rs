//! One way to connect to NATS for every NATS spout and sink.

use async_nats::{Client, ConnectOptions, Event};

use crate::broker::{Backoff, BrokerError, Endpoint};

/// A client that keeps reconnecting (forever, with [`Backoff`]'s delays) and says on stderr
/// when it loses or regains the server. Returns at once; the first connection is made in the
/// background, so a server that starts late is found.
pub(super) async fn connect(endpoint: &Endpoint) -> Result<Client, BrokerError> {
    let backoff = Backoff::default();
    let name = endpoint.to_string();
    ConnectOptions::new()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempt| backoff.delay_for(attempt))
        .event_callback(move |event| {
            let name = name.clone();
            async move {
                match event {
                    Event::Disconnected => eprintln!("{name}: connection lost; reconnecting"),
                    Event::Connected => eprintln!("{name}: connected"),
                    _ => {}
                }
            }
        })
        .connect(endpoint.address())
        .await
        .map_err(|e| BrokerError::connection(endpoint, e))
}
