//! Text as the leak scans compare it. Any text (a paper's source, a rendered copy) becomes a
//! list of normalised characters, each remembering the byte span it came from, and then a
//! stream of words, so words and runs of words can be looked up (or a deny-list's terms
//! searched for in the words joined by single spaces) and every hit traced back to `line:col`
//! in what was scanned.
//!
//! Normalising undoes what could hide a word from a byte comparison: HTML character
//! references (`&#107;estrel`), percent-encoding (`%4Bestrel`), compatibility forms (`ｋｅｓｔｒｅｌ`,
//! ligatures), zero-width and other default-ignorable characters (`kes\u{200b}trel`) and case.
//! The stripped views also drop inline markup inside a word (`Kes**trel**`,
//! `Kes<b>trel</b>`), and look-alikes of ASCII letters (`Кеstrel` in Cyrillic) read as the
//! letters they look like. Nothing here knows about redactions: it only turns text into words.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_security::confusable_detection::skeleton;

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

/// Decoded, normalised characters of `text[span]`, keeping case: what [`decoded_string`]
/// reads more quickly, and the tests compare it with.
#[cfg(test)]
pub(crate) fn decoded(text: &str, span: Span) -> Vec<NChar> {
    let mut out = Vec::new();
    normalise_chunks(text, span, Strip::None, false, |chunk| {
        out.extend(chunk.iter().filter(|n| !ignorable(n.c)));
    });
    out
}

/// `text[span]` decoded and normalised with its case kept and ignorable characters dropped,
/// as one string, with the byte offset in it and the source bytes of each character: what
/// deny-list regexes read. Plain stretches (ASCII with no escape) are copied as they are, as
/// decoding leaves them so.
pub(crate) fn decoded_string(text: &str, span: Span) -> DecodedString {
    let mut out = DecodedString::default();
    with_scratch(|scratch| {
        read(
            text,
            span,
            Strip::None,
            false,
            &mut scratch.stages,
            &mut out,
        )
    });
    out
}

/// See [`decoded_string`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DecodedString {
    pub(crate) string: String,
    /// Where each character starts in `string`.
    pub(crate) offsets: Vec<usize>,
    /// The source bytes of each character.
    pub(crate) sources: Vec<Span>,
}

impl Chunks for DecodedString {
    fn chars(&mut self, chars: &[NChar]) {
        for n in chars.iter().filter(|n| !ignorable(n.c)) {
            self.offsets.push(self.string.len());
            self.string.push(n.c);
            self.sources.push(Span::new(n.start, n.end));
        }
    }

    fn plain(&mut self, text: &str, from: usize, to: usize) {
        let start = self.string.len();
        self.string.push_str(&text[from..to]);
        self.offsets.extend(start..start + (to - from));
        self.sources.extend((from..to).map(|i| Span::new(i, i + 1)));
    }
}

impl DecodedString {
    /// The source bytes of the characters that `string[range]` holds.
    pub(crate) fn source(&self, range: std::ops::Range<usize>) -> Span {
        let first = self.offsets.partition_point(|&o| o < range.start);
        let last = self.offsets.partition_point(|&o| o < range.end) - 1;
        Span::new(self.sources[first].start, self.sources[last].end)
    }
}

/// A normalised string for a short value (a deny-list term, a word): its words joined by
/// single spaces.
pub(crate) fn words_of(text: &str) -> String {
    let mut words = Words::default();
    words.push_text(text, Span::new(0, text.len()), Strip::None);
    words.stream
}

/// Characters gathered before they are normalised as one chunk: enough to amortise the
/// per-chunk work, few enough that a whole copy is never held as characters.
const CHUNK_CHARS: usize = 512;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\n' | '\r' | '\t')
}

/// Whether the characters before `next` normalise the same on their own as in one piece
/// with what follows: `last` is ASCII whitespace (which ends any character reference or
/// percent-escape) and `next` is an ASCII character that neither starts an escape nor
/// combines with what precedes it.
fn is_cut(last: char, next: char) -> bool {
    is_space(last) && next.is_ascii() && next != '&' && next != '%'
}

/// A byte that every stage leaves as it is, but for case: ASCII, no escape, and no markup
/// that `strip` removes.
const fn plain_by_rule(b: u8, strip: Strip) -> bool {
    let escape = matches!(b, b'&' | b'%');
    let tag = b == b'<' && !matches!(strip, Strip::None);
    let mark = matches!(b, b'*' | b'_' | b'~' | b'`' | b'\\') && matches!(strip, Strip::Markdown);
    b.is_ascii() && !escape && !tag && !mark
}

/// [`plain_by_rule`] for every byte, one table per [`Strip`]: the scans ask it of every byte
/// they read.
static PLAIN: [[bool; 256]; 3] = {
    let mut tables = [[false; 256]; 3];
    let strips = [Strip::None, Strip::Html, Strip::Markdown];
    let mut s = 0;
    while s < 3 {
        let mut b = 0;
        while b < 256 {
            tables[s][b] = plain_by_rule(b as u8, strips[s]);
            b += 1;
        }
        s += 1;
    }
    tables
};

