//! The assignment of a deployment's tasks to workers: computed by rendezvous hashing by any
//! worker that sees the membership change, stored with compare-and-set so that every
//! incarnation has exactly one assignment.

use serde::{Deserialize, Serialize};

use crate::buckets::Cluster;
use crate::error::ClusterError;
use crate::{records, rendezvous};

/// An assignment as stored in [`crate::buckets::ASSIGNMENTS`] (JSON), key = deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Increases by one with every change; parts of different incarnations never exchange
    /// frames.
    pub incarnation: u64,
    /// The live workers it was computed from, sorted.
    pub workers: Vec<String>,
    /// The worker that runs the controller.
    pub leader: String,
    /// Per flat task, the worker that runs it.
    pub tasks: Vec<String>,
    /// The submission it belongs to (a deployment submitted again under the same name starts
    /// a new incarnation even on the same workers).
    pub submitted_ms: u64,
}

impl Assignment {
    /// Does `worker` take part (runs a task or leads)?
    pub fn involves(&self, worker: &str) -> bool {
        self.leader == worker || self.tasks.iter().any(|t| t == worker)
    }

    /// Per flat task, whether `worker` runs it.
    pub fn local(&self, worker: &str) -> Vec<bool> {
        self.tasks.iter().map(|t| t == worker).collect()
    }
}

/// Makes the stored assignment of `deployment` (submitted at `submitted_ms`, `tasks` flat
/// tasks) the one rendezvous hashing gives over `live` workers, unless it already is:
/// the only write is a compare-and-set of the next incarnation, and a conflict (another
/// worker wrote first) means reading again and deciding again. Returns the assignment now
/// stored (`None` when there are no live workers and nothing is stored).
pub async fn reconcile(
    cluster: &Cluster,
    deployment: &str,
    submitted_ms: u64,
    live: &[String],
    tasks: u32,
) -> Result<Option<Assignment>, ClusterError> {
    let mut live = live.to_vec();
    live.sort();
    loop {
        let stored = records::read::<Assignment>(&cluster.assignments, deployment).await?;
        let Some((owners, leader)) = rendezvous::assign(&live, deployment, tasks) else {
            return Ok(stored.map(|(a, _)| a));
        };
        if let Some((a, _)) = &stored {
            // Workers that joined or left without changing any owner or the leader cost no
            // restart.
            if a.tasks == owners && a.leader == leader && a.submitted_ms == submitted_ms {
                return Ok(Some(a.clone()));
            }
        }
        let next = Assignment {
            incarnation: stored.as_ref().map_or(1, |(a, _)| a.incarnation + 1),
            workers: live.clone(),
            leader,
            tasks: owners,
            submitted_ms,
        };
        let revision = stored.map(|(_, r)| r);
        if records::write_cas(&cluster.assignments, deployment, &next, revision).await? {
            return Ok(Some(next));
        }
    }
}

/// Replaces `deployment`'s `incarnation` by the next one with the same owners (its parts
/// restart from the last checkpoint), unless it was replaced already. For an incarnation that
/// cannot go on: a frame between its tasks was lost. True if this call replaced it.
pub async fn restart(
    cluster: &Cluster,
    deployment: &str,
    incarnation: u64,
) -> Result<bool, ClusterError> {
    let Some((stored, revision)) =
        records::read::<Assignment>(&cluster.assignments, deployment).await?
    else {
        return Ok(false);
    };
    if stored.incarnation != incarnation {
        return Ok(false);
    }
    let next = Assignment {
        incarnation: incarnation + 1,
        ..stored
    };
    records::write_cas(&cluster.assignments, deployment, &next, Some(revision)).await
}
