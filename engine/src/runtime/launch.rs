//! Starting a topology's tasks and wiring them together.
//!
//! Tasks start first (each on its worker, placed round-robin in topological order), then every
//! task receives one `Wire` message with its consumers' addresses and its producers' credit
//! addresses. A task does nothing before its wiring, so no tuple can reach an unwired task's
//! output.

use std::any::Any;
use std::collections::HashMap;

use super::node::{LaunchEnv, Started};
use super::wire::InputLink;
use crate::component::Source;
use crate::transport::message::Credit;
use crate::{RunError, Topology};

/// Starts and wires every task; returns the started nodes in declaration order.
pub(crate) fn launch(topology: &Topology, env: &LaunchEnv) -> Result<Vec<Started>, RunError> {
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
    let started: Vec<Started> = started.into_iter().flatten().collect();
    if started.len() != nodes.len() {
        return Err(RunError::Runtime("a component was not started".into()));
    }
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id(), i)).collect();

    let mut outgoing: Vec<Vec<Box<dyn Any + Send>>> = nodes.iter().map(|_| Vec::new()).collect();
    let mut inputs: Vec<Vec<Vec<InputLink>>> = nodes
        .iter()
        .map(|n| vec![Vec::new(); n.parallelism()])
        .collect();
    for (c, consumer) in nodes.iter().enumerate() {
        let mut link_base = 0u32;
        for (s, info) in consumer.inputs().iter().enumerate() {
            let &p = index.get(info.component.as_ref()).ok_or_else(|| {
                RunError::Runtime(format!("unknown component `{}`", info.component))
            })?;
            let edge = outgoing[p].len() as u32;
            outgoing[p].push(consumer.edge_spec(&started[c], s, link_base));
            let producer_id: std::sync::Arc<str> = nodes[p].id().into();
            for (ct, links) in inputs[c].iter_mut().enumerate() {
                for (pt, credit_to) in started[p].credit.iter().enumerate() {
                    links.push(InputLink {
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
    for (i, node) in nodes.iter().enumerate() {
        let edges = std::mem::take(&mut outgoing[i]);
        let links = std::mem::take(&mut inputs[i]);
        node.wire(&started[i], edges, links)?;
    }
    Ok(started)
}
