//! The second reader: every copy but the council Markdown is read again, after it is made, by
//! this small scanner, which shares no code with the parser (no pulldown-cmark, no attribute
//! reader). It looks at the copy's own bytes, line by line, after NFKC with zero-width
//! characters removed, for text shaped like a redaction tag (`{.S31}`, `{S31}`) or a fence
//! (`::: S31`) naming an exemption code. The parser should never leave one; if it ever does,
//! the paper fails (exit 2), located in the source, rather than publish a tag as text.
//!
//! What is not a finding: the tags of passages the audience sees (the redact stage says where
//! they are), code (fenced and indented code blocks, code spans on one line) and an escaped
//! `\{`. An HTML copy is read the same way after its entities are decoded; it is rendered from
//! its Markdown, so it may show tag-shaped text only as often as that Markdown showed it as
//! code, escaped or as a visible tag.
//!
//! It never changes a copy and never decides what is withheld: it only refuses.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use unicode_normalization::UnicodeNormalization;

use crate::error::Diagnostic;
use crate::redact::{Copy, Piece};
use crate::rules::Rules;
use crate::span::Span;

/// A brace group longer than this is not read as one tag (no attribute block is this long,
/// and the bound keeps a line of unmatched braces linear).
const MAX_TAG_CHARS: usize = 1024;

/// What a stray looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// `{.S31}`, `{S31}`, `{#x .S31}`.
    Tag,
    /// `::: S31`, `:::.S31`.
    Fence,
}

/// Tag-shaped or fence-shaped text naming exemption codes, found in a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub shape: Shape,
    /// The codes it names, upper case, sorted, each once.
    pub codes: Vec<Arc<str>>,
    /// Byte range in the copy.
    pub at: Range<usize>,
    /// The copy's line it is on, from 1.
    pub line: usize,
}

impl Stray {
    /// Strays with the same key are the same text for the purpose of excusing an HTML one.
    fn key(&self) -> (Shape, Vec<Arc<str>>) {
        (self.shape, self.codes.clone())
    }

    pub fn describe(&self) -> String {
        let codes = self.codes.join("`, `");
        match self.shape {
            Shape::Tag => format!("text shaped like a redaction tag naming `{codes}`"),
            Shape::Fence => format!("text shaped like a fence naming `{codes}`"),
        }
    }
}

/// How many strays of each shape and codes a reading excused.
type Excused = BTreeMap<(Shape, Vec<Arc<str>>), usize>;

/// What reading one Markdown copy found: the strays, and how many of each shape it excused
/// (so the HTML rendered from it may show as many).
#[derive(Debug, Default)]
pub struct Reading {
    pub strays: Vec<Stray>,
    excused: Excused,
    /// Strays excused only as code, inside a code span that holds other text beside them: a
    /// stray backtick more likely than an example of the syntax (worth a warning: the tag
    /// withholds nothing).
    pub amid_code: Vec<(Stray, Code)>,
}

/// Code a stray was excused in, where it may be there by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A code span on one line.
    Span,
    /// A line of an indented code block (four spaces of indent after a blank line).
    Indented,
}

impl Reading {
    /// A stray of this Markdown with the same shape and codes as `stray` (found in the HTML
    /// rendered from it): the text it was rendered from, to locate it by.
    pub fn same_as(&self, stray: &Stray) -> Option<&Stray> {
        self.strays.iter().find(|s| s.key() == stray.key())
    }
}

/// The second reader for one set of rules: it knows the exemption codes and nothing else.
#[derive(Debug, Clone)]
pub struct Reader {
    /// Every exemption code, upper case (shared, so a stray names one without a copy).
    codes: Vec<Arc<str>>,
    /// Finds any code in any ASCII case, when every code is ASCII letters and digits (the
    /// defaults are): a line whose characters NFKC leaves alone and in which it finds no code
    /// holds no stray, since a stray is a token equal to a code (see [`Reader::view`]).
    any_code: Option<AhoCorasick>,
}

impl Reader {
    pub fn new(rules: &Rules) -> Reader {
        Reader::for_codes(rules.exemptions.iter().map(|e| e.code.as_str()))
    }

    /// The reader for `rules`, made once per set of rules (the codes never change after
    /// loading).
    pub fn of(rules: &Rules) -> &Reader {
        rules.second_reader.get_or_init(|| Reader::new(rules))
    }

