//! Payload formats: how a tuple becomes the bytes of a broker message and back.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The encoding of message payloads, chosen per endpoint with `?format=json|msgpack`.
///
/// JSON is the default (what `mosquitto_pub` and most producers send). MessagePack is written
/// with field names (a map per struct), so producers in other languages can read it; either form
/// (map or array) is accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// One JSON value per message.
    #[default]
    Json,
    /// One MessagePack value per message.
    MsgPack,
}

impl Format {
    /// The format named `name` (`json` or `msgpack`), as in `?format=`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "msgpack" => Some(Format::MsgPack),
            _ => None,
        }
    }

    /// The name used in endpoint URLs.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::MsgPack => "msgpack",
        }
    }

    /// Decodes one payload; the error is a reason fit for a "message skipped" report.
    ///
    /// ```
    /// use squall_connectors::broker::Format;
    /// let n: u32 = Format::Json.decode(b"17").unwrap();
    /// assert_eq!(n, 17);
    /// assert!(Format::Json.decode::<u32>(b"x").unwrap_err().starts_with("invalid JSON"));
    /// ```
    pub fn decode<T: DeserializeOwned>(self, payload: &[u8]) -> Result<T, String> {
        match self {
            Format::Json => serde_json::from_slice(payload).map_err(|e| {
                if e.is_syntax() || e.is_eof() {
                    format!("invalid JSON: {e}")
                } else {
                    e.to_string()
                }
            }),
            Format::MsgPack => {
                rmp_serde::from_slice(payload).map_err(|e| format!("invalid MessagePack: {e}"))
            }
        }
    }

    /// Appends the encoding of `value` to `buf`.
    pub fn encode<T: Serialize>(self, value: &T, buf: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Format::Json => serde_json::to_writer(buf, value).map_err(|e| e.to_string()),
            Format::MsgPack => {
                rmp_serde::encode::write_named(buf, value).map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
        value: f64,
    }

    #[test]
    fn both_formats_round_trip() {
        let r = Reading {
            sensor: 3,
            seq: 9,
            value: 1.5,
        };
        for f in [Format::Json, Format::MsgPack] {
            let mut buf = Vec::new();
            f.encode(&r, &mut buf).unwrap();
            assert_eq!(f.decode::<Reading>(&buf).unwrap(), r, "{f:?}");
        }
    }

    #[test]
    fn msgpack_accepts_arrays_and_maps() {
        let r = Reading {
            sensor: 1,
            seq: 2,
            value: 0.5,
        };
        let array = rmp_serde::to_vec(&r).unwrap();
        assert_eq!(Format::MsgPack.decode::<Reading>(&array).unwrap(), r);
    }

    #[test]
    fn reasons_name_the_problem() {
        let e = Format::Json
            .decode::<Reading>(br#"{"sensor":1,"seq":2}"#)
            .unwrap_err();
        assert!(e.contains("missing field `value`"), "{e}");
        let e = Format::MsgPack.decode::<Reading>(b"\xc1").unwrap_err();
        assert!(e.starts_with("invalid MessagePack"), "{e}");
    }
}
