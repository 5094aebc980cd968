//! The job builder, and running a job as a bounded topology on the local cluster.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::layout::Layout;
use super::map_task::{CombinerFactory, MapBolt};
use super::reduce_task::ReduceBolt;
use super::scheduler::{Committer, Scheduler};
use super::split::{expand_inputs, plan_splits};
use super::tracker::{JobTracker, Progress};
use super::watch::JobWatch;
use super::{
    Combiner, Counters, HashPartitioner, JobError, Mapper, Partitioner, Reducer, Settings,
};
use crate::{Config, LocalCluster, Topology, TopologyBuilder};

/// What a completed job reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobReport {
    /// The job's counters.
    pub counters: Counters,
    /// Wall time from planning the splits to `_SUCCESS`.
    pub elapsed: Duration,
    /// The output files, `part-r-00000` first.
    pub parts: Vec<PathBuf>,
}

/// A MapReduce job over text files: a mapper, an optional combiner, a partitioner and a
/// reducer, run as a bounded topology of the streaming runtime:
///
/// ```text
/// splits (scheduler spout) --direct--> map (slots) --direct on partition--> reduce --global--> commit
/// ```
///
/// ```
/// use squall::mapreduce::{Job, MapOutput, Mapper, Record, ReduceOutput, Reducer, Values};
///
/// struct Words;
/// impl Mapper for Words {
///     type Key = String;
///     type Value = u64;
///     fn map(&mut self, r: Record<'_>, out: &mut MapOutput<'_, String, u64>) -> Result<(), squall::ComponentError> {
///         for w in r.line.split_whitespace() {
///             out.emit_ref(w, 1)?;
///         }
///         Ok(())
///     }
/// }
/// struct Sum;
/// impl Reducer for Sum {
///     type Key = String;
///     type Value = u64;
///     fn reduce(&mut self, w: &String, n: Values<'_, String, u64>, out: &mut ReduceOutput) -> Result<(), squall::ComponentError> {
///         Ok(out.write(w, n.sum::<u64>())?)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("in.txt"), "b a\na b b\n")?;
/// let report = Job::new("wc", || Words, || Sum)
///     .input([dir.path().join("in.txt")])
///     .output(dir.path().join("out"))
///     .run()?;
/// let text: String = report.parts.iter().map(std::fs::read_to_string).collect::<Result<_, _>>()?;
/// let mut lines: Vec<&str> = text.lines().collect();
/// lines.sort();
/// assert_eq!(lines, ["a\t2", "b\t3"]);
/// assert!(dir.path().join("out/_SUCCESS").exists());
/// # Ok(())
/// # }
/// ```
pub struct Job<M: Mapper, R> {
    name: String,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    mapper: Arc<dyn Fn() -> M + Send + Sync>,
    reducer: Arc<dyn Fn() -> R + Send + Sync>,
    combiner: Option<CombinerFactory<M::Key, M::Value>>,
    partitioner: Arc<dyn Partitioner<M::Key>>,
    settings: Settings,
    watch: Option<Arc<JobWatch>>,
}

