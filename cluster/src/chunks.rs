//! Frames larger than the server takes in one message travel as consecutive chunks.
//!
//! A NATS server refuses a message over its `max_payload` (1 MiB by default) by closing the
//! connection, so a frame is cut into chunks that fit, each marked with the [`CHUNK`] header
//! `SENDER/INDEX/COUNT`. One fabric publishes its frames in order from one task, so the chunks
//! of a frame follow each other on their subject among those of other senders; the consumer
//! joins them per sender ([`Joiner`]) and hands the part the whole frame.

use std::collections::HashMap;

/// The header that marks a chunk: `SENDER/INDEX/COUNT`.
pub const CHUNK: &str = "Squall-Chunk";

/// Room left in a message for its headers and the protocol's own.
const HEADROOM: usize = 4096;

/// The largest chunk for a server whose largest message is `max_payload` bytes.
pub fn chunk_size(max_payload: usize) -> usize {
    max_payload.saturating_sub(HEADROOM).max(1024)
}

/// `frame` cut into chunks of at most `size` bytes, each with its header value; a frame that
/// fits is one piece with no header.
pub fn split(sender: &str, frame: Vec<u8>, size: usize) -> Vec<(Option<String>, Vec<u8>)> {
    if frame.len() <= size {
        return vec![(None, frame)];
    }
    let count = frame.len().div_ceil(size);
    frame
        .chunks(size)
        .enumerate()
        .map(|(i, piece)| (Some(format!("{sender}/{i}/{count}")), piece.to_vec()))
        .collect()
}

/// Joins chunks back into frames, per sender. `A` is what must be settled once the frame is
/// processed (each chunk's message, to acknowledge).
pub struct Joiner<A> {
    open: HashMap<String, Open<A>>,
}

struct Open<A> {
    next: usize,
    count: usize,
    bytes: Vec<u8>,
    settle: Vec<A>,
}

/// What [`Joiner::add`] made of a chunk.
pub enum Joined<A> {
    /// The frame is whole: its bytes, and what to settle once it is processed.
    Frame(Vec<u8>, Vec<A>),
    /// More chunks are to come.
    Partial,
    /// The chunk does not continue its sender's frame (a chunk before it was lost with a
    /// connection): the pieces dropped, to settle at once. The frame is lost, which the
    /// sender counts and recovers from.
    Broken(String, Vec<A>),
}

impl<A> Default for Joiner<A> {
    fn default() -> Self {
        Joiner {
            open: HashMap::new(),
        }
    }
}

impl<A> Joiner<A> {
    /// Takes one chunk with header value `header` and payload `piece`.
    pub fn add(&mut self, header: &str, piece: &[u8], settle: A) -> Joined<A> {
        let Some((sender, index, count)) = parse(header) else {
            return Joined::Broken(format!("a chunk header {header:?}"), vec![settle]);
        };
        if index == 0 {
            // Pieces of a frame cut short by a lost connection are settled with the next one.
            let stale = self.open.remove(sender).map(|o| o.settle);
            self.open.insert(
                sender.to_string(),
                Open {
                    next: 0,
                    count,
                    bytes: Vec::new(),
                    settle: stale.unwrap_or_default(),
                },
            );
        }
        match self.open.get_mut(sender) {
            Some(open) if open.next == index && open.count == count => {
                open.bytes.extend_from_slice(piece);
                open.settle.push(settle);
                open.next += 1;
                if open.next < open.count {
                    return Joined::Partial;
                }
            }
            _ => {
                let mut dropped = self
                    .open
                    .remove(sender)
                    .map(|o| o.settle)
                    .unwrap_or_default();
                dropped.push(settle);
                return Joined::Broken(
                    format!("chunk {index} of {count} from {sender} out of order"),
                    dropped,
                );
            }
        }
        match self.open.remove(sender) {
            Some(done) => Joined::Frame(done.bytes, done.settle),
            None => Joined::Partial,
        }
    }
}

fn parse(header: &str) -> Option<(&str, usize, usize)> {
    let mut parts = header.rsplitn(3, '/');
    let count = parts.next()?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    let sender = parts.next()?;
    (index < count).then_some((sender, index, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn a_frame_that_fits_is_sent_whole() {
        let pieces = split("a", frame(10), 10);
        assert_eq!(pieces, vec![(None, frame(10))]);
    }

    #[test]
    fn chunks_of_two_senders_interleaved_join_into_their_frames() {
        let (a, b) = (
            frame(2500),
            frame(1100)[..].iter().rev().copied().collect::<Vec<_>>(),
        );
        let pa = split("p1.7", a.clone(), 1000);
        let pb = split("p2.9", b.clone(), 1000);
        assert_eq!((pa.len(), pb.len()), (3, 2));
        let mut joiner = Joiner::default();
        let mut whole = Vec::new();
        let order = [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)];
        for (seq, (who, i)) in order.into_iter().enumerate() {
            let (header, piece) = if who == 0 { &pa[i] } else { &pb[i] };
            match joiner.add(header.as_deref().unwrap(), piece, seq) {
                Joined::Frame(bytes, settle) => whole.push((bytes, settle)),
                Joined::Partial => {}
                Joined::Broken(why, _) => panic!("{why}"),
            }
        }
        assert_eq!(whole, vec![(b, vec![1, 3]), (a, vec![0, 2, 4])]);
    }

    #[test]
    fn a_frame_cut_short_is_dropped_and_the_next_one_joins() {
        let first = split("s", frame(3000), 1000);
        let second = split("s", frame(2000), 1000);
        let mut joiner = Joiner::default();
        assert!(matches!(
            joiner.add(first[0].0.as_deref().unwrap(), &first[0].1, 0),
            Joined::Partial
        ));
        // Chunk 1 of the first frame was lost with its connection; chunk 2 is out of order.
        assert!(matches!(
            joiner.add(first[2].0.as_deref().unwrap(), &first[2].1, 1),
            Joined::Broken(_, settle) if settle == vec![0, 1]
        ));
        assert!(matches!(
            joiner.add(second[0].0.as_deref().unwrap(), &second[0].1, 2),
            Joined::Partial
        ));
        match joiner.add(second[1].0.as_deref().unwrap(), &second[1].1, 3) {
            Joined::Frame(bytes, settle) => {
                assert_eq!(bytes, frame(2000));
                assert_eq!(settle, vec![2, 3]);
            }
            _ => panic!("the second frame is whole"),
        }
        assert!(matches!(joiner.add("junk", b"", 9), Joined::Broken(_, s) if s == vec![9]));
    }

    #[test]
    fn the_chunk_size_leaves_room_for_headers() {
        assert_eq!(chunk_size(1 << 20), (1 << 20) - 4096);
        assert_eq!(chunk_size(100), 1024);
    }
}
