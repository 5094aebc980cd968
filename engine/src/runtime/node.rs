//! Components as the runtime sees them: type-erased nodes that can start their tasks and wire
//! them to their neighbours.

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr, ArbiterHandle, AsyncContext, Recipient};
use crossbeam_channel::Sender;

use super::acker::{AckOps, TreeDone};
use super::actix::{BoltFactory, BoltTask, SpoutFactory, SpoutTask, Wake};
use super::env::TaskEnv;
use super::stats::TaskEvent;
use super::wire::{EdgeSpec, InputLink, Wire, WireBolt};
use crate::component::{Bolt, Spout, SpoutWaker, TaskContext, Tuple};
use crate::topology::Grouping;
use crate::transport::message::{Control, Credit};
use crate::window::Watermarks;
use crate::Config;

/// Turns a producer's tuple into the bolt's input (a two-input bolt's side), per link.
pub(crate) type Convert<X, I> = Arc<dyn Fn(X) -> I + Send + Sync>;

/// Builds the edge a producer needs to reach the bolt's tasks: an `EdgeSpec<X>` for a
/// producer of `X`, boxed.
type MakeEdge<B> =
    Box<dyn Fn(&[Addr<BoltTask<B>>], Vec<usize>, u32) -> Box<dyn Any + Send> + Send + Sync>;

/// One subscription of a bolt to a producer of some type `X`, the type erased: the bolt's
/// tasks accept `X` and convert it to their input.
pub(crate) struct Subscription<B: Bolt> {
    pub component: Arc<str>,
    pub stream: Arc<str>,
    /// The producer's tuple type, for validation.
    pub type_id: TypeId,
    pub type_name: &'static str,
    /// The grouping's name, for the topology's graph.
    pub grouping: &'static str,
    make_edge: MakeEdge<B>,
    /// `Convert<X, B::Input>`; `None` when `X` is the input type.
    pub convert: Option<Arc<dyn Any + Send + Sync>>,
}

impl<B: Bolt> Subscription<B> {
    /// A subscription to `stream` of `component`, a stream of `X`, with `grouping`; `convert`
    /// turns an `X` into the bolt's input (`None`: `X` is the input type).
    pub(crate) fn new<X: Tuple>(
        component: Arc<str>,
        stream: Arc<str>,
        grouping: Grouping<X>,
        convert: Option<Convert<X, B::Input>>,
    ) -> Self {
        let edge_stream = stream.clone();
        Subscription {
            component,
            stream,
            type_id: TypeId::of::<X>(),
            type_name: std::any::type_name::<X>(),
            grouping: grouping.name(),
            make_edge: Box::new(move |addrs, target_workers, link_base| {
                Box::new(EdgeSpec::<X> {
                    stream: edge_stream.clone(),
                    grouping: grouping.clone(),
                    targets: addrs.iter().map(|a| a.clone().recipient()).collect(),
                    target_workers,
                    link_base,
                })
            }),
            convert: convert.map(|c| Arc::new(c) as Arc<dyn Any + Send + Sync>),
        }
    }
}

/// A subscription without its type, for validation.
pub(crate) struct InputInfo {
    pub component: Arc<str>,
    pub stream: Arc<str>,
    pub type_id: TypeId,
    pub type_name: &'static str,
    /// The grouping's name (`shuffle`, `fields`, ...).
    pub grouping: &'static str,
}

/// What the launcher gives every node.
pub(crate) struct LaunchEnv {
    pub topology: Arc<str>,
    pub workers: Vec<ArbiterHandle>,
    pub config: Arc<Config>,
    pub epoch: Instant,
    pub events: Sender<TaskEvent>,
    /// The acker tasks (empty without acking).
    pub ackers: Arc<Vec<Recipient<AckOps>>>,
    /// Per component: the index of its task 0 among all spout tasks (spouts only).
    pub spout_bases: Vec<u32>,
}

/// A node's started tasks.
pub(crate) struct Started {
    /// `Vec<Addr<SpoutTask<S>>>` or `Vec<Addr<BoltTask<B>>>`.
    addrs: Box<dyn Any + Send>,
    pub credit: Vec<Recipient<Credit>>,
    pub control: Vec<Recipient<Control>>,
    /// Where ackers report finished trees (spouts only).
    pub tree_done: Vec<Recipient<TreeDone>>,
    pub workers: Vec<usize>,
}

