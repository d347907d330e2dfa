//! Text as the leak scans compare it. Any text (a paper's source, a rendered copy) becomes a
//! list of normalised characters, each remembering the byte span it came from, and then a
//! stream of words joined by single spaces, so one aho-corasick automaton can look for words
//! and runs of words and every hit can be traced back to `line:col` in what was scanned.
//!
//! Normalising undoes what could hide a word from a byte comparison: HTML character
//! references (`&#107;estrel`), percent-encoding (`%4Bestrel`), compatibility forms (`ｋｅｓｔｒｅｌ`,
//! ligatures), zero-width and other default-ignorable characters (`kes\u{200b}trel`) and case.
//! The stripped views also drop inline markup inside a word (`Kes**trel**`,
//! `Kes<b>trel</b>`). Nothing here knows about redactions: it only turns text into words.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};

use crate::span::Span;

/// One character after normalising, with the byte span of the original text it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NChar {
    pub(crate) c: char,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Which markup to see through before normalising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strip {
    /// Every byte as it is: what hides in attributes, comments and URLs is seen.
    None,
    /// HTML: inline tags vanish (a word split by `<b>` is whole again), other tags and
    /// comments separate words.
    Html,
    /// Markdown: emphasis, strikethrough and code marks inside a word vanish, and inline HTML
    /// as for [`Strip::Html`].
    Markdown,
}

/// HTML elements that sit inside a word without breaking it.
const INLINE_TAGS: [&str; 14] = [
    "a", "abbr", "b", "code", "del", "em", "i", "ins", "kbd", "mark", "s", "span", "strong", "u",
];

/// Folded, decoded, normalised characters of `text[span]`.
pub(crate) fn normalise(text: &str, span: Span, strip: Strip) -> Vec<NChar> {
    fold(nfkc(decode(decode(raw(text, span, strip)))))
}

/// Like [`normalise`] but keeping case, for deny-list regexes, which say what case they mean.
pub(crate) fn decoded(text: &str, span: Span) -> Vec<NChar> {
    nfkc(decode(decode(raw(text, span, Strip::None))))
        .into_iter()
        .filter(|n| !ignorable(n.c))
        .collect()
}

/// A normalised string for a short value (a deny-list term, a word): its words joined by
/// single spaces.
pub(crate) fn words_of(text: &str) -> String {
    Words::from_chars(&normalise(text, Span::new(0, text.len()), Strip::None)).stream
}

fn raw(text: &str, span: Span, strip: Strip) -> Vec<NChar> {
    let end = span.end.min(text.len());
    let mut out = Vec::with_capacity(end.saturating_sub(span.start));
    let mut at = span.start;
    while at < end {
        let Some(c) = text[at..end].chars().next() else {
            break;
        };
        if strip != Strip::None
            && c == '<'
            && let Some((tag_end, inline)) = tag_at(&text[..end], at)
        {
            if !inline {
                out.push(NChar {
                    c: ' ',
                    start: at,
                    end: tag_end,
                });
            }
            at = tag_end;
            continue;
        }
        if strip == Strip::Markdown && matches!(c, '*' | '_' | '~' | '`' | '\\') {
            at += 1;
            continue;
        }
        out.push(NChar {
            c,
            start: at,
            end: at + c.len_utf8(),
        });
        at += c.len_utf8();
    }
    out
}

/// An HTML comment or tag starting at `at`: where it ends and whether it is an inline element
/// (which leaves no gap when removed).
pub(crate) fn tag_at(text: &str, at: usize) -> Option<(usize, bool)> {
    let rest = &text[at..];
    if let Some(comment) = rest.strip_prefix("<!--") {
        let close = comment.find("-->")?;
        return Some((at + 4 + close + 3, false));
    }
    let bytes = rest.as_bytes();
    let mut i = 1;
    if bytes.get(i) == Some(&b'/') {
        i += 1;
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        i += 1;
    }
    if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = rest[name_start..i].to_ascii_lowercase();
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                return Some((at + i + 1, INLINE_TAGS.contains(&name.as_str())));
            }
            (None, b'<') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Decodes one layer of HTML character references and percent-encoding.
fn decode(chars: Vec<NChar>) -> Vec<NChar> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].c;
        if c == '&'
            && let Some((decoded, next)) = entity(&chars, i)
        {
            let (start, end) = (chars[i].start, chars[next - 1].end);
            out.extend(decoded.chars().map(|c| NChar { c, start, end }));
            i = next;
            continue;
        }
        if c == '%'
            && let Some((decoded, next)) = percent(&chars, i)
        {
            let (start, end) = (chars[i].start, chars[next - 1].end);
            out.extend(decoded.chars().map(|c| NChar { c, start, end }));
            i = next;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A character reference at `i` (`&amp;`, `&#107;`, `&#x6B;`): what it decodes to and the
/// index after its `;`.
fn entity(chars: &[NChar], i: usize) -> Option<(String, usize)> {
    let mut candidate = String::from("&");
    let mut j = i + 1;
    while j < chars.len() && j - i <= 40 {
        let c = chars[j].c;
        candidate.push(c);
        if c == ';' {
            if candidate.len() < 3 {
                return None;
            }
            let decoded = html_escape::decode_html_entities(&candidate);
            return (decoded != candidate.as_str()).then(|| (decoded.into_owned(), j + 1));
        }
        if !(c.is_ascii_alphanumeric() || c == '#') {
            return None;
        }
        j += 1;
    }
    None
}

/// A run of `%XX` escapes at `i`: the text they encode (invalid UTF-8 becomes U+FFFD, which
/// separates words) and the index after the run.
fn percent(chars: &[NChar], i: usize) -> Option<(String, usize)> {
    let mut bytes = Vec::new();
    let mut j = i;
    while j + 2 < chars.len() && chars[j].c == '%' {
        let (Some(hi), Some(lo)) = (chars[j + 1].c.to_digit(16), chars[j + 2].c.to_digit(16))
        else {
            break;
        };
        bytes.push((hi * 16 + lo) as u8);
        j += 3;
    }
    if bytes.is_empty() {
        return None;
    }
    Some((String::from_utf8_lossy(&bytes).into_owned(), j))
}

/// Unicode NFKC, applied to each starter with the combining marks that follow it (so a
/// decomposed `é` composes), each result keeping the span of its cluster.
fn nfkc(chars: Vec<NChar>) -> Vec<NChar> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i + 1;
        while j < chars.len() && canonical_combining_class(chars[j].c) != 0 {
            j += 1;
        }
        if j == i + 1 && chars[i].c.is_ascii() {
            out.push(chars[i]);
        } else {
            let cluster: String = chars[i..j].iter().map(|n| n.c).collect();
            let (start, end) = (chars[i].start, chars[j - 1].end);
            out.extend(cluster.nfkc().map(|c| NChar { c, start, end }));
        }
        i = j;
    }
    out
}