fn plain_table(strip: Strip) -> &'static [bool; 256] {
    match strip {
        Strip::None => &PLAIN[0],
        Strip::Html => &PLAIN[1],
        Strip::Markdown => &PLAIN[2],
    }
}

fn is_plain(b: u8, strip: Strip) -> bool {
    plain_table(strip)[usize::from(b)]
}

/// Where a chunk of plain bytes starting at `at` may end: the end of the text; the first byte
/// that is not plain if it starts markup that ends what precedes it ([`markup_cut_at`]);
/// or else just after the last whitespace before that byte, if what follows it may start a
/// chunk ([`is_cut`]). `at` itself if there is no such place. With it, the markup it ends at,
/// if it ends at some.
///
/// A `fresh` chunk starts just after markup that vanished after a word's last byte, where a
/// chunk ended only after whitespace once did not start: it may end only as that chunk would
/// have, so that words read as they were read then (see [`read`]).
fn plain_chunk_end(
    text: &str,
    at: usize,
    end: usize,
    strip: Strip,
    fresh: bool,
) -> (usize, Option<Markup>) {
    let bytes = text.as_bytes();
    let stop = first_not_plain(&bytes[at..end], strip).map_or(end, |i| at + i);
    if stop == end {
        return (end, None);
    }
    if let Some(markup) = markup_cut_at(text, stop, end, strip) {
        return (stop, Some(markup));
    }
    if fresh {
        // Then the chunk the vanished markup was in went on to the first whitespace that a
        // plain byte follows.
        return match bytes[at..stop]
            .iter()
            .position(|&b| is_space(char::from(b)))
        {
            Some(i) if at + i + 1 < stop => (at + i + 1, None),
            _ => (at, None),
        };
    }
    let next_may_start = bytes[stop].is_ascii() && bytes[stop] != b'&' && bytes[stop] != b'%';
    let mut k = stop;
    while k > at {
        k -= 1;
        if is_space(char::from(bytes[k])) && (k + 1 < stop || next_may_start) {
            return (k + 1, None);
        }
    }
    (at, None)
}

/// Where the first byte of `bytes` that is not plain ([`is_plain`]) is, if one is: eight bytes
/// at a time while none of them is (most of any text is plain, and every byte read is looked
/// at here).
fn first_not_plain(bytes: &[u8], strip: Strip) -> Option<usize> {
    match strip {
        Strip::None => first_not_plain_of(bytes, plain_table(strip), *b"&%"),
        Strip::Html => first_not_plain_of(bytes, plain_table(strip), *b"&%<"),
        Strip::Markdown => first_not_plain_of(bytes, plain_table(strip), *b"&%<*_~`\\"),
    }
}

/// [`first_not_plain`] for the strip whose `table` it is: a byte is plain if it is ASCII and
/// none of `specials`.
fn first_not_plain_of<const N: usize>(
    bytes: &[u8],
    table: &[bool; 256],
    specials: [u8; N],
) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether a byte of `w` is `b`: a zero byte of `w ^ b…b`, found exactly by the borrow
    // its subtraction makes.
    let holds = |w: u64, b: u8| {
        let v = w ^ (ONES * u64::from(b));
        v.wrapping_sub(ONES) & !v & HIGH != 0
    };
    let mut at = 0;
    for block in bytes.chunks_exact(8) {
        let w = u64::from_le_bytes([
            block[0], block[1], block[2], block[3], block[4], block[5], block[6], block[7],
        ]);
        if w & HIGH != 0 || specials.iter().any(|&b| holds(w, b)) {
            break;
        }
        at += 8;
    }
    (bytes[at..].iter())
        .position(|&b| !table[usize::from(b)])
        .map(|i| at + i)
}

/// Markup that a plain chunk may end at (see [`markup_cut_at`]).
#[derive(Debug, Clone, Copy)]
struct Markup {
    /// Where it ends.
    end: usize,
    /// It is a tag that separates words; else it vanishes.
    separates: bool,
}

/// Buffers for normalising a chunk of raw characters.
#[derive(Default)]
struct Stages {
    raw: Vec<NChar>,
    a: Vec<NChar>,
    b: Vec<NChar>,
    c: Vec<NChar>,
    d: Vec<NChar>,
    folded: Vec<NChar>,
}

impl Stages {
    /// Adds one raw character, first passing the chunk so far to `out` if it is long enough
    /// and may end here.
    fn push(&mut self, n: NChar, fold_case: bool, out: &mut impl FnMut(&[NChar])) {
        if self.raw.len() >= CHUNK_CHARS
            && let Some(last) = self.raw.last()
            && is_cut(last.c, n.c)
        {
            self.flush(fold_case, out);
        }
        self.raw.push(n);
    }

    /// Normalises the chunk gathered so far and passes it to `out`; false if it was empty.
    /// Each stage is skipped where it would change nothing.
    fn flush(&mut self, fold_case: bool, out: &mut impl FnMut(&[NChar])) -> bool {
        if self.raw.is_empty() {
            return false;
        }
        let mut chars: &[NChar] = &self.raw;
        if has_escape(chars) {
            decode(chars, &mut self.a);
            chars = &self.a;
            if has_escape(chars) {
                decode(chars, &mut self.b);
                chars = &self.b;
            }
        }
        if !chars.iter().all(|n| n.c.is_ascii()) {
            nfkc(chars, &mut self.c);
            fold_look_alikes(&self.c, &mut self.d);
            chars = &self.d;
        }
        if fold_case {
            fold(chars, &mut self.folded);
            out(&self.folded);
        } else {
            out(chars);
        }
        self.raw.clear();
        true
    }
}