    pub fn for_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> Reader {
        let mut codes: Vec<String> = codes.into_iter().map(str::to_uppercase).collect();
        codes.sort();
        codes.dedup();
        let plain = !codes.is_empty()
            && codes
                .iter()
                .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric()));
        let any_code = plain
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&codes)
                    .ok()
            })
            .flatten();
        let codes = codes.into_iter().map(Arc::from).collect();
        Reader { codes, any_code }
    }

    /// A line as the reader sees it, or `None` when nothing in it can read as a stray.
    ///
    /// A line whose characters are all [`stable`] is read in place: its text is what the
    /// reader sees, so a stray in it needs a `{` or a run of three colons as written. With
    /// `by_code`, it also needs a code written in it in some ASCII case: a tag or fence is
    /// found only where one of its tokens equals a code ([`Reader::code`]), so it contains
    /// that code as written (an escape's backslash is dropped only before punctuation, which
    /// no code holds). Any other line (a full-width, compatibility or zero-width character
    /// anywhere in it) is normalised and read whole.
    fn view<'a>(&self, line: &'a str, by_code: bool) -> Option<Normal<'a>> {
        let marks = summary(line.as_bytes());
        if marks & HIGH != 0 && !all_stable(line) {
            return Some(Normal::Mapped(normalized(line)));
        }
        if !opens_tag_or_fence(line.as_bytes(), marks) {
            return None;
        }
        if by_code
            && let Some(any_code) = &self.any_code
            && !any_code.is_match(line)
        {
            return None;
        }
        Some(Normal::Raw(line))
    }

    /// The code `word` names, in any case (codes are ASCII; the text is already NFKC).
    fn code(&self, word: &str) -> Option<Arc<str>> {
        // The codes are upper case (no ASCII lower case letter) and sorted by byte, so the
        // one equal to `word` in any ASCII case is the one equal to its ASCII upper case.
        let upper = word.bytes().map(|b| b.to_ascii_uppercase());
        self.codes
            .binary_search_by(|c| c.bytes().cmp(upper.clone()))
            .ok()
            .map(|k| Arc::clone(&self.codes[k]))
    }

    /// Reads a Markdown copy. `visible` are the byte ranges of the tags of passages its
    /// audience sees, in order.
    pub fn markdown(&self, copy: &str, visible: &[Range<usize>]) -> Reading {
        let mut reading = Reading::default();
        let mut blocks = CodeBlocks::default();
        let mut found = Vec::new();
        let bytes = copy.as_bytes();
        let mut marks = Marks::<false>::new(bytes);
        let mut mark = marks.first_from(0);
        for (number, (start, line)) in lines(copy).enumerate() {
            // Every line moves the code block state on, read or not.
            let code_block = blocks.is_code(line);
            let end = start + line.len();
            while mark < end
                && let Some(next) = passable(bytes, mark)
            {
                mark = marks.first_from(next);
            }
            if mark >= end {
                continue;
            }
            mark = marks.first_from(end);
            // Lines that open a tag in a copy mostly are tags (the council's): no code search.
            let Some(chars) = self.view(line, false) else {
                continue;
            };
            self.strays_in_line(&chars, start, number + 1, &mut found);
            let mut spans = None;
            for stray in found.drain(..) {
                // Code (a code block, or a code span on this line), a tag of a passage the
                // audience sees, or an escaped `\{`.
                let at = stray.at.start - start;
                // Where the code is a code span or an indented code block (a fenced block is
                // written as code on purpose), the text that holds the stray.
                let (excused, code) = if code_block {
                    let indented = blocks.fence.is_none();
                    (
                        true,
                        indented.then(|| (Code::Indented, indented_content(line))),
                    )
                } else if within(visible, stray.at.start) || escaped(line, at) {
                    (true, None)
                } else {
                    let in_span = spans
                        .get_or_insert_with(|| code_spans(line))
                        .iter()
                        .find(|s| s.contains(&at))
                        .map(|s| (Code::Span, span_content(line, s.clone())));
                    (in_span.is_some(), in_span)
                };
                if excused {
                    if let Some((code, content)) = code
                        && amid_text(line, content, at..stray.at.end - start, stray.shape)
                    {
                        reading.amid_code.push((stray.clone(), code));
                    }
                    *reading
                        .excused
                        .entry((stray.shape, stray.codes))
                        .or_default() += 1;
                } else {
                    reading.strays.push(stray);
                }
            }
        }
        reading
    }

    /// Every stray in one line as the reader sees it, escaped or not, onto `out`; the line
    /// starts at byte `base` of its copy and is line `number` of it.
    fn strays_in_line(&self, chars: &Normal, base: usize, number: usize, out: &mut Vec<Stray>) {
        let mut i = chars.next_candidate(0);
        while i < chars.len() {
            if chars.c(i) == '{' {
                if let Some((end, codes)) = self.tag_at(chars, i) {
                    out.push(Stray {
                        shape: Shape::Tag,
                        codes,
                        at: base + chars.from(i)..base + chars.end(end),
                        line: number,
                    });
                }
                i = chars.next_candidate(i + 1);
            } else {
                let run = chars.colons(i);
                if run >= 3
                    && let Some((end, codes)) = self.fence_at(chars, i + run)
                {
                    out.push(Stray {
                        shape: Shape::Fence,
                        codes,
                        at: base + chars.from(i)..base + chars.end(end),
                        line: number,
                    });
                }
                i = chars.next_candidate(i + run);
            }
        }
    }

    /// The brace group opened at `open` if it names a code: where it ends (past its `}`) and
    /// the codes.
    fn tag_at(&self, chars: &Normal, open: usize) -> Option<(usize, Vec<Arc<str>>)> {
        let close = chars.close(open)?;
        // A backslash before punctuation is an escape: `{.S24\}` renders as `{.S24}`.
        let content = chars.unescaped(open + 1, close);
        let mut codes = Vec::new();
        let mut name = |k: usize, token: &str, rest_attribute_like: &dyn Fn() -> bool| {
            let named = if let Some(class) = token.strip_prefix('.') {
                self.code(class)
            } else if let Some(value) = token.strip_prefix("class=") {
                self.code(value.trim_matches(['"', '\'']))
            } else if k == 0 && rest_attribute_like() {
                // `{S31}`, `{S31 #r1}`: a class without its dot still reads as a tag.
                self.code(token)
            } else {
                None
            };
            codes.extend(named);
        };
        if content.is_ascii() {
            for (k, token) in ascii_tokens(&content).enumerate() {
                name(k, token, &|| attribute_like(ascii_tokens(&content).skip(1)));
            }
        } else {
            for (k, token) in content.split_whitespace().enumerate() {
                name(k, token, &|| {
                    attribute_like(content.split_whitespace().skip(1))
                });
            }
        }
        tidy(&mut codes);
        (!codes.is_empty()).then_some((close + 1, codes))
    }

    /// What follows a run of colons at `at`, if it names a code the way a fence does:
    /// `::: S31`, `:::.S31`, `::: {.S31}` (the brace group is also read as a tag). Where it
    /// ends, and the codes.
    fn fence_at(&self, chars: &Normal, at: usize) -> Option<(usize, Vec<Arc<str>>)> {
        let start = at + chars.blanks(at);
        let dot = usize::from(start < chars.len() && chars.c(start) == '.');
        let (word, end) = chars.word(start + dot);
        if !word.is_empty()
            && let Some(code) = self.code(&word)
        {
            return Some((end, vec![code]));
        }
        if start < chars.len() && chars.c(start) == '{' {
            return self.tag_at(chars, start);
        }
        None
    }

    /// Reads an HTML copy as it is written, passing every byte on to `out`. `excused` is the
    /// reading of the Markdown it was rendered from.
    pub fn html<'w>(&'w self, out: &'w mut dyn Write, excused: &Reading) -> HtmlReader<'w> {
        HtmlReader {
            reader: self,
            out,
            pending: Vec::new(),
            offset: 0,
            allowance: excused.excused.clone(),
            strays: Vec::new(),
            lines: 0,
        }
    }
}

/// Reads an HTML copy line by line as it streams past, so a large page is never held whole.
pub struct HtmlReader<'w> {
    reader: &'w Reader,
    out: &'w mut dyn Write,
    pending: Vec<u8>,
    /// Byte offset in the page of `pending`'s first byte.
    offset: usize,
    allowance: Excused,
    strays: Vec<Stray>,
    /// Lines read so far.
    lines: usize,
}

impl HtmlReader<'_> {
    /// Reads line `number` of the page, which starts at its byte `start`.
    fn read_line(&mut self, line: &[u8], start: usize, number: usize) {
        // Bytes first: most lines of a page are ASCII with no brace, no entity and no run of
        // colons, and nothing in them can read as a tag (no UTF-8 check, no copy).
        let marks = summary(line);
        let opens = opens_tag_or_fence(line, marks);
        if !opens && marks & (AMP | HIGH) == 0 {
            return;
        }
        // A line whose entities are all plain ones (see `plain_entities`) and whose characters
        // are all stable reads, once decoded, as a line that opens a tag or fence and names a
        // code only if this one does: read it in place as far as that. With no entity at all
        // it is, decoded, the line itself, read in place (a page's style rules open braces
        // that close nowhere, found at once without a search for codes).
        let decoded: Cow<str>;
        let (chars, len) = match std::str::from_utf8(line) {
            Ok(text)
                if (marks & AMP == 0 || plain_entities(line))
                    && (marks & HIGH == 0 || all_stable(text)) =>
            {
                if !opens {
                    return;
                }
                if marks & AMP == 0 {
                    (Normal::Raw(text), text.len())
                } else if self
                    .reader
                    .any_code
                    .as_ref()
                    .is_some_and(|any_code| !any_code.is_match(text))
                {
                    return;
                } else {
                    decoded = html_escape::decode_html_entities(text);
                    let Some(chars) = self.reader.view(&decoded, true) else {
                        return;
                    };
                    (chars, text.len())
                }
            }
            _ => {
                let text = String::from_utf8_lossy(line);
                decoded = Cow::Owned(html_escape::decode_html_entities(&text).into_owned());
                let Some(chars) = self.reader.view(&decoded, true) else {
                    return;
                };
                (chars, text.len())
            }
        };
        let mut found = Vec::new();
        self.reader.strays_in_line(&chars, 0, number, &mut found);
        self.settle(found, start..start + len);
    }

    /// Strays found on a line of the page at `line`: each the Markdown excused spends one of
    /// its allowance, any other is kept.
    fn settle(&mut self, found: Vec<Stray>, line: Range<usize>) {
        for mut stray in found {
            // Entities were decoded: the line, not the byte, locates it in the page.
            stray.at = line.clone();
            match self.allowance.get_mut(&stray.key()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => self.strays.push(stray),
            }
        }
    }

    /// Reads `lines`, whole lines of the page that each end with `\n`, the first at its byte
    /// `start`: only a line with a mark that [`passable`] does not pass over is read (any
    /// other is one that `read_line` would find nothing in).
    fn read_lines(&mut self, lines: &[u8], start: usize) {
        let mut marks = Marks::<true>::new(lines);
        // Bytes of `lines` whose line ends are counted in `self.lines`.
        let mut counted = 0;
        let mut at = marks.first_from(0);
        while at < lines.len() {
            if let Some(next) = passable(lines, at) {
                at = marks.first_from(next);
                continue;
            }
            let from = memchr::memrchr(b'\n', &lines[..at]).map_or(0, |k| k + 1);
            let to = memchr::memchr(b'\n', &lines[at..]).map_or(lines.len(), |k| at + k);
            self.lines += memchr::memchr_iter(b'\n', &lines[counted..from]).count();
            counted = from;
            self.read_line(&lines[from..to], start + from, self.lines + 1);
            at = marks.first_from(to);
        }
        self.lines += memchr::memchr_iter(b'\n', &lines[counted..]).count();
    }

    /// Reads what is left and gives the strays found in the page.
    pub fn finish(mut self) -> Vec<Stray> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.lines += 1;
            self.read_line(&rest, self.offset, self.lines);
        }
        self.strays
    }
}

