//! What a reader of a copy sees: a paper's published text (or one withheld passage) reduced
//! to its visible text, each byte traced back to the source bytes it came from, so a match
//! in what readers read is reported where the author can fix it.
//!
//! The Markdown is read by pulldown-cmark, as the copy is rendered, and raw HTML in it by
//! html5ever's tokenizer, as a browser reads it: emphasis, links and inline elements
//! (`<span>`, `<b>`) vanish without joining or splitting words, comments vanish as the copy
//! removes them (`CH<!-- x -->IS` reads `CHIS`), block elements and `<br>` separate words,
//! and character references are decoded. Link targets and titles, image sources, heading ids
//! and every HTML attribute value are read as separate stretches after the body. Normalising
//! (NFKC, zero-width characters, look-alikes, case) is left to [`super::text`], which reads
//! the visible text as it reads any text.
//!
//! No run of words crosses a withheld passage or runs from one field into another. Nothing here decides
//! what is withheld or matches anything.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::text::{self, Strip, Words};
use crate::model::{BlockPlacement, Paper};
use crate::parse::markdown_options;
use crate::reread::first_non_ascii;
use crate::span::Span;

/// Stands in the read Markdown for a withheld passage, and in the visible text for a break
/// no run of words crosses: not a word character, not ignorable, and left as it is by NFKC.
pub(crate) const BREAK: char = '\u{FFFC}';

/// HTML elements a browser lays out inline: dropping their tags joins what is on either
/// side, as the reader sees it (`PC<span>4321</span>` reads `PC4321`).
const INLINE_ELEMENTS: [&str; 28] = [
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
    "wbr",
];

/// Where the bytes of one string came from in another, piece by piece.
#[derive(Debug, Default, Clone)]
pub(crate) struct SourceMap {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Where the piece starts in the mapped string, and its length.
    at: usize,
    len: usize,
    /// The bytes it came from.
    source: Span,
    /// The piece is those bytes as they are, so each byte maps to one; otherwise every byte
    /// of it maps to all of `source` (a decoded entity, an attribute value).
    exact: bool,
}

impl SourceMap {
    fn push(&mut self, at: usize, len: usize, source: Span, exact: bool) {
        if len > 0 {
            self.segments.push(Segment {
                at,
                len,
                source,
                exact,
            });
        }
    }

    /// The source bytes that `span` of the mapped string came from.
    pub(crate) fn source(&self, span: Span) -> Span {
        let first = self
            .segments
            .partition_point(|s| s.at + s.len <= span.start);
        self.source_from(span, first)
    }

    /// The first segment that does not end by `at` (as [`SourceMap::source`] finds it),
    /// found from `hint`, where the last one asked for was.
    fn first_near(&self, at: usize, hint: usize) -> usize {
        let segments = &self.segments;
        partition_near(segments.len(), hint, |k| {
            segments[k].at + segments[k].len <= at
        })
    }

    /// [`SourceMap::source`] for spans asked near one another (the events of a parse come
    /// in document order, but a block's end spans the block again): `hint` is the segment
    /// where the last one started, and is moved to where this one does.
    fn source_near(&self, span: Span, hint: &mut usize) -> Span {
        *hint = self.first_near(span.start, *hint);
        self.source_from(span, *hint)
    }

    /// [`SourceMap::source`] for spans asked in order: `hint` is where the last one started,
    /// so the next is found by a short walk rather than a search.
    fn source_after(&self, span: Span, hint: &mut usize) -> Span {
        let segments = &self.segments;
        while *hint + 1 < segments.len() && segments[*hint].at + segments[*hint].len <= span.start {
            *hint += 1;
        }
        // Most words lie inside one piece: their source is that piece's, as
        // [`SourceMap::source_from`] finds it, without its other cases.
        if let Some(s) = segments.get(*hint)
            && s.at <= span.start
            && span.start < span.end
            && span.end <= s.at + s.len
            && segments
                .get(*hint + 1)
                .is_none_or(|next| next.at >= span.end)
        {
            return if s.exact {
                Span::new(
                    s.source.start + (span.start - s.at),
                    s.source.start + (span.end - s.at),
                )
            } else {
                Span::new(s.source.start, s.source.end.max(s.source.start))
            };
        }
        self.source_from(span, *hint)
    }

