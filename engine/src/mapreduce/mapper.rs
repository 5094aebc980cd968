//! The map side of a job as users write it: [`Mapper`] and the optional [`Combiner`].

use std::path::Path;

use super::{Key, MapOutput, Value};
use crate::ComponentError;

/// One input record of a text input split (Hadoop's `TextInputFormat`): a line without its
/// `\n` or `\r\n`, where it starts, and which file it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The input file.
    pub path: &'a Path,
    /// Byte offset in the file where the line starts.
    pub offset: u64,
    /// The line's text.
    pub line: &'a str,
}

/// Turns input records into `(key, value)` pairs (Hadoop's `Mapper`). One instance runs per
/// map task attempt, built by the job's factory, so a retried attempt starts from a fresh one.
///
/// ```
/// use squall::mapreduce::{MapOutput, Mapper, Record};
///
/// /// Emits `(line length, 1)` for every line.
/// struct Lengths;
/// impl Mapper for Lengths {
///     type Key = u64;
///     type Value = u64;
///     fn map(&mut self, r: Record<'_>, out: &mut MapOutput<'_, u64, u64>) -> Result<(), squall::ComponentError> {
///         out.emit(r.line.len() as u64, 1)?;
///         Ok(())
///     }
/// }
/// ```
pub trait Mapper: 'static {
    /// The type of the keys it emits.
    type Key: Key;
    /// The type of the values it emits.
    type Value: Value;

    /// Maps one record. An error (or a panic) fails the attempt, which is retried.
    fn map(
        &mut self,
        record: Record<'_>,
        out: &mut MapOutput<'_, Self::Key, Self::Value>,
    ) -> Result<(), ComponentError>;

    /// Called once after the last record of the attempt's split, before the output is committed
    /// (in-mapper combining flushes here).
    fn cleanup(
        &mut self,
        out: &mut MapOutput<'_, Self::Key, Self::Value>,
    ) -> Result<(), ComponentError> {
        let _ = out;
        Ok(())
    }
}

/// Combines the values of one key on the map side before they are spilled and shuffled
/// (Hadoop's combiner, Lin & Dyer's "mini-reducer").
///
/// Hadoop's contract holds: the combiner may run zero, one or several times on any subset of a
/// key's values, so it must be associative and commutative in effect (a sum, a max, a union).
/// Unlike Hadoop's, it cannot change the key: it replaces the values in place, which keeps the
/// partitioning and sort order right by construction and costs no allocation.
///
/// ```
/// use squall::mapreduce::Combiner;
///
/// struct Sum;
/// impl Combiner<String, u64> for Sum {
///     fn combine(&mut self, _: &String, values: &mut Vec<u64>) -> Result<(), squall::ComponentError> {
///         let total = values.drain(..).sum();
///         values.push(total);
///         Ok(())
///     }
/// }
/// ```
pub trait Combiner<K, V>: 'static {
    /// Replaces `values` (at least two, all of `key`) with their combination.
    fn combine(&mut self, key: &K, values: &mut Vec<V>) -> Result<(), ComponentError>;

    /// Optional fast path: folds `value` into `acc`, the key's only pending value, and returns
    /// `None`; or returns the value untouched (the default) to go through [`Combiner::combine`].
    /// A sum implements it as `*acc += value; None`, which spares the buffer a call with a
    /// vector on every record.
    fn merge(&mut self, key: &K, acc: &mut V, value: V) -> Option<V> {
        let _ = (key, acc);
        Some(value)
    }
}
