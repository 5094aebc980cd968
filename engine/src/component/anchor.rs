//! Anchors: an input tuple's place in the tuple trees it belongs to (Storm's message id).

/// A handle on one input tuple, for bolts that ack it later than `execute` returns or that
/// anchor an emit to several inputs (multi-anchoring, as in a join).
///
/// Take it with [`crate::BoltCollector::anchor`]; emit with
/// [`crate::BoltCollector::emit_anchored`]; finish it with exactly one
/// [`crate::BoltCollector::ack`] or [`crate::BoltCollector::fail`]. An anchor that is never
/// acked fails its trees when the message timeout passes. Without acking (at-most-once,
/// exactly-once) anchors are empty and acking them does nothing.
#[derive(Debug, Default)]
pub struct Anchor {
    /// (root, edge) pairs of the input tuple.
    pub(crate) ids: Vec<(u64, u64)>,
    /// XOR of the edge ids of the tuples anchored to it so far.
    pub(crate) ack_val: u64,
}

impl Anchor {
    pub(crate) fn new(ids: &[(u64, u64)]) -> Self {
        Anchor {
            ids: ids.to_vec(),
            ack_val: 0,
        }
    }

    /// True when the tuple belongs to no tracked tree.
    pub fn is_untracked(&self) -> bool {
        self.ids.is_empty()
    }
}