    fn source_from(&self, span: Span, first: usize) -> Span {
        let segments = &self.segments;
        if segments.is_empty() {
            return Span::empty(0);
        }
        let first = first.min(segments.len() - 1);
        let end = span.end.max(span.start + 1);
        // Most spans lie in one piece: look one ahead before searching.
        let final_ = if segments.get(first + 1).is_none_or(|s| s.at >= end) {
            first
        } else {
            segments
                .partition_point(|s| s.at < end)
                .saturating_sub(1)
                .max(first)
        };
        let (a, b) = (&segments[first], &segments[final_]);
        let start = if a.exact && span.start >= a.at {
            a.source.start + (span.start - a.at).min(a.len)
        } else {
            a.source.start
        };
        let end = if b.exact && end <= b.at + b.len && span.end >= b.at {
            b.source.start + (span.end - b.at)
        } else {
            b.source.end
        };
        Span::new(start, end.max(start))
    }

    /// The source of `range` of the mapped string, piece by piece: what [`Visible`] records
    /// when it keeps a piece of the read Markdown as it is.
    fn pieces(
        &self,
        range: Span,
        hint: &mut usize,
    ) -> impl Iterator<Item = (Span, Span, bool)> + '_ {
        *hint = self.first_near(range.start, *hint);
        self.segments[*hint..]
            .iter()
            .take_while(move |s| s.at < range.end)
            .map(move |s| {
                let from = range.start.max(s.at);
                let to = range.end.min(s.at + s.len);
                let source = if s.exact {
                    Span::new(s.source.start + (from - s.at), s.source.start + (to - s.at))
                } else {
                    s.source
                };
                (Span::new(from, to), source, s.exact)
            })
    }
}

/// The `partition_point` of `0..len` for `before` (true for a prefix of it, then false),
/// found from `hint`, where it was last: a few steps either way, as it mostly moves little
/// from one ask to the next, and a binary search of what is left when it has moved further.
fn partition_near(len: usize, hint: usize, before: impl Fn(usize) -> bool) -> usize {
    const STEPS: usize = 4;
    let mut k = hint.min(len);
    if k < len && before(k) {
        for _ in 0..STEPS {
            k += 1;
            if k == len || !before(k) {
                return k;
            }
        }
        return k + partition(len - k, |i| before(k + i));
    }
    for _ in 0..STEPS {
        if k == 0 || before(k - 1) {
            return k;
        }
        k -= 1;
    }
    partition(k, before)
}

/// The `partition_point` of `0..len` for `before`, by binary search.
fn partition(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Visible text, with where each byte came from in the source.
#[derive(Debug, Default, Clone)]
pub(crate) struct Visible {
    /// What a reader sees, case and characters as written (normalising comes later); blocks
    /// end in a line break, and each withheld passage is a [`BREAK`].
    pub(crate) text: String,
    map: SourceMap,
    /// Where each [`BREAK`] before a field is in `text`, in order.
    breaks: Vec<usize>,
    /// Where each withheld passage starts in the source, in order: no run of words crosses
    /// one. Kept as source offsets, so a `U+FFFC` the source itself holds cuts nothing.
    cuts: Vec<usize>,
}

thread_local! {
    /// The text and map of the last [`Visible`] this thread let go ([`Visible::recycle`]):
    /// a fresh pair the size of a paper for every paper and audience took malloc's slow path.
    static SPARE_VISIBLE: RefCell<Option<(String, Vec<Segment>)>> = const { RefCell::new(None) };
}

impl Visible {
    /// Spare buffers larger than this are let go rather than kept.
    const KEEP_BYTES: usize = 1 << 20;

    /// An empty one with room for `bytes` of text, in this thread's spare buffers if it has
    /// them.
    fn with_capacity(bytes: usize) -> Visible {
        let (mut text, mut segments) = SPARE_VISIBLE
            .with(|spare| spare.borrow_mut().take())
            .unwrap_or_default();
        text.clear();
        segments.clear();
        text.reserve(bytes);
        Visible {
            text,
            map: SourceMap { segments },
            ..Visible::default()
        }
    }

    /// Keeps the text and map's buffers for the next visible text read on this thread: for
    /// one read, scanned and let go.
    pub(crate) fn recycle(self) {
        let bytes = self.text.capacity() + self.map.segments.capacity() * size_of::<Segment>();
        if bytes <= Self::KEEP_BYTES {
            SPARE_VISIBLE.with(|spare| *spare.borrow_mut() = Some((self.text, self.map.segments)));
        }
    }

    /// The source bytes that `span` of [`Visible::text`] came from.
    pub(crate) fn source(&self, span: Span) -> Span {
        self.map.source(span)
    }

    /// The words of the visible text, normalised, one stream per stretch between withheld
    /// passages and fields, each word traced to its source bytes.
    pub(crate) fn stretches(&self) -> Vec<Words> {
        let mut out: Vec<Words> = Vec::new();
        let mut next_break = 0;
        let mut stretch = (usize::MAX, usize::MAX);
        let mut hint = 0;
        let mut cut = 0;
        for_each_visible_word(&self.text, |word, span| {
            while self.breaks.get(next_break).is_some_and(|&b| b < span.start) {
                next_break += 1;
            }
            let source = self.map.source_after(span, &mut hint);
            // Sources rise through the body, then start again for each field.
            cut = partition_near(self.cuts.len(), cut, |k| self.cuts[k] < source.start);
            if (next_break, cut) != stretch {
                stretch = (next_break, cut);
                // Room for the words up to the next break (a withheld passage's or a
                // field's), which ends this stretch if nothing before it does.
                let rest = &self.text[span.start..];
                out.push(Words::with_capacity(rest.find(BREAK).unwrap_or(rest.len())));
            }
            if let Some(words) = out.last_mut() {
                words.push_word(word, source);
            }
        });
        out
    }

    fn push_break(&mut self, source: Span) {
        self.breaks.push(self.text.len());
        self.push(BREAK.encode_utf8(&mut [0; 4]), source, false);
    }

    fn push(&mut self, s: &str, source: Span, exact: bool) {
        self.map.push(self.text.len(), s.len(), source, exact);
        self.text.push_str(s);
    }

    /// A separator between words that leaves a run of words whole. `source` is asked only
    /// if one is pushed: most events need none.
    fn push_space(&mut self, source: impl FnOnce() -> Span) {
        if !self.text.ends_with([' ', '\n']) {
            self.push(" ", source(), false);
        }
    }

    fn push_line(&mut self, source: impl FnOnce() -> Span) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.push("\n", source(), false);
        }
    }
}