/// Normalises `text[span]` a chunk at a time, passing each chunk's characters to `out`
/// (decoded, NFKC, and folded if `fold_case`, else unfolded with ignorables kept). Chunks end
/// only where [`is_cut`] allows, so no word, escape or combining sequence spans two, and the
/// chunks joined are what normalising the whole span at once gives.
#[cfg(test)]
pub(crate) fn normalise_chunks(
    text: &str,
    span: Span,
    strip: Strip,
    fold_case: bool,
    mut out: impl FnMut(&[NChar]),
) {
    with_scratch(|scratch| {
        let stages = &mut scratch.stages;
        let end = span.end.min(text.len());
        let mut at = span.start;
        while at < end {
            at = raw_step(text, at, end, strip, false, |n| {
                stages.push(n, fold_case, &mut out)
            });
        }
        stages.flush(fold_case, &mut out);
    })
}

/// Buffers a thread reuses from one call to the next: the scans normalise many short pieces,
/// and growing fresh buffers for each was a tenth of `check`'s time.
#[derive(Default)]
struct Scratch {
    stages: Stages,
    word: String,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<Scratch>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with scratch buffers from this thread's pool (a call inside `f` gets others),
/// emptied, and gives them back for the next call unless they grew large.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    const KEEP_BYTES: usize = 1 << 18;
    let mut scratch = SCRATCH
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_default();
    scratch.stages.raw.clear();
    scratch.word.clear();
    let result = f(&mut scratch);
    let stages = &scratch.stages;
    let chars = [
        &stages.raw,
        &stages.a,
        &stages.b,
        &stages.c,
        &stages.d,
        &stages.folded,
    ]
    .iter()
    .map(|v| v.capacity())
    .sum::<usize>();
    if scratch.word.capacity() + chars * size_of::<NChar>() <= KEEP_BYTES {
        SCRATCH.with(|pool| pool.borrow_mut().push(scratch));
    }
    result
}

/// Whether decoding could change `chars`.
fn has_escape(chars: &[NChar]) -> bool {
    chars.iter().any(|n| n.c == '&' || n.c == '%')
}

/// Reads the character or tag at `at` (before `end`), passes what it stands for to `out`
/// (nothing for stripped markup, a space for a tag that separates words), and returns where
/// the next one starts. `between` two chunks, before a plain byte or the end, a tag's space
/// is left out: it would only end a chunk of its own.
fn raw_step(
    text: &str,
    at: usize,
    end: usize,
    strip: Strip,
    between: bool,
    mut out: impl FnMut(NChar),
) -> usize {
    let Some(c) = text[at..end].chars().next() else {
        return end;
    };
    if strip != Strip::None
        && c == '<'
        && let Some((tag_end, inline)) = tag_at(&text[..end], at)
    {
        let unneeded = between && (tag_end == end || is_plain(text.as_bytes()[tag_end], strip));
        if !inline && !unneeded {
            out(NChar {
                c: ' ',
                start: at,
                end: tag_end,
            });
        }
        return tag_end;
    }
    if strip == Strip::Markdown && matches!(c, '*' | '_' | '~' | '`' | '\\') {
        return at + 1;
    }
    out(NChar {
        c,
        start: at,
        end: at + c.len_utf8(),
    });
    at + c.len_utf8()
}

/// Markup that `strip` removes, starting at `at` (before `end`), if plain text before it reads
/// the same as a chunk of its own: a tag that separates words (it reads as a space, which
/// nothing after it joins or combines with), or markup that vanishes (an inline tag,
/// Markdown's marks) before the end or a plain byte that is no part of a word.
fn markup_cut_at(text: &str, at: usize, end: usize, strip: Strip) -> Option<Markup> {
    let bytes = text.as_bytes();
    let markup_end = match (strip, bytes[at]) {
        (Strip::None, _) => return None,
        (_, b'<') => match tag_at(&text[..end], at)? {
            (tag_end, false) => {
                return Some(Markup {
                    end: tag_end,
                    separates: true,
                });
            }
            (tag_end, true) => tag_end,
        },
        (Strip::Markdown, b) if is_mark(b) => {
            at + bytes[at..end].iter().take_while(|&&b| is_mark(b)).count()
        }
        _ => return None,
    };
    let ends_word = |b: u8| is_plain(b, strip) && !b.is_ascii_alphanumeric();
    (markup_end == end || ends_word(bytes[markup_end])).then_some(Markup {
        end: markup_end,
        separates: false,
    })
}

/// Markdown's marks that [`Strip::Markdown`] removes.
fn is_mark(b: u8) -> bool {
    matches!(b, b'*' | b'_' | b'~' | b'`' | b'\\')
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
    let name = &rest[name_start..i];
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                let inline = INLINE_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name));
                return Some((at + i + 1, inline));
            }
            (None, b'<') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Decodes one layer of HTML character references and percent-encoding into `out`.
