//! Short excerpts of input for error messages: a message quotes the start of an offending
//! value, never all of it (a 100 MB field must not be copied into stderr).

/// The most bytes of an input value a message quotes.
pub(crate) const QUOTED: usize = 80;

/// `text` cut to at most `max` bytes on a char boundary, with `…` appended when cut.
pub(crate) fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// `bytes` as a quoted string for a message, `"abc"`, cut after [`QUOTED`] bytes as `"abc"…`;
/// bytes that are not UTF-8 show as `�`.
#[cfg_attr(not(feature = "file"), allow(dead_code))]
pub(crate) fn quoted(bytes: &[u8]) -> String {
    // A char is at most 4 bytes: decoding a few bytes past the cut keeps the last whole char.
    let head = &bytes[..bytes.len().min(QUOTED + 4)];
    let text = String::from_utf8_lossy(head);
    let cut = bytes.len() > QUOTED;
    let mut end = text.len().min(QUOTED);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if cut {
        format!("{:?}…", &text[..end])
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quoted(b"abc"), "\"abc\"");
        assert_eq!(quoted(b""), "\"\"");
        assert_eq!(quoted(b"a\xffb"), "\"a\u{fffd}b\"");
        assert_eq!(shorten("abc", 3), "abc");
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(1000);
        let q = quoted(long.as_bytes());
        assert_eq!(q, format!("{:?}…", "é".repeat(QUOTED / 2)));
        let odd = format!("x{long}");
        let q = quoted(odd.as_bytes());
        // 1 + 2 * 39 = 79 bytes: the 40th `é` would end at byte 81.
        assert_eq!(q, format!("{:?}…", format!("x{}", "é".repeat(39))));
        assert_eq!(shorten(&odd, 4), "xé…");
        assert_eq!(quoted(&[b'7'; 81]), format!("{:?}…", "7".repeat(80)));
    }
}
