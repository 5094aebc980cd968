//! The sampler: a thread that takes a snapshot of the run twice a second, derives rates and
//! the latency of the last interval, and keeps the JSON the server hands out.
//!
//! Requests never touch the engine: however many browsers poll, the run is read at the
//! sampler's pace, and each request only copies the latest bytes.

use std::collections::VecDeque;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::web::Bytes;
use hdrhistogram::Histogram;

use crate::model::{self, RatesJson, TimelineJson};
use crate::Watched;

/// How often the run is sampled: pages are at most this (plus their own poll) behind.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);
/// Timeline points kept: five minutes at the interval.
const TIMELINE: usize = 600;
/// The timeline's latency covers this many intervals: tasks publish latency once a second,
/// so a single interval may hold none.
const LATENCY_WINDOW: usize = 4;

/// The latest JSON documents.
#[derive(Default)]
pub(crate) struct Latest {
    pub topology: Option<Bytes>,
    pub job: Option<Bytes>,
}

/// The counters a rate is derived from, per component.
#[derive(Clone, Copy, Default)]
struct Counts {
    emitted: u64,
    executed: u64,
    acked: u64,
    failed: u64,
    replayed: u64,
}

struct Previous {
    uptime: Duration,
    counts: Vec<Counts>,
}

/// What the sampler remembers between samples.
pub(crate) struct Sampler {
    watched: Watched,
    previous: Option<Previous>,
    /// The cumulative latency of the last `LATENCY_WINDOW` samples, oldest first.
    latencies: VecDeque<Histogram<u64>>,
    timeline: VecDeque<TimelineJson>,
    latest: Arc<Mutex<Latest>>,
}

impl Sampler {
    pub(crate) fn new(watched: Watched) -> Self {
        Sampler {
            watched,
            previous: None,
            latencies: VecDeque::new(),
            timeline: VecDeque::new(),
            latest: Arc::new(Mutex::new(Latest::default())),
        }
    }

    pub(crate) fn latest(&self) -> Arc<Mutex<Latest>> {
        self.latest.clone()
    }

    /// Takes one sample and stores its JSON; `finished` marks the run's end.
    pub(crate) fn sample(&mut self, finished: bool) -> (Option<Bytes>, Option<Bytes>) {
        let topology = self.watched.live.snapshot().map(|s| {
            let counts: Vec<Counts> = s
                .components
                .iter()
                .map(|c| Counts {
                    emitted: c.emitted,
                    executed: c.executed,
                    acked: c.acked,
                    failed: c.failed,
                    replayed: c.replayed,
                })
                .collect();
            let (rates, point) = self.rates(&s.uptime, &counts, &s.latency, &s.components);
            if let Some(point) = point {
                if self.timeline.len() == TIMELINE {
                    self.timeline.pop_front();
                }
                self.timeline.push_back(point);
            }
            self.previous = Some(Previous {
                uptime: s.uptime,
                counts,
            });
            if self.latencies.len() == LATENCY_WINDOW {
                self.latencies.pop_front();
            }
            self.latencies.push_back(s.latency.clone());
            let json = model::topology(
                &s,
                &rates,
                self.timeline.iter().copied().collect(),
                finished,
            );
            Bytes::from(serde_json::to_vec(&json).unwrap_or_default())
        });
        let job = self.watched.job.as_ref().and_then(|w| w.status()).map(|s| {
            Bytes::from(serde_json::to_vec(&model::job(&s, finished)).unwrap_or_default())
        });
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if topology.is_some() {
            latest.topology = topology.clone();
        }
        if job.is_some() {
            latest.job = job.clone();
        }
        (topology, job)
    }

    /// Rates since the previous sample, and the timeline point of the interval.
    fn rates(
        &self,
        uptime: &Duration,
        counts: &[Counts],
        latency: &Histogram<u64>,
        components: &[squall::LiveComponent],
    ) -> (Vec<RatesJson>, Option<TimelineJson>) {
        let Some(prev) = &self.previous else {
            return (vec![RatesJson::default(); counts.len()], None);
        };
        let secs = uptime.saturating_sub(prev.uptime).as_secs_f64();
        if secs <= 0.0 || prev.counts.len() != counts.len() {
            return (vec![RatesJson::default(); counts.len()], None);
        }
        let per_s = |now: u64, then: u64| now.saturating_sub(then) as f64 / secs;
        let rates: Vec<RatesJson> = counts
            .iter()
            .zip(&prev.counts)
            .map(|(n, p)| RatesJson {
                emitted: per_s(n.emitted, p.emitted),
                executed: per_s(n.executed, p.executed),
                acked: per_s(n.acked, p.acked),
                failed: per_s(n.failed, p.failed),
                replayed: per_s(n.replayed, p.replayed),
            })
            .collect();
        let mut recent = latency.clone();
        let window = match self.latencies.front().map(|old| recent.subtract(old)) {
            Some(Ok(())) if !recent.is_empty() => Some(model::percentiles(&recent)),
            _ => None,
        };
        let spouts = |f: fn(&RatesJson) -> f64, spout: bool| -> f64 {
            rates
                .iter()
                .zip(components)
                .filter(|(_, c)| c.spout == spout)
                .map(|(r, _)| f(r))
                .sum()
        };
        let point = TimelineJson {
            t: uptime.as_secs_f64(),
            emitted_per_s: spouts(|r| r.emitted, true),
            executed_per_s: spouts(|r| r.executed, false),
            p50_us: window.map(|w| w.p50),
            p99_us: window.map(|w| w.p99),
        };
        (rates, Some(point))
    }
}

/// The sampling thread; dropping it without [`SamplerThread::finish`] stops it too.
pub(crate) struct SamplerThread {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<Sampler>>,
}

impl SamplerThread {
    pub(crate) fn start(mut sampler: Sampler) -> std::io::Result<Self> {
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("squall-ui-sampler".into())
            .spawn(move || {
                sampler.sample(false);
                while stopped.recv_timeout(INTERVAL) == Err(RecvTimeoutError::Timeout) {
                    sampler.sample(false);
                }
                sampler
            })?;
        Ok(SamplerThread {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops sampling, takes the final sample (marked finished) and returns the sampler.
    pub(crate) fn finish(mut self) -> Option<Sampler> {
        self.stop.take();
        let mut sampler = self.thread.take()?.join().ok()?;
        sampler.sample(true);
        Some(sampler)
    }
}

impl Drop for SamplerThread {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
