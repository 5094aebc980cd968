//! Named output streams, each typed by its declaration, behind one object-safe trait so a
//! task's outbox can hold streams of types other than its component's `Output`.
//!
//! Only the operations that touch every link (flush, watermarks, barriers, end-of-stream,
//! credits, rollback) go through the trait: once per batch or control payload, never per
//! tuple. An emit reaches its stream's [`StreamOut`] by one downcast, a type id comparison.

use std::any::Any;

use super::lane::Shared;
use super::stream_out::{Ctl, StreamOut};
use crate::component::Tuple;

/// A named output stream of any tuple type: a `StreamOut<U>`, type-erased.
pub(crate) trait AnySide: Send {
    /// The stream's name.
    fn name(&self) -> &str;
    /// The `StreamOut<U>` itself, to downcast for an emit.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The producer-wide indexes of this stream's edges, in the stream's own order.
    fn edge_ids(&self) -> Vec<u32>;
    fn sync_watermark(&mut self, shared: &Shared);
    fn flush(&mut self, shared: &mut Shared);
    fn control(&mut self, gen: u64, ctl: Ctl);
    fn reset(&mut self);
    fn credit(&mut self, local: usize, target: u32, shared: &mut Shared) -> bool;
    #[cfg(test)]
    fn pending(&self) -> usize;
}

impl<U: Tuple> AnySide for StreamOut<U> {
    fn name(&self) -> &str {
        &self.name
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn edge_ids(&self) -> Vec<u32> {
        self.edges.iter().map(|e| e.id).collect()
    }
    fn sync_watermark(&mut self, shared: &Shared) {
        StreamOut::sync_watermark(self, shared);
    }
    fn flush(&mut self, shared: &mut Shared) {
        StreamOut::flush(self, shared);
    }
    fn control(&mut self, gen: u64, ctl: Ctl) {
        StreamOut::control(self, gen, ctl);
    }
    fn reset(&mut self) {
        StreamOut::reset(self);
    }
    fn credit(&mut self, local: usize, target: u32, shared: &mut Shared) -> bool {
        StreamOut::credit(self, local, target, shared)
    }
    #[cfg(test)]
    fn pending(&self) -> usize {
        StreamOut::pending(self)
    }
}
