//! Starting a topology's tasks and wiring them together.
//!
//! Tasks start first (each on its worker, placed round-robin in topological order), then every
//! task receives one `Wire` message with its consumers' addresses and its producers' credit
//! addresses, consumers before their producers. A task does nothing before its wiring, so no
//! tuple can reach an unwired task, and whatever `before_wire` sets up (the ackers' table of
//! spout tasks) is in place before the first tuple exists.

use std::any::Any;
use std::collections::HashMap;

use super::node::{LaunchEnv, Started};
use super::wire::InputLink;
use crate::component::Source;
use crate::distributed::{LinkInlet, TaskIndex};
use crate::transport::message::{Credit, Restart};
use crate::Topology;

/// The started nodes (in declaration order) and, in a distributed part, per local bolt task
/// how frames from other processes reach it (one entry per input link).
pub(crate) struct Launched {
    pub started: Vec<Started>,
    pub inlets: Vec<(TaskIndex, Vec<LinkInlet>)>,
}

/// Starts every task (every local one, in a distributed part), calls `before_wire` with the
/// started nodes (in declaration order), then wires them, each with what `restore` gives for
/// it (component, task).
pub(crate) fn launch(
    topology: &Topology,
    env: &LaunchEnv,
    before_wire: impl FnOnce(&[Started]),
    restore: &dyn Fn(usize, usize) -> Option<Restart>,
) -> Launched {
    let nodes = &topology.nodes;
    let workers = env.workers.len().max(1);
    let mut started: Vec<Option<Started>> = nodes.iter().map(|_| None).collect();
    let mut next_worker = 0;
    for &i in &topology.order {
        let p = nodes[i].parallelism();
        let placement = (0..p).map(|k| (next_worker + k) % workers).collect();
        next_worker = (next_worker + p) % workers;
        started[i] = Some(nodes[i].start(env, i, placement));
    }
    // `order` holds every node (build() checked), so every node started.
    let started: Vec<Started> = started.into_iter().flatten().collect();
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id(), i)).collect();

    let mut outgoing: Vec<Vec<Box<dyn Any + Send>>> = nodes.iter().map(|_| Vec::new()).collect();
    let mut inputs: Vec<Vec<Vec<InputLink>>> = nodes
        .iter()
        .map(|n| vec![Vec::new(); n.parallelism()])
        .collect();
    for (c, consumer) in nodes.iter().enumerate() {
        let mut link_base = 0u32;
        for (s, info) in consumer.inputs().iter().enumerate() {
            let &p = index
                .get(info.component.as_ref())
                .expect("invariant: build() rejected subscriptions to unknown components");
            let edge = outgoing[p].len() as u32;
            let remote = env.remote.as_deref().map(|r| (r, r.base(c)));
            outgoing[p].push(consumer.edge_spec(&started[c], s, link_base, remote));
            let producer_id: std::sync::Arc<str> = nodes[p].id().into();
            for (ct, links) in inputs[c].iter_mut().enumerate() {
                for (pt, credit_to) in started[p].credit.iter().enumerate() {
                    links.push(InputLink {
                        subscription: s,
                        credit_to: credit_to.clone(),
                        credit: Credit {
                            edge,
                            target: ct as u32,
                        },
                        source: Source {
                            component: producer_id.clone(),
                            stream: info.stream.clone(),
                            task: pt,
                        },
                    });
                }
            }
            link_base += nodes[p].parallelism() as u32;
        }
    }
    let mut inlets = Vec::new();
    if let Some(remote) = &env.remote {
        for (c, node) in nodes.iter().enumerate() {
            for (task, links) in inputs[c].iter().enumerate() {
                let made = node.inlets(&started[c], task, links);
                if made.is_empty() {
                    continue;
                }
                let with_keys = made
                    .into_iter()
                    .zip(links)
                    .map(|(inlet, l)| {
                        let p = index.get(l.source.component.as_ref()).copied().unwrap_or(0);
                        let producer = remote.base(p) + l.source.task as u32;
                        LinkInlet {
                            inlet,
                            producer,
                            credit: l.credit,
                        }
                    })
                    .collect();
                inlets.push((remote.base(c) + task as u32, with_keys));
            }
        }
    }
    before_wire(&started);
    // Consumers first: a task's wiring is in its mailbox before any producer of its input is
    // wired, so no input can arrive ahead of it (a two-input bolt converts each arrival with
    // what its wiring brings).
    for &i in topology.order.iter().rev() {
        let node = &nodes[i];
        let edges = std::mem::take(&mut outgoing[i]);
        let links = std::mem::take(&mut inputs[i]);
        node.wire(&started[i], edges, links, &|task| restore(i, task));
    }
    Launched { started, inlets }
}