/// Markdown put together from pieces of a source, with where each byte came from.
struct Assembled {
    markdown: String,
    map: SourceMap,
}

thread_local! {
    /// The buffers of the last [`Assembled`] this thread let go: each paper's body and
    /// passages are assembled in turn, and a fresh buffer the size of a paper for each took
    /// malloc's slow path every time.
    static SPARE: RefCell<Option<Assembled>> = const { RefCell::new(None) };
}

impl Assembled {
    /// Spare buffers larger than this are let go rather than kept.
    const KEEP_BYTES: usize = 1 << 20;

    fn new(capacity: usize) -> Self {
        let mut md = SPARE
            .with(|spare| spare.borrow_mut().take())
            .unwrap_or_else(|| Assembled {
                markdown: String::new(),
                map: SourceMap::default(),
            });
        md.markdown.clear();
        md.map.segments.clear();
        md.markdown.reserve(capacity);
        md
    }

    /// Keeps the buffers for the next [`Assembled::new`] on this thread.
    fn recycle(self) {
        let bytes = self.markdown.capacity() + self.map.segments.capacity() * size_of::<Segment>();
        if bytes <= Self::KEEP_BYTES {
            SPARE.with(|spare| *spare.borrow_mut() = Some(self));
        }
    }

    fn push_source(&mut self, text: &str, span: Span) {
        let end = span.end.min(text.len());
        if span.start < end {
            self.map
                .push(self.markdown.len(), end - span.start, span, true);
            self.markdown.push_str(&text[span.start..end]);
        }
    }

    fn push_made(&mut self, s: &str, source: Span) {
        self.map.push(self.markdown.len(), s.len(), source, false);
        self.markdown.push_str(s);
    }

    /// A withheld passage, placed as the copy places its marker.
    fn push_marker(&mut self, placement: Option<&BlockPlacement>, source: Span) {
        let marker = BREAK.encode_utf8(&mut [0; 4]).to_string();
        match placement {
            None => self.push_made(&marker, source),
            Some(p) => {
                if p.blank_before {
                    self.push_made(&format!("{}{}", p.newline, p.prefix), source);
                }
                self.push_made(&marker, source);
                if p.blank_after {
                    self.push_made(&format!("{}{}", p.newline, p.prefix.trim_end()), source);
                }
            }
        }
    }
}

