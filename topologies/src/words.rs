//! What a word is, for every word-counting topology and job: a maximal run of characters for
//! which `char::is_alphanumeric` holds, lowercased with `str::to_lowercase`.

use std::sync::OnceLock;

/// Calls `f` with each word of `text`, lowercased. `buf` is scratch space reused across calls,
/// so ASCII words (the common case) cost no allocation.
///
/// ```
/// let mut words = Vec::new();
/// squall_topologies::words::for_each_word("Hello, WORLD: héllo_2x ΣΑΣ", &mut String::new(), |w| {
///     words.push(w.to_string())
/// });
/// assert_eq!(words, ["hello", "world", "héllo", "2x", "σας"]);
/// ```
#[inline]
pub fn for_each_word(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Skip separators.
        let start = loop {
            if i >= bytes.len() {
                return;
            }
            let b = bytes[i];
            if b < 0x80 {
                if b.is_ascii_alphanumeric() {
                    break i;
                }
                i += 1;
            } else {
                let c = decode(text, i);
                if is_alphanumeric(c) {
                    break i;
                }
                i += c.len_utf8();
            }
        };
        // Scan the word.
        let mut ascii = true;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                i += 1;
            } else {
                let c = decode(text, i);
                if !is_alphanumeric(c) {
                    break;
                }
                ascii = false;
                i += c.len_utf8();
            }
        }
        let word = &text[start..i];
        if ascii {
            if word.bytes().any(|b| b.is_ascii_uppercase()) {
                buf.clear();
                buf.push_str(word);
                buf.make_ascii_lowercase();
                f(buf);
            } else {
                f(word);
            }
        } else if word.contains('Σ') {
            // Only capital sigma lowercases by context (final form); leave it to std.
            f(&word.to_lowercase());
        } else {
            buf.clear();
            buf.extend(word.chars().flat_map(char::to_lowercase));
            f(buf);
        }
    }
}

/// `char::is_alphanumeric`, with the answers for the two-byte UTF-8 range (Latin, Greek,
/// Cyrillic, Hebrew, Arabic...) looked up in a table built once: std's general lookup is a
/// binary search that dominated the profile on mixed-script text.
#[inline]
fn is_alphanumeric(c: char) -> bool {
    static TABLE: OnceLock<[bool; 0x800]> = OnceLock::new();
    let code = c as usize;
    if code < 0x800 {
        TABLE.get_or_init(|| {
            let mut t = [false; 0x800];
            for (i, slot) in t.iter_mut().enumerate() {
                *slot = char::from_u32(i as u32).is_some_and(char::is_alphanumeric);
            }
            t
        })[code]
    } else {
        c.is_alphanumeric()
    }
}

/// The char starting at byte `i` of `text` (a char boundary).
#[inline]
fn decode(text: &str, i: usize) -> char {
    text[i..].chars().next().unwrap_or(' ')
}

/// The words of `text` as owned strings (tests and small inputs).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, &mut String::new(), |w| out.push(w.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, written the slow obvious way.
    fn reference(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn matches_the_definition() {
        for text in [
            "",
            "   ",
            "a",
            "The quick brown FOX, jumped; over 42 lazy-dogs!",
            "ÉCOLE straße İstanbul ǅemal ΌΣΟΣ naïve café",
            "tabs\tand\r\nnewlines\u{a0}nbsp_under_score",
            "日本語のテキスト 中文 ١٢٣ x²",
            "mixed123ABC--déjà-vu",
        ] {
            assert_eq!(words(text), reference(text), "{text:?}");
        }
    }
}
