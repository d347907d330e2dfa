//! Near-misses: braces or fences that name an exemption code or a redaction key but attach
//! to nothing (`] {.S31}`, `{S31}`, a block split across lines, an invisible character
//! before the `{`), and tags spelled with look-alike characters, read after NFKC with
//! zero-width characters removed. Each is an error, since as text it would publish what it
//! meant to withhold; braces naming no code and no key are prose (`{#1d70b8}`, `x[i]{j}`).

use std::cell::Cell;

use regex::Regex;

use super::attributes::{code_like, key_like};
use super::body::Body;
use super::collector::Collector;
use super::text::{find_by_word, is_invisible, line_end_of, line_start_of};
use crate::error::Diagnostic;
use crate::span::Span;

/// The head of a tag or fence (brace or colons, an optional dot, a word), read after NFKC
/// with zero-width characters removed.
pub(super) static TAG_HEAD: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(r"(?:\{|:::+)\s*\{?\s*[.#]?\s*([A-Za-z][A-Za-z0-9]*)")
        .unwrap_or_else(|e| unreachable!("the tag head regex is valid: {e}"))
});

impl Collector<'_> {
    pub(super) fn unattached(&self, at: usize, why: &str) -> Diagnostic {
        let end = self.text[at..]
            .find(['}', '\n', '\r'])
            .map(|n| at + n + 1)
            .unwrap_or(self.text.len())
            .min(self.text.len());
        let end = if self.text.is_char_boundary(end) {
            end
        } else {
            at + 1
        };
        Diagnostic::new(
            Span::new(at, end),
            "attribute block attaches to nothing",
        )
        .note(why.to_string())
        .hint("write `[text]{.S31}` with nothing between `]` and `{`, or `\\{` for a literal brace")
    }

    /// The first match of `find` at or after `at`, else the text's end, remembered in `cache`
    /// for the next call from further on.
    pub(super) fn next_of(
        &self,
        cache: &Cell<Option<(usize, usize)>>,
        at: usize,
        find: impl Fn(&str) -> Option<usize>,
    ) -> usize {
        if let Some((from, found)) = cache.get()
            && from <= at
            && at <= found
        {
            return found;
        }
        let found = find(&self.text[at..]).map_or(self.text.len(), |n| at + n);
        cache.set(Some((at, found)));
        found
    }

    /// The inner text of the braces opening at `at`: up to the next `}` or `{`, or the end
    /// of the block they are in (so a block split across lines is read whole). Stretches
    /// between braces do not overlap, so reading each `{` this way is linear overall.
    pub(super) fn brace_inner(&self, at: usize) -> (&str, usize) {
        let text = self.text;
        let close = self.next_of(&self.next_close, at, |s| s.find('}'));
        let open = self.next_of(&self.next_open, at + 1, |s| s.find('{'));
        let limit = self.limit(at);
        let end = close.min(open).min(limit).max(at + 1);
        (&text[at + 1..end], end)
    }

    /// Whether the braces at `at` name an exemption code (or something shaped like one) or a
    /// redaction key: then they are a tag, never prose.
    pub(super) fn names_code_or_key(&self, at: usize) -> bool {
        let (inner, _) = self.brace_inner(at);
        let separator = |c: char| {
            c.is_whitespace() || matches!(c, '.' | '#' | ',' | '=' | '"' | '\'' | '[' | ']')
        };
        inner
            .split(separator)
            .any(|w| self.code_spelled(w).is_some())
            || key_like(inner)
    }

    /// The exemption code `word` names, in any case (`s31` is a mis-cased `S31`), as the rules
    /// spell it. A word shaped like a code that the rules do not define (`s3`, `S99`) names
    /// none: in loose braces it is prose.
    pub(super) fn code_spelled(&self, word: &str) -> Option<&str> {
        self.rules
            .exemptions
            .iter()
            .map(|e| e.code.as_str())
            .find(|code| code.eq_ignore_ascii_case(word))
    }

    /// A `{` that no span, link or heading took: an error if it names a code or a key.
    pub(super) fn near_miss(&self, at: usize) -> Result<(), Diagnostic> {
        let text = self.text;
        if !self.names_code_or_key(at) {
            return Ok(());
        }
        let (inner, inner_end) = self.brace_inner(at);
        let first = inner.trim_start().chars().next();
        let prev = text[..at].chars().next_back();
        let why = match prev {
            Some(']') => "the `]` before it closes no `[`",
            Some(c) if c.is_whitespace() => {
                "there is white space between it and the `]` or heading it was meant for"
            }
            Some(c) if is_invisible(c) => {
                return Err(self.unattached(at, "").note(format!(
                    "an invisible character (U+{:04X}) stands between it and the `]`",
                    c as u32
                )));
            }
            _ => "no `[text]`, link or heading comes right before it",
        };
        if first.is_some_and(|c| c.is_ascii_alphanumeric()) && !key_like(inner) {
            let word = inner.split_whitespace().next().unwrap_or("");
            if let Some(code) = self.code_spelled(word) {
                return Err(Diagnostic::new(
                    Span::new(at, (inner_end + 1).min(text.len())),
                    format!("class `{word}` is missing its dot"),
                )
                .hint(format!(
                    "write `{{.{code}}}` after the `[text]` it withholds"
                )));
            }
        }
        Err(self.unattached(at, why))
    }

    /// A tag or fence naming a code that is spelled with look-alike characters (full-width
    /// `｛．S31｝`, `：：：`) or broken by invisible ones: it would pass as text. Read after
    /// NFKC with zero-width characters removed, on each line holding such a character,
    /// outside code and comments.
    pub(super) fn look_alikes(&self) -> Result<(), Diagnostic> {
        use unicode_normalization::UnicodeNormalization;
        let text = self.text;
        let bytes = text.as_bytes();
        let skip = &self.body.excluded;
        let suspect = |c: char| {
            is_invisible(c)
                || (c as u32 >= 0x2000
                    && c.nfkc()
                        .any(|n| matches!(n, '{' | '}' | '.' | ':' | '#' | '[' | ']')))
        };
        let mut i = self.body.body_start;
        let mut done_to = i;
        while let Some(n) = first_lead_byte(&bytes[i..]) {
            let at = i + n;
            let c = text[at..].chars().next().unwrap_or('\u{fffd}');
            i = at + c.len_utf8();
            if at < done_to || !suspect(c) || Body::in_any(skip, at) {
                continue;
            }
            let line = Span::new(line_start_of(text, at), line_end_of(text, at));
            done_to = line.end;
            // The line normalised, and where each normalised character came from.
            let mut normal = String::new();
            let mut origin: Vec<(usize, usize)> = Vec::new();
            for (k, ch) in text[line.start..line.end].char_indices() {
                let from = line.start + k;
                if is_invisible(ch) || Body::in_any(skip, from) {
                    continue;
                }
                for n in ch.nfkc() {
                    origin.push((normal.len(), from));
                    normal.push(n);
                }
            }
            let source_of = |k: usize| {
                let p = origin.partition_point(|(n, _)| *n < k);
                origin.get(p).map_or(line.end, |(_, o)| *o)
            };
            for caps in TAG_HEAD.captures_iter(&normal) {
                let (Some(head), Some(word)) = (caps.get(0), caps.get(1)) else {
                    continue;
                };
                let word = word.as_str();
                if self.rules.exemption(word).is_none() && !code_like(word) {
                    continue;
                }
                let (from, to) = (source_of(head.start()), source_of(head.end()));
                let original = &text[from..to];
                let odd = original.char_indices().find(|&(_, ch)| !ch.is_ascii());
                if let Some((k, ch)) = odd {
                    return Err(Diagnostic::new(
                        Span::new(from + k, from + k + ch.len_utf8()),
                        format!(
                            "look-alike character U+{:04X} in what reads as a redaction tag",
                            ch as u32
                        ),
                    )
                    .note(format!("read as plain text it says `{}`", head.as_str()))
                    .hint("type tags and fences with plain `{`, `.`, `:` and `}`, with nothing invisible inside; write `\\{` for a literal brace"));
                }
            }
        }
        Ok(())
    }
}

/// Where the first byte that starts a multi-byte character (0xC0 and up) is: every suspect
/// character is one. Most papers are nearly all ASCII, so runs of 32 ASCII bytes are passed
/// over whole, then eight bytes are read at a time (a byte is a lead byte when its top two
/// bits are set: `x & (x << 1)` keeps bit 7 of exactly those bytes), and only a word holding
/// one is read byte by byte.
pub(super) fn first_lead_byte(bytes: &[u8]) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (blocks, _) = bytes.as_chunks::<32>();
    let ascii = blocks
        .iter()
        .position(|block| !block.is_ascii())
        .unwrap_or(blocks.len())
        * 32;
    find_by_word(&bytes[ascii..], |x| x & (x << 1) & HIGH != 0, |b| b >= 0xC0).map(|n| ascii + n)
}