/// What one audience's copy shows of a paper's body, as a reader sees it. `maximal` lists
/// the redactions withheld from it, outermost only, in document order: each becomes a break
/// where the copy has its marker. Comments are left out, as every copy leaves them out.
pub(crate) fn public_body(text: &str, paper: &Paper, maximal: &[usize]) -> Visible {
    let mut md = Assembled::new(text.len().saturating_sub(paper.body_start));
    let comments = &paper.comments;
    let mut from = paper.body_start;
    let push_stretch = |md: &mut Assembled, stretch: Span| {
        let first = comments.partition_point(|c| c.end <= stretch.start);
        let mut at = stretch.start;
        for c in comments[first..]
            .iter()
            .take_while(|c| c.start < stretch.end)
        {
            md.push_source(text, Span::new(at, c.start.max(at)));
            at = at.max(c.end);
        }
        md.push_source(text, Span::new(at, stretch.end.max(at)));
    };
    let mut cuts = Vec::with_capacity(maximal.len());
    for &k in maximal {
        let r = &paper.redactions[k];
        if r.span.start >= from {
            push_stretch(&mut md, Span::new(from, r.span.start));
            md.push_marker(r.placement.as_ref(), r.span);
            cuts.push(r.span.start);
        }
        from = from.max(r.span.end);
    }
    push_stretch(&mut md, Span::new(from, text.len()));
    let mut visible = read_markdown(&md);
    md.recycle();
    visible.cuts = cuts;
    visible
}

/// Withheld passages as a reader of a copy that shows them sees them (`contents`: each one's
/// source without its tags, in document order, none overlapping), read in one pass with a
/// blank line and a break between two, and the words of each.
pub(crate) fn passages(text: &str, contents: &[&[Span]]) -> (Visible, Vec<Words>) {
    let bytes: usize = contents
        .iter()
        .flat_map(|c| c.iter())
        .map(|s| s.len())
        .sum();
    let mut md = Assembled::new(bytes + contents.len() * 8);
    let mut bounds = Vec::with_capacity(contents.len());
    for content in contents {
        let (Some(first), Some(last)) = (content.first(), content.last()) else {
            // Kept in order, so the search below still works.
            let at = bounds.last().map_or(0, |b: &Span| b.end);
            bounds.push(Span::empty(at));
            continue;
        };
        if !md.markdown.is_empty() {
            // Ends any block the passage before left open, as the end of a file would.
            md.push_made("\n\n\u{FFFC}\n\n", Span::empty(first.start));
        }
        for &piece in *content {
            md.push_source(text, piece);
        }
        bounds.push(Span::new(first.start, last.end));
    }
    let visible = read_markdown(&md);
    md.recycle();
    // Each word goes to the passage its source bytes are in.
    let mut words: Vec<Words> = bounds
        .iter()
        .map(|b| Words::with_capacity(b.len()))
        .collect();
    let mut hint = 0;
    let mut k = 0;
    for_each_visible_word(&visible.text, |word, span| {
        let source = visible.map.source_after(span, &mut hint);
        k = partition_near(bounds.len(), k, |b| bounds[b].end <= source.start);
        if let Some(passage) = words.get_mut(k)
            && bounds[k].start <= source.start
        {
            passage.push_word(word, source);
        }
    });
    (visible, words)
}

/// [`text::for_each_word`] over the whole of `text` (visible text), read in pieces between
/// the [`BREAK`]s that an ASCII byte or the end follows: the same words from the same bytes,
/// as no word holds a `BREAK`, and no escape, combining sequence or compatibility form
/// spans one that an ASCII byte follows (one followed by a combining mark is read with it).
/// Read whole, each `BREAK` went through every stage of normalising, and so did the text
/// after it up to the next whitespace.
fn for_each_visible_word(text: &str, mut found: impl FnMut(&str, Span)) {
    let mut from = 0;
    for (at, _) in text.match_indices(BREAK) {
        let next = at + BREAK.len_utf8();
        if text.as_bytes().get(next).is_none_or(u8::is_ascii) {
            words_of_piece(text, Span::new(from, at), &mut found);
            from = next;
        }
    }
    words_of_piece(text, Span::new(from, text.len()), &mut found);
}

