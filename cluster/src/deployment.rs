//! Deployments: a topology submitted to the cluster under a name, and its state.

use serde::{Deserialize, Serialize};

use crate::buckets::Cluster;
use crate::error::ClusterError;
use crate::records;

/// Where a deployment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Submitted and running (or waiting for workers).
    Running,
    /// Ended by itself; the summary is stored.
    Done,
    /// Ended by an error; the sentence is stored.
    Failed,
    /// `kill` asked for it to drain.
    Killing,
    /// Drained after a `kill`.
    Killed,
}

impl State {
    /// Has the deployment ended?
    pub fn ended(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Killed)
    }

    /// The word `status` prints.
    pub fn word(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Killing => "killing",
            State::Killed => "killed",
        }
    }
}

/// A deployment as stored in [`crate::buckets::DEPLOYMENTS`] (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The registered topology's name.
    pub topology: String,
    /// Its options, as after `run TOPOLOGY`.
    pub options: Vec<String>,
    /// When it was submitted (Unix ms); every part takes it as its epoch.
    pub submitted_ms: u64,
    /// Where it stands.
    pub state: State,
    /// Once done or killed: what `run` would have printed on stderr at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Once failed: the error, one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Fails unless `name` can name a deployment: letters, digits, `-` and `_` (it becomes a key,
/// a stream name and a subject token), at most 64 of them.
pub fn check_name(name: &str) -> Result<(), ClusterError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ClusterError::Refused(format!(
            "deployment name {name:?} must be 1 to 64 letters, digits, - or _"
        )))
    }
}

/// Changes the state of deployment `name` with `change` (compare-and-set, retried on
/// conflicts) while `when` holds for its current record; returns the record written, or
/// `None` when the deployment is gone or `when` no longer holds.
pub async fn transition(
    cluster: &Cluster,
    name: &str,
    when: impl Fn(&Deployment) -> bool,
    change: impl Fn(&mut Deployment),
) -> Result<Option<Deployment>, ClusterError> {
    loop {
        let Some((mut d, revision)) =
            records::read::<Deployment>(&cluster.deployments, name).await?
        else {
            return Ok(None);
        };
        if !when(&d) {
            return Ok(None);
        }
        change(&mut d);
        if records::write_cas(&cluster.deployments, name, &d, Some(revision)).await? {
            return Ok(Some(d));
        }
    }
}