fn decode(chars: &[NChar], out: &mut Vec<NChar>) {
    out.clear();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].c;
        if c == '&'
            && let Some((decoded, next)) = entity(chars, i)
        {
            let (start, end) = (chars[i].start, chars[next - 1].end);
            out.extend(decoded.chars().map(|c| NChar { c, start, end }));
            i = next;
            continue;
        }
        if c == '%'
            && let Some((decoded, next)) = percent(chars, i)
        {
            let (start, end) = (chars[i].start, chars[next - 1].end);
            out.extend(decoded.chars().map(|c| NChar { c, start, end }));
            i = next;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
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
/// decomposed `é` composes), each result keeping the span of its cluster; into `out`.
fn nfkc(chars: &[NChar], out: &mut Vec<NChar>) {
    out.clear();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i + 1;
        while j < chars.len()
            && !chars[j].c.is_ascii()
            && canonical_combining_class(chars[j].c) != 0
        {
            j += 1;
        }
        if j == i + 1 && chars[i].c.is_ascii() {
            out.push(chars[i]);
        } else {
            let (start, end) = (chars[i].start, chars[j - 1].end);
            let cluster = chars[i..j].iter().map(|n| n.c);
            out.extend(cluster.nfkc().map(|c| NChar { c, start, end }));
        }
        i = j;
    }
}

/// Folds each character that looks like ASCII to the ASCII it looks like, into `out`: the
/// skeleton of UTS #39 (Cyrillic `С` and Greek `Ο` read as `C` and `O`), so a look-alike
/// cannot hide a word. Only folds into ASCII, and a letter or digit only into letters and
/// digits, a sign only into signs: an accented letter (whose skeleton keeps its accent)
/// stays itself, and `×` does not become a letter that would join two words.
fn fold_look_alikes(chars: &[NChar], out: &mut Vec<NChar>) {
    out.clear();
    for &n in chars {
        match ascii_look_alike(n.c) {
            Some((bytes, len)) => out.extend(bytes[..len].iter().map(|&b| NChar {
                c: char::from(b),
                ..n
            })),
            None => out.push(n),
        }
    }
}

/// The ASCII skeleton of a non-ASCII character, if it has one of the same kind.
fn ascii_look_alike(c: char) -> Option<([u8; 4], usize)> {
    if c.is_ascii() {
        return None;
    }
    let mut buf = [0; 4];
    let mut bytes = [0u8; 4];
    let mut len = 0;
    for p in skeleton(c.encode_utf8(&mut buf)) {
        if !p.is_ascii() || len == bytes.len() {
            return None;
        }
        bytes[len] = p as u8;
        len += 1;
    }
    let word = bytes[..len].iter().all(u8::is_ascii_alphanumeric);
    (len > 0 && word == is_word_char(c)).then_some((bytes, len))
}

/// Drops default-ignorable characters and folds case, into `out`.
fn fold(chars: &[NChar], out: &mut Vec<NChar>) {
    out.clear();
    for &n in chars {
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
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Calls `found` with each word of `text[span]`, normalised, and the bytes of `text` it came
/// from, in order: what [`Words::push_text`] gathers, without gathering it.
///
/// The text is walked by [`read`]: plain bytes as they are, the rest through every stage.
pub(crate) fn for_each_word(
    text: &str,
    span: Span,
    strip: Strip,
    mut found: impl FnMut(&str, Span),
) {
    with_scratch(|scratch| {
        let Scratch { stages, word } = scratch;
        words_with(text, span, strip, stages, word, &mut found)
    })
}

/// Which reading of a text a word comes from (see [`for_each_word_two_ways`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Read as it is ([`Strip::None`]).
    Raw,
    /// Read with the markup stripped.
    Stripped,
    /// The same word at the same place in both readings.
    Both,
}

/// Whether the raw reading may be cut just after the ASCII byte `b`, before a plain byte,
/// and give the same words and characters as reading on: `b` is no part of a word or of an
/// escape (`&…;`, `%XX`, or one that decoding twice finds, which a `;` can end), and a plain
/// byte combines with nothing before it.
fn raw_cut_after(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_alphanumeric() && !matches!(b, b'&' | b'#' | b';' | b'%')
}

/// Calls `found` with each word of `text[span]` read as it is and read with `strip` (not
/// [`Strip::None`]), each reading's words in order: the same words as [`for_each_word`] gives
/// for each reading, read in one pass. Plain stretches that both readings read alike (most of
/// any text) are read once and their words given once, as [`Reading::Both`].
pub(crate) fn for_each_word_two_ways(
    text: &str,
    span: Span,
    strip: Strip,
    mut found: impl FnMut(Reading, &str, Span),
) {
    debug_assert!(strip != Strip::None);
    with_scratch(|stripped| {
        with_scratch(|raw| words_two_ways(text, span, strip, stripped, raw, &mut found))
    })
}

/// The stripped reading drives: where it reads a chunk of plain bytes that the raw reading
/// may also start at (see [`raw_cut_after`]), the raw reading first catches up on the bytes
/// before it, as a piece of its own, and the chunk's words go to both. A plain chunk always
/// ends just after whitespace, before a plain byte or the end, where the raw reading may
/// start again.
fn words_two_ways(
    text: &str,
    span: Span,
    strip: Strip,
    stripped: &mut Scratch,
    raw: &mut Scratch,
    found: &mut impl FnMut(Reading, &str, Span),
) {
    struct TwoWays<'a, F> {
        word: &'a mut String,
        raw: &'a mut Scratch,
        /// The raw reading has read the bytes before this.
        raw_from: usize,
        found: &'a mut F,
    }
    impl<F: FnMut(Reading, &str, Span)> TwoWays<'_, F> {
        fn catch_up(&mut self, text: &str, to: usize) {
            let found = &mut *self.found;
            words_with(
                text,
                Span::new(self.raw_from, to),
                Strip::None,
                &mut self.raw.stages,
                &mut self.raw.word,
                |w: &str, s: Span| found(Reading::Raw, w, s),
            );
        }
    }
    impl<F: FnMut(Reading, &str, Span)> Chunks for TwoWays<'_, F> {
        fn chars(&mut self, chars: &[NChar]) {
            let found = &mut *self.found;
            words_in_chars(chars, self.word, &mut |w: &str, s: Span| {
                found(Reading::Stripped, w, s)
            });
        }

        fn plain(&mut self, text: &str, from: usize, to: usize) {
            let shared = from == self.raw_from || raw_cut_after(text.as_bytes()[from - 1]);
            let reading = if shared {
                self.catch_up(text, from);
                self.raw_from = to;
                Reading::Both
            } else {
                Reading::Stripped
            };
            let found = &mut *self.found;
            words_in_plain(text, from, to, self.word, &mut |w: &str, s: Span| {
                found(reading, w, s)
            });
        }
    }
    let mut two_ways = TwoWays {
        word: &mut stripped.word,
        raw,
        raw_from: span.start,
        found,
    };
    read(text, span, strip, true, &mut stripped.stages, &mut two_ways);
    two_ways.catch_up(text, span.end.min(text.len()));
}