thread_local! {
    /// Room for a piece of visible text with its separating characters made spaces.
    static SPACED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// [`text::for_each_word`] of `text[span]`, read with every character that is not ASCII made
/// as many spaces as it has bytes where each of them reads as a space ([`reads_as_space`])
/// and the piece has no escape: the same words from the same bytes, as such a character
/// decodes to itself, attaches to nothing and joins nothing, but read on the plain path
/// (a `£` otherwise sends the words around it through every stage of normalising).
fn words_of_piece(text: &str, span: Span, found: &mut impl FnMut(&str, Span)) {
    let piece = &text[span.start..span.end];
    let bytes = piece.as_bytes();
    // Each character that is not ASCII, found a word at a time: most of a piece is ASCII.
    let others = || {
        let mut at = 0;
        std::iter::from_fn(move || {
            let k = at + first_non_ascii(&bytes[at..])?;
            let c = piece[k..].chars().next()?;
            at = k + c.len_utf8();
            Some((k, c))
        })
        .filter(|&(_, c)| c != BREAK)
    };
    let spaced = others().next().is_some()
        && memchr::memchr2(b'&', b'%', bytes).is_none()
        && others().all(|(_, c)| reads_as_space(c));
    if !spaced {
        text::for_each_word(text, span, Strip::None, found);
        return;
    }
    SPACED.with(|room| {
        let mut room = room.borrow_mut();
        room.clear();
        let mut from = 0;
        for (k, c) in others() {
            room.push_str(&piece[from..k]);
            room.extend(std::iter::repeat_n(' ', c.len_utf8()));
            from = k + c.len_utf8();
        }
        room.push_str(&piece[from..]);
        text::for_each_word(&room, Span::new(0, room.len()), Strip::None, |w, s| {
            found(w, Span::new(span.start + s.start, span.start + s.end))
        });
    });
}

thread_local! {
    /// [`reads_as_space`] of the characters this thread has asked about.
    static READS_AS_SPACE: RefCell<Vec<(char, bool)>> = const { RefCell::new(Vec::new()) };
}

/// Whether `c`, among characters that are no combining marks, reads as a space does: it
/// decodes to itself ([`super::char_decodes_as_is`]: combining class 0, not ignorable, no
/// other form) and is no part of a word, as `a`, `c` and `b` read `a` and `b`.
fn reads_as_space(c: char) -> bool {
    const KEEP: usize = 256;
    let known = READS_AS_SPACE.with(|known| {
        known
            .borrow()
            .iter()
            .find(|(k, _)| *k == c)
            .map(|&(_, space)| space)
    });
    if let Some(space) = known {
        return space;
    }
    let probe = format!("a{c}b");
    let mut words = Vec::new();
    text::for_each_word(&probe, Span::new(0, probe.len()), Strip::None, |w, s| {
        words.push((w.to_string(), s))
    });
    let b = 1 + c.len_utf8();
    let space = super::char_decodes_as_is(c)
        && words
            == [
                ("a".to_string(), Span::new(0, 1)),
                ("b".to_string(), Span::new(b, b + 1)),
            ];
    READS_AS_SPACE.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() < KEEP {
            known.push((c, space));
        }
    });
    space
}

