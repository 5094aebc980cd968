//! Typed handles to the streams components emit.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The stream a component emits on unless it names another.
pub const DEFAULT_STREAM: &str = "default";

/// A typed handle to one output stream of one component.
///
/// Handles come from [`crate::TopologyBuilder::set_spout`] and
/// [`crate::BoltDeclarer::stream`]; subscribing a bolt whose input type differs from `T` does not
/// compile. [`Stream::named`] builds a handle by id, to subscribe to a component declared later;
/// its type is then checked at `build()`.
pub struct Stream<T> {
    pub(crate) component: Arc<str>,
    pub(crate) stream: Arc<str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Stream<T> {
    /// A handle to `stream` of `component`, by id.
    ///
    /// ```
    /// let later: squall::Stream<u64> = squall::Stream::named("numbers", "default");
    /// assert_eq!(later.component(), "numbers");
    /// ```
    pub fn named(component: &str, stream: &str) -> Self {
        Stream {
            component: component.into(),
            stream: stream.into(),
            _type: PhantomData,
        }
    }

    /// The producing component's id.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.stream
    }
}

impl<T> Clone for Stream<T> {
    fn clone(&self) -> Self {
        Stream {
            component: self.component.clone(),
            stream: self.stream.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Stream<{}>({}/{})",
            std::any::type_name::<T>(),
            self.component,
            self.stream
        )
    }
}