impl Write for HtmlReader<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        let buf = &buf[..n];
        // Whole lines are read where they lie in `buf`; only a line cut by the end of a write
        // is held (in `pending`, whose first byte is at `offset` in the page).
        let Some(first) = memchr::memchr(b'\n', buf) else {
            self.pending.extend_from_slice(buf);
            return Ok(n);
        };
        let held = self.pending.len();
        self.lines += 1;
        if held == 0 {
            self.read_line(&buf[..first], self.offset, self.lines);
        } else {
            let mut line = std::mem::take(&mut self.pending);
            line.extend_from_slice(&buf[..first]);
            self.read_line(&line, self.offset, self.lines);
            line.clear();
            self.pending = line;
        }
        self.offset += held + first + 1;
        let last = memchr::memrchr(b'\n', buf).unwrap_or(first);
        if last > first {
            self.read_lines(&buf[first + 1..=last], self.offset);
            self.offset += last - first;
        }
        self.pending.extend_from_slice(&buf[last + 1..]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Whether `at` lies in one of `ranges`, which are in order and do not overlap (a binary
/// search: the council copy of a long paper has a tag for every redaction).
fn within(ranges: &[Range<usize>], at: usize) -> bool {
    let k = ranges.partition_point(|r| r.start <= at);
    k > 0 && ranges[k - 1].contains(&at)
}

/// Whether every token of a brace group's content after the first looks like an attribute
/// (`.class`, `#id`, `key=value`), as in `{S31 #r1}` but not in `{S31 is withheld}`.
fn attribute_like<'a>(mut rest: impl Iterator<Item = &'a str>) -> bool {
    rest.all(|t| t.starts_with('.') || t.starts_with('#') || t.contains('='))
}

/// The tokens of ASCII text, split where `split_whitespace` splits it (its ASCII white space is
/// tab to carriage return, vertical tab included, and space), without decoding characters.
fn ascii_tokens(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let blank = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && blank(bytes[at]) {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && !blank(bytes[at]) {
            at += 1;
        }
        (at > start).then(|| &text[start..at])
    })
}

/// Upper case codes, sorted, each once.
fn tidy(codes: &mut Vec<Arc<str>>) {
    codes.sort();
    codes.dedup();
}

/// A byte of a non-ASCII character, in a [`summary`].
const HIGH: u8 = 0x80;
/// A `{`, in a [`summary`].
const BRACE: u8 = 1;
/// A `:`, in a [`summary`].
const COLON: u8 = 2;
/// A `&`, in a [`summary`].
const AMP: u8 = 4;

/// Which of the bytes the reader looks for `bytes` holds ([`HIGH`], [`BRACE`], [`COLON`],
/// [`AMP`]), in one pass: 32 lanes kept apart until the end, which the compiler makes vector
/// compares (a line holds mostly other bytes, and most lines are read no further).
fn summary(bytes: &[u8]) -> u8 {
    fn class(b: u8) -> u8 {
        (b & HIGH)
            | (if b == b'{' { BRACE } else { 0 })
            | (if b == b':' { COLON } else { 0 })
            | (if b == b'&' { AMP } else { 0 })
    }
    let (chunks, rest) = bytes.as_chunks::<32>();
    let mut lanes = [0u8; 32];
    for chunk in chunks {
        for (lane, &b) in lanes.iter_mut().zip(chunk) {
            *lane |= class(b);
        }
    }
    let marks = lanes.iter().fold(0, |a, &l| a | l);
    rest.iter().fold(marks, |a, &b| a | class(b))
}

/// Whether `bytes`, whose [`summary`] is `marks`, hold a `{` or a run of three colons: where
/// a tag or a fence begins.
fn opens_tag_or_fence(bytes: &[u8], marks: u8) -> bool {
    marks & BRACE != 0
        || (marks & COLON != 0
            && memchr::memchr_iter(b':', bytes).any(|k| bytes[k + 1..].starts_with(b"::")))
}

/// Where in a text the reader must look: every `{`, `:` and non-ASCII byte (and `&` in a
/// page, where `AMP` is set). A line holding none of them, or only marks that [`passable`]
/// passes over, reads as no stray; the rest of the text is never looked at byte by byte.
/// Punctuation is found by `memchr`, non-ASCII bytes 32 at a time; each search's answer is
/// kept until it is passed, so every byte is searched once.
struct Marks<'a, const AMP: bool> {
    bytes: &'a [u8],
    /// The first `{`, `:` (or `&`) at or after where the last search for one began.
    punct: usize,
    /// The first non-ASCII byte at or after where the last search for one began.
    high: usize,
}

impl<'a, const AMP: bool> Marks<'a, AMP> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut marks = Marks {
            bytes,
            punct: 0,
            high: 0,
        };
        marks.punct = marks.punct_from(0);
        marks.high = marks.high_from(0);
        marks
    }

    fn punct_from(&self, from: usize) -> usize {
        let rest = &self.bytes[from..];
        let found = if AMP {
            memchr::memchr3(b'{', b':', b'&', rest)
        } else {
            memchr::memchr2(b'{', b':', rest)
        };
        found.map_or(self.bytes.len(), |k| from + k)
    }

    fn high_from(&self, from: usize) -> usize {
        first_non_ascii(&self.bytes[from..]).map_or(self.bytes.len(), |k| from + k)
    }

    /// The first mark at or after `from`, or the end of the text.
    fn first_from(&mut self, from: usize) -> usize {
        let from = from.min(self.bytes.len());
        if self.punct < from {
            self.punct = self.punct_from(from);
        }
        if self.high < from {
            self.high = self.high_from(from);
        }
        self.punct.min(self.high)
    }
}

/// Where to look on from a mark at `at` of `bytes` when it cannot make a stray on its own
/// line whatever else the line holds: a `:` not followed by two more, a `{` whose next brace
/// on its line is not a `}`, an `&` that begins one of [`PLAIN_ENTITIES`], or a [`stable`]
/// character (past it). `None` for any other mark (a `{` that may close, a run of colons,
/// another entity, a character the reader sees otherwise, or bytes that are not UTF-8): its
/// line is read in full. A line whose every mark is passed over holds no brace group, no run
/// of three colons, no entity but plain ones (none decodes to a brace) and no unstable
/// character (none can make a `}`), which is a line that [`Reader::view`] (after decoding,
/// in a page) reads as no stray.
fn passable(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes[at] {
        b':' => (!bytes[at + 1..].starts_with(b"::")).then_some(at + 1),
        b'&' => PLAIN_ENTITIES
            .iter()
            .any(|entity| bytes[at..].starts_with(entity))
            .then_some(at + 1),
        // A brace group ends at the first brace after its `{`: one that meets another `{` or
        // the end of its line first closes nothing (a page's style rules).
        b'{' => match memchr::memchr3(b'{', b'}', b'\n', &bytes[at + 1..]) {
            Some(k) if bytes[at + 1 + k] == b'}' => None,
            _ => Some(at + 1),
        },
        lead => {
            let len = match lead {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => return None,
            };
            let c = std::str::from_utf8(bytes.get(at..at + len)?)
                .ok()?
                .chars()
                .next()?;
            stable_cached(c).then_some(at + len)
        }
    }
}

/// Entities a page writes for text (`escape_html` and pulldown-cmark's escaping): each decodes
/// to one ASCII character that is not a letter, a digit, `{` or `:`.
const PLAIN_ENTITIES: [&[u8]; 8] = [
    b"&amp;", b"&lt;", b"&gt;", b"&quot;", b"&#39;", b"&#124;", b"&#10;", b"&#13;",
];

/// Whether every `&` in `bytes` begins one of [`PLAIN_ENTITIES`]. Decoding such a line then
/// only turns entities into characters that are no part of a code, a brace or a colon run,
/// and that sit where the entity did: it makes no `{`, no run of colons, no non-ASCII
/// character and no code that the line does not hold as written.
fn plain_entities(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'&', bytes).all(|k| {
        PLAIN_ENTITIES
            .iter()
            .any(|entity| bytes[k..].starts_with(entity))
    })
}