/// Reads Markdown as pulldown-cmark does for the copy, raw HTML through html5ever.
fn read_markdown(md: &Assembled) -> Visible {
    let mut out = Visible::with_capacity(md.markdown.len());
    // Link targets, titles and attribute values: read after the body, each on its own.
    let mut fields: Vec<(String, Span)> = Vec::new();
    let mut html_block: Option<HtmlReader> = None;
    let events = Parser::new_ext(&md.markdown, markdown_options()).into_offset_iter();
    // A link reference definition is no event, but its target and title are in the copy.
    for (_, def) in events.reference_definitions().iter() {
        let source = md.map.source(Span::new(def.span.start, def.span.end));
        fields.push((def.dest.to_string(), source));
        if let Some(title) = &def.title {
            fields.push((title.to_string(), source));
        }
    }
    let mut hint = 0;
    for (event, range) in events {
        let range = Span::new(range.start, range.end);
        // Looked up only where used: most text is traced piece by piece instead.
        let source = |hint: &mut usize| md.map.source_near(range, hint);
        match event {
            Event::Text(t) | Event::Code(t) => {
                if let Some(reader) = html_block.as_mut() {
                    // Text pulldown-cmark finds inside an HTML block is still HTML.
                    reader.feed(&t, source(&mut hint), &mut out, &mut fields);
                    continue;
                }
                let raw = &md.markdown[range.start..range.end];
                let found = if raw == &*t { Some(0) } else { raw.find(&*t) };
                match found {
                    // As written: trace each byte (or a code span's content) to its own.
                    Some(offset) => {
                        let kept = Span::new(range.start + offset, range.start + offset + t.len());
                        for (piece, from, exact) in md.map.pieces(kept, &mut hint) {
                            out.push(&md.markdown[piece.start..piece.end], from, exact);
                        }
                    }
                    // Decoded (an entity, an escape): the whole event's bytes.
                    None => out.push(&t, source(&mut hint), false),
                }
            }
            Event::InlineHtml(h) => {
                let mut reader = HtmlReader::new();
                reader.feed(&h, source(&mut hint), &mut out, &mut fields);
                reader.finish(source(&mut hint), &mut out, &mut fields);
            }
            // Not enabled by [`markdown_options`]; read as text if it ever is.
            Event::InlineMath(h) | Event::DisplayMath(h) => out.push(&h, source(&mut hint), false),
            Event::Html(h) => match html_block.as_mut() {
                Some(reader) => reader.feed(&h, source(&mut hint), &mut out, &mut fields),
                None => {
                    let mut reader = HtmlReader::new();
                    reader.feed(&h, source(&mut hint), &mut out, &mut fields);
                    reader.finish(source(&mut hint), &mut out, &mut fields);
                }
            },
            Event::Start(Tag::HtmlBlock) => {
                out.push_line(|| source(&mut hint));
                html_block = Some(HtmlReader::new());
            }
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(mut reader) = html_block.take() {
                    reader.finish(source(&mut hint), &mut out, &mut fields);
                }
                out.push_line(|| source(&mut hint));
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            }) => {
                fields.push((dest_url.to_string(), source(&mut hint)));
                fields.push((title.to_string(), source(&mut hint)));
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                out.push_space(|| source(&mut hint));
                fields.push((dest_url.to_string(), source(&mut hint)));
                fields.push((title.to_string(), source(&mut hint)));
            }
            Event::End(TagEnd::Image) => {
                out.push_space(|| source(&mut hint));
            }
            Event::Start(Tag::Heading { id, attrs, .. }) => {
                out.push_line(|| source(&mut hint));
                if let Some(id) = id {
                    fields.push((id.to_string(), source(&mut hint)));
                }
                for (_, value) in attrs {
                    if let Some(value) = value {
                        fields.push((value.to_string(), source(&mut hint)));
                    }
                }
            }
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript,
            )
            | Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link,
            ) => {}
            Event::Start(_) | Event::End(_) | Event::Rule => {
                out.push_line(|| source(&mut hint));
            }
            Event::SoftBreak | Event::HardBreak | Event::FootnoteReference(_) => {
                out.push_space(|| source(&mut hint));
            }
            Event::TaskListMarker(_) => {
                out.push_space(|| source(&mut hint));
            }
        }
    }
    if let Some(mut reader) = html_block.take() {
        reader.finish(Span::empty(0), &mut out, &mut fields);
    }
    for (field, source) in fields {
        if !field.trim().is_empty() {
            out.push_break(source);
            out.push(&field, source, false);
        }
    }
    out
}

/// html5ever's tokenizer, fed the pieces of one HTML fragment (an HTML block line by line,
/// or one inline tag), with each token traced to the piece that completed it.
struct HtmlReader {
    tokenizer: Tokenizer<TokenList>,
    queue: BufferQueue,
}

#[derive(Default)]
struct TokenList(RefCell<Vec<Token>>);

impl TokenSink for TokenList {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().push(token);
        TokenSinkResult::Continue
    }
}

impl HtmlReader {
    fn new() -> Self {
        HtmlReader {
            tokenizer: Tokenizer::new(TokenList::default(), TokenizerOpts::default()),
            queue: BufferQueue::default(),
        }
    }

    fn feed(&mut self, html: &str, source: Span, out: &mut Visible, fields: &mut Fields) {
        self.queue.push_back(StrTendril::from_slice(html));
        let _ = self.tokenizer.feed(&self.queue);
        self.drain(source, out, fields);
    }

    fn finish(&mut self, source: Span, out: &mut Visible, fields: &mut Fields) {
        self.tokenizer.end();
        self.drain(source, out, fields);
    }

    fn drain(&mut self, source: Span, out: &mut Visible, fields: &mut Fields) {
        let tokens = std::mem::take(&mut *self.tokenizer.sink.0.borrow_mut());
        for token in tokens {
            match token {
                Token::CharacterTokens(t) => out.push(&t, source, false),
                Token::TagToken(tag) => {
                    let name: &str = &tag.name;
                    if matches!(name, "br" | "img") {
                        out.push_space(|| source);
                    } else if !INLINE_ELEMENTS.contains(&name) {
                        out.push_line(|| source);
                    }
                    if tag.kind == TagKind::StartTag {
                        for attr in tag.attrs {
                            fields.push((String::from(&*attr.value), source));
                        }
                    }
                }
                // Removed from the copy without a trace, so what was either side of it joins.
                Token::CommentToken(_) => {}
                Token::DoctypeToken(_)
                | Token::NullCharacterToken
                | Token::EOFToken
                | Token::ParseError(_) => {}
            }
        }
    }
}