/// A declared component, type-erased.
pub(crate) trait Node: Send + Sync + 'static {
    fn id(&self) -> &str;
    fn parallelism(&self) -> usize;
    fn is_spout(&self) -> bool;
    fn output_type(&self) -> (TypeId, &'static str);
    fn inputs(&self) -> Vec<InputInfo>;
    /// The named output streams declared besides the default one.
    fn streams(&self) -> &[Arc<str>];
    /// Declares one more named output stream.
    fn declare_stream(&mut self, name: Arc<str>);
    /// Spouts: sets the watermark generation, a `Watermarks<Output>`; false when this node
    /// is a bolt or the type differs.
    fn set_watermarks(&mut self, spec: Box<dyn Any>) -> bool {
        let _ = spec;
        false
    }
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Starts every task on its worker; tasks wait for their wiring.
    fn start(&self, env: &LaunchEnv, node: usize, workers: Vec<usize>) -> Started;
    /// The edge of input `input`, as its producer needs it (an `EdgeSpec<Input>`).
    fn edge_spec(&self, started: &Started, input: usize, link_base: u32) -> Box<dyn Any + Send>;
    /// Sends each task its outgoing edges (`EdgeSpec<Output>`s) and input links.
    fn wire(&self, started: &Started, edges: Vec<Box<dyn Any + Send>>, inputs: Vec<Vec<InputLink>>);
}

fn task_env(
    env: &LaunchEnv,
    id: &Arc<str>,
    node: usize,
    task: usize,
    tasks: usize,
    worker: usize,
) -> TaskEnv {
    TaskEnv {
        ctx: TaskContext {
            topology: env.topology.clone(),
            component: id.clone(),
            task,
            tasks,
            worker,
            restarts: 0,
            guarantee: env.config.guarantee,
            waker: None,
        },
        config: env.config.clone(),
        epoch: env.epoch,
        node,
        events: env.events.clone(),
        ackers: env.ackers.clone(),
        spout_index: env.spout_bases.get(node).copied().unwrap_or(0) + task as u32,
    }
}

fn worker_handle(env: &LaunchEnv, worker: usize) -> ArbiterHandle {
    env.workers[worker % env.workers.len().max(1)].clone()
}

/// The edges a producer of `T` was given. `build()` checked every subscription's type against
/// its producer's output type, so a mismatch here is a bug in the launcher, not a user error.
fn downcast_edges<T: crate::Tuple>(edges: Vec<Box<dyn Any + Send>>) -> Vec<EdgeSpec<T>> {
    edges
        .into_iter()
        .map(|e| {
            *e.downcast::<EdgeSpec<T>>()
                .expect("invariant: build() checked that every edge carries its producer's type")
        })
        .collect()
}

/// A declared spout.
pub(crate) struct SpoutNode<S: Spout> {
    pub id: Arc<str>,
    pub parallelism: usize,
    pub factory: SpoutFactory<S>,
    pub streams: Vec<Arc<str>>,
    /// Event time: how the spout's tasks generate watermarks.
    pub watermarks: Option<Watermarks<S::Output>>,
}

