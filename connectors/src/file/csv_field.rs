//! One field of a CSV line as a serde deserializer: numbers parsed straight from its bytes.

use std::fmt;

use serde::de::{self, Visitor};
use serde::forward_to_deserialize_any;

use super::csv_de::LineError;
use crate::excerpt::quoted;

/// One trimmed field and its column's name (for messages).
pub(super) struct Field<'a> {
    pub(super) name: &'a str,
    pub(super) value: &'a [u8],
}

impl<'a> Field<'a> {
    /// An error naming the field and quoting (the start of) its value.
    fn invalid(&self, what: impl fmt::Display) -> LineError {
        LineError::field(self.name, format_args!("{what} ({})", quoted(self.value)))
    }

    fn text(&self) -> Result<&'a str, LineError> {
        std::str::from_utf8(self.value).map_err(|_| LineError::field(self.name, "invalid UTF-8"))
    }

    fn float(&self) -> Result<f64, LineError> {
        match fast_float2::parse::<f64, _>(self.value) {
            Ok(v) if v.is_finite() => Ok(v),
            // A NaN or an infinity is never a measurement; taking it would poison comparisons.
            Ok(_) => Err(self.invalid("not a finite number")),
            Err(_) if self.value.is_empty() => {
                Err(self.invalid("cannot parse float from empty string"))
            }
            Err(_) => {
                self.text()?;
                Err(self.invalid("invalid float literal"))
            }
        }
    }
}

macro_rules! integer {
    ($($method:ident $ty:ty => $visit:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
            let n: $ty = self.text()?.parse().map_err(|e| self.invalid(e))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Field<'de> {
    type Error = LineError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_borrowed_str(self.text()?)
    }

    integer! {
        deserialize_i8 i8 => visit_i8
        deserialize_i16 i16 => visit_i16
        deserialize_i32 i32 => visit_i32
        deserialize_i64 i64 => visit_i64
        deserialize_i128 i128 => visit_i128
        deserialize_u8 u8 => visit_u8
        deserialize_u16 u16 => visit_u16
        deserialize_u32 u32 => visit_u32
        deserialize_u64 u64 => visit_u64
        deserialize_u128 u128 => visit_u128
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        // Through f64 and then rounded: a double rounding, as close as a CSV value needs.
        visitor.visit_f32(self.float()? as f32)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        match self.value {
            b"true" => visitor.visit_bool(true),
            b"false" => visitor.visit_bool(false),
            _ => Err(self.invalid("expected true or false")),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_borrowed_bytes(self.value)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_borrowed_bytes(self.value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        if self.value.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        if self.value.is_empty() {
            visitor.visit_unit()
        } else {
            Err(self.invalid("expected an empty field"))
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, LineError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LineError> {
        let text = self.text()?;
        let variant: de::value::BorrowedStrDeserializer<'de, LineError> =
            de::value::BorrowedStrDeserializer::new(text);
        visitor
            .visit_enum(variant)
            .map_err(|_| self.invalid("unknown variant"))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LineError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        char str string unit_struct seq tuple tuple_struct map struct identifier
    }
}
