//! One CSV line into a typed record, with serde, without allocating.
//!
//! The line is split on `,` (no quoting: a line is a record), each field trimmed of ASCII
//! whitespace and handed to `T`'s `Deserialize` as it asks for it: by header name for a struct,
//! by position otherwise. Numbers are parsed straight from the field's bytes, floats with
//! `fast-float2` (correctly rounded, like std's parser, and several times faster).

use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::csv_field::Field;

/// Why a line is not a record: the reason reported for the line.
#[derive(Debug)]
pub(crate) struct LineError {
    reason: String,
    /// The reason names its field already.
    located: bool,
}

impl LineError {
    pub(super) fn field(name: &str, what: impl fmt::Display) -> Self {
        LineError {
            reason: format!("field `{name}`: {what}"),
            located: true,
        }
    }

    pub(crate) fn into_reason(self) -> String {
        self.reason
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for LineError {}

impl de::Error for LineError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        LineError {
            reason: msg.to_string(),
            located: false,
        }
    }
}

/// The field names of `T` when it is a struct (its columns, by name), else `None` (columns by
/// position). Found by asking `T` to deserialize itself from a deserializer that notes the
/// names a derived struct passes and then gives up.
pub(crate) fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = LineError;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, LineError> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, LineError> {
            self.0 = Some(fields);
            Err(de::Error::custom("probed"))
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// Parses a non-blank line (without its line break) into a `T` with `names` as the header.
/// `by_name`: `T` is a struct whose fields are exactly the header's names.
pub(crate) fn parse_line<T: DeserializeOwned>(
    names: &[Box<str>],
    by_name: bool,
    line: &[u8],
) -> Result<T, LineError> {
    let found = line.iter().filter(|&&b| b == b',').count() + 1;
    if found != names.len() {
        return Err(LineError {
            reason: format!("expected {} fields, found {found}", names.len()),
            located: false,
        });
    }
    T::deserialize(LineDeserializer {
        fields: Fields::new(names, line),
        by_name,
    })
}

/// The fields of a line with their column names, in order.
struct Fields<'a> {
    names: std::slice::Iter<'a, Box<str>>,
    values: std::slice::Split<'a, u8, fn(&u8) -> bool>,
    /// The field whose name a map access has handed out, waiting for its value.
    next: Option<Field<'a>>,
}

impl<'a> Fields<'a> {
    fn new(names: &'a [Box<str>], line: &'a [u8]) -> Self {
        let comma: fn(&u8) -> bool = |&b| b == b',';
        Fields {
            names: names.iter(),
            values: line.split(comma),
            next: None,
        }
    }

    fn next_field(&mut self) -> Option<Field<'a>> {
        let name = self.names.next()?;
        let value = self.values.next()?.trim_ascii();
        Some(Field { name, value })
    }
}

/// The whole line: a map by header name (a struct), a sequence (a tuple), or its single field.
struct LineDeserializer<'a> {
    fields: Fields<'a>,
    by_name: bool,
}

