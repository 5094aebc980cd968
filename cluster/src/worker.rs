//! `worker`: joins the cluster, heartbeats, keeps every deployment's assignment current and
//! runs this process's parts until SIGTERM or SIGINT, then hands its tasks over and leaves.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::assignment::{self, Assignment};
use crate::buckets::Cluster;
use crate::deployment::{self, Deployment, State};
use crate::error::ClusterError;
use crate::membership::{self, WorkerEntry};
use crate::parts::{self, Ended, RunningPart, StartError};
use crate::patience::patiently;
use crate::records;
use crate::registry::Registry;

/// How often a worker looks at the buckets even when no watch woke it. Each look lists two
/// buckets, and each listing is a consumer on the server (removed only after its inactivity
/// threshold): at 250 ms two workers kept about 480 such consumers alive.
const TICK: Duration = Duration::from_secs(1);
/// How long a leaving worker waits for the savepoint of a deployment it leads.
const SAVEPOINT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a worker named `name` (default: host name and pid) on the cluster at `url` until a
/// stop signal; returns once it has left.
pub fn run(registry: Arc<Registry>, url: &str, name: Option<String>) -> Result<(), ClusterError> {
    let name = name.unwrap_or_else(membership::default_name);
    membership::check_name(&name)?;
    squall::runtime::catch_stop_signals().map_err(|e| ClusterError::Refused(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Refused(format!("cannot start the worker's runtime: {e}")))?;
    runtime.block_on(serve(registry, url, name))
}

/// This worker's view while it runs.
struct Worker {
    cluster: Cluster,
    registry: Arc<Registry>,
    me: String,
    parts: BTreeMap<String, RunningPart>,
    /// Flat task count (or the preparation's error) per (deployment, submission).
    tasks: HashMap<(String, u64), Result<u32, String>>,
    /// The workers live at the last look (see [`membership::live_among`]).
    known: Vec<String>,
    ended: UnboundedSender<Ended>,
}

async fn serve(registry: Arc<Registry>, url: &str, name: String) -> Result<(), ClusterError> {
    let cluster = Cluster::connect_worker(url).await?;
    if let Some((other, _)) = records::read::<WorkerEntry>(&cluster.workers, &name).await? {
        if other.pid != std::process::id() || other.host != membership::hostname() {
            return Err(ClusterError::Refused(format!(
                "a live worker is named {name} already (pid {} on {}); choose another --name",
                other.pid, other.host
            )));
        }
    }
    let entry = WorkerEntry::this_process(&name);
    patiently(|| membership::heartbeat(&cluster, &entry)).await?;
    let beats = tokio::spawn(membership::heartbeats(cluster.clone(), entry));
    eprintln!("worker {name} joined the cluster at {url}");
    let (ended, mut endings) = unbounded_channel();
    let mut worker = Worker {
        cluster: cluster.clone(),
        registry,
        me: name.clone(),
        parts: BTreeMap::new(),
        tasks: HashMap::new(),
        known: Vec::new(),
        ended,
    };
    let result = worker.until_stopped(&mut endings).await;
    // A part led here ends with a savepoint, so the next incarnation (elsewhere) resumes
    // from it with nothing to replay; a worker that does not lead cannot ask for one, and its
    // tasks resume from the last periodic checkpoint.
    for (name, part) in worker.parts.iter().filter(|(_, p)| p.leader) {
        match part.savepoint(SAVEPOINT_TIMEOUT) {
            Some(id) => eprintln!("worker {}: savepoint {id} of {name} taken", worker.me),
            None => eprintln!(
                "worker {}: no savepoint of {name} within {} s; the next incarnation resumes from the last checkpoint",
                worker.me,
                SAVEPOINT_TIMEOUT.as_secs()
            ),
        }
    }
    beats.abort();
    // Leaving at once lets the others reassign now rather than after the lease's TTL.
    if let Err(e) = membership::leave(&cluster, &name).await {
        eprintln!("worker {name}: {e}");
    }
    for (_, part) in std::mem::take(&mut worker.parts) {
        part.stop(&cluster).await;
    }
    eprintln!("worker {name} left the cluster");
    result
}

impl Worker {
    async fn until_stopped(
        &mut self,
        endings: &mut UnboundedReceiver<Ended>,
    ) -> Result<(), ClusterError> {
        let watch = |e| ClusterError::nats("cannot watch", e);
        let (d, a) = (&self.cluster.deployments, &self.cluster.assignments);
        let mut deployments = patiently(|| async { d.watch_all().await.map_err(watch) }).await?;
        let mut assignments = patiently(|| async { a.watch_all().await.map_err(watch) }).await?;
        let mut tick = tokio::time::interval(TICK);
        while squall::runtime::stop_requested().is_none() {
            tokio::select! {
                _ = tick.tick() => {}
                Some(_) = deployments.next() => {}
                Some(_) = assignments.next() => {}
                Some(ended) = endings.recv() => self.record_end(ended).await,
            }
            if let Err(e) = self.step().await {
                eprintln!("worker {}: {e}", self.me);
            }
        }
        Ok(())
    }

    /// One look at the buckets: reassign what changed, stop parts no longer wanted, start the
    /// ones assigned here, drain the killed.
    async fn step(&mut self) -> Result<(), ClusterError> {
        let live: Vec<String> = membership::live_among(&self.cluster, &self.known)
            .await?
            .into_iter()
            .map(|w| w.name)
            .collect();
        self.known = live.clone();
        let deployments = records::read_all::<Deployment>(&self.cluster.deployments).await?;
        if live.contains(&self.me) {
            for (name, (d, _)) in &deployments {
                if d.state != State::Running {
                    continue;
                }
                match self.task_count(name, d) {
                    Ok(tasks) => {
                        assignment::reconcile(&self.cluster, name, d.submitted_ms, &live, tasks)
                            .await?;
                    }
                    Err(sentence) => self.fail(name, d.submitted_ms, sentence).await?,
                }
            }
        }
        self.replace_broken().await?;
        self.stop_unwanted().await?;
        for (name, (d, _)) in &deployments {
            let Some((a, _)) = records::read::<Assignment>(&self.cluster.assignments, name).await?
            else {
                continue;
            };
            if a.submitted_ms != d.submitted_ms || !a.involves(&self.me) {
                continue;
            }
            match d.state {
                State::Running if !self.parts.contains_key(name) => {
                    self.start(name, d, &a).await?;
                }
                State::Killing if a.leader == self.me => match self.parts.get(name) {
                    Some(part) => part.drain(),
                    // Nothing runs here to drain (just became leader): killed as it is.
                    None => self.finish_kill(name, d.submitted_ms, None).await?,
                },
                _ => {}
            }
        }
        Ok(())
    }

    async fn start(
        &mut self,
        name: &str,
        d: &Deployment,
        a: &Assignment,
    ) -> Result<(), ClusterError> {
        let started = RunningPart::start(
            &self.cluster,
            &self.registry,
            name,
            d,
            a,
            &self.me,
            self.ended.clone(),
        )
        .await;
        match started {
            Ok(part) => {
                eprintln!(
                    "worker {}: runs incarnation {} of {name}{}",
                    self.me,
                    a.incarnation,
                    if part.leader { " (leader)" } else { "" }
                );
                self.parts.insert(name.to_string(), part);
                Ok(())
            }
            Err(StartError::Failed(sentence)) => self.fail(name, d.submitted_ms, sentence).await,
            Err(StartError::Broker(e)) => {
                // Nothing started: the next look tries again.
                eprintln!(
                    "worker {}: cannot start incarnation {} of {name} yet: {e}; trying again",
                    self.me, a.incarnation
                );
                Ok(())
            }
        }
    }

    /// Replaces every incarnation whose part here lost a frame to the broker (a frame between
    /// tasks that never arrives would stall it for good): the next incarnation resumes from
    /// the last checkpoint.
    async fn replace_broken(&mut self) -> Result<(), ClusterError> {
        for (name, part) in &self.parts {
            let lost = part.lost_frames();
            if lost > 0 && assignment::restart(&self.cluster, name, part.incarnation).await? {
                eprintln!(
                    "worker {}: incarnation {} of {name} lost {lost} frames to the broker; incarnation {} resumes from the last checkpoint",
                    self.me,
                    part.incarnation,
                    part.incarnation + 1
                );
            }
        }
        Ok(())
    }

    /// Stops every part whose deployment ended or went, or whose incarnation was replaced
    /// (each read by its key: a listing may miss a record being replaced).
    async fn stop_unwanted(&mut self) -> Result<(), ClusterError> {
        let mut unwanted = Vec::new();
        for (name, part) in &self.parts {
            let d = records::read::<Deployment>(&self.cluster.deployments, name).await?;
            let a = records::read::<Assignment>(&self.cluster.assignments, name).await?;
            let live =
                d.is_some_and(|(d, _)| !d.state.ended() && d.submitted_ms == part.submitted_ms);
            let current = a.is_some_and(|(a, _)| {
                a.incarnation == part.incarnation
                    && a.submitted_ms == part.submitted_ms
                    && a.involves(&self.me)
            });
            if !(live && current) {
                unwanted.push(name.clone());
            }
        }
        for name in unwanted {
            if let Some(part) = self.parts.remove(&name) {
                eprintln!(
                    "worker {}: stops incarnation {} of {name}",
                    self.me, part.incarnation
                );
                part.stop(&self.cluster).await;
            }
        }
        Ok(())
    }

    fn task_count(&mut self, name: &str, d: &Deployment) -> Result<u32, String> {
        let key = (name.to_string(), d.submitted_ms);
        if let Some(known) = self.tasks.get(&key) {
            return known.clone();
        }
        let counted = tokio::task::block_in_place(|| {
            self.registry
                .prepare(&d.topology, &d.options)
                .map(|p| squall::distributed::tasks(&p.topology).len() as u32)
        });
        self.tasks.insert(key, counted.clone());
        counted
    }

    /// Marks the deployment failed with `sentence` (unless it ended or was resubmitted).
    async fn fail(
        &self,
        name: &str,
        submitted_ms: u64,
        sentence: String,
    ) -> Result<(), ClusterError> {
        eprintln!("worker {}: {name} failed: {sentence}", self.me);
        let failed = deployment::transition(
            &self.cluster,
            name,
            |d| d.submitted_ms == submitted_ms && !d.state.ended(),
            |d| {
                d.state = State::Failed;
                d.error = Some(sentence.clone());
            },
        )
        .await?;
        if failed.is_some() {
            parts::clean_up(&self.cluster, name).await;
        }
        Ok(())
    }

    /// The leader's part ended: records the summary or the error, then cleans up.
    async fn record_end(&mut self, ended: Ended) {
        let Some(part) = self.parts.get(&ended.deployment) else {
            return;
        };
        if part.incarnation != ended.incarnation {
            return;
        }
        let submitted_ms = part.submitted_ms;
        let name = ended.deployment.clone();
        let outcome = match &ended.result {
            Ok(report) => Ok((ended.summary)(report)),
            Err(e) => Err(e.to_string()),
        };
        let written = match outcome {
            Ok(summary) => {
                let killing = matches!(
                    records::read::<Deployment>(&self.cluster.deployments, &name).await,
                    Ok(Some((d, _))) if d.state == State::Killing
                );
                if killing {
                    self.finish_kill(&name, submitted_ms, Some(summary)).await
                } else {
                    deployment::transition(
                        &self.cluster,
                        &name,
                        |d| d.submitted_ms == submitted_ms && d.state == State::Running,
                        |d| {
                            d.state = State::Done;
                            d.summary = Some(summary.clone());
                        },
                    )
                    .await
                    .map(drop)
                }
            }
            Err(sentence) => self.fail(&name, submitted_ms, sentence).await,
        };
        if let Err(e) = written {
            eprintln!("worker {}: {e}", self.me);
        }
        if let Some(part) = self.parts.remove(&name) {
            part.stop(&self.cluster).await;
        }
        parts::clean_up(&self.cluster, &name).await;
    }

    /// Marks a killing deployment killed and removes everything it left.
    async fn finish_kill(
        &mut self,
        name: &str,
        submitted_ms: u64,
        summary: Option<String>,
    ) -> Result<(), ClusterError> {
        deployment::transition(
            &self.cluster,
            name,
            |d| d.submitted_ms == submitted_ms && d.state == State::Killing,
            |d| {
                d.state = State::Killed;
                d.summary = summary.clone();
            },
        )
        .await?;
        if let Some(part) = self.parts.remove(name) {
            part.stop(&self.cluster).await;
        }
        parts::clean_up(&self.cluster, name).await;
        records::delete(&self.cluster.deployments, name).await
    }
}
