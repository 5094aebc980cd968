//! What `submit` and `kill` do: store a deployment, end one, wait for either to take effect.

use std::time::{Duration, Instant};

use crate::assignment::Assignment;
use crate::buckets::Cluster;
use crate::deployment::{self, Deployment, State};
use crate::error::ClusterError;
use crate::membership::WorkerEntry;
use crate::registry::Registry;
use crate::{parts, records};

/// How often `--wait` and `kill` look at the deployment.
const POLL: Duration = Duration::from_millis(100);
/// How long `kill` waits for the leader to drain the deployment.
const KILL_TIMEOUT: Duration = Duration::from_secs(120);

/// A submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The deployment's name.
    pub name: String,
    /// The registered topology.
    pub topology: String,
    /// Its `run` options.
    pub options: Vec<String>,
}

/// Why a submission was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The options do not prepare a topology (usage: exit status 2).
    #[error("{0}")]
    Options(String),
    /// The cluster refused or could not be reached.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Checks the options by preparing the topology here, then stores the deployment, unless
/// one of that name is running. Returns what was stored.
pub async fn submit(
    cluster: &Cluster,
    registry: &Registry,
    s: &Submission,
) -> Result<Deployment, SubmitError> {
    deployment::check_name(&s.name)?;
    tokio::task::block_in_place(|| registry.prepare(&s.topology, &s.options))
        .map_err(SubmitError::Options)?;
    let submitted_ms = records::now_ms();
    loop {
        let stored = records::read::<Deployment>(&cluster.deployments, &s.name).await?;
        if let Some((d, _)) = &stored {
            if d.submitted_ms == submitted_ms && d.topology == s.topology {
                // This submission's own write, whose answer was lost and which was tried again.
                return Ok(d.clone());
            }
            if !d.state.ended() {
                return Err(ClusterError::Refused(format!(
                    "deployment {} is {} already; kill it or choose another --name",
                    s.name,
                    d.state.word()
                ))
                .into());
            }
        }
        let d = Deployment {
            topology: s.topology.clone(),
            options: s.options.clone(),
            submitted_ms,
            state: State::Running,
            summary: None,
            error: None,
        };
        if stored.is_some() {
            // What an earlier submission under this name left on the broker.
            parts::clean_up(cluster, &s.name).await;
        }
        let revision = stored.map(|(_, r)| r);
        if records::write_cas(&cluster.deployments, &s.name, &d, revision).await? {
            return Ok(d);
        }
    }
}

/// Waits until deployment `name` (submitted at `submitted_ms`) has ended; `None` when it
/// disappeared (killed and removed).
pub async fn wait_end(
    cluster: &Cluster,
    name: &str,
    submitted_ms: u64,
) -> Result<Option<Deployment>, ClusterError> {
    loop {
        match records::read::<Deployment>(&cluster.deployments, name).await? {
            Some((d, _)) if d.submitted_ms != submitted_ms => return Ok(None),
            Some((d, _)) if d.state.ended() => return Ok(Some(d)),
            Some(_) => {}
            None => return Ok(None),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Kills deployment `name`: sets it `killing`, so that its leader drains it, marks it
/// `killed` and removes it; does that itself when no live worker leads it. An ended
/// deployment is just removed. Returns the state it was in.
pub async fn kill(cluster: &Cluster, name: &str) -> Result<State, ClusterError> {
    let Some((d, _)) = records::read::<Deployment>(&cluster.deployments, name).await? else {
        return Err(ClusterError::Refused(format!(
            "no deployment is named {name}"
        )));
    };
    if d.state.ended() {
        parts::clean_up(cluster, name).await;
        records::delete(&cluster.deployments, name).await?;
        return Ok(d.state);
    }
    let submitted_ms = d.submitted_ms;
    deployment::transition(
        cluster,
        name,
        |d| d.submitted_ms == submitted_ms && d.state == State::Running,
        |d| d.state = State::Killing,
    )
    .await?;
    let deadline = Instant::now() + KILL_TIMEOUT;
    loop {
        let Some((d, _)) = records::read::<Deployment>(&cluster.deployments, name).await? else {
            return Ok(State::Killing);
        };
        if d.submitted_ms != submitted_ms || d.state.ended() {
            return Ok(State::Killing);
        }
        let leader = records::read::<Assignment>(&cluster.assignments, name)
            .await?
            .map(|(a, _)| a.leader);
        let led = match leader {
            Some(l) => records::read::<WorkerEntry>(&cluster.workers, &l)
                .await?
                .is_some(),
            None => false,
        };
        if !led || Instant::now() > deadline {
            // Nobody runs its controller (or it does not drain): nothing left to drain.
            deployment::transition(
                cluster,
                name,
                |d| d.submitted_ms == submitted_ms && d.state == State::Killing,
                |d| d.state = State::Killed,
            )
            .await?;
            parts::clean_up(cluster, name).await;
            records::delete(&cluster.deployments, name).await?;
            return Ok(State::Killing);
        }
        tokio::time::sleep(POLL).await;
    }
}
