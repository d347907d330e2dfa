//! Pandoc attribute blocks, `{#id .class key="value"}`, for spans, fenced divs and headings
//! alike. One parser for all three forms, because pulldown-cmark's heading-attribute parser
//! splits quoted values on spaces. It only reads syntax; rules.rs decides what a class means.

use std::borrow::Cow;

use crate::error::Diagnostic;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrItem {
    Class(String),
    Id(String),
    Pair {
        /// The two keys a tag has are not copied: only another word is.
        key: Cow<'static, str>,
        value: String,
    },
    /// A word with no `.`, `#` or `=`: never valid in braces (`{S31}`), kept for the hint.
    Bare(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrBlock {
    /// From `{` to `}` inclusive.
    pub span: Span,
    pub items: Vec<(AttrItem, Span)>,
}

/// Parses the attribute block whose `{` is at `start` in `text`. `limit` bounds the search
/// (a paragraph end), so an unclosed block cannot swallow the rest of the paper.
pub fn parse_attr_block(text: &str, start: usize, limit: usize) -> Result<AttrBlock, Diagnostic> {
    let bytes = text.as_bytes();
    let limit = limit.min(text.len());
    debug_assert_eq!(bytes.get(start), Some(&b'{'));
    let unclosed = || {
        Diagnostic::new(Span::new(start, start + 1), "attribute block is not closed")
            .hint("close it with `}` on the same paragraph, or write `\\{` for a literal brace")
    };
    // One line only: pandoc reads a block across lines, but a block split over two lines is
    // easy to misread, and no other tag form may span lines.
    let stop = |from: usize, line: bool| stop_at(bytes, from, limit, line);
    if let Some(line_end) = stop(start + 1, true).filter(|&n| matches!(bytes[n], b'\n' | b'\r'))
        && stop(line_end, false).is_some_and(|n| bytes[n] == b'}')
    {
        return Err(Diagnostic::new(
            Span::new(start, start + 1),
            "attribute block is split across lines",
        )
        .hint("keep the attribute block on one line, with the `]` or heading it follows"));
    }
    // A tag has a code, often a `reason` and a `pit`: room for them without regrowing.
    let mut items = Vec::with_capacity(4);
    let mut i = start + 1;
    loop {
        while i < limit && (bytes[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        if i >= limit {
            return Err(unclosed());
        }
        let item_start = i;
        match bytes[i] {
            b'}' => {
                return Ok(AttrBlock {
                    span: Span::new(start, i + 1),
                    items,
                });
            }
            b'.' | b'#' => {
                let sigil = bytes[i];
                i += 1;
                let word_start = i;
                i = word_end(text, i, limit);
                let word = &text[word_start..i];
                if word.is_empty() {
                    return Err(Diagnostic::new(
                        Span::new(item_start, item_start + 1),
                        if sigil == b'.' {
                            "empty class in attribute block"
                        } else {
                            "empty id in attribute block"
                        },
                    )
                    .hint(if sigil == b'.' {
                        "write the class after the dot, e.g. `.S31`"
                    } else {
                        "write the id after the `#`, e.g. `#r1`"
                    }));
                }
                let item = if sigil == b'.' {
                    AttrItem::Class(word.to_string())
                } else {
                    AttrItem::Id(word.to_string())
                };
                items.push((item, Span::new(item_start, i)));
            }
            b'"' | b'\'' => {
                return Err(Diagnostic::new(
                    Span::new(i, i + 1),
                    "attribute block does not parse: a quoted value needs a key",
                )
                .hint("write `key=\"value\"`, e.g. `reason=\"...\"`"));
            }
            _ => {
                let word_start = i;
                while i < limit {
                    let c = bytes[i];
                    if c == b'=' || c == b'}' || (c as char).is_ascii_whitespace() {
                        break;
                    }
                    if c == b'{' || c == b'"' || c == b'\'' {
                        return Err(Diagnostic::new(
                            Span::new(i, i + 1),
                            "attribute block does not parse",
                        )
                        .hint("attributes are `.class`, `#id` or `key=\"value\"`"));
                    }
                    i += 1;
                }
                let word = &text[word_start..i];
                if i < limit && bytes[i] == b'=' {
                    i += 1;
                    let value = if i < limit && (bytes[i] == b'"' || bytes[i] == b'\'') {
                        let quote = bytes[i];
                        i += 1;
                        let mut value = String::new();
                        loop {
                            if i >= limit {
                                return Err(Diagnostic::new(
                                    Span::new(word_start, word_start + word.len()),
                                    format!("value of `{word}` is not closed"),
                                )
                                .hint("close the quoted value on the same paragraph"));
                            }
                            let c = bytes[i];
                            if c == quote {
                                i += 1;
                                break;
                            }
                            if c == b'\\'
                                && i + 1 < limit
                                && (bytes[i + 1] == quote || bytes[i + 1] == b'\\')
                            {
                                value.push(bytes[i + 1] as char);
                                i += 2;
                                continue;
                            }
                            // The run up to the next quote or backslash is copied whole: both
                            // are ASCII, so the run ends on a character boundary.
                            let run = memchr::memchr2(quote, b'\\', &bytes[i..limit])
                                .map_or(limit, |n| i + n)
                                .max(i + 1);
                            let run = if text.is_char_boundary(run) {
                                run
                            } else {
                                i + text[i..].chars().next().map_or(1, char::len_utf8)
                            };
                            value.push_str(&text[i..run]);
                            i = run;
                        }
                        value
                    } else {
                        let value_start = i;
                        i = word_end(text, i, limit);
                        text[value_start..i].to_string()
                    };
                    if word.is_empty() {
                        return Err(Diagnostic::new(
                            Span::new(item_start, item_start + 1),
                            "attribute block does not parse: `=` with no key",
                        )
                        .hint("write `key=\"value\"`, e.g. `reason=\"...\"`"));
                    }
                    items.push((
                        AttrItem::Pair {
                            key: match word {
                                "reason" => Cow::Borrowed("reason"),
                                "pit" => Cow::Borrowed("pit"),
                                _ => Cow::Owned(word.to_string()),
                            },
                            value,
                        },
                        Span::new(item_start, i),
                    ));
                } else {
                    items.push((AttrItem::Bare(word.to_string()), Span::new(item_start, i)));
                }
            }
        }
        if i < limit && !(bytes[i] as char).is_ascii_whitespace() && bytes[i] != b'}' {
            return Err(
                Diagnostic::new(Span::new(i, i + 1), "attribute block does not parse")
                    .hint("separate attributes with spaces: `{.S31 #id reason=\"...\"}`"),
            );
        }
    }
}

/// Where the first `{` or `}` of `bytes[from..limit]` is, or with `line` the first line break
/// if one comes before it. Each search stops at the next brace, so reading many `{` stays
/// linear. (All four are ASCII, so a byte search finds what a char search would.) A block
/// runs to a hundred bytes or more (a `reason`): memchr, then the line breaks only before the
/// brace.
fn stop_at(bytes: &[u8], from: usize, limit: usize, line: bool) -> Option<usize> {
    let rest = &bytes[from..limit];
    let brace = memchr::memchr2(b'}', b'{', rest);
    let before = if line {
        memchr::memchr2(b'\n', b'\r', &rest[..brace.unwrap_or(rest.len())])
    } else {
        None
    };
    before.or(brace).map(|n| from + n)
}

/// End of a class, id or bare value: the next space, `}` or the limit. Multi-byte characters
/// are kept whole (ids may be non-ASCII).
fn word_end(text: &str, mut i: usize, limit: usize) -> usize {
    let bytes = text.as_bytes();
    while i < limit {
        let c = bytes[i];
        if c == b'}' || c == b'{' || (c as char).is_ascii_whitespace() {
            break;
        }
        i += 1;
    }
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<AttrItem> {
        parse_attr_block(text, 0, text.len())
            .map(|b| b.items.into_iter().map(|(i, _)| i).collect())
            .unwrap_or_default()
    }

    #[test]
    fn quoted_values_keep_their_spaces() {
        assert_eq!(
            items(r#"{.S31 #r1 reason="risk to live ops" pit='weighed'}"#),
            vec![
                AttrItem::Class("S31".into()),
                AttrItem::Id("r1".into()),
                AttrItem::Pair {
                    key: "reason".into(),
                    value: "risk to live ops".into()
                },
                AttrItem::Pair {
                    key: "pit".into(),
                    value: "weighed".into()
                },
            ]
        );
    }

    #[test]
    fn quoted_values_keep_escapes_and_non_ascii_text() {
        assert_eq!(
            items(r#"{reason="café \"x\" a\b \\ é" pit='l\'été'}"#),
            vec![
                AttrItem::Pair {
                    key: "reason".into(),
                    value: r#"café "x" a\b \ é"#.into()
                },
                AttrItem::Pair {
                    key: "pit".into(),
                    value: "l'été".into()
                },
            ]
        );
        let err = parse_attr_block(r#"{reason="never closed é}"#, 0, 26).expect_err("unclosed");
        assert_eq!(err.message, "value of `reason` is not closed");
    }

    #[test]
    fn bare_word_is_reported_as_bare() {
        assert_eq!(items("{S31}"), vec![AttrItem::Bare("S31".into())]);
    }

    #[test]
    fn unclosed_block_is_an_error_at_the_brace() {
        let err = parse_attr_block("{.S31 rest of line", 0, 18).expect_err("unclosed");
        assert_eq!(err.span, Span::new(0, 1));
    }

    proptest::proptest! {
        /// The memchr searches find the byte a byte-by-byte search finds.
        #[test]
        fn stop_at_finds_the_first_brace_or_break(
            bytes in proptest::collection::vec(proptest::sample::select(
                b"ab {}\n\r\"'\\\xc3\xa9".to_vec()), 0..48),
            from in 0usize..48,
            limit in 0usize..48,
            line: bool,
        ) {
            let limit = limit.min(bytes.len());
            let from = from.min(limit);
            let naive = bytes[from..limit]
                .iter()
                .position(|&b| matches!(b, b'}' | b'{') || (line && matches!(b, b'\n' | b'\r')))
                .map(|n| from + n);
            proptest::prop_assert_eq!(stop_at(&bytes, from, limit, line), naive);
        }

        /// A quoted value reads as a char-by-char reading does: `\` escapes the quote or
        /// itself, any other character (non-ASCII included) stands for itself.
        #[test]
        fn quoted_values_read_as_char_by_char(
            value in proptest::collection::vec(proptest::sample::select(
                vec!['a', ' ', '"', '\'', '\\', 'é', '}', '{', '=']), 0..24),
            double: bool,
        ) {
            let quote = if double { '"' } else { '\'' };
            let raw: String = value.into_iter().collect();
            let text = format!("{{k={quote}{raw}{quote} }}");
            // The naive reading, over the value and the closing quote after it.
            let chars: Vec<char> = raw.chars().chain([quote]).collect();
            let mut expected = String::new();
            let mut end = None;
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                if c == quote {
                    end = Some(k);
                    break;
                }
                if c == '\\' && chars.get(k + 1).is_some_and(|&n| n == quote || n == '\\') {
                    expected.push(chars[k + 1]);
                    k += 2;
                    continue;
                }
                expected.push(c);
                k += 1;
            }
            let got = parse_attr_block(&text, 0, text.len())
                .ok()
                .and_then(|b| b.items.into_iter().next())
                .map(|(item, _)| item);
            match (end, got) {
                (Some(_), Some(AttrItem::Pair { key, value })) => {
                    proptest::prop_assert_eq!(key, "k");
                    proptest::prop_assert_eq!(value, expected);
                }
                // What follows a value that ended early need not parse.
                (Some(e), other) => proptest::prop_assert!(
                    e + 1 < chars.len(),
                    "{:?} for {:?}",
                    other,
                    text
                ),
                (None, other) => proptest::prop_assert!(other.is_none(), "{:?}", other),
            }
        }
    }

    #[test]
    fn non_ascii_id() {
        assert_eq!(items("{#é-1 .S23}")[0], AttrItem::Id("é-1".into()));
    }
}
