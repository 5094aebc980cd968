//! Components from closures and collections: what tests and small pipelines want without a
//! struct and a trait impl each.
//!
//! - [`Map`], [`Filter`], [`FlatMap`]: bolts from closures.
//! - [`VecSpout`]: a bounded spout over the items of a `Vec` (or any iterator, collected).
//! - [`Collect`]: a sink gathering what it receives into a shared `Vec`, for tests.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::{Bolt, BoltCollector, Spout, SpoutCollector, Tuple};
use crate::ComponentError;

/// A bolt emitting `f(input)` for every input (`set_bolt("m", 2, move || Map::new(f))`,
/// with `f` a `Clone` closure).
///
/// ```
/// use squall::component::{Collect, Map, VecSpout};
/// use squall::{Config, LocalCluster, TopologyBuilder};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let got = Collect::<u64>::new();
/// let sink = got.clone();
/// let mut b = TopologyBuilder::new("map");
/// let n = b.set_spout("n", 1, || VecSpout::new(vec![1u64, 2, 3]));
/// let doubled = b.set_bolt("double", 2, || Map::new(|x: u64| 2 * x)).shuffle_grouping(&n).stream();
/// b.set_bolt("sink", 1, move || sink.clone()).shuffle_grouping(&doubled);
/// LocalCluster::new(Config::default()).run(b.build()?)?;
/// assert_eq!(got.sorted(), vec![2, 4, 6]);
/// # Ok(())
/// # }
/// ```
pub struct Map<I, O, F> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, F: FnMut(I) -> O> Map<I, O, F> {
    /// A bolt mapping each input with `f`.
    pub fn new(f: F) -> Self {
        Map {
            f,
            _types: PhantomData,
        }
    }
}

impl<I: Tuple, O: Tuple, F: FnMut(I) -> O + 'static> Bolt for Map<I, O, F> {
    type Input = I;
    type Output = O;
    fn execute(&mut self, input: I, out: &mut BoltCollector<'_, O>) -> Result<(), ComponentError> {
        out.emit((self.f)(input));
        Ok(())
    }
}

/// A bolt passing on the inputs for which the predicate holds.
pub struct Filter<T, F> {
    keep: F,
    _types: PhantomData<fn(T)>,
}

impl<T, F: FnMut(&T) -> bool> Filter<T, F> {
    /// A bolt keeping the inputs for which `keep` is true.
    pub fn new(keep: F) -> Self {
        Filter {
            keep,
            _types: PhantomData,
        }
    }
}

impl<T: Tuple, F: FnMut(&T) -> bool + 'static> Bolt for Filter<T, F> {
    type Input = T;
    type Output = T;
    fn execute(&mut self, input: T, out: &mut BoltCollector<'_, T>) -> Result<(), ComponentError> {
        if (self.keep)(&input) {
            out.emit(input);
        }
        Ok(())
    }
}

/// A bolt emitting every item `f(input)` yields.
pub struct FlatMap<I, O, F> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, It: IntoIterator<Item = O>, F: FnMut(I) -> It> FlatMap<I, O, F> {
    /// A bolt emitting the items of `f(input)` for every input.
    pub fn new(f: F) -> Self {
        FlatMap {
            f,
            _types: PhantomData,
        }
    }
}

impl<I: Tuple, O: Tuple, It: IntoIterator<Item = O>, F: FnMut(I) -> It + 'static> Bolt
    for FlatMap<I, O, F>
{
    type Input = I;
    type Output = O;
    fn execute(&mut self, input: I, out: &mut BoltCollector<'_, O>) -> Result<(), ComponentError> {
        (self.f)(input).into_iter().for_each(|o| out.emit(o));
        Ok(())
    }
}

/// A bounded spout emitting the items of a `Vec` in order, untracked, then finishing. Every
/// task emits all of them: give it parallelism 1 unless each task should.
#[derive(Debug, Clone)]
pub struct VecSpout<T> {
    items: std::vec::IntoIter<T>,
}

impl<T> VecSpout<T> {
    /// A spout over `items`.
    pub fn new(items: Vec<T>) -> Self {
        VecSpout {
            items: items.into_iter(),
        }
    }
}

impl<T> FromIterator<T> for VecSpout<T> {
    /// A spout over what `iter` yields (collected at once).
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}

impl<T: Tuple> Spout for VecSpout<T> {
    type Output = T;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        for item in self.items.by_ref().take(256) {
            out.emit(item);
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.items.len() == 0
    }
}

/// A sink collecting every tuple it receives into a `Vec` shared by its clones: keep one
/// clone, give the factory another, read [`Collect::items`] after the run.
#[derive(Debug)]
pub struct Collect<T> {
    items: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Collect<T> {
    fn clone(&self) -> Self {
        Collect {
            items: self.items.clone(),
        }
    }
}

impl<T: Clone> Collect<T> {
    /// An empty collection.
    pub fn new() -> Self {
        Collect {
            items: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// What was received so far, in arrival order.
    pub fn items(&self) -> Vec<T> {
        self.items.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl<T: Clone + Ord> Collect<T> {
    /// What was received so far, sorted.
    pub fn sorted(&self) -> Vec<T> {
        let mut v = self.items();
        v.sort();
        v
    }
}

impl<T: Clone> Default for Collect<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Tuple> Bolt for Collect<T> {
    type Input = T;
    type Output = ();
    fn execute(&mut self, input: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.items
            .lock()
            .map_err(|_| "a holder of the collection panicked")?
            .push(input);
        Ok(())
    }
}