type Fields = Vec<(String, Span)>;

#[cfg(test)]
mod tests {
    use super::*;

    fn read(md: &str) -> Visible {
        passages(md, &[&[Span::new(0, md.len())]]).0
    }

    fn stream(md: &str) -> String {
        passages(md, &[&[Span::new(0, md.len())]])
            .1
            .remove(0)
            .stream
    }

    #[test]
    fn inline_markup_and_comments_vanish_without_joining_words() {
        assert_eq!(stream("C**HIS** 1234"), "chis 1234");
        assert_eq!(stream("PC<span>4321</span>"), "pc4321");
        assert_eq!(stream("CH<!-- x -->IS 1234"), "chis 1234");
        assert_eq!(stream("one <span>two</span> three"), "one two three");
        assert_eq!(stream("one<br>two"), "one two");
        assert_eq!(stream("CH&#73;S 1234"), "chis 1234");
        assert_eq!(stream("\u{421}HIS 1234"), "chis 1234");
    }

    #[test]
    fn blocks_separate_words_and_attributes_are_read_apart() {
        let v = read(
            "<div>one</div><div>two</div>\n\n[link](https://example.org/kestrel \"title words\")\n",
        );
        let stretches: Vec<String> = v.stretches().into_iter().map(|w| w.stream).collect();
        assert_eq!(
            stretches,
            vec!["one two link", "https example org kestrel", "title words"]
        );
    }

    #[test]
    fn passages_are_read_apart_and_each_keeps_its_own_words() {
        // A U+FFFC in the source itself neither splits a passage nor shifts the next one.
        let text = "alpha *beta*\u{FFFC} gamma|<b>delta</b> epsilon";
        let bar = text.find('|').unwrap();
        let first = [Span::new(0, bar)];
        let second = [Span::new(bar + 1, text.len())];
        let (_, words) = passages(text, &[&first, &[], &second]);
        let streams: Vec<&str> = words.iter().map(|w| w.stream.as_str()).collect();
        assert_eq!(streams, vec!["alpha beta gamma", "", "delta epsilon"]);
    }

    #[test]
    fn each_word_is_traced_to_its_source_bytes() {
        let md = "Call C**HIS** 1234 and PC&#32;4321.";
        let words = passages(md, &[&[Span::new(0, md.len())]]).1.remove(0);
        let at = |i: usize| {
            let s = words.source(i, 1);
            &md[s.start..s.end]
        };
        assert_eq!(words.word(1), "chis");
        assert_eq!(at(1), "C**HIS");
        assert_eq!(at(2), "1234");
    }

    /// The breaks a reading adds between words (a block's end, a soft break, an image) are
    /// traced to the Markdown that made them, as the events that made them say.
    #[test]
    fn separators_are_traced_to_what_made_them() {
        let md = "# Head\n\none\ntwo ![alt](i.png) three\n\n- item\n";
        let v = read(md);
        let traced: Vec<(usize, &str)> = v
            .text
            .char_indices()
            .filter(|&(_, c)| c == ' ' || c == '\n')
            .map(|(i, _)| {
                let s = v.source(Span::new(i, i + 1));
                (i, &md[s.start..s.end])
            })
            .collect();
        assert_eq!(
            traced,
            vec![
                (4, "# Head\n"),
                (8, "\n"),
                (12, " "),
                (16, "![alt](i.png)"),
                (17, " "),
                (23, "one\ntwo ![alt](i.png) three\n"),
                (28, "- item\n"),
            ]
        );
    }

