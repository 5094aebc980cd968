//! A bolt's output streams: the default one, and the named ones it declares, each typed.

use super::declarer::BoltDeclarer;
use super::stream::{Stream, StreamRef, DEFAULT_STREAM};
use crate::component::Bolt;
use crate::runtime::StreamDecl;
use crate::BuildError;

impl<B: Bolt> BoltDeclarer<'_, B> {
    /// A handle to this bolt's default output stream.
    pub fn stream(&self) -> Stream<B::Output> {
        Stream::named(&self.id, DEFAULT_STREAM)
    }

    /// Declares a named output stream of this bolt and returns a typed handle to it, which
    /// consumers subscribe to like any stream. `stream` is either
    /// - a [`StreamTag<U>`](crate::StreamTag): a stream of `U`, whatever the bolt's `Output`
    ///   (Flink's side outputs); the bolt emits on it with `out.emit_to(&tag, u)`, and the
    ///   compiler checks that `u` is a `U`;
    /// - a plain name: a stream of the bolt's `Output` (Storm's `declareStream`), emitted on
    ///   with `out.emit_to("name", output)`.
    ///
    /// Named streams carry acks, anchors, barriers and watermarks exactly as the default stream
    /// does, with every grouping. Subscribing to a stream the bolt did not declare fails
    /// `build()` with [`BuildError::UndeclaredStream`], and with a handle of another type
    /// ([`crate::Stream::named`], [`crate::StreamTag::of`]) with [`BuildError::TypeMismatch`]
    /// naming the stream and both types; emitting on an undeclared one is an `Err` from
    /// `emit_to`. Declaring a name again with another type fails `build()` with
    /// [`BuildError::StreamTypeConflict`].
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector, TopologyBuilder};
    /// use squall::StreamTag;
    ///
    /// /// Inputs the bolt refuses, with why: a stream of `String`s from a bolt of `u32`s.
    /// const REFUSED: StreamTag<String> = StreamTag::new("refused");
    ///
    /// struct Split;
    /// impl Bolt for Split {
    ///     type Input = u32;
    ///     type Output = u32;
    ///     fn execute(&mut self, n: u32, out: &mut BoltCollector<'_, u32>) -> Result<(), ComponentError> {
    ///         if n > 1000 {
    ///             out.emit_to(&REFUSED, format!("{n} is too large"))?;
    ///         } else if n % 2 == 1 {
    ///             out.emit_to("odd", n)?;
    ///         } else {
    ///             out.emit(n);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # struct S;
    /// # impl Spout for S {
    /// #     type Output = u32;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u32>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct Sink;
    /// # impl Bolt for Sink {
    /// #     type Input = u32;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: u32, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # struct Log;
    /// # impl Bolt for Log {
    /// #     type Input = String;
    /// #     type Output = ();
    /// #     fn execute(&mut self, _: String, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), squall::BuildError> {
    /// let mut builder = TopologyBuilder::new("t");
    /// let numbers = builder.set_spout("numbers", 1, || S);
    /// let mut split = builder.set_bolt("split", 2, || Split).shuffle_grouping(&numbers);
    /// let even = split.stream();
    /// let odd = split.declare_stream("odd"); // a Stream<u32>
    /// let refused = split.declare_stream(&REFUSED); // a Stream<String>
    /// builder.set_bolt("evens", 1, || Sink).shuffle_grouping(&even);
    /// builder.set_bolt("odds", 2, || Sink).fields_grouping(&odd, |n: &u32| *n);
    /// builder.set_bolt("log", 1, || Log).global_grouping(&refused);
    /// builder.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn declare_stream<S: StreamRef<B::Output>>(&mut self, stream: S) -> Stream<S::Item> {
        let name = stream.stream_name();
        if let Some(i) = self.index {
            let decl = StreamDecl::of::<S::Item>(name.into());
            if let Err(declared) = self.builder.nodes[i].declare_stream(decl) {
                self.builder.errors.push(BuildError::StreamTypeConflict {
                    component: self.id.to_string(),
                    stream: name.to_string(),
                    declared,
                    redeclared: std::any::type_name::<S::Item>(),
                });
            }
        }
        Stream::named(&self.id, name)
    }
}