/// A record type that is not a struct or tuple (`u64`, `String`) reads a one-column file.
macro_rules! single_field {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, LineError> {
            match self.fields.next_field() {
                Some(field) if self.fields.names.len() == 0 => field.$method(visitor),
                _ => Err(de::Error::custom("a record of several columns needs a struct or tuple type")),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for LineDeserializer<'de> {
    type Error = LineError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        if self.by_name {
            visitor.visit_map(self.fields)
        } else {
            visitor.visit_seq(self.fields)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LineError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_map(self.fields)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, LineError> {
        visitor.visit_newtype_struct(self)
    }

    single_field! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_identifier
    }

    forward_to_deserialize_any! {
        i128 u128 unit_struct seq tuple tuple_struct enum ignored_any
    }
}

impl<'de> de::MapAccess<'de> for Fields<'de> {
    type Error = LineError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LineError> {
        let Some(field) = self.next_field() else {
            return Ok(None);
        };
        let name: &str = field.name;
        self.next = Some(field);
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LineError> {
        let field = self
            .next
            .take()
            .ok_or_else(|| de::Error::custom("a value asked for before its key"))?;
        let name = field.name;
        seed.deserialize(field).map_err(|e| match e.located {
            true => e,
            false => LineError::field(name, e.reason),
        })
    }
}

impl<'de> de::SeqAccess<'de> for Fields<'de> {
    type Error = LineError;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, LineError> {
        let Some(field) = self.next_field() else {
            return Ok(None);
        };
        let name = field.name;
        seed.deserialize(field)
            .map(Some)
            .map_err(|e| match e.located {
                true => e,
                false => LineError::field(name, e.reason),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
        value: f64,
    }

    fn names(header: &str) -> Vec<Box<str>> {
        header.split(',').map(Into::into).collect()
    }

    fn reading(line: &str) -> Result<Reading, String> {
        parse_line(&names("sensor,seq,value"), true, line.as_bytes()).map_err(|e| e.reason)
    }

    #[test]
    fn a_struct_reads_its_fields_by_name() {
        let r = |sensor, seq, value| Ok(Reading { sensor, seq, value });
        assert_eq!(reading("1,2,0.5"), r(1, 2, 0.5));
        assert_eq!(reading(" 1 ,\t2, 0.5 \r"), r(1, 2, 0.5));
        assert_eq!(reading("1,2,-1e-3"), r(1, 2, -0.001));
        let by_name = parse_line::<Reading>(&names("value,sensor,seq"), true, b"0.25,7,9");
        assert_eq!(by_name.map_err(|e| e.reason), r(7, 9, 0.25));
        assert_eq!(
            struct_fields::<Reading>(),
            Some(&["sensor", "seq", "value"][..])
        );
        assert_eq!(struct_fields::<(u32, f64)>(), None);
        assert_eq!(struct_fields::<u64>(), None);
    }

    #[test]
    fn reasons_name_the_field_and_quote_its_value() {
        let err = |line| reading(line).unwrap_err();
        assert_eq!(
            err("1,abc,0.5"),
            "field `seq`: invalid digit found in string (\"abc\")"
        );
        assert_eq!(err("1,2,x"), "field `value`: invalid float literal (\"x\")");
        assert_eq!(
            err("1,,0.5"),
            "field `seq`: cannot parse integer from empty string (\"\")"
        );
        assert_eq!(
            err("1,2,"),
            "field `value`: cannot parse float from empty string (\"\")"
        );
        assert_eq!(
            err("-1,2,0.5"),
            "field `sensor`: invalid digit found in string (\"-1\")"
        );
        assert_eq!(
            err("99999999999,2,0.5"),
            "field `sensor`: number too large to fit in target type (\"99999999999\")"
        );
        assert_eq!(err("1,2"), "expected 3 fields, found 2");
        assert_eq!(err("1,2,0.5,9"), "expected 3 fields, found 4");
        assert_eq!(err("1,\"2"), "expected 3 fields, found 2");
        assert_eq!(
            parse_line::<Reading>(&names("sensor,seq,value"), true, b"1,\xff,0.5")
                .unwrap_err()
                .reason,
            "field `seq`: invalid UTF-8"
        );
    }

    #[test]
    fn non_finite_floats_are_malformed() {
        for value in ["NaN", "nan", "inf", "-inf", "+infinity", "1e999"] {
            assert_eq!(
                reading(&format!("1,2,{value}")).unwrap_err(),
                format!("field `value`: not a finite number ({value:?})")
            );
        }
    }

    #[test]
    fn a_huge_value_is_quoted_short() {
        let huge = "9".repeat(1_000_000);
        let reason = reading(&format!("1,{huge},0.5")).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
        assert!(reason.ends_with("…)"), "{reason}");
    }

    #[test]
    fn other_types_read_by_position() {
        let two = names("a,b");
        let pair = parse_line::<(u32, String)>(&two, false, b"3, x y ").map_err(|e| e.reason);
        assert_eq!(pair, Ok((3, "x y".to_string())));
        let one = names("n");
        assert_eq!(
            parse_line::<u64>(&one, false, b" 42 ").map_err(|e| e.reason),
            Ok(42)
        );
        let opt = parse_line::<(Option<u32>, bool)>(&two, false, b",true").map_err(|e| e.reason);
        assert_eq!(opt, Ok((None, true)));
        assert_eq!(
            parse_line::<(u32, u32)>(&two, false, b"1,x").map_err(|e| e.reason),
            Err("field `b`: invalid digit found in string (\"x\")".to_string())
        );
    }
}
