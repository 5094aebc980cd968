//! The frames parts exchange: a fixed little-endian header in front of a MessagePack body.
//!
//! Data frames carry a link's payloads (a batch as `encode_batch` writes it; barriers,
//! watermarks and the end-of-stream markers as a kind byte and a number); credit frames the
//! producer's edge and the consumer task; control and event frames are MessagePack values.

use crate::transport::codec::encode_batch;
use crate::transport::message::Payload;
use crate::Tuple;

/// A frame's bytes could not be read.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame: {0}")]
pub(crate) struct FrameError(pub String);

const BATCH: u8 = 0;
const BARRIER: u8 = 1;
const EOS: u8 = 2;
const WATERMARK: u8 = 3;
const IDLE: u8 = 4;
const DRAINED: u8 = 5;
const ERROR: u8 = 6;
const HEADER: usize = 1 + 4 + 8;

/// A data frame for link `link` of its consumer, sent in generation `gen`.
pub(crate) fn encode_data<T: Tuple>(
    link: u32,
    gen: u64,
    payload: Payload<T>,
) -> Result<Vec<u8>, FrameError> {
    let mut frame = Vec::with_capacity(HEADER + 8);
    let (kind, number) = match &payload {
        Payload::Batch(_) | Payload::Encoded(_) => (BATCH, None),
        Payload::Barrier(id) => (BARRIER, Some(*id)),
        Payload::Eos => (EOS, None),
        Payload::Watermark(w) => (WATERMARK, Some(*w)),
        Payload::Idle => (IDLE, None),
        Payload::Drained => (DRAINED, None),
    };
    frame.push(kind);
    frame.extend_from_slice(&link.to_le_bytes());
    frame.extend_from_slice(&gen.to_le_bytes());
    match payload {
        Payload::Batch(batch) => {
            encode_batch(&batch, &mut frame).map_err(|e| FrameError(e.to_string()))?
        }
        Payload::Encoded(bytes) => frame.extend_from_slice(&bytes),
        _ => {
            if let Some(n) = number {
                frame.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    Ok(frame)
}

/// A data frame that says its payload could not be encoded, and why.
pub(crate) fn encode_error(link: u32, gen: u64, reason: &str) -> Vec<u8> {
    let mut frame = Vec::with_capacity(HEADER + reason.len());
    frame.push(ERROR);
    frame.extend_from_slice(&link.to_le_bytes());
    frame.extend_from_slice(&gen.to_le_bytes());
    frame.extend_from_slice(reason.as_bytes());
    frame
}

/// A data frame read back: the link, the generation and the payload (a batch stays encoded;
/// the consumer decodes it as its producer's type).
pub(crate) fn decode_data<T>(frame: &[u8]) -> Result<(u32, u64, Payload<T>), FrameError> {
    if frame.len() < HEADER {
        return Err(FrameError(format!(
            "{} bytes, shorter than a header",
            frame.len()
        )));
    }
    let link = u32::from_le_bytes(frame[1..5].try_into().map_err(short)?);
    let gen = u64::from_le_bytes(frame[5..13].try_into().map_err(short)?);
    let body = &frame[HEADER..];
    let number = || -> Result<u64, FrameError> {
        Ok(u64::from_le_bytes(
            body.get(..8)
                .ok_or_else(|| FrameError("a marker without its number".into()))?
                .try_into()
                .map_err(short)?,
        ))
    };
    let payload = match frame[0] {
        BATCH => Payload::Encoded(body.to_vec()),
        BARRIER => Payload::Barrier(number()?),
        EOS => Payload::Eos,
        WATERMARK => Payload::Watermark(number()?),
        IDLE => Payload::Idle,
        DRAINED => Payload::Drained,
        ERROR => {
            return Err(FrameError(format!(
                "the producer could not encode a batch: {}",
                String::from_utf8_lossy(body)
            )))
        }
        k => return Err(FrameError(format!("unknown kind {k}"))),
    };
    Ok((link, gen, payload))
}

/// True when a data frame holds a batch (which its consumer returns credit for).
pub(crate) fn is_batch(frame: &[u8]) -> bool {
    frame.first() == Some(&BATCH)
}

/// A credit frame: the producer's edge and the consumer task within it.
pub(crate) fn encode_credit(edge: u32, target: u32) -> Vec<u8> {
    let mut frame = Vec::with_capacity(8);
    frame.extend_from_slice(&edge.to_le_bytes());
    frame.extend_from_slice(&target.to_le_bytes());
    frame
}

/// A credit frame read back.
pub(crate) fn decode_credit(frame: &[u8]) -> Result<(u32, u32), FrameError> {
    if frame.len() != 8 {
        return Err(FrameError(format!("a credit of {} bytes", frame.len())));
    }
    let edge = u32::from_le_bytes(frame[..4].try_into().map_err(short)?);
    let target = u32::from_le_bytes(frame[4..].try_into().map_err(short)?);
    Ok((edge, target))
}

fn short(_: std::array::TryFromSliceError) -> FrameError {
    FrameError("a field cut short".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::codec::decode_batch;
    use crate::transport::Batch;

    #[test]
    fn a_batch_round_trips_encoded() {
        let mut b = Batch::with_capacity(2);
        b.push(7u64, 1);
        b.push(9u64, 2);
        b.marks.push((1, 5));
        let frame = encode_data(3, 4, Payload::Batch(b.clone())).unwrap();
        assert!(is_batch(&frame));
        let (link, gen, payload) = decode_data::<u64>(&frame).unwrap();
        assert_eq!((link, gen), (3, 4));
        let Payload::Encoded(bytes) = payload else {
            panic!("a batch comes back encoded")
        };
        assert_eq!(decode_batch::<u64>(&bytes).unwrap(), b);
    }

    #[test]
    fn markers_round_trip() {
        for p in [
            Payload::<u64>::Barrier(11),
            Payload::Eos,
            Payload::Watermark(12),
            Payload::Idle,
            Payload::Drained,
        ] {
            let want = format!("{:?}", kind(&p));
            let frame = encode_data(1, 2, p).unwrap();
            assert!(!is_batch(&frame));
            let (_, _, back) = decode_data::<u64>(&frame).unwrap();
            assert_eq!(format!("{:?}", kind(&back)), want);
        }
        assert_eq!(decode_credit(&encode_credit(5, 6)).unwrap(), (5, 6));
        assert!(decode_data::<u64>(&[0, 1]).is_err());
        assert!(decode_data::<u64>(&[BARRIER, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    fn kind(p: &Payload<u64>) -> (u8, Option<u64>) {
        match p {
            Payload::Batch(_) | Payload::Encoded(_) => (BATCH, None),
            Payload::Barrier(n) => (BARRIER, Some(*n)),
            Payload::Eos => (EOS, None),
            Payload::Watermark(n) => (WATERMARK, Some(*n)),
            Payload::Idle => (IDLE, None),
            Payload::Drained => (DRAINED, None),
        }
    }
}
