//! Typed handles to the streams components emit.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::component::Tuple;

/// The stream a component emits on unless it names another.
pub const DEFAULT_STREAM: &str = "default";

/// A typed handle to one output stream of one component.
///
/// Handles come from [`crate::TopologyBuilder::set_spout`], [`crate::BoltDeclarer::stream`]
/// and the `declare_stream` methods (a named stream: `T` is its declared type); subscribing a
/// bolt whose input type differs from `T` does not compile. [`Stream::named`] builds a handle by id, to subscribe to a component declared later;
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

/// A typed name for a named output stream (Flink's `OutputTag<T>`): the name, and the type
/// of the tuples the stream carries.
///
/// A component declares the stream in the builder with `declare_stream(&tag)`
/// ([`crate::BoltDeclarer::declare_stream`], [`crate::TopologyBuilder::declare_stream`]),
/// which returns the [`Stream<T>`] its consumers subscribe to, and emits on it with
/// `emit_to(&tag, value)`: the compiler checks that `value` is a `T`, whatever the component's
/// `Output` is. Tags are plain values, usually constants shared by the component and the
/// topology:
///
/// ```
/// use squall::StreamTag;
///
/// /// Readings that failed validation, with the reason.
/// pub const REJECTED: StreamTag<(u64, String)> = StreamTag::new("rejected");
/// assert_eq!(REJECTED.name(), "rejected");
/// ```
pub struct StreamTag<T> {
    name: Cow<'static, str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> StreamTag<T> {
    /// The tag of the stream `name` (not `"default"`, which is the component's `Output`).
    pub const fn new(name: &'static str) -> Self {
        StreamTag {
            name: Cow::Borrowed(name),
            _type: PhantomData,
        }
    }

    /// The tag of a stream whose name is only known at run time.
    ///
    /// ```
    /// let tag: squall::StreamTag<u64> = squall::StreamTag::named(format!("shard-{}", 3));
    /// assert_eq!(tag.name(), "shard-3");
    /// ```
    pub fn named(name: impl Into<String>) -> Self {
        StreamTag {
            name: Cow::Owned(name.into()),
            _type: PhantomData,
        }
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A handle to this stream of `component`, to subscribe to a component declared later:
    /// that the component declares the stream, with this type, is checked at `build()`.
    ///
    /// ```
    /// use squall::StreamTag;
    /// const LATE: StreamTag<u64> = StreamTag::new("late");
    /// let late = LATE.of("window");
    /// assert_eq!((late.component(), late.name()), ("window", "late"));
    /// ```
    pub fn of(&self, component: &str) -> Stream<T> {
        Stream::named(component, &self.name)
    }
}

impl<T> Clone for StreamTag<T> {
    fn clone(&self) -> Self {
        StreamTag {
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for StreamTag<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StreamTag<{}>({})",
            std::any::type_name::<T>(),
            self.name
        )
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl<U> Sealed for &super::StreamTag<U> {}
}

/// Names an output stream of a component whose `Output` is `T`, with the type the stream
/// carries: a [`StreamTag<U>`] names a stream of `U`; a plain `&str` names a stream of `T`
/// itself (the untyped form, as in Storm). `declare_stream` and `emit_to` take either, so
/// the compiler checks every emit against the stream's type.
pub trait StreamRef<T>: sealed::Sealed {
    /// The tuples the stream carries.
    type Item: Tuple;
    /// The stream's name.
    fn stream_name(&self) -> &str;
}

impl<T: Tuple> StreamRef<T> for &str {
    type Item = T;
    #[inline]
    fn stream_name(&self) -> &str {
        self
    }
}

impl<T, U: Tuple> StreamRef<T> for &StreamTag<U> {
    type Item = U;
    #[inline]
    fn stream_name(&self) -> &str {
        &self.name
    }
}