/// Lines with the byte offset each starts at; LF, CRLF and a lone CR each end a line.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut ends = memchr::memchr2_iter(b'\n', b'\r', bytes);
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        // Skips the `\n` of a CRLF, already stepped over.
        let end = ends.find(|&k| k >= start).unwrap_or(bytes.len());
        at = end;
        if at < bytes.len() {
            at += if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
        }
        Some((start, &text[start..end]))
    })
}

/// Whether the reader sees `c` as written: NFKC leaves it alone and it is not invisible.
fn stable(c: char) -> bool {
    c.is_ascii()
        || (!invisible(c)
            && unicode_normalization::is_nfkc_quick(std::iter::once(c))
                == unicode_normalization::IsNormalized::Yes)
}

/// [`stable`], from a table of the Basic Multilingual Plane filled 256 characters at a time
/// as they are first met (prose repeats a few non-ASCII characters, such as `£` and `’`).
fn stable_cached(c: char) -> bool {
    static BLOCKS: [OnceLock<[u64; 4]>; 256] = [const { OnceLock::new() }; 256];
    let n = u32::from(c);
    if n < 0x80 {
        return true;
    }
    if n > 0xFFFF {
        return stable(c);
    }
    let bits = BLOCKS[(n >> 8) as usize].get_or_init(|| {
        let mut bits = [0u64; 4];
        for low in 0..256u32 {
            // Surrogates are no characters, and no text holds one.
            if char::from_u32(n & !0xFF | low).is_some_and(stable) {
                bits[(low / 64) as usize] |= 1 << (low % 64);
            }
        }
        bits
    });
    bits[((n & 0xFF) / 64) as usize] >> (n % 64) & 1 == 1
}

/// Whether every character of `line` is [`stable`], looking only at its non-ASCII ones.
fn all_stable(line: &str) -> bool {
    all_non_ascii(line, stable_cached)
}

/// Whether `keep` holds for every non-ASCII character of `text`, found a word at a time
/// ([`first_non_ascii`]) rather than by decoding every character.
pub(crate) fn all_non_ascii(text: &str, mut keep: impl FnMut(char) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(k) = first_non_ascii(&bytes[at..]) {
        // `at` follows a character, so `at + k`, a byte that is not ASCII but follows ASCII,
        // starts one.
        let Some(c) = text[at + k..].chars().next() else {
            break;
        };
        if !keep(c) {
            return false;
        }
        at += k + c.len_utf8();
    }
    true
}

/// The first byte of `bytes` that is not ASCII, 32 bytes at a time, then 8 (the lowest high
/// bit of a little-endian word is its first such byte).
pub(crate) fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let (chunks, _) = bytes.as_chunks::<32>();
    let at = chunks
        .iter()
        .position(|chunk| chunk.iter().fold(0, |a, &b| a | b) >= 0x80)
        .unwrap_or(chunks.len())
        * 32;
    let (words, rest) = bytes[at..].as_chunks::<8>();
    for (n, word) in words.iter().enumerate() {
        let high = u64::from_le_bytes(*word) & HIGH_BITS;
        if high != 0 {
            return Some(at + n * 8 + (high.trailing_zeros() / 8) as usize);
        }
    }
    rest.iter()
        .position(|&b| b >= 0x80)
        .map(|k| at + words.len() * 8 + k)
}

/// Characters a reader does not see: a tag with one inside still reads as a tag.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// A line as the reader sees it: its characters after NFKC (character by character, so each
/// keeps its place) with invisible characters removed, each with where it came from.
///
/// Both forms answer the same questions with the same answers for a line of [`stable`]
/// characters (its normalised characters are its own, one for one). Positions are bytes of
/// the line in `Raw` and characters in `Mapped`; what the scanner looks for (`{`, `}`, `:`,
/// `.`, blanks, a backslash) is ASCII, and in UTF-8 an ASCII byte is always that character,
/// so `Raw` finds it by byte and decodes characters only for a word or a tag's content.
enum Normal<'a> {
    /// Every character is stable: the line's own text, indexed by byte.
    Raw(&'a str),
    /// Each normalised character, with the byte offset and length in the line of the
    /// character it came from.
    Mapped(Vec<(char, usize, usize)>),
}

impl Normal<'_> {
    fn len(&self) -> usize {
        match self {
            Normal::Raw(s) => s.len(),
            Normal::Mapped(c) => c.len(),
        }
    }

    /// The character at `k`; in `Raw`, a byte that is not ASCII reads as a character that
    /// is not ASCII either, which is all the scanner asks of it.
    fn c(&self, k: usize) -> char {
        match self {
            Normal::Raw(s) => char::from(s.as_bytes()[k]),
            Normal::Mapped(c) => c[k].0,
        }
    }

    /// The first `{` or `:` at or after `k` (or the end): nothing between can start a stray.
    fn next_candidate(&self, k: usize) -> usize {
        match self {
            Normal::Raw(s) => {
                let b = s.as_bytes();
                memchr::memchr2(b'{', b':', &b[k.min(b.len())..]).map_or(b.len(), |n| k + n)
            }
            Normal::Mapped(c) => c[k.min(c.len())..]
                .iter()
                .position(|c| c.0 == '{' || c.0 == ':')
                .map_or(c.len(), |n| k + n),
        }
    }

    /// How many colons follow one another from `k`.
    fn colons(&self, k: usize) -> usize {
        (k..self.len()).take_while(|&j| self.c(j) == ':').count()
    }

    /// How many spaces and tabs follow one another from `k`.
    fn blanks(&self, k: usize) -> usize {
        (k..self.len())
            .take_while(|&j| matches!(self.c(j), ' ' | '\t'))
            .count()
    }

    /// The letters and digits from `k` (any script, as `char::is_alphanumeric` says), and
    /// where they end.
    fn word(&self, k: usize) -> (Cow<'_, str>, usize) {
        match self {
            Normal::Raw(s) => {
                let rest = &s[k..];
                let len = rest
                    .char_indices()
                    .find(|(_, c)| !c.is_alphanumeric())
                    .map_or(rest.len(), |(at, _)| at);
                (Cow::Borrowed(&rest[..len]), k + len)
            }
            Normal::Mapped(c) => {
                let word: String = c[k..]
                    .iter()
                    .map(|c| c.0)
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                let end = k + word.chars().count();
                (Cow::Owned(word), end)
            }
        }
    }

    /// The `}` that closes a brace group opened at `open`: the first `{` or `}` among the
    /// next [`MAX_TAG_CHARS`] characters, if it is a `}`.
    fn close(&self, open: usize) -> Option<usize> {
        match self {
            Normal::Raw(s) => {
                let b = s.as_bytes();
                // A character is at most four bytes: a brace among the next MAX_TAG_CHARS
                // characters lies within four times as many bytes.
                let window = &b[open + 1..b.len().min(open + 1 + 4 * MAX_TAG_CHARS)];
                let k = memchr::memchr2(b'{', b'}', window)?;
                // Fewer bytes than the bound are fewer characters; only a longer group is
                // counted (a character's bytes after its first are continuation bytes).
                let within = k < MAX_TAG_CHARS
                    || window[..k].iter().filter(|&&b| b & 0xC0 != 0x80).count() < MAX_TAG_CHARS;
                (window[k] == b'}' && within).then_some(open + 1 + k)
            }
            Normal::Mapped(c) => (open + 1..c.len().min(open + 1 + MAX_TAG_CHARS))
                .find(|&k| matches!(c[k].0, '{' | '}'))
                .filter(|&k| c[k].0 == '}'),
        }
    }

    /// The characters from `from` to `to` without the backslash of each escape (one before
    /// ASCII punctuation, the closing `}` included).
    fn unescaped(&self, from: usize, to: usize) -> Cow<'_, str> {
        match self {
            Normal::Raw(s) if !s.as_bytes()[from..to].contains(&b'\\') => {
                Cow::Borrowed(&s[from..to])
            }
            Normal::Raw(s) => Cow::Owned(without_escapes(s[from..to].chars())),
            Normal::Mapped(c) => Cow::Owned(without_escapes(c[from..to].iter().map(|c| c.0))),
        }
    }

    /// Where the character at `k` came from starts, in the line.
    fn from(&self, k: usize) -> usize {
        match self {
            Normal::Raw(_) => k,
            Normal::Mapped(c) => c[k].1,
        }
    }

    /// Where the characters before `end` came from ends, in the line (`end` > 0).
    fn end(&self, end: usize) -> usize {
        match self {
            Normal::Raw(_) => end,
            Normal::Mapped(c) => c[end - 1].1 + c[end - 1].2,
        }
    }
}