    proptest::proptest! {
        /// [`partition_near`] finds what `partition_point` finds, from any hint.
        #[test]
        fn partition_near_is_the_partition_point(
            mut values in proptest::collection::vec(0usize..50, 0..40),
            asks in proptest::collection::vec((0usize..55, 0usize..45), 1..20),
        ) {
            values.sort_unstable();
            for (at, hint) in asks {
                proptest::prop_assert_eq!(
                    partition_near(values.len(), hint, |k| values[k] < at),
                    values.partition_point(|&v| v < at)
                );
            }
        }

        /// Asked in any order, each from where the last was, [`SourceMap::source_near`] and
        /// [`SourceMap::pieces`] give what [`SourceMap::source`] and a binary search give.
        #[test]
        fn source_near_is_the_source(
            pieces in proptest::collection::vec((0usize..6, 0usize..4, proptest::bool::ANY), 0..30),
            asks in proptest::collection::vec((0usize..80, 0usize..8), 1..30),
        ) {
            let mut map = SourceMap::default();
            let (mut at, mut from) = (0, 0);
            for (len, gap, exact) in pieces {
                let source = if exact { Span::new(from + gap, from + gap + len) } else { Span::new(from, from + gap + 1) };
                map.push(at, len, source, exact);
                at += len;
                from = source.end;
            }
            let mut hint = 0;
            for &(start, len) in &asks {
                let span = Span::new(start, start + len);
                let mut near = hint;
                proptest::prop_assert_eq!(map.source_near(span, &mut near), map.source(span));
                let first = map.segments.partition_point(|s| s.at + s.len <= span.start);
                let mut from_first = first;
                let plain: Vec<_> = map.pieces(span, &mut from_first).collect();
                let got: Vec<_> = map.pieces(span, &mut hint).collect();
                proptest::prop_assert_eq!(got, plain);
                proptest::prop_assert_eq!(hint, first);
            }
            // Asked in order, as the words of a text come, each from where the last was.
            let mut ordered: Vec<Span> = asks
                .iter()
                .map(|&(start, len)| Span::new(start, start + len))
                .collect();
            ordered.sort_by_key(|s| (s.start, s.end));
            let mut after = 0;
            for span in ordered {
                proptest::prop_assert_eq!(map.source_after(span, &mut after), map.source(span), "{:?}", span);
            }
        }
    }

    /// What [`passages`] gives of `text`, words and their sources included.
    fn passages_read(text: &str) -> (String, Vec<(String, Vec<Span>)>) {
        let half = text.len() / 2;
        let half = (0..=half)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let (first, second) = ([Span::new(0, half)], [Span::new(half, text.len())]);
        let (visible, words) = passages(text, &[&first, &second]);
        let words = words
            .iter()
            .map(|w| {
                let sources = (0..w.len()).map(|i| w.source(i, 1)).collect();
                (w.stream.clone(), sources)
            })
            .collect();
        let sources = (0..visible.text.len())
            .filter(|&i| visible.text.is_char_boundary(i))
            .map(|i| format!("{:?}", visible.source(Span::new(i, i + 1))))
            .collect::<Vec<_>>()
            .join(",");
        (format!("{}|{sources}", visible.text), words)
    }

    #[test]
    fn reused_buffers_read_as_fresh_ones() {
        let long =
            "# Heading\n\nA *long* paragraph with [a link](https://example.org) in it. ".repeat(40);
        let short = "Two <b>short</b>\n\nlines &amp; more";
        let fresh = std::thread::spawn(move || passages_read(short))
            .join()
            .expect("reads");
        passages_read(&long);
        assert_eq!(passages_read(short), fresh);
        let body_fresh = std::thread::spawn(move || passages_read(&long))
            .join()
            .expect("reads");
        let long =
            "# Heading\n\nA *long* paragraph with [a link](https://example.org) in it. ".repeat(40);
        passages_read(short);
        assert_eq!(passages_read(&long), body_fresh);
    }

    /// Pieces of visible text: breaks, what may join across them, and plain words.
    const VISIBLE_PARTS: [&str; 24] = [
        "\u{fffc}", "\u{fffc}", "a", "Kes", " ", "\n", "\u{301}", "e\u{301}", "&", "amp;", "#107;",
        "%4B", "\u{a3}", "\u{200b}", "\u{421}", "\u{ff4b}", "\u{a3}", "\u{20ac}", "\u{2014}",
        "\u{a0}", "\u{e9}", "\u{903}", "\u{3000}", "\u{2126}",
    ];

    proptest::proptest! {
        /// Reading visible text in pieces between breaks gives the words, and the bytes
        /// each came from, that reading it whole gives.
        #[test]
        fn visible_words_read_in_pieces_as_whole(
            parts in proptest::collection::vec(0..VISIBLE_PARTS.len(), 0..60),
        ) {
            let text: String = parts.iter().map(|&k| VISIBLE_PARTS[k]).collect();
            let mut whole = Vec::new();
            text::for_each_word(&text, Span::new(0, text.len()), Strip::None, |w, s| {
                whole.push((w.to_string(), s))
            });
            let mut pieces = Vec::new();
            for_each_visible_word(&text, |w, s| pieces.push((w.to_string(), s)));
            proptest::prop_assert_eq!(pieces, whole);
        }
    }
}