fn words_with(
    text: &str,
    span: Span,
    strip: Strip,
    stages: &mut Stages,
    word: &mut String,
    found: impl FnMut(&str, Span),
) {
    struct WordSink<'a, F> {
        word: &'a mut String,
        found: F,
    }
    impl<F: FnMut(&str, Span)> Chunks for WordSink<'_, F> {
        fn chars(&mut self, chars: &[NChar]) {
            words_in_chars(chars, self.word, &mut self.found);
        }

        fn plain(&mut self, text: &str, from: usize, to: usize) {
            words_in_plain(text, from, to, self.word, &mut self.found);
        }
    }
    read(
        text,
        span,
        strip,
        true,
        stages,
        &mut WordSink { word, found },
    );
}

/// What [`read`] passes on, in order.
trait Chunks {
    /// Normalised characters: a piece of text no word spans out of.
    fn chars(&mut self, chars: &[NChar]);
    /// `text[from..to]`: plain bytes (see [`is_plain`]), which normalising leaves as they are
    /// but for case; a piece of text no word spans out of.
    fn plain(&mut self, text: &str, from: usize, to: usize);
}

/// Reads `text[span]` with `strip` and passes it on in order: a chunk of plain bytes as it is
/// (normalising would only fold its case), the rest through every stage of `stages` (folding
/// case if `fold_case`). Either way a chunk ends only where [`is_cut`] allows, so what is
/// passed on is what normalising the whole span at once gives, and no word spans two chunks.
fn read(
    text: &str,
    span: Span,
    strip: Strip,
    fold_case: bool,
    stages: &mut Stages,
    out: &mut impl Chunks,
) {
    let bytes = text.as_bytes();
    let end = span.end.min(text.len());
    let mut at = span.start;
    // Whether `at` follows markup that vanished after a word's last byte (see
    // `plain_chunk_end`).
    let mut fresh = false;
    while at < end {
        let may_start = stages
            .raw
            .last()
            .is_none_or(|last| is_cut(last.c, char::from(bytes[at])));
        if may_start && is_plain(bytes[at], strip) {
            let (stop, markup) = plain_chunk_end(text, at, end, strip, fresh);
            if stop > at {
                stages.flush(fold_case, &mut |chunk| out.chars(chunk));
                out.plain(text, at, stop);
                // Markup between two chunks, before a plain byte or the end, adds nothing
                // (see `raw_step`): read past it now rather than look at it again.
                let skips = |m: &Markup| m.end == end || is_plain(bytes[m.end], strip);
                match markup.filter(skips) {
                    Some(m) => {
                        fresh = !m.separates && !is_space(char::from(bytes[stop - 1]));
                        at = m.end;
                    }
                    None => {
                        fresh = false;
                        at = stop;
                    }
                }
                continue;
            }
        }
        fresh = false;
        let between = stages.raw.is_empty();
        at = raw_step(text, at, end, strip, between, |n| {
            stages.push(n, fold_case, &mut |chunk| out.chars(chunk))
        });
    }
    stages.flush(fold_case, &mut |chunk| out.chars(chunk));
}

