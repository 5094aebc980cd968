//! Which field of a JSON object an error points at.
//!
//! serde_json reports a type error by position only ("invalid type: string \"abc\", expected
//! u64 at line 1 column 20"); mapping the column back to the top-level key lets a skipped-line
//! message name the field, as the CSV spout's messages do.

/// The top-level key of the JSON object in `line` whose value the 1-based byte `column` falls
/// in; `None` when `line` is not an object or the column is outside every value.
pub(crate) fn key_at(line: &[u8], column: usize) -> Option<String> {
    let end = column.saturating_sub(1).min(line.len());
    let mut depth = 0usize;
    let mut object = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut expect_key = false;
    let mut key_start = None;
    let mut key = None;
    for (i, &b) in line[..end].iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if let Some(start) = key_start.take() {
                    key = Some((start, i));
                }
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                if object && depth == 1 && expect_key {
                    expect_key = false;
                    key_start = Some(i);
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 {
                    object = b == b'{';
                    expect_key = object;
                }
            }
            b'}' | b']' => {
                if depth == 1 {
                    key = None;
                }
                depth = depth.saturating_sub(1);
            }
            b',' if object && depth == 1 => {
                key = None;
                expect_key = true;
            }
            _ => {}
        }
    }
    let (start, end) = key?;
    // The key as written may hold escapes; decode it as the JSON string it is.
    serde_json::from_slice::<String>(&line[start..=end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_of(line: &str, needle: &str) -> usize {
        line.find(needle).unwrap() + 1
    }

    #[test]
    fn finds_the_key_whose_value_holds_the_column() {
        let line = r#"{"sensor": 1, "seq": "abc", "value": {"x": [1, 2]}}"#;
        assert_eq!(
            key_at(line.as_bytes(), column_of(line, "abc")).as_deref(),
            Some("seq")
        );
        assert_eq!(
            key_at(line.as_bytes(), column_of(line, "1,")).as_deref(),
            Some("sensor")
        );
        assert_eq!(
            key_at(line.as_bytes(), column_of(line, "2]")).as_deref(),
            Some("value")
        );
    }

    #[test]
    fn none_outside_values_or_objects() {
        let line = r#"{"a": 1, "b": 2}"#;
        assert_eq!(key_at(line.as_bytes(), 1), None);
        assert_eq!(key_at(line.as_bytes(), column_of(line, "\"b")), None);
        assert_eq!(key_at(line.as_bytes(), line.len() + 1), None);
        assert_eq!(key_at(b"[1, \"a\", 3]", 6), None);
    }

    #[test]
    fn keys_with_escapes_and_strings_with_braces() {
        let line = r#"{"a\"b": "}{,", "c": true}"#;
        assert_eq!(
            key_at(line.as_bytes(), column_of(line, ",\"")).as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            key_at(line.as_bytes(), column_of(line, "true")).as_deref(),
            Some("c")
        );
    }

    #[test]
    fn serde_json_type_errors_point_into_the_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            sensor: u32,
            seq: u64,
            value: f64,
        }
        for (line, field) in [
            (r#"{"sensor":1,"seq":"abc","value":1.0}"#, "seq"),
            (r#"{"sensor":-1,"seq":2,"value":1.0}"#, "sensor"),
            (r#"{"sensor":1,"seq":2,"value":"x"}"#, "value"),
            (r#"{"sensor":1, "seq" : 2.5 , "value":1}"#, "seq"),
            (r#"{"sensor":1,"seq":null,"value":1}"#, "seq"),
        ] {
            let e = serde_json::from_str::<R>(line).unwrap_err();
            assert_eq!(
                key_at(line.as_bytes(), e.column()).as_deref(),
                Some(field),
                "{line}: {e}"
            );
        }
    }
}
