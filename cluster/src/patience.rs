//! Riding out a broker that is briefly unable to answer: a NATS cluster electing a leader for
//! a stream that was just created, or moving it off a server that went away, refuses requests
//! for a second or two. Operations on the cluster's records are tried again until
//! [`PATIENCE`] has passed, so a submission made while the cluster settles does not fail.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::ClusterError;

/// How long an operation is tried again while the broker answers with errors.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// The pause between two tries.
const PAUSE: Duration = Duration::from_millis(250);

/// Runs `op` until it succeeds, fails with an error other than a broker one (a record that does
/// not decode, a refusal), or [`PATIENCE`] has passed; then returns its last result.
pub async fn patiently<T, F, Fut>(mut op: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClusterError>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match op().await {
            Err(ClusterError::Nats(_)) if Instant::now() + PAUSE < deadline => {
                tokio::time::sleep(PAUSE).await;
            }
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_broker_error_is_tried_again_until_it_passes() {
        let mut tries = 0;
        let got = patiently(|| {
            tries += 1;
            let n = tries;
            async move {
                if n < 4 {
                    Err(ClusterError::Nats("no stream found".into()))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(got.unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_returned_at_once_and_a_lasting_broker_error_after_the_patience() {
        let mut tries = 0;
        let got: Result<(), _> = patiently(|| {
            tries += 1;
            async { Err(ClusterError::Refused("no".into())) }
        })
        .await;
        assert!(matches!(got, Err(ClusterError::Refused(_))));
        assert_eq!(tries, 1);
        let start = Instant::now();
        let got: Result<(), _> =
            patiently(|| async { Err(ClusterError::Nats("down".into())) }).await;
        assert!(matches!(got, Err(ClusterError::Nats(_))));
        assert!(start.elapsed() >= PATIENCE - PAUSE);
        assert!(start.elapsed() <= PATIENCE);
    }
}