impl<S: Spout> Node for SpoutNode<S> {
    fn id(&self) -> &str {
        &self.id
    }
    fn parallelism(&self) -> usize {
        self.parallelism
    }
    fn is_spout(&self) -> bool {
        true
    }
    fn output_type(&self) -> (TypeId, &'static str) {
        (
            TypeId::of::<S::Output>(),
            std::any::type_name::<S::Output>(),
        )
    }
    fn inputs(&self) -> Vec<InputInfo> {
        Vec::new()
    }
    fn streams(&self) -> &[Arc<str>] {
        &self.streams
    }
    fn declare_stream(&mut self, name: Arc<str>) {
        if !self.streams.contains(&name) {
            self.streams.push(name);
        }
    }
    fn set_watermarks(&mut self, spec: Box<dyn Any>) -> bool {
        match spec.downcast::<Watermarks<S::Output>>() {
            Ok(w) => {
                self.watermarks = Some(*w);
                true
            }
            Err(_) => false,
        }
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn start(&self, env: &LaunchEnv, node: usize, workers: Vec<usize>) -> Started {
        let addrs: Vec<Addr<SpoutTask<S>>> = workers
            .iter()
            .enumerate()
            .map(|(task, &worker)| {
                let mut tenv = task_env(env, &self.id, node, task, self.parallelism, worker);
                let factory = self.factory.clone();
                let watermarks = self.watermarks.clone();
                SpoutTask::start_in_arbiter(&worker_handle(env, worker), move |ctx| {
                    // Weak: the task holds its own waker, which must not keep it alive.
                    let me = ctx.address().downgrade();
                    tenv.ctx.waker = Some(SpoutWaker::new(move || {
                        if let Some(task) = me.upgrade() {
                            task.do_send(Wake);
                        }
                    }));
                    SpoutTask::new(tenv, factory, watermarks)
                })
            })
            .collect();
        Started {
            credit: addrs.iter().map(|a| a.clone().recipient()).collect(),
            control: addrs.iter().map(|a| a.clone().recipient()).collect(),
            tree_done: addrs.iter().map(|a| a.clone().recipient()).collect(),
            addrs: Box::new(addrs),
            workers,
        }
    }

    fn edge_spec(&self, _: &Started, _: usize, _: u32) -> Box<dyn Any + Send> {
        Box::new(())
    }

    fn wire(&self, started: &Started, edges: Vec<Box<dyn Any + Send>>, _: Vec<Vec<InputLink>>) {
        let edges = downcast_edges::<S::Output>(edges);
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Addr<SpoutTask<S>>>>()
            .expect("invariant: a spout node's Started holds the addresses its start() made");
        let streams: Arc<[Arc<str>]> = self.streams.clone().into();
        for addr in addrs {
            addr.do_send(Wire {
                edges: edges.clone(),
                inputs: Vec::new(),
                streams: streams.clone(),
            });
        }
    }
}

/// A declared bolt with its subscriptions.
pub(crate) struct BoltNode<B: Bolt> {
    pub id: Arc<str>,
    pub parallelism: usize,
    pub factory: BoltFactory<B>,
    pub inputs: Vec<Subscription<B>>,
    pub streams: Vec<Arc<str>>,
}

impl<B: Bolt> BoltNode<B> {
    /// Per input link, how to convert what arrives on it.
    fn link_converts(&self, links: &[InputLink]) -> Vec<Option<Arc<dyn Any + Send + Sync>>> {
        links
            .iter()
            .map(|l| {
                self.inputs
                    .get(l.subscription)
                    .and_then(|s| s.convert.clone())
            })
            .collect()
    }
}

impl<B: Bolt> Node for BoltNode<B> {
    fn id(&self) -> &str {
        &self.id
    }
    fn parallelism(&self) -> usize {
        self.parallelism
    }
    fn is_spout(&self) -> bool {
        false
    }
    fn output_type(&self) -> (TypeId, &'static str) {
        (
            TypeId::of::<B::Output>(),
            std::any::type_name::<B::Output>(),
        )
    }
    fn inputs(&self) -> Vec<InputInfo> {
        self.inputs
            .iter()
            .map(|s| InputInfo {
                component: s.component.clone(),
                stream: s.stream.clone(),
                type_id: s.type_id,
                type_name: s.type_name,
                grouping: s.grouping,
            })
            .collect()
    }
    fn streams(&self) -> &[Arc<str>] {
        &self.streams
    }
    fn declare_stream(&mut self, name: Arc<str>) {
        if !self.streams.contains(&name) {
            self.streams.push(name);
        }
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn start(&self, env: &LaunchEnv, node: usize, workers: Vec<usize>) -> Started {
        let chaos_memory = super::chaos::ChaosMemory::default();
        let addrs: Vec<Addr<BoltTask<B>>> = workers
            .iter()
            .enumerate()
            .map(|(task, &worker)| {
                let tenv = task_env(env, &self.id, node, task, self.parallelism, worker);
                let factory = self.factory.clone();
                let memory = chaos_memory.clone();
                BoltTask::start_in_arbiter(&worker_handle(env, worker), move |_| {
                    BoltTask::new(tenv, factory, memory)
                })
            })
            .collect();
        Started {
            credit: addrs.iter().map(|a| a.clone().recipient()).collect(),
            control: addrs.iter().map(|a| a.clone().recipient()).collect(),
            tree_done: Vec::new(),
            addrs: Box::new(addrs),
            workers,
        }
    }

    fn edge_spec(&self, started: &Started, input: usize, link_base: u32) -> Box<dyn Any + Send> {
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Addr<BoltTask<B>>>>()
            .map_or(&[][..], |a| &a[..]);
        (self.inputs[input].make_edge)(addrs, started.workers.clone(), link_base)
    }

    fn wire(
        &self,
        started: &Started,
        edges: Vec<Box<dyn Any + Send>>,
        inputs: Vec<Vec<InputLink>>,
    ) {
        let edges = downcast_edges::<B::Output>(edges);
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Addr<BoltTask<B>>>>()
            .expect("invariant: a bolt node's Started holds the addresses its start() made");
        let streams: Arc<[Arc<str>]> = self.streams.clone().into();
        for (addr, inputs) in addrs.iter().zip(inputs) {
            let converts = self.link_converts(&inputs);
            addr.do_send(WireBolt {
                wire: Wire {
                    edges: edges.clone(),
                    inputs,
                    streams: streams.clone(),
                },
                converts,
            });
        }
    }
}