/// `chars` without the backslash of each escape: one before ASCII punctuation, a group's
/// closing `}` after the last character included.
fn without_escapes(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut chars = chars.peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied().unwrap_or('}');
        if !(c == '\\' && next.is_ascii_punctuation()) {
            out.push(c);
        }
    }
    out
}

/// The line after NFKC with invisible characters removed, as [`Normal::Mapped`] holds it.
fn normalized(line: &str) -> Vec<(char, usize, usize)> {
    let mut out = Vec::with_capacity(line.len());
    for (at, c) in line.char_indices() {
        if c.is_ascii() {
            out.push((c, at, 1));
        } else if !invisible(c) {
            let len = c.len_utf8();
            out.extend(
                std::iter::once(c)
                    .nfkc()
                    .filter(|n| !invisible(*n))
                    .map(|n| (n, at, len)),
            );
        }
    }
    out
}

/// Whether the byte at `at` of `line` follows an odd number of backslashes (`\{`).
fn escaped(line: &str, at: usize) -> bool {
    line.as_bytes()[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// The text of the code span `span` of `line`, inside its backticks.
fn span_content(line: &str, span: Range<usize>) -> Range<usize> {
    let ticks = line[span.clone()]
        .bytes()
        .take_while(|&b| b == b'`')
        .count();
    span.start + ticks..span.end.saturating_sub(ticks).max(span.start + ticks)
}

/// The text of a line of an indented code block, after its blockquote markers and indent.
fn indented_content(line: &str) -> Range<usize> {
    let rest = line.trim_start_matches([' ', '\t', '>']);
    line.len() - rest.len()..line.len()
}

/// Whether the `content` of a code span or code line (a byte range of `line`) holds text beside
/// the stray at `tag` other than what writes the tag's own construct: `[text]{.S31}`,
/// `![alt](x.png){.S31}` or `::: S31` alone is an example of the syntax; `` `see [x]{.S31}
/// here` `` is more likely a backtick (or an indent) in the wrong place.
fn amid_text(line: &str, content: Range<usize>, tag: Range<usize>, shape: Shape) -> bool {
    if tag.start < content.start || tag.end > content.end {
        return true;
    }
    let before = line[content.start..tag.start].trim();
    let after = line[tag.end..content.end].trim_matches(|c: char| c.is_whitespace() || c == ':');
    let construct = match shape {
        Shape::Fence => before.is_empty(),
        Shape::Tag => {
            before.is_empty()
                || ((before.starts_with('[') || before.starts_with("!["))
                    && (before.ends_with(']') || before.ends_with(')')))
        }
    };
    !(construct && after.is_empty())
}

/// Byte ranges of the code spans in one line: a run of backticks closed by the next run of
/// the same length on the same line. An unmatched run is text.
fn code_spans(line: &str) -> Vec<Range<usize>> {
    let bytes = line.as_bytes();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let mut start = i;
            while i < bytes.len() && bytes[i] == b'`' {
                i += 1;
            }
            if escaped(line, start) {
                start += 1;
            }
            if i > start {
                runs.push((start, i - start));
            }
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k < runs.len() {
        let (start, len) = runs[k];
        match runs[k + 1..].iter().position(|r| r.1 == len) {
            Some(j) => {
                let (close, _) = runs[k + 1 + j];
                out.push(start..close + len);
                k += j + 2;
            }
            None => k += 1,
        }
    }
    out
}

/// Which lines are inside fenced or indented code blocks, read line by line.
#[derive(Debug, Default)]
struct CodeBlocks {
    /// An open fence: its character, length and blockquote depth.
    fence: Option<(u8, usize, usize)>,
    indented: bool,
    blank_before: bool,
}

impl CodeBlocks {
    fn is_code(&mut self, line: &str) -> bool {
        let (depth, rest) = container_prefix(line);
        let indent = rest
            .bytes()
            .take_while(|&b| b == b' ' || b == b'\t')
            .count();
        let width: usize = rest[..indent]
            .bytes()
            .map(|b| if b == b'\t' { 4 } else { 1 })
            .sum();
        let body = &rest[indent..];
        let blank = body.trim().is_empty();
        if let Some((c, n, at_depth)) = self.fence {
            if depth >= at_depth {
                let run = body.bytes().take_while(|&b| b == c).count();
                if width < 4 && run >= n && body[run..].trim().is_empty() {
                    self.fence = None;
                }
                self.blank_before = false;
                return true;
            }
            // The blockquote that held the fence has ended, and the fence with it.
            self.fence = None;
        }
        if width < 4 {
            for c in [b'`', b'~'] {
                let run = body.bytes().take_while(|&b| b == c).count();
                if run >= 3 && !(c == b'`' && body[run..].contains('`')) {
                    self.fence = Some((c, run, depth));
                    self.indented = false;
                    self.blank_before = false;
                    return true;
                }
            }
        }
        let code = !blank && width >= 4 && (self.blank_before || self.indented);
        if !blank {
            self.indented = code;
        }
        self.blank_before = blank;
        code
    }
}

/// A line's blockquote depth and what follows its `>` markers and list markers.
fn container_prefix(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let lead = rest.bytes().take_while(|&b| b == b' ').count();
        if lead > 3 {
            return (depth, rest);
        }
        let after = &rest[lead..];
        if let Some(inner) = after.strip_prefix('>') {
            depth += 1;
            rest = inner.strip_prefix(' ').unwrap_or(inner);
            continue;
        }
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let marker = match after.as_bytes().get(digits) {
            Some(b'-' | b'+' | b'*') if digits == 0 => 1,
            Some(b'.' | b')') if (1..=9).contains(&digits) => digits + 1,
            _ => 0,
        };
        if marker > 0 && after.as_bytes().get(marker) == Some(&b' ') {
            rest = &after[marker + 1..];
            continue;
        }
        return (depth, rest);
    }
}

/// Where a copy's Markdown came from: which of its bytes are source bytes (and where in the
/// source), and which are the tags of passages its audience sees.
#[derive(Debug, Default)]
pub struct Layout {
    /// (start in the copy, start in the source, length), in copy order.
    segments: Vec<(usize, usize, usize)>,
    /// Byte ranges in the copy of the tags the audience sees.
    pub visible: Vec<Range<usize>>,
    /// Pieces not found where the renderer was expected to put them (searched for instead).
    pub searched: usize,
}

impl Layout {
    /// Lays `markdown` (the copy's Markdown as written) over `copy`'s pieces, which borrow
    /// the source `text`. Each piece is found where the renderer puts it; a piece not found
    /// there is searched for after it, and one not found at all is left unmapped.
    pub fn of(copy: &Copy, text: &str, markdown: &str) -> Layout {
        let mut layout = Layout::default();
        // Every piece borrows the source: its address says where in the source it is.
        let source_at = |piece: &str| {
            (piece.as_ptr() as usize)
                .checked_sub(text.as_ptr() as usize)
                .filter(|at| at + piece.len() <= text.len())
        };
        let mut cursor = match copy.source {
            Some(_) => 0,
            None => copy.front_matter.to_yaml(&copy.marking).len(),
        };
        if copy.source.is_some() {
            layout.segments.push((0, 0, text.len()));
        }
        for piece in &copy.pieces {
            let (slice, tag) = match piece {
                Piece::Text(s) => (*s, false),
                Piece::HeadingAttrs(s) => (s.as_ref(), true),
                Piece::Open(p) | Piece::Close(p) => (p.markdown.as_ref(), true),
                Piece::Marker { label, placement } => {
                    if copy.source.is_none() {
                        cursor += marker_len(label, placement.as_ref());
                    }
                    continue;
                }
                Piece::HeadingStart(_) => continue,
            };
            // A tag another audience sees is rewritten to its codes alone: not a source slice,
            // but still a tag of a passage the audience sees, at the cursor in its Markdown.
            let from = source_at(slice);
            if from.is_none() && (!tag || copy.source.is_some()) {
                continue;
            }
            let at = if let (Some(from), true) = (from, copy.source.is_some()) {
                from
            } else if markdown[cursor.min(markdown.len())..].starts_with(slice) {
                cursor
            } else if let Some(k) = markdown.get(cursor..).and_then(|rest| rest.find(slice)) {
                layout.searched += 1;
                cursor + k
            } else {
                layout.searched += 1;
                continue;
            };
            if copy.source.is_none() {
                if let Some(from) = from {
                    layout.segments.push((at, from, slice.len()));
                }
                cursor = at + slice.len();
            }
            if tag {
                layout.visible.push(at..at + slice.len());
            }
        }
        layout
    }

    /// The source offset of byte `at` of the copy, if it is a source byte.
    pub fn source_offset(&self, at: usize) -> Option<usize> {
        let k = self
            .segments
            .partition_point(|s| s.0 <= at)
            .checked_sub(1)?;
        let (copy, source, len) = self.segments[k];
        (at < copy + len).then(|| source + at - copy)
    }
}

/// Bytes the renderer writes for a marker in a Markdown copy (`**S31**`, with the blank lines
/// that keep a block marker its own paragraph).
fn marker_len(label: &str, placement: Option<&crate::model::BlockPlacement>) -> usize {
    let mut len = label.len() + 4;
    if let Some(p) = placement {
        if p.blank_before {
            len += p.newline.len() + p.prefix.len();
        }
        if p.blank_after {
            len += p.newline.len() + p.prefix.trim_end().len();
        }
    }
    len
}

/// The error for a stray in `copy_name` (for example `public Markdown`), located in the
/// source `text` where the copy's bytes came from it, else at the paper's first line.
pub fn stray_error(
    stray: &Stray,
    copy_name: &str,
    source_offset: Option<usize>,
    text: &str,
) -> Diagnostic {
    let message = format!(
        "{} would reach the {copy_name} copy as text",
        stray.describe()
    );
    let hint = "to show it as text, escape the brace as `\\{` or put it in code; to withhold \
                a passage, write the tag so it attaches to a span, link, image, heading or fence";
    match source_offset {
        Some(at) => {
            let end = at + stray.at.len();
            Diagnostic::new(Span::new(at, end.min(text.len())), message)
                .hint(hint)
                .note("the parser read this as text; a second reading of the copy found it")
        }
        None => Diagnostic::new(Span::empty(0), message)
            .hint(hint)
            .note(format!(
                "found on line {} of the {copy_name} copy, in text that does not come from the \
                 source as it stands, so it is located at the paper's first line",
                stray.line
            )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> Reader {
        Reader::for_codes(["S23", "S24", "S31", "S22A", "S40"])
    }

    fn strays(copy: &str) -> Vec<String> {
        reader()
            .markdown(copy, &[])
            .strays
            .iter()
            .map(|s| copy[s.at.clone()].to_string())
            .collect()
    }

    fn html_strays(markdown: &str, html: &str) -> Vec<Stray> {
        let r = reader();
        let reading = r.markdown(markdown, &[]);
        let mut found = Vec::new();
        // Written in small pieces, as pulldown-cmark writes, and whole, as a buffer flushes:
        // lines cut between writes and lines read in place must read alike.
        for size in [3, html.len().max(1)] {
            let mut sink = Vec::new();
            let mut page = r.html(&mut sink, &reading);
            for chunk in html.as_bytes().chunks(size) {
                page.write_all(chunk).unwrap_or_default();
            }
            let strays = page.finish();
            assert_eq!(sink, html.as_bytes(), "every byte is passed on");
            if size == 3 {
                found = strays;
            } else {
                assert_eq!(strays, found, "written whole or in pieces");
            }
        }
        found
    }

    #[test]
    fn the_fast_paths_read_whatever_nfkc_or_an_entity_makes_a_tag() {
        // A line is skipped unread only when its characters are as the reader sees them and
        // no code is written in it: a compatibility form, a zero-width character or a
        // full-width letter hides the code from a byte search, so those lines are read whole.
        for copy in [
            "a {.S\u{b3}\u{b9}}\n",
            "a {.S3\u{200b}1}\n",
            "a {.\u{ff33}31}\n",
            "\u{a3}2m and \u{ff5b}.S31\u{ff5d}\n",
            "\u{a3}2m and {.s31}\n",
            "::\u{200b}: S31\n",
        ] {
            assert_eq!(strays(copy).len(), 1, "{copy:?}");
        }
        // In HTML the test comes after the entities are decoded.
        for html in [
            "<p>{.&#x53;31}</p>\n",
            "<p>&#xFF5B;.S31&#xFF5D;</p>\n",
            "<p>{.S&#179;&#185;}</p>\n",
            "<p>&#58;&#58;&#58; S23</p>\n",
        ] {
            assert_eq!(html_strays("x\n", html).len(), 1, "{html:?}");
        }
        // And codes that are not plain ASCII words turn the shortcut off rather than misread.
        let odd = Reader::for_codes(["S-31"]);
        assert!(odd.any_code.is_none());
        assert_eq!(odd.markdown("a {.S-31}\n", &[]).strays.len(), 1);
    }

    #[test]
    fn a_planted_tag_is_found() {
        for (copy, found) in [
            ("Text [x]{.S31} more\n", "{.S31}"),
            ("a {S31} b\n", "{S31}"),
            ("a {#r1 .S24 reason=\"x\"}\n", "{#r1 .S24 reason=\"x\"}"),
            ("a {.s31}\n", "{.s31}"),
            ("a {class=\"S40\"}\n", "{class=\"S40\"}"),
            ("::: S23\n", "::: S23"),
            ("  ::: {.S22A}\n", "::: {.S22A}"),
            ("::::.S31\n", "::::.S31"),
            ("> - ::: S31\n", "::: S31"),
            ("\\\\{.S31}\n", "{.S31}"),
            ("a {.S24\\}\n", "{.S24\\}"),
        ] {
            assert!(
                strays(copy).iter().any(|s| s == found),
                "{copy:?}: {:?}",
                strays(copy)
            );
        }
    }

    #[test]
    fn look_alikes_and_invisible_characters_still_read_as_tags() {
        for copy in [
            "a \u{ff5b}\u{ff0e}S31\u{ff5d}\n",
            "a {.S\u{200b}31}\n",
            "a {\u{2060}.S31}\n",
            "\u{ff1a}\u{ff1a}\u{ff1a} S23\n",
            "a {.\u{ff33}\u{ff13}\u{ff11}}\n",
        ] {
            assert_eq!(strays(copy).len(), 1, "{copy:?}");
        }
    }

    #[test]
    fn ordinary_prose_is_not_a_stray() {
        for copy in [
            "Apply the {.lead} style.\n",
            "The colour {#1d70b8} is blue.\n",
            "x[i]{j} and {a: S31}\n",
            "Withheld under S31 and S24, as section 31 says.\n",
            "Time 10:30: noted. A ratio 2::3.\n",
            "::: note\ntext\n:::\n",
            "{ S31 is the first word only when bare }\n",
            "{{.S31\n",
            "}.S31{\n",
        ] {
            assert_eq!(strays(copy), Vec::<String>::new(), "{copy:?}");
        }
    }

    #[test]
    fn code_and_escaped_braces_are_not_strays() {
        for copy in [
            "Write `[x]{.S31}` to withhold.\n",
            "Write ``a ` {.S31}`` here.\n",
            "```\n::: S31\n[x]{.S31}\n```\n",
            "~~~~ text\n::: S31\n~~~\nstill code {.S31}\n~~~~\n",
            "> ```\n> ::: S31\n> ```\n",
            "Text.\n\n    ::: {.S31}\n    [x]{.S24}\n\nAfter.\n",
            "An escaped \\{.S31} brace.\n",
            "Escaped both ends \\{.S24\\} here.\n",
            "- item\n\n  ```md\n  ::: S31\n  ```\n",
        ] {
            assert_eq!(strays(copy), Vec::<String>::new(), "{copy:?}");
        }
    }

    #[test]
    fn a_tag_amid_other_text_in_a_code_span_is_marked_and_an_example_of_the_syntax_is_not() {
        let amid = |copy: &str| -> Vec<String> {
            let reading = reader().markdown(copy, &[]);
            assert!(reading.strays.is_empty(), "{copy:?}");
            let at = |s: &Stray| copy[s.at.clone()].to_string();
            reading.amid_code.iter().map(|(s, _)| at(s)).collect()
        };
        for example in [
            "Write `[x]{.S31}` to withhold.\n",
            "Write ` [x y]{.S31} ` to withhold.\n",
            "Or `{.S31}` alone, `![a](b.png){.S24}`, `[t](u){#n .S31}` or `::: S31 :::`.\n",
            "Double ``[a `tick`]{.S40}`` too.\n",
            "Fenced code is code on purpose:\n\n```\nsee [x]{.S31} here\n```\n",
            "Indented, the construct alone:\n\n    [x]{.S31}\n    ::: S24\n",
        ] {
            assert_eq!(amid(example), Vec::<String>::new(), "{example:?}");
        }
        assert_eq!(
            amid("A `stray backtick then [ZQX]{.S24} text` and `more {.S31}`.\n"),
            ["{.S24}", "{.S31}"]
        );
        assert_eq!(
            amid("Ends `]{.S40} x` and `::: S31 then`.\n"),
            ["{.S40}", "::: S31"]
        );
        let indented = "Text.\n\n    Indented [x]{.S31} by mistake.\n> \n>     and {.S24} here\n";
        assert_eq!(amid(indented), ["{.S31}", "{.S24}"]);
        let kinds = reader().markdown(indented, &[]).amid_code;
        assert!(kinds.iter().all(|(_, code)| *code == Code::Indented));
        // Escaped, or a tag the audience sees, is not code: not marked.
        assert_eq!(amid("Escaped `a \\{.S31}` here.\n"), Vec::<String>::new());
        let copy = "Seen [x]{.S31} `b`.\n";
        let seen = 8..14;
        let reading = reader().markdown(copy, std::slice::from_ref(&seen));
        assert!(reading.amid_code.is_empty() && reading.strays.is_empty());
    }

    #[test]
    fn code_ends_where_its_block_ends() {
        // A code span does not cross lines; a fence ends with its closing line or blockquote.
        assert_eq!(strays("`a\n{.S31}`\n").len(), 1);
        assert_eq!(strays("```\nx\n```\n{.S31}\n").len(), 1);
        assert_eq!(strays("> ```\n> x\n\n::: S31\n").len(), 1);
        // Four spaces right under a paragraph line continue the paragraph: not code.
        assert_eq!(strays("Text\n    {.S31}\n").len(), 1);
        assert_eq!(strays("Text `x` {.S31} `y`\n").len(), 1);
        assert_eq!(strays("Text \\`{.S31}`\n").len(), 1);
    }

    #[test]
    fn a_visible_tag_is_not_a_stray() {
        let copy = "::: {.S23}\nx\n:::\n[a]{.S24}\n";
        let visible = [0..11, 17..26];
        assert!(reader().markdown(copy, &visible).strays.is_empty());
        assert_eq!(reader().markdown(copy, &visible[..1]).strays.len(), 1);
    }

    #[test]
    fn an_html_copy_may_show_only_what_its_markdown_excused() {
        // `\{` and code render as braces in HTML: excused once each.
        let md = "a \\{.S31} b `{.S31}`\n";
        let html = "<p>a {.S31} b <code>{.S31}</code></p>\n";
        assert!(html_strays(md, html).is_empty());
        assert!(html_strays("\\{.S24\\}\n", "<p>{.S24}</p>\n").is_empty());
        let planted = "<p>a {.S31} b <code>{.S31}</code> {.S31}</p>\n";
        assert_eq!(html_strays(md, planted).len(), 1);
        // Entities are decoded before reading; a fence in a paragraph is found too.
        let entity = "<p>x</p>\n<p>&#123;.S24&#x7d; and &lbrace;.S24&rbrace;</p>\n";
        let found = html_strays("x\n", entity);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].at, 9..entity.len() - 1);
        assert_eq!(html_strays("x\n", "<p>::: S23</p>").len(), 1);
        assert!(html_strays("x\n", "<style>.S31 { color: red }</style>\n").is_empty());
    }

    #[test]
    fn every_piece_of_a_copy_is_found_where_the_renderer_puts_it() {
        use crate::parse::parse_paper;
        use crate::redact::copy_for;
        use crate::render::copy_markdown;
        let rules = Rules::embedded().expect("the embedded rules load");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut papers = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures/ is there") {
            let path = entry.expect("a fixture").path();
            // Fixtures keep their images and annexes beside them.
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("a fixture reads");
            let paper = parse_paper(&text, &rules).expect("a fixture parses");
            papers += 1;
            for audience in &rules.audiences {
                // A paper withheld whole gives that audience no copy, only a notice.
                if paper.front_matter.withheld_from(audience) {
                    continue;
                }
                let copy = copy_for(&paper, &text, audience);
                let md = copy_markdown(&copy, None);
                let layout = Layout::of(&copy, &text, &md);
                assert_eq!(layout.searched, 0, "{}", audience.name);
                for &(at, from, len) in &layout.segments {
                    assert_eq!(md[at..at + len], text[from..from + len]);
                }
                // The bytes of the markers map nowhere.
                let mut markers = 0;
                let mut at = copy.front_matter.to_yaml(&copy.marking).len();
                for piece in &copy.pieces {
                    match piece {
                        Piece::Marker { label, placement } => {
                            let len = marker_len(label, placement.as_ref());
                            assert!(md[at..at + len].contains(&format!("**{label}**")));
                            assert!((at..at + len).all(|k| layout.source_offset(k).is_none()));
                            markers += 1;
                            at += len;
                        }
                        Piece::Text(t) => at += t.len(),
                        Piece::HeadingAttrs(t) => at += t.len(),
                        Piece::Open(p) | Piece::Close(p) => at += p.markdown.len(),
                        Piece::HeadingStart(_) => {}
                    }
                }
                if copy.source.is_none() {
                    assert_eq!(at, md.len());
                    assert!(markers > 0, "{}", audience.name);
                }
            }
        }
        assert!(papers >= 5);
    }

    /// Lines as the reader splits them, found byte by byte.
    fn lines_byte_by_byte(text: &str) -> Vec<(usize, &str)> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let start = at;
            while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                at += 1;
            }
            out.push((start, &text[start..at]));
            if at < bytes.len() {
                at += if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
        }
        out
    }

    /// The reader with no fast path: every line normalised character by character and read
    /// whole, as the slow path reads the lines the fast paths let through.
    fn markdown_in_full(r: &Reader, copy: &str) -> (Vec<Stray>, Excused) {
        let mut reading = Reading::default();
        let mut blocks = CodeBlocks::default();
        for (number, (start, line)) in lines_byte_by_byte(copy).into_iter().enumerate() {
            let code_block = blocks.is_code(line);
            let mut found = Vec::new();
            r.strays_in_line(
                &Normal::Mapped(normalized(line)),
                start,
                number + 1,
                &mut found,
            );
            for stray in found {
                let at = stray.at.start - start;
                if code_block
                    || escaped(line, at)
                    || code_spans(line).iter().any(|s| s.contains(&at))
                {
                    *reading.excused.entry(stray.key()).or_default() += 1;
                } else {
                    reading.strays.push(stray);
                }
            }
        }
        (reading.strays, reading.excused)
    }

    /// A page read line by line with every entity decoded and every line read whole.
    fn html_in_full(r: &Reader, page: &str, excused: &Reading) -> Vec<Stray> {
        let mut allowance = excused.excused.clone();
        let mut strays = Vec::new();
        let mut start = 0;
        for (k, line) in page.split('\n').enumerate() {
            let decoded = html_escape::decode_html_entities(line);
            let mut found = Vec::new();
            r.strays_in_line(&Normal::Mapped(normalized(&decoded)), 0, k + 1, &mut found);
            for mut stray in found {
                stray.at = start..start + line.len();
                match allowance.get_mut(&stray.key()) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => strays.push(stray),
                }
            }
            start += line.len() + 1;
        }
        strays
    }

    /// The page read by [`HtmlReader`], written in pieces of `size` bytes.
    fn html_in_pieces(r: &Reader, page: &str, excused: &Reading, size: usize) -> Vec<Stray> {
        let mut sink = Vec::new();
        let mut read = r.html(&mut sink, excused);
        for chunk in page.as_bytes().chunks(size.max(1)) {
            read.write_all(chunk).unwrap_or_default();
        }
        let strays = read.finish();
        assert_eq!(sink, page.as_bytes(), "every byte is passed on");
        strays
    }

    /// Pieces of text that make or nearly make tags and fences, in every form the fast paths
    /// pass over or must not: look-alikes, invisible characters, entities, escapes, code.
    const PIECES: &[&str] = &[
        "{",
        "}",
        ".",
        ":",
        "::",
        ":::",
        "S31",
        "s24",
        "S22A",
        "S2",
        "3",
        "1",
        " ",
        "\t",
        "\\",
        "#r1",
        "class=",
        "\"",
        "`",
        "```",
        "    ",
        "\n",
        "\r\n",
        "\r",
        "> ",
        "- ",
        "x",
        "word ",
        "=",
        "\u{ff5b}",
        "\u{ff5d}",
        "\u{ff0e}",
        "\u{ff1a}",
        "\u{ff33}",
        "\u{b3}",
        "\u{200b}",
        "\u{200d}",
        "\u{2060}",
        "\u{a0}",
        "\u{2028}",
        "\u{85}",
        "£",
        "é",
        "’",
        "\u{1d412}",
        "&#123;",
        "&#125;",
        "&lbrace;",
        "&amp;",
        "&lt;",
        "&quot;",
        "&#39;",
        "&#58;",
        "&colon;",
        "&zwj;",
        "&#x53;",
        "&",
        "&amp;#123;",
        "<p>",
        "</p>",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(512),
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// The fast paths (lines passed over for their marks, stable lines read in place,
        /// plain entities left undecoded, lines read where a write leaves them) find exactly
        /// what reading every line in full finds, in a copy and in a page.
        #[test]
        fn the_fast_paths_find_what_reading_every_line_in_full_finds(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..48),
            filler in 0usize..80,
            size in 1usize..40,
        ) {
            let r = reader();
            // Filler moves the pieces across the 32-byte steps of the searches.
            let text = format!("{}{}", "a".repeat(filler), pieces.concat());
            let reading = r.markdown(&text, &[]);
            let (strays, excused) = markdown_in_full(&r, &text);
            proptest::prop_assert_eq!(&reading.strays, &strays);
            proptest::prop_assert_eq!(&reading.excused, &excused);
            let in_full = html_in_full(&r, &text, &reading);
            proptest::prop_assert_eq!(&html_in_pieces(&r, &text, &reading, size), &in_full);
            proptest::prop_assert_eq!(
                &html_in_pieces(&r, &text, &reading, text.len()),
                &in_full
            );
        }
    }

    #[test]
    fn a_tag_far_into_plain_text_is_found_in_every_form() {
        let r = reader();
        // Prose with marks that are passed over (a colon, `£`), none that is read.
        let prose = "plain words and figures: 10:30, £2.2m; x[i] ‘y’. ".repeat(220);
        for (tag, in_html) in [
            ("\u{ff5b}.S31\u{ff5d}", true),
            ("{.S\u{200d}31}", true),
            ("\u{ff1a}\u{ff1a}\u{ff1a} S23", true),
            ("{.S31}", true),
            ("&#123;.S31&#125;", false),
            ("&lbrace;.S24&rbrace;", false),
            ("{.&#x53;31}", false),
            ("&#58;&#58;&#58; S23", false),
            ("{.S31&zwj;}", false),
            // A plain entity is still decoded where it matters: a newline between tokens.
            ("{.S24&#10;x}", false),
            // A `{` closed by a look-alike or an entity: its line is read for them.
            ("{.S31\u{ff5d}", true),
            ("{.S31&#125;", false),
        ] {
            let text = format!("{prose}\n{prose}{tag} {prose}\n{prose}\n");
            assert!(text.find(tag).is_some_and(|at| at > 10_000));
            if in_html {
                let strays = r.markdown(&text, &[]).strays;
                assert_eq!(strays.len(), 1, "{tag:?}");
                assert_eq!(&text[strays[0].at.clone()], tag);
                assert_eq!(strays[0].line, 2);
            }
            let page = format!("<p>{text}</p>\n");
            for size in [1, 7, 32, 4096, page.len()] {
                let found = html_in_pieces(&r, &page, &Reading::default(), size);
                assert_eq!(found.len(), 1, "{tag:?} in writes of {size}");
                assert_eq!(found[0].line, 2);
            }
        }
    }

    #[test]
    fn a_tag_split_by_an_invisible_character_across_writes_is_found() {
        let r = reader();
        let prose = "ordinary text, with a colon: and £ ".repeat(300);
        let page = format!("<p>{prose}</p>\n<p>{prose}{{.S3\u{200d}1}}</p>\n<p>{prose}</p>\n");
        let joiner = page.find('\u{200d}').unwrap_or_default();
        // Every cut from just before the tag to just after it, the joiner's own bytes too.
        for cut in joiner - 6..joiner + 8 {
            let mut sink = Vec::new();
            let mut read = r.html(&mut sink, &Reading::default());
            read.write_all(&page.as_bytes()[..cut]).unwrap_or_default();
            read.write_all(&page.as_bytes()[cut..]).unwrap_or_default();
            let found = read.finish();
            assert_eq!(found.len(), 1, "cut at {cut}");
            assert_eq!(found[0].line, 2);
            assert_eq!(sink, page.as_bytes());
        }
    }

    #[test]
    fn a_line_of_stable_characters_reads_as_its_normalised_form_does() {
        // Read in place by byte, the same as character by character: offsets, the length
        // bound of a brace group counted in characters, words in any script.
        let r = reader();
        let long = "é".repeat(MAX_TAG_CHARS - 5);
        let longer = "é".repeat(MAX_TAG_CHARS);
        for line in [
            "£5 {.S31} and ‘{S24 #r1}’",
            "é::: S31",
            "::: S31é",
            "::: S31 é",
            "::: .S24",
            "日本 {.S23 reason=\"é\\}\"} x",
            "{.S31 \u{2028}x}",
            "{S31\u{85}#r1}",
            &format!("{{{long} .S31}}"),
            &format!("{{{longer} .S31}}"),
            &format!("{{.S31 {long}}}"),
        ] {
            assert!(line.chars().all(stable), "{line:?}");
            let mut raw = Vec::new();
            r.strays_in_line(&Normal::Raw(line), 0, 1, &mut raw);
            let mut mapped = Vec::new();
            r.strays_in_line(&Normal::Mapped(normalized(line)), 0, 1, &mut mapped);
            assert_eq!(raw, mapped, "{line:?}");
        }
    }

    proptest::proptest! {
        /// The word-at-a-time search finds the first non-ASCII byte a byte-by-byte one does.
        #[test]
        fn first_non_ascii_finds_the_first_high_byte(
            bytes in proptest::collection::vec(proptest::sample::select(
                b"a{:\x7f\x80\xc2\xff".to_vec()), 0..100),
            ascii in 0usize..70,
        ) {
            let mut bytes = bytes;
            bytes.splice(0..0, std::iter::repeat_n(b'a', ascii));
            proptest::prop_assert_eq!(
                first_non_ascii(&bytes),
                bytes.iter().position(|&b| b >= 0x80)
            );
        }
    }

    #[test]
    fn plain_entities_decode_to_characters_no_tag_is_made_of() {
        for entity in PLAIN_ENTITIES {
            let text = std::str::from_utf8(entity).unwrap_or_default();
            let decoded = html_escape::decode_html_entities(text);
            let mut chars = decoded.chars();
            let c = chars.next().unwrap_or('{');
            assert!(chars.next().is_none(), "{text}");
            assert!(c.is_ascii() && !c.is_ascii_alphanumeric() && c != '{' && c != ':');
        }
        // Decoded once: what an `&amp;` makes is not decoded again.
        assert_eq!(html_escape::decode_html_entities("&amp;#123;"), "&#123;");
    }

    #[test]
    fn reading_is_linear_in_unmatched_braces_and_colons() {
        let copy = format!("{}\n{}\n", "{".repeat(200_000), ":".repeat(200_000));
        let started = std::time::Instant::now();
        assert!(strays(&copy).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