/// The words of normalised characters (a separate piece of text: no word spans the join);
/// `word` is room to build each in.
fn words_in_chars(chars: &[NChar], word: &mut String, found: &mut impl FnMut(&str, Span)) {
    let mut source: Option<Span> = None;
    for n in chars {
        if is_word_char(n.c) {
            match &mut source {
                Some(span) => span.end = span.end.max(n.end),
                None => {
                    word.clear();
                    source = Some(Span::new(n.start, n.end));
                }
            }
            word.push(n.c);
        } else if let Some(span) = source.take() {
            found(word, span);
        }
    }
    if let Some(span) = source {
        found(word, span);
    }
}

/// What a byte of a plain chunk is to a word: [`SEPARATES`] it, or is part of it, upper case
/// ([`UPPER`]) or not: one load for each byte read, where the scans read every byte.
static WORD_BYTE: [u8; 256] = {
    let mut table = [SEPARATES; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_uppercase() {
            table[b] = UPPER;
        } else if byte.is_ascii_alphanumeric() {
            table[b] = LOWER;
        }
        b += 1;
    }
    table
};
const SEPARATES: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;

/// The words of `text[from..to]`, plain bytes: ASCII letters and digits make words,
/// lower-cased; anything else separates them.
fn words_in_plain(
    text: &str,
    from: usize,
    to: usize,
    word: &mut String,
    found: &mut impl FnMut(&str, Span),
) {
    let bytes = &text.as_bytes()[..to];
    let class = |b: &u8| WORD_BYTE[usize::from(*b)];
    let mut i = from;
    loop {
        match bytes[i..].iter().position(|b| class(b) != SEPARATES) {
            Some(n) => i += n,
            None => return,
        }
        let first = i;
        let mut kinds = SEPARATES;
        for b in &bytes[first..] {
            let kind = class(b);
            if kind == SEPARATES {
                break;
            }
            kinds |= kind;
            i += 1;
        }
        let source = Span::new(first, i);
        if kinds & UPPER != 0 {
            word.clear();
            word.push_str(&text[first..i]);
            word.make_ascii_lowercase();
            found(word, source);
        } else {
            found(&text[first..i], source);
        }
    }
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
    /// Appends the words of `text[span]`, normalised (a separate piece of text: no word spans
    /// the join).
    /// Room for the words of about `bytes` of text.
    pub(crate) fn with_capacity(bytes: usize) -> Words {
        Words {
            stream: String::with_capacity(bytes),
            // English averages about six bytes a word, space included.
            tokens: Vec::with_capacity(bytes / 6),
        }
    }

    pub(crate) fn push_text(&mut self, text: &str, span: Span, strip: Strip) {
        for_each_word(text, span, strip, |word, source| {
            self.push_word(word, source)
        });
    }

    pub(crate) fn push_word(&mut self, word: &str, source: Span) {
        if !self.stream.is_empty() {
            self.stream.push(' ');
        }
        let start = self.stream.len();
        self.stream.push_str(word);
        self.tokens.push(Token {
            start,
            end: self.stream.len(),
            source,
        });
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
    use proptest::prelude::*;

    type Read = Vec<(String, Span)>;

    /// Each reading's words from one two-way pass, and from a pass of its own.
    fn both_ways(text: &str, strip: Strip) -> [(Read, Read); 2] {
        let span = Span::new(0, text.len());
        let (mut raw, mut stripped) = (Vec::new(), Vec::new());
        for_each_word_two_ways(text, span, strip, |reading, w, s| {
            if reading != Reading::Stripped {
                raw.push((w.to_string(), s));
            }
            if reading != Reading::Raw {
                stripped.push((w.to_string(), s));
            }
        });
        let alone = |strip| {
            let mut out = Vec::new();
            for_each_word(text, span, strip, |w, s| out.push((w.to_string(), s)));
            out
        };
        [(raw, alone(Strip::None)), (stripped, alone(strip))]
    }

    fn assert_two_ways_read_alike(text: &str) {
        for strip in [Strip::Html, Strip::Markdown] {
            let [raw, stripped] = both_ways(text, strip);
            assert_eq!(raw.0, raw.1, "raw reading of {text:?} ({strip:?})");
            assert_eq!(stripped.0, stripped.1, "{strip:?} reading of {text:?}");
        }
    }

    /// The words of `text` as [`read`] found them before it read past markup: a plain chunk
    /// ended only just after whitespace, and every tag's space went through the stages.
    fn words_before_markup_cuts(text: &str, strip: Strip) -> Read {
        struct Sink(Read, String);
        impl Chunks for Sink {
            fn chars(&mut self, chars: &[NChar]) {
                let out = &mut self.0;
                words_in_chars(chars, &mut self.1, &mut |w: &str, s: Span| {
                    out.push((w.to_string(), s))
                });
            }
            fn plain(&mut self, text: &str, from: usize, to: usize) {
                let out = &mut self.0;
                words_in_plain(text, from, to, &mut self.1, &mut |w: &str, s: Span| {
                    out.push((w.to_string(), s))
                });
            }
        }
        let (bytes, end) = (text.as_bytes(), text.len());
        let chunk_end = |at: usize| {
            let table = plain_table(strip);
            let stop = (bytes[at..].iter())
                .position(|&b| !table[usize::from(b)])
                .map_or(end, |i| at + i);
            if stop == end {
                return end;
            }
            let next_may_start = bytes[stop].is_ascii() && !matches!(bytes[stop], b'&' | b'%');
            (at..stop)
                .rev()
                .find(|&k| is_space(char::from(bytes[k])) && (k + 1 < stop || next_may_start))
                .map_or(at, |k| k + 1)
        };
        let mut stages = Stages::default();
        let mut out = Sink(Vec::new(), String::new());
        let mut at = 0;
        while at < end {
            let may_start =
                (stages.raw.last()).is_none_or(|last| is_cut(last.c, char::from(bytes[at])));
            if may_start && is_plain(bytes[at], strip) {
                let stop = chunk_end(at);
                if stop > at {
                    stages.flush(true, &mut |chunk| out.chars(chunk));
                    out.plain(text, at, stop);
                    at = stop;
                    continue;
                }
            }
            at = raw_step(text, at, end, strip, false, |n| {
                stages.push(n, true, &mut |chunk| out.chars(chunk))
            });
        }
        stages.flush(true, &mut |chunk| out.chars(chunk));
        out.0
    }

    /// [`for_each_word`] against [`words_before_markup_cuts`], in every reading.
    fn assert_words_as_before_markup_cuts(text: &str) {
        for strip in [Strip::None, Strip::Html, Strip::Markdown] {
            let mut fast = Vec::new();
            for_each_word(text, Span::new(0, text.len()), strip, |w, s| {
                fast.push((w.to_string(), s))
            });
            let before = words_before_markup_cuts(text, strip);
            assert_eq!(fast, before, "{strip:?} reading of {text:?}");
        }
    }

    /// Texts where plain chunks meet markup: tags that separate words and inline ones,
    /// Markdown's marks, each before a word, a sign, an escape, a combining mark, the end.
    const MARKUP_CASES: [&str; 12] = [
        "<p>Hello world.</p>\n<h2 id=\"x\">Title</h2>",
        "of <em>organised</em> network <strong>tasking</strong>, <code>x</code>.",
        "word</em>s kes<b>trel</b> <a href=\"https://e.org/1\">national</a> end</a>",
        "of *organised* network **tasking**, `code`. ~~gone~~ \\*x\\* a_b_ *x*y",
        "word</p>&#769; word<b>&#769; word*&#769; word</p>\u{301} word<br>%41",
        "word<!-- c -->next word<!-- c --> next <p>&amp;x</p>",
        "end</p>",
        "end<b>",
        "end**",
        "<p></p><b></b>**__ <br> x",
        "a<p>b<b>c</b>d</p>e *f*g* h**i** <i>j</i>,k",
        "tail <p\u{301}>x</p> y<unclosed x",
    ];

    #[test]
    fn reading_past_markup_finds_the_words_it_found_before() {
        for text in MARKUP_CASES {
            assert_words_as_before_markup_cuts(text);
            assert_two_ways_read_alike(text);
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                let markdown = std::fs::read_to_string(&path).unwrap();
                let mut html = String::new();
                pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&markdown));
                for text in [&markdown, &html] {
                    assert_words_as_before_markup_cuts(text);
                    assert_two_ways_read_alike(text);
                }
                read += 1;
            }
        }
        assert!(read > 0);
    }

    /// [`decoded_string`] against [`decoded`] character by character.
    fn assert_decoded_string_is_decoded(text: &str) {
        let span = Span::new(0, text.len());
        let chars = decoded(text, span);
        let fast = decoded_string(text, span);
        let expected: String = chars.iter().map(|n| n.c).collect();
        assert_eq!(fast.string, expected, "{text:?}");
        let sources: Vec<Span> = chars.iter().map(|n| Span::new(n.start, n.end)).collect();
        assert_eq!(fast.sources, sources, "{text:?}");
        let offsets: Vec<usize> = expected.char_indices().map(|(i, _)| i).collect();
        assert_eq!(fast.offsets, offsets, "{text:?}");
    }

    /// [`first_not_plain`] against a look at each byte in turn.
    fn assert_first_not_plain_is_by_byte(bytes: &[u8]) {
        for strip in [Strip::None, Strip::Html, Strip::Markdown] {
            let by_byte = bytes.iter().position(|&b| !is_plain(b, strip));
            assert_eq!(
                first_not_plain(bytes, strip),
                by_byte,
                "{bytes:?} ({strip:?})"
            );
        }
    }

    #[test]
    fn first_byte_not_plain_is_found_eight_at_a_time_as_one_at_a_time() {
        assert_first_not_plain_is_by_byte(b"");
        // Each byte at each place of a text of plain bytes, before and across a block's end.
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 17, 24] {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    text[at] = b;
                    assert_first_not_plain_is_by_byte(&text);
                    text[len - 1] = b'&';
                    assert_first_not_plain_is_by_byte(&text);
                }
            }
        }
        // Bytes next to each special one, whose borrows a wrong test would misread.
        for text in [
            &b"\x01&%<*_~`\\\x7f\x80abcdefgh"[..],
            b"%%%%%%%%x",
            b"aaaaaaa\x80",
        ] {
            for from in 0..text.len() {
                assert_first_not_plain_is_by_byte(&text[from..]);
            }
        }
    }

    #[test]
    fn decoded_string_is_decoded_text() {
        for text in [
            "",
            "Call PC 4021 now",
            "Call PC&#32;4021 \u{2014} or PC \u{ff14}\u{ff10}.",
            "x&amp;#107;y %254B;z &percnt;4B kes\u{200b}trel caf\u{301} ",
            "  lead &lt;b&gt; %41%42 end\n\r\ttail",
        ] {
            assert_decoded_string_is_decoded(text);
        }
    }

    #[test]
    fn two_way_pass_reads_each_way_as_a_pass_of_its_own() {
        for text in [
            "",
            "plain words only\n",
            "<p>Kes<b>trel</b> and &amp;#75;estrel</p>\n<p>next para</p>",
            "<a href=\"kestrel\" title='x > y'>link</a> <!-- a comment\nover lines --> after",
            "x&amp;#107;y %254B;z &percnt;4B <p>&#107; (kestrel) [k]</p>",
            "Kes**trel** _under_ `code` \\*not* ~~gone~~ <span>in</span>line",
            "caf\u{301} e\u{301}t\u{e9} \u{fb01}le \u{ff4b}estrel kes\u{200b}trel >\u{301}",
            "<div>\n\nblock</div>word<br>word<img alt=\"alt text\">tail",
        ] {
            assert_two_ways_read_alike(text);
        }
        let mut long = String::new();
        for i in 0..400 {
            long.push_str(&format!("<p>w{i} &amp; *x{i}* %41</p> plain text here "));
        }
        assert_two_ways_read_alike(&long);
    }

    /// The words [`words_in_plain`] reads in plain bytes, and those [`words_in_chars`] reads
    /// in their characters lower-cased, as the stages give them.
    fn plain_words_both_ways(text: &str) -> [Read; 2] {
        let mut word = String::new();
        let mut plain = Vec::new();
        words_in_plain(text, 0, text.len(), &mut word, &mut |w: &str, s: Span| {
            plain.push((w.to_string(), s))
        });
        let chars: Vec<NChar> = (text.char_indices())
            .map(|(i, c)| NChar {
                c: c.to_ascii_lowercase(),
                start: i,
                end: i + 1,
            })
            .collect();
        let mut by_char = Vec::new();
        words_in_chars(&chars, &mut word, &mut |w: &str, s: Span| {
            by_char.push((w.to_string(), s))
        });
        [plain, by_char]
    }

    #[test]
    fn plain_bytes_make_the_words_their_characters_make() {
        let all: String = (0u8..128).map(char::from).collect();
        for text in [
            "",
            "a",
            " ",
            "Ab9 zZ-09_Q",
            "x.Y,z",
            " lead trail ",
            all.as_str(),
        ] {
            let [plain, by_char] = plain_words_both_ways(text);
            assert_eq!(plain, by_char, "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
        ))]
        #[test]
        fn plain_bytes_make_the_words_their_characters_make_on_any_text(
            text in "[ -~\t\n]{0,40}"
        ) {
            let [plain, by_char] = plain_words_both_ways(&text);
            prop_assert_eq!(plain, by_char);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
        ))]
        #[test]
        fn two_way_pass_matches_on_any_text(parts in proptest::collection::vec(
            prop::sample::select(vec![
                "a", "Kes", "trel", "B", " ", "  ", "\n", "\t", "&", "amp;", "#", "107", "x6B",
                ";", "%", "4B", "25", "<", ">", "b>", "</b>", "<p>", "</p>", "<!--", "-->",
                "*", "**", "_", "`", "\\", "~", "\u{e9}", "\u{301}", "\u{200b}", "\u{fb01}",
                "\u{ff4b}", "\"", "'", "=", "(", ")", ".", "-", "<a href=\"", "\">", "9",
                "<em>", "</em>", "<br>", "</a>", ",", "<!-- c -->",
            ]),
            0..80,
        )) {
            let text: String = parts.concat();
            assert_decoded_string_is_decoded(&text);
            assert_first_not_plain_is_by_byte(text.as_bytes());
            for strip in [Strip::None, Strip::Html, Strip::Markdown] {
                let mut fast = Vec::new();
                for_each_word(&text, Span::new(0, text.len()), strip, |w, s| {
                    fast.push((w.to_string(), s))
                });
                let before = words_before_markup_cuts(&text, strip);
                prop_assert_eq!(fast, before, "{:?} reading", strip);
            }
            for strip in [Strip::Html, Strip::Markdown] {
                let [raw, stripped] = both_ways(&text, strip);
                prop_assert_eq!(&raw.0, &raw.1, "raw reading ({:?})", strip);
                prop_assert_eq!(&stripped.0, &stripped.1, "{:?} reading", strip);
            }
        }
    }

    fn words(text: &str, strip: Strip) -> Words {
        let mut words = Words::default();
        words.push_text(text, Span::new(0, text.len()), strip);
        words
    }

    fn stream(text: &str, strip: Strip) -> String {
        words(text, strip).stream
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
        let words = words(text, Strip::None);
        assert_eq!(words.word(1), "kestrel");
        let span = words.source(1, 1);
        assert_eq!(&text[span.start..span.end], "&#75;estrel");
    }
}
