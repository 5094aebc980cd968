//! A key's pending values in a combining sort buffer, and the combiner call that folds them.

use std::mem::size_of;

use super::{Combiner, Counters, JobError, Value};

/// Values a key may gather in a combining buffer before the combiner folds them.
pub const COMBINE_AT: usize = 8;

/// A key's pending values. The common case after combining, one value, is held inline: a
/// lookup then touches the table entry and the key, and no third allocation (the hot path of
/// a word count is this lookup, and a compact table stays in cache).
pub(crate) enum Pending<V> {
    One(V),
    /// Boxed on purpose: the extra allocation is rare (a key with values the combiner cannot
    /// fold into one) and keeps the enum, and every table entry, one word larger than `V`.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<V>>),
    /// Transient, while a value is being folded.
    Empty,
}

/// A heap allocation of `n` bytes as the allocator sees it (16-byte chunks, 32 at least).
pub(crate) fn chunk(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

impl<V: Value> Pending<V> {
    pub(crate) fn values(&self) -> &[V] {
        match self {
            Pending::One(v) => std::slice::from_ref(v),
            Pending::Many(vs) => vs,
            Pending::Empty => &[],
        }
    }

    /// Heap bytes owned by the values, as the buffer counts them.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Pending::One(v) => chunk(v.heap_size()),
            Pending::Empty => 0,
            Pending::Many(vs) => {
                chunk(size_of::<Vec<V>>())
                    + chunk(vs.capacity() * size_of::<V>())
                    + vs.iter().map(|v| chunk(v.heap_size())).sum::<usize>()
            }
        }
    }

    /// Adds a value; folds with the combiner when the key holds one value already (so a count
    /// stays one inline value) or has gathered [`COMBINE_AT`]. Returns the change in bytes:
    /// folding into a single value is charged the incoming value's bytes without measuring the
    /// accumulator (an upper bound, in O(1), where measuring a growing stripe on every record
    /// would be quadratic); folding a vector measures it, at most every [`COMBINE_AT`] values.
    pub(crate) fn push<K: 'static>(
        &mut self,
        key: &K,
        value: V,
        combiner: &mut dyn Combiner<K, V>,
        scratch: &mut Vec<V>,
        counters: &mut Counters,
    ) -> Result<isize, JobError> {
        let incoming = chunk(value.heap_size()) as isize;
        match self {
            Pending::One(acc) => {
                let Some(value) = combiner.merge(key, acc, value) else {
                    counters.combine_input_records += 2;
                    counters.combine_output_records += 1;
                    return Ok(incoming);
                };
                let Pending::One(old) = std::mem::replace(self, Pending::Empty) else {
                    return Ok(0);
                };
                scratch.clear();
                scratch.push(old);
                scratch.push(value);
                fold(combiner, key, scratch, counters)?;
                *self = match scratch.len() {
                    1 => scratch.pop().map_or(Pending::Empty, Pending::One),
                    _ => Pending::Many(Box::new(std::mem::take(scratch))),
                };
                Ok(incoming + chunk(2 * size_of::<V>()) as isize)
            }
            Pending::Empty => {
                *self = Pending::One(value);
                Ok(incoming)
            }
            Pending::Many(vs) => {
                vs.push(value);
                if vs.len() < COMBINE_AT {
                    return Ok(incoming);
                }
                let before = self.bytes() as isize;
                if let Pending::Many(vs) = self {
                    fold(combiner, key, vs, counters)?;
                    if vs.len() == 1 {
                        if let Some(v) = vs.pop() {
                            *self = Pending::One(v);
                        }
                    }
                }
                Ok(incoming + self.bytes() as isize - before)
            }
        }
    }

    /// Folds what is left before a spill; the values to write.
    pub(crate) fn settle<K: 'static>(
        &mut self,
        key: &K,
        combiner: &mut dyn Combiner<K, V>,
        counters: &mut Counters,
    ) -> Result<&[V], JobError> {
        if let Pending::Many(vs) = self {
            if vs.len() > 1 {
                fold(combiner, key, vs, counters)?;
            }
        }
        Ok(self.values())
    }
}

/// Calls the combiner on `values`, counting its input and output.
fn fold<K: 'static, V: 'static>(
    combiner: &mut dyn Combiner<K, V>,
    key: &K,
    values: &mut Vec<V>,
    counters: &mut Counters,
) -> Result<(), JobError> {
    counters.combine_input_records += values.len() as u64;
    combiner
        .combine(key, values)
        .map_err(|e| JobError::Spill(format!("combiner failed: {e}")))?;
    counters.combine_output_records += values.len() as u64;
    Ok(())
}