/// Drops default-ignorable characters and folds case.
fn fold(chars: Vec<NChar>) -> Vec<NChar> {
    let mut out = Vec::with_capacity(chars.len());
    for n in chars {
        if ignorable(n.c) {
            continue;
        }
        if n.c.is_ascii() {
            out.push(NChar {
                c: n.c.to_ascii_lowercase(),
                ..n
            });
        } else {
            out.extend(n.c.to_lowercase().map(|c| NChar { c, ..n }));
        }
    }
    out
}

/// Unicode's default-ignorable code points: invisible, so they can split a word unseen.
fn ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// One word of a [`Words`] stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// Where the word sits in the stream.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The bytes of the scanned text it came from.
    pub(crate) source: Span,
}

/// Words joined by single spaces, each traced back to the text it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Words {
    pub(crate) stream: String,
    pub(crate) tokens: Vec<Token>,
}

impl Words {
    pub(crate) fn from_chars(chars: &[NChar]) -> Words {
        let mut words = Words::default();
        words.push_chars(chars);
        words
    }

    /// Appends the words of `chars` (a separate piece of text: no word spans the join).
    pub(crate) fn push_chars(&mut self, chars: &[NChar]) {
        let mut current: Option<(usize, Span)> = None;
        for n in chars {
            if is_word_char(n.c) {
                match &mut current {
                    Some((_, span)) => span.end = span.end.max(n.end),
                    None => {
                        if !self.stream.is_empty() {
                            self.stream.push(' ');
                        }
                        current = Some((self.stream.len(), Span::new(n.start, n.end)));
                    }
                }
                self.stream.push(n.c);
            } else if let Some((start, source)) = current.take() {
                self.tokens.push(Token {
                    start,
                    end: self.stream.len(),
                    source,
                });
            }
        }
        if let Some((start, source)) = current {
            self.tokens.push(Token {
                start,
                end: self.stream.len(),
                source,
            });
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }

    pub(crate) fn word(&self, i: usize) -> &str {
        &self.stream[self.tokens[i].start..self.tokens[i].end]
    }

    /// The words `i..i + n` as one string (single spaces).
    pub(crate) fn run(&self, i: usize, n: usize) -> &str {
        &self.stream[self.tokens[i].start..self.tokens[i + n - 1].end]
    }

    /// The source bytes of words `i..i + n`.
    pub(crate) fn source(&self, i: usize, n: usize) -> Span {
        Span::new(
            self.tokens[i].source.start,
            self.tokens[i + n - 1].source.end,
        )
    }

    /// The index of the word that starts at stream offset `at`, if one does.
    pub(crate) fn word_starting_at(&self, at: usize) -> Option<usize> {
        self.tokens.binary_search_by_key(&at, |t| t.start).ok()
    }

    /// The index of the word that ends at stream offset `at`, if one does.
    pub(crate) fn word_ending_at(&self, at: usize) -> Option<usize> {
        self.tokens.binary_search_by_key(&at, |t| t.end).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str, strip: Strip) -> String {
        Words::from_chars(&normalise(text, Span::new(0, text.len()), strip)).stream
    }

    #[test]
    fn entities_percent_encoding_width_and_case_are_undone() {
        assert_eq!(
            stream("&#75;estrel &amp; Down", Strip::None),
            "kestrel down"
        );
        assert_eq!(stream("%4Bestrel%20Down", Strip::None), "kestrel down");
        assert_eq!(stream("ＫＥＳＴＲＥＬ", Strip::None), "kestrel");
        assert_eq!(stream("Kes\u{200b}tr\u{ad}el", Strip::None), "kestrel");
        assert_eq!(stream("cafe\u{301} ﬁle", Strip::None), "café file");
        assert_eq!(stream("&amp;#75;estrel", Strip::None), "kestrel");
    }

    #[test]
    fn stripped_views_join_words_split_by_inline_markup() {
        assert_eq!(stream("Kes**trel**", Strip::None), "kes trel");
        assert_eq!(stream("Kes**trel**", Strip::Markdown), "kestrel");
        assert_eq!(stream("Kes<b>trel</b>", Strip::Html), "kestrel");
        assert_eq!(stream("a</td><td>b", Strip::Html), "a b");
        assert_eq!(stream("a<!-- x -->b", Strip::Html), "a b");
    }

    #[test]
    fn tokens_point_at_their_source_bytes() {
        let text = "x &#75;estrel y";
        let words = Words::from_chars(&normalise(text, Span::new(0, text.len()), Strip::None));
        assert_eq!(words.word(1), "kestrel");
        let span = words.source(1, 1);
        assert_eq!(&text[span.start..span.end], "&#75;estrel");
    }
}