impl<M, R> Job<M, R>
where
    M: Mapper,
    R: Reducer<Key = M::Key, Value = M::Value>,
{
    /// A job named `name` with a mapper and a reducer, each built fresh for every attempt.
    pub fn new(
        name: &str,
        mapper: impl Fn() -> M + Send + Sync + 'static,
        reducer: impl Fn() -> R + Send + Sync + 'static,
    ) -> Self {
        Job {
            name: name.to_string(),
            inputs: Vec::new(),
            output: PathBuf::from("output"),
            mapper: Arc::new(mapper),
            reducer: Arc::new(reducer),
            combiner: None,
            partitioner: Arc::new(HashPartitioner),
            settings: Settings::default(),
            watch: None,
        }
    }

    /// Adds input paths: files, or directories standing for every regular file below them.
    pub fn input(mut self, paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.inputs.extend(paths.into_iter().map(Into::into));
        self
    }

    /// The output directory; it must not exist.
    pub fn output(mut self, dir: impl Into<PathBuf>) -> Self {
        self.output = dir.into();
        self
    }

    /// Combines map output on the map side (see [`Combiner`]).
    pub fn combiner<C: Combiner<M::Key, M::Value>>(
        mut self,
        combiner: impl Fn() -> C + Send + Sync + 'static,
    ) -> Self {
        self.combiner = Some(Arc::new(move || Box::new(combiner())));
        self
    }

    /// Replaces the default [`HashPartitioner`].
    pub fn partitioner(mut self, partitioner: impl Partitioner<M::Key>) -> Self {
        self.partitioner = Arc::new(partitioner);
        self
    }

    /// Replaces the default [`Settings`].
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Lets `watch` follow the job's tasks, counters and topology while it runs.
    pub fn watch(mut self, watch: Arc<JobWatch>) -> Self {
        self.watch = Some(watch);
        self
    }

    /// Runs the job to completion.
    pub fn run(&self) -> Result<JobReport, JobError> {
        self.run_with_progress(Duration::from_secs(3600), |_| {})
    }

    /// Runs the job, calling `progress` every `every` while it runs.
    pub fn run_with_progress(
        &self,
        every: Duration,
        mut progress: impl FnMut(&Progress),
    ) -> Result<JobReport, JobError> {
        let start = Instant::now();
        self.settings.check()?;
        let layout = Layout::new(&self.output);
        if std::fs::symlink_metadata(&self.output).is_ok() {
            return Err(JobError::OutputExists(self.output.clone()));
        }
        if self.inputs.is_empty() {
            return Err(JobError::NoInput);
        }
        let files = expand_inputs(&self.inputs)?;
        let splits = plan_splits(&files, self.settings.mappers, self.settings.split_size)?;
        layout.create()?;
        let tracker = Arc::new(JobTracker::new(
            self.settings.clone(),
            layout.clone(),
            splits,
        ));
        if let Some(watch) = &self.watch {
            watch.attach(&self.name, tracker.clone());
        }
        let topology = self.topology(&tracker).map_err(|e| {
            layout.abort();
            JobError::Settings(e.to_string())
        })?;
        // One worker per task: an attempt holds its worker for its whole run (see map_task).
        // Attempts are retried by the job tracker, so the supervisor does not restart tasks:
        // a task that fails outside an attempt fails the job at once.
        let supervision = crate::Supervision {
            max_restarts: 0,
            ..crate::Supervision::default()
        };
        let config = Config {
            workers: 2 + self.settings.mappers + self.settings.reducers,
            track_latency: false,
            supervision,
            live: self.watch.as_ref().map(|w| w.live().clone()),
            ..Config::default()
        };
        let result = LocalCluster::new(config)
            .spawn(topology)
            .and_then(|mut running| {
                while !running.wait_for(every)? {
                    if let Some(signal) = crate::runtime::stop_requested() {
                        // No drain: a drained job would commit what it had as if complete.
                        return Ok(Some(signal));
                    }
                    progress(&tracker.progress());
                }
                running.join().map(|_| None)
            });
        if let Ok(Some(signal)) = result {
            layout.abort();
            return Err(JobError::Interrupted(signal));
        }
        // A task that runs out of attempts aborts the job through the tracker; its bolt's
        // `Err` only fails that one tuple, so the run itself may still complete.
        let fatal = match result {
            Err(e) => Some(tracker.take_fatal().unwrap_or(JobError::Run(e))),
            Ok(_) => tracker.take_fatal(),
        };
        if let Some(e) = fatal {
            // The output directory is this job's (`create` refuses an existing one): a failed
            // job removes it, so the rerun is not refused and no partial output looks done.
            layout.abort();
            return Err(e);
        }
        progress(&tracker.progress());
        Ok(JobReport {
            counters: tracker.counters(),
            elapsed: start.elapsed(),
            parts: (0..self.settings.reducers)
                .map(|p| layout.part_file(p))
                .collect(),
        })
    }

    fn topology(&self, tracker: &Arc<JobTracker>) -> Result<Topology, crate::BuildError> {
        let s = &self.settings;
        let mut b = TopologyBuilder::new(&format!("mapreduce-{}", self.name));
        let t = tracker.clone();
        let splits = b.set_spout("splits", 1, move || Scheduler {
            tracker: t.clone(),
            finished: false,
        });
        let (t, mapper, combiner, partitioner) = (
            tracker.clone(),
            self.mapper.clone(),
            self.combiner.clone(),
            self.partitioner.clone(),
        );
        let map_out = b
            .set_bolt("map", s.mappers, move || MapBolt {
                tracker: t.clone(),
                mapper: mapper.clone(),
                combiner: combiner.clone(),
                partitioner: partitioner.clone(),
            })
            .direct_grouping(&splits)
            .stream();
        let (t, reducer) = (tracker.clone(), self.reducer.clone());
        let done = b
            .set_bolt("reduce", s.reducers, move || ReduceBolt {
                tracker: t.clone(),
                reducer: reducer.clone(),
                partition: 0,
                runs: Vec::new(),
            })
            .direct_grouping(&map_out)
            .stream();
        let (t, reducers) = (tracker.clone(), s.reducers);
        b.set_bolt("commit", 1, move || Committer {
            tracker: t.clone(),
            done: vec![false; reducers],
        })
        .global_grouping(&done);
        b.build()
    }

    /// The output directory.
    pub fn output_dir(&self) -> &Path {
        &self.output
    }
}
