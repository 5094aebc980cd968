//! A bolt's subscriptions as the launch sees them: to which producer and stream, with which
//! grouping, and how a producer's tuple becomes the bolt's input, each with its types erased
//! so that the bolt's node can hold subscriptions to producers of different types.

use std::any::{Any, TypeId};
use std::sync::Arc;

use actix::Addr;

use super::streams::AnyEdge;
use super::wire::{EdgeSpec, Target};
use crate::component::{Bolt, Tuple};
use crate::distributed::{Inlet, RemoteEnv};
use crate::runtime::actix::BoltTask;
use crate::topology::Grouping;
use crate::transport::message::Inbound;

/// Turns a producer's tuple into the bolt's input (a two-input bolt's side), per link.
pub(crate) type Convert<X, I> = Arc<dyn Fn(X) -> I + Send + Sync>;

/// Builds the edge a producer needs to reach the bolt's tasks: an [`AnyEdge`] holding an
/// `EdgeSpec<X>` for a stream of `X`, boxed. A task without an address runs in another
/// process: the edge reaches it through the remote environment, where it has flat index
/// `base + task`.
type MakeEdge<B> = Box<
    dyn Fn(
            &[Option<Addr<BoltTask<B>>>],
            Vec<usize>,
            u32,
            Option<(&RemoteEnv, u32)>,
        ) -> Box<dyn Any + Send>
        + Send
        + Sync,
>;

/// Builds what takes data frames from a producer of `X` in another process to a bolt task.
type MakeInlet<B> = Box<dyn Fn(&Addr<BoltTask<B>>) -> Inlet + Send + Sync>;

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
    make_inlet: MakeInlet<B>,
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
            make_edge: Box::new(move |addrs, target_workers, link_base, remote| {
                let targets = addrs
                    .iter()
                    .enumerate()
                    .map(|(task, a)| match (a, remote) {
                        (Some(a), _) => Target::Local(a.clone().recipient()),
                        (None, Some((env, base))) => Target::Remote {
                            task: base + task as u32,
                            fabric: env.fabric.clone(),
                        },
                        (None, None) => unreachable!("a task without an address is remote"),
                    })
                    .collect();
                Box::new(AnyEdge {
                    stream: edge_stream.clone(),
                    spec: Box::new(EdgeSpec::<X> {
                        grouping: grouping.clone(),
                        targets,
                        target_workers,
                        link_base,
                    }),
                })
            }),
            make_inlet: Box::new(|addr| {
                let to: actix::Recipient<Inbound<X>> = addr.clone().recipient();
                crate::distributed::inlet(to)
            }),
            convert: convert.map(|c| Arc::new(c) as Arc<dyn Any + Send + Sync>),
        }
    }

    /// The edge a producer needs to reach the bolt's tasks at `addrs` (`None`: the task runs
    /// in another process, reached through `remote` at flat index `base + task`).
    pub(super) fn edge(
        &self,
        addrs: &[Option<Addr<BoltTask<B>>>],
        target_workers: Vec<usize>,
        link_base: u32,
        remote: Option<(&RemoteEnv, u32)>,
    ) -> Box<dyn Any + Send> {
        (self.make_edge)(addrs, target_workers, link_base, remote)
    }

    /// What takes this subscription's data frames from another process to the task at `addr`.
    pub(super) fn inlet(&self, addr: &Addr<BoltTask<B>>) -> Inlet {
        (self.make_inlet)(addr)
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
