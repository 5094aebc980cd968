//! Components as the runtime sees them: type-erased nodes that can start their tasks and wire
//! them to their neighbours.

use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr, ArbiterHandle, AsyncContext, Recipient};
use crossbeam_channel::Sender;

use super::streams::{self, StreamDecl};
use super::subscription::{InputInfo, Subscription};
use super::wire::{InputLink, Wire, WireBolt};
use crate::component::{Bolt, Spout, SpoutWaker, TaskContext};
use crate::distributed::{Inlet, RemoteEnv};
use crate::runtime::actix::env::TaskEnv;
use crate::runtime::actix::{BoltFactory, BoltTask, SpoutFactory, SpoutTask, Wake};
use crate::runtime::control::acker::{AckOps, TreeDone};
use crate::runtime::observability::stats::TaskEvent;
use crate::transport::message::{Control, Credit, Restart};
use crate::window::Watermarks;
use crate::Config;

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
    /// A distributed run's part: which tasks run here and how to reach the others.
    pub remote: Option<Arc<RemoteEnv>>,
}

impl LaunchEnv {
    /// True when task `task` of component `node` runs in this process.
    fn is_local(&self, node: usize, task: usize) -> bool {
        self.remote.as_ref().is_none_or(|r| r.is_local(node, task))
    }

    /// The credit and control addresses of a task that runs in another process.
    fn proxies(&self, node: usize, task: usize) -> (Recipient<Credit>, Recipient<Control>) {
        let remote = self
            .remote
            .as_ref()
            .expect("invariant: only a distributed part has tasks in other processes");
        remote.proxies(&worker_handle(self, 0), node, task)
    }
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
    fn streams(&self) -> &[StreamDecl];
    fn streams_mut(&mut self) -> &mut Vec<StreamDecl>;
    /// Declares one more named output stream; `Err` holds the type the name already has when
    /// that differs.
    fn declare_stream(&mut self, decl: StreamDecl) -> Result<(), &'static str> {
        let output = self.output_type();
        streams::declare(self.streams_mut(), output, decl)
    }
    /// The type stream `name` carries; `None` when it was never declared.
    fn stream_type(&self, name: &str) -> Option<(TypeId, &'static str)> {
        streams::stream_type(self.streams(), self.output_type(), name)
    }
    /// Spouts: sets the watermark generation, a `Watermarks<Output>`; false when this node
    /// is a bolt or the type differs.
    fn set_watermarks(&mut self, spec: Box<dyn Any>) -> bool {
        let _ = spec;
        false
    }
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Starts every task on its worker; tasks wait for their wiring.
    fn start(&self, env: &LaunchEnv, node: usize, workers: Vec<usize>) -> Started;
    /// The edge of input `input`, as its producer needs it (an
    /// [`AnyEdge`](super::streams::AnyEdge)).
    fn edge_spec(
        &self,
        started: &Started,
        input: usize,
        link_base: u32,
        remote: Option<(&RemoteEnv, u32)>,
    ) -> Box<dyn Any + Send>;
    /// Per input link of local task `task`, what delivers data frames from another process
    /// to it (empty for spouts and tasks in other processes).
    fn inlets(&self, started: &Started, task: usize, links: &[InputLink]) -> Vec<Inlet> {
        let _ = (started, task, links);
        Vec::new()
    }
    /// Sends each local task its outgoing edges (the `AnyEdge`s of every subscription to it,
    /// in the order credits name them), input links, and what to restore before it runs.
    fn wire(
        &self,
        started: &Started,
        edges: Vec<Box<dyn Any + Send>>,
        inputs: Vec<Vec<InputLink>>,
        restore: &dyn Fn(usize) -> Option<Restart>,
    );
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
            counters: Default::default(),
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

/// Every task's credit and control address: its own for a task here, a forwarder for a task
/// in another process.
fn addresses<A>(
    env: &LaunchEnv,
    node: usize,
    addrs: &[Option<Addr<A>>],
) -> (Vec<Recipient<Credit>>, Vec<Recipient<Control>>)
where
    A: Actor<Context = actix::Context<A>> + actix::Handler<Credit> + actix::Handler<Control>,
{
    addrs
        .iter()
        .enumerate()
        .map(|(task, a)| match a {
            Some(a) => (a.clone().recipient(), a.clone().recipient()),
            None => env.proxies(node, task),
        })
        .unzip()
}

