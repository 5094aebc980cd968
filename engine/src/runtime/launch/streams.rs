//! Named output streams from declaration to wiring: each keeps the type it was declared with,
//! so a component can emit tuples of other types than its `Output` on them.
//!
//! The builder records a [`StreamDecl`] per named stream. At launch every subscription's edge
//! comes to its producer as an [`AnyEdge`] (the stream's name and the typed `EdgeSpec`); the
//! producer's node sorts them by stream once ([`split_edges`]), and each task builds one
//! typed outbox stream per declared name. Emits then reach their stream's edges directly:
//! nothing is looked up by name in the routing, and nothing is allocated per tuple.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::wire::EdgeSpec;
use crate::component::Tuple;
use crate::runtime::core::{AnySide, StreamOut};
use crate::topology::DEFAULT_STREAM;

/// One subscription's edge as the launcher hands it to the producer: the stream subscribed to,
/// and the `EdgeSpec<X>` for that stream's type `X`, boxed.
pub(crate) struct AnyEdge {
    pub stream: Arc<str>,
    pub spec: Box<dyn Any + Send>,
}

/// An edge with its index among all of the producer's edges (what credits name), untyped.
type NumberedEdge = (u32, Box<dyn Any + Send>);

/// Takes a named stream's edges to their typed form.
type CollectFn = fn(Arc<str>, Vec<NumberedEdge>) -> Box<dyn SideSpec>;

/// The default stream's edges of a producer of `T`, each with its producer-wide index.
pub(crate) type DefaultEdges<T> = Vec<(u32, EdgeSpec<T>)>;

/// A named output stream a component declared, with its type.
pub(crate) struct StreamDecl {
    pub name: Arc<str>,
    pub type_id: TypeId,
    pub type_name: &'static str,
    /// Takes the stream's edges (each with its producer-wide index) to their typed form.
    collect: CollectFn,
}

impl StreamDecl {
    /// The declaration of stream `name`, carrying `U`.
    pub(crate) fn of<U: Tuple>(name: Arc<str>) -> Self {
        StreamDecl {
            name,
            type_id: TypeId::of::<U>(),
            type_name: std::any::type_name::<U>(),
            collect: collect::<U>,
        }
    }
}

fn collect<U: Tuple>(name: Arc<str>, edges: Vec<NumberedEdge>) -> Box<dyn SideSpec> {
    let edges = edges
        .into_iter()
        .map(|(id, e)| {
            let spec = e
                .downcast::<EdgeSpec<U>>()
                .expect("invariant: build() checked that every edge carries its stream's type");
            (id, *spec)
        })
        .collect();
    Box::new(SideEdges::<U> { name, edges })
}

/// Records `decl` among a component's named streams (`output`: the component's `Output`
/// type). Declaring a stream again with the same type changes nothing; with another type, or
/// declaring the default stream with a type other than `Output`, is refused with the type it
/// already has.
pub(crate) fn declare(
    decls: &mut Vec<StreamDecl>,
    output: (TypeId, &'static str),
    decl: StreamDecl,
) -> Result<(), &'static str> {
    let existing = if &*decl.name == DEFAULT_STREAM {
        Some(output)
    } else {
        decls
            .iter()
            .find(|d| d.name == decl.name)
            .map(|d| (d.type_id, d.type_name))
    };
    match existing {
        Some((id, _)) if id == decl.type_id => Ok(()),
        Some((_, name)) => Err(name),
        None => {
            decls.push(decl);
            Ok(())
        }
    }
}

/// The type stream `name` carries: `output` for the default stream, the declared type for a
/// named one; `None` when the component never declared it.
pub(crate) fn stream_type(
    decls: &[StreamDecl],
    output: (TypeId, &'static str),
    name: &str,
) -> Option<(TypeId, &'static str)> {
    if name == DEFAULT_STREAM {
        return Some(output);
    }
    decls
        .iter()
        .find(|d| &*d.name == name)
        .map(|d| (d.type_id, d.type_name))
}

/// A named stream's edges, as every task of the producer receives them.
pub(crate) trait SideSpec: Send {
    fn clone_box(&self) -> Box<dyn SideSpec>;
    /// The stream as producer task `task` (on `worker`) sends on it; each link starts with
    /// `credits` batches of credit.
    fn build(self: Box<Self>, task: usize, worker: usize, credits: usize) -> Box<dyn AnySide>;
}

struct SideEdges<U: Tuple> {
    name: Arc<str>,
    edges: Vec<(u32, EdgeSpec<U>)>,
}

impl<U: Tuple> SideSpec for SideEdges<U> {
    fn clone_box(&self) -> Box<dyn SideSpec> {
        Box::new(SideEdges {
            name: self.name.clone(),
            edges: self.edges.clone(),
        })
    }

    fn build(self: Box<Self>, task: usize, worker: usize, credits: usize) -> Box<dyn AnySide> {
        let edges = self
            .edges
            .into_iter()
            .map(|(id, e)| e.into_out_edge(task, id))
            .collect();
        Box::new(StreamOut::new(self.name, edges, task, worker, credits))
    }
}

/// A producer's edges (in launch order: their index is what credits name), sorted by stream:
/// the default stream's, typed by the component's output `T`, and one [`SideSpec`] per
/// declared named stream, in declaration order (with no edge when nobody subscribed).
pub(crate) fn split_edges<T: Tuple>(
    edges: Vec<Box<dyn Any + Send>>,
    decls: &[StreamDecl],
) -> (DefaultEdges<T>, Vec<Box<dyn SideSpec>>) {
    let mut main = Vec::new();
    let mut named: Vec<Vec<NumberedEdge>> = decls.iter().map(|_| Vec::new()).collect();
    for (id, edge) in edges.into_iter().enumerate() {
        let edge = edge
            .downcast::<AnyEdge>()
            .expect("invariant: every subscription's edge is an AnyEdge");
        let id = id as u32;
        match decls.iter().position(|d| d.name == edge.stream) {
            Some(k) => named[k].push((id, edge.spec)),
            None => {
                let spec = edge.spec.downcast::<EdgeSpec<T>>().expect(
                    "invariant: build() checked that every subscription reads a declared stream \
                     of its type",
                );
                main.push((id, *spec));
            }
        }
    }
    let sides = decls
        .iter()
        .zip(named)
        .map(|(d, edges)| (d.collect)(d.name.clone(), edges))
        .collect();
    (main, sides)
}
