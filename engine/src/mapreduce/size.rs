//! What map output records are made of, and how much memory they take in the sort buffer.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bytes a value owns on the heap, beyond its `size_of`. The sort buffer adds it up to decide
/// when to spill, as Hadoop measures its `io.sort.mb` buffer in bytes rather than records; an
/// estimate is enough (allocator overhead is not counted).
pub trait HeapSize {
    /// Heap bytes owned by `self`.
    fn heap_size(&self) -> usize;
}

macro_rules! no_heap {
    ($($t:ty),*) => {$(
        impl HeapSize for $t {
            #[inline]
            fn heap_size(&self) -> usize {
                0
            }
        }
    )*};
}

no_heap!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    ()
);

impl HeapSize for String {
    #[inline]
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl HeapSize for PathBuf {
    fn heap_size(&self) -> usize {
        self.as_os_str().len()
    }
}

impl<T: HeapSize> HeapSize for Vec<T> {
    fn heap_size(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>() + self.iter().map(T::heap_size).sum::<usize>()
    }
}

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_size(&self) -> usize {
        self.as_ref().map_or(0, T::heap_size)
    }
}

impl<K: HeapSize, V: HeapSize> HeapSize for BTreeMap<K, V> {
    fn heap_size(&self) -> usize {
        // A B-tree node holds up to 11 entries; count each entry once plus a node header share.
        self.iter()
            .map(|(k, v)| std::mem::size_of::<(K, V)>() + 8 + k.heap_size() + v.heap_size())
            .sum()
    }
}

impl<A: HeapSize, B: HeapSize> HeapSize for (A, B) {
    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size()
    }
}

impl<A: HeapSize, B: HeapSize, C: HeapSize> HeapSize for (A, B, C) {
    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size() + self.2.heap_size()
    }
}

/// A map output key: sortable (reducers see keys in `Ord` order), hashable (partitioning and
/// the combiner's table), MessagePack-serializable (spilled runs). Implemented for every type
/// that qualifies.
pub trait Key:
    Ord + Hash + Clone + Serialize + DeserializeOwned + HeapSize + Send + 'static
{
}

impl<T: Ord + Hash + Clone + Serialize + DeserializeOwned + HeapSize + Send + 'static> Key for T {}

/// A map output value: MessagePack-serializable (spilled runs). Implemented for every type that
/// qualifies.
pub trait Value: Serialize + DeserializeOwned + HeapSize + Send + 'static {}

impl<T: Serialize + DeserializeOwned + HeapSize + Send + 'static> Value for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_owned_heap_bytes() {
        assert_eq!(7u64.heap_size(), 0);
        let s = String::with_capacity(10);
        assert_eq!(s.heap_size(), 10);
        let v: Vec<u32> = Vec::with_capacity(4);
        assert_eq!(v.heap_size(), 16);
        let pair = (String::from("ab"), 1u64);
        assert!(pair.heap_size() >= 2);
    }
}