/// A declared spout.
pub(crate) struct SpoutNode<S: Spout> {
    pub id: Arc<str>,
    pub parallelism: usize,
    pub factory: SpoutFactory<S>,
    pub streams: Vec<StreamDecl>,
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
    fn streams(&self) -> &[StreamDecl] {
        &self.streams
    }
    fn streams_mut(&mut self) -> &mut Vec<StreamDecl> {
        &mut self.streams
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
        let addrs: Vec<Option<Addr<SpoutTask<S>>>> = workers
            .iter()
            .enumerate()
            .map(|(task, &worker)| {
                if !env.is_local(node, task) {
                    return None;
                }
                let mut tenv = task_env(env, &self.id, node, task, self.parallelism, worker);
                let factory = self.factory.clone();
                let watermarks = self.watermarks.clone();
                Some(SpoutTask::start_in_arbiter(
                    &worker_handle(env, worker),
                    move |ctx| {
                        // Weak: the task holds its own waker, which must not keep it alive.
                        let me = ctx.address().downgrade();
                        tenv.ctx.waker = Some(SpoutWaker::new(move || {
                            if let Some(task) = me.upgrade() {
                                task.do_send(Wake);
                            }
                        }));
                        SpoutTask::new(tenv, factory, watermarks)
                    },
                ))
            })
            .collect();
        let (credit, control) = addresses(env, node, &addrs);
        Started {
            credit,
            control,
            tree_done: addrs
                .iter()
                .flatten()
                .map(|a| a.clone().recipient())
                .collect(),
            addrs: Box::new(addrs),
            workers,
        }
    }

    fn edge_spec(
        &self,
        _: &Started,
        _: usize,
        _: u32,
        _: Option<(&RemoteEnv, u32)>,
    ) -> Box<dyn Any + Send> {
        Box::new(())
    }

    fn wire(
        &self,
        started: &Started,
        edges: Vec<Box<dyn Any + Send>>,
        _: Vec<Vec<InputLink>>,
        restore: &dyn Fn(usize) -> Option<Restart>,
    ) {
        let (edges, sides) = streams::split_edges::<S::Output>(edges, &self.streams);
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Option<Addr<SpoutTask<S>>>>>()
            .expect("invariant: a spout node's Started holds the addresses its start() made");
        for (task, addr) in addrs.iter().enumerate() {
            let Some(addr) = addr else { continue };
            addr.do_send(Wire {
                edges: edges.clone(),
                sides: sides.iter().map(|s| s.clone_box()).collect(),
                inputs: Vec::new(),
                restore: restore(task),
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
    pub streams: Vec<StreamDecl>,
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
    fn streams(&self) -> &[StreamDecl] {
        &self.streams
    }
    fn streams_mut(&mut self) -> &mut Vec<StreamDecl> {
        &mut self.streams
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn start(&self, env: &LaunchEnv, node: usize, workers: Vec<usize>) -> Started {
        let chaos_memory = crate::runtime::core::chaos::ChaosMemory::default();
        let addrs: Vec<Option<Addr<BoltTask<B>>>> = workers
            .iter()
            .enumerate()
            .map(|(task, &worker)| {
                if !env.is_local(node, task) {
                    return None;
                }
                let tenv = task_env(env, &self.id, node, task, self.parallelism, worker);
                let factory = self.factory.clone();
                let memory = chaos_memory.clone();
                Some(BoltTask::start_in_arbiter(
                    &worker_handle(env, worker),
                    move |_| BoltTask::new(tenv, factory, memory),
                ))
            })
            .collect();
        let (credit, control) = addresses(env, node, &addrs);
        Started {
            credit,
            control,
            tree_done: Vec::new(),
            addrs: Box::new(addrs),
            workers,
        }
    }

    fn edge_spec(
        &self,
        started: &Started,
        input: usize,
        link_base: u32,
        remote: Option<(&RemoteEnv, u32)>,
    ) -> Box<dyn Any + Send> {
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Option<Addr<BoltTask<B>>>>>()
            .map_or(&[][..], |a| &a[..]);
        self.inputs[input].edge(addrs, started.workers.clone(), link_base, remote)
    }

    fn inlets(&self, started: &Started, task: usize, links: &[InputLink]) -> Vec<Inlet> {
        let addr = started
            .addrs
            .downcast_ref::<Vec<Option<Addr<BoltTask<B>>>>>()
            .and_then(|a| a.get(task).cloned().flatten());
        let Some(addr) = addr else {
            return Vec::new();
        };
        links
            .iter()
            .map(|l| self.inputs[l.subscription].inlet(&addr))
            .collect()
    }

    fn wire(
        &self,
        started: &Started,
        edges: Vec<Box<dyn Any + Send>>,
        inputs: Vec<Vec<InputLink>>,
        restore: &dyn Fn(usize) -> Option<Restart>,
    ) {
        let (edges, sides) = streams::split_edges::<B::Output>(edges, &self.streams);
        let addrs = started
            .addrs
            .downcast_ref::<Vec<Option<Addr<BoltTask<B>>>>>()
            .expect("invariant: a bolt node's Started holds the addresses its start() made");
        for (task, (addr, inputs)) in addrs.iter().zip(inputs).enumerate() {
            let Some(addr) = addr else { continue };
            let converts = self.link_converts(&inputs);
            addr.do_send(WireBolt {
                wire: Wire {
                    edges: edges.clone(),
                    sides: sides.iter().map(|s| s.clone_box()).collect(),
                    inputs,
                    restore: restore(task),
                },
                converts,
            });
        }
    }
}
