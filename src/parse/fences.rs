//! Fence lines: which lines are `:::` fences (outside code and comments, never inside raw
//! HTML), what each opens or closes, and the masked text in which each reads as a thematic
//! break so it ends the paragraph before it. An inline code span, link, inline HTML or HTML
//! block that would run across a fence line is an error at its opening: the author may have
//! meant either reading, and guessing could publish the div.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

use super::body::Body;
use super::text::{is_blank, last_break, line_end_of, prefix_len};
use crate::attr::{AttrBlock, parse_attr_block};
use crate::error::{Diagnostic, line_col_label};
use crate::span::Span;

#[derive(Debug, Clone)]
pub(super) enum FenceKind {
    Open {
        /// Shared, not copied, by each reading of the fences (`fences_outside`).
        attrs: Option<Rc<AttrBlock>>,
        bare: Option<(String, Span)>,
    },
    Close,
}

#[derive(Debug, Clone)]
pub(super) struct Fence {
    pub(super) line_start: usize,
    pub(super) colon: usize,
    pub(super) end: usize,
    pub(super) kind: FenceKind,
}

impl Fence {
    /// Text before the colon on the fence line (container markers, indentation).
    pub(super) fn prefix<'t>(&self, text: &'t str) -> &'t str {
        &text[self.line_start..self.colon]
    }
}

/// An inline code span, link, inline HTML, HTML comment or HTML block that runs across a fence
/// line, read as CommonMark reads the source: an error at its opening, since the author may
/// have meant either.
pub(super) fn crossing_fence(text: &str, body_start: usize, body: &Body) -> Result<(), Diagnostic> {
    let fence_like: Vec<(usize, usize)> = fence_lines(text, body_start)
        .filter(|&(start, end)| {
            text[start..end][prefix_len(&text[start..end])..].starts_with(":::")
        })
        .collect();
    if fence_like.is_empty() {
        return Ok(());
    }
    // What opens on a fence line (a backtick in a `reason`) is part of the fence, not code.
    let on_fence_line = |at: usize| {
        let n = fence_like.partition_point(|&(start, _)| start <= at);
        n > 0 && at <= fence_like[n - 1].1
    };
    let mut inline: Vec<Span> = body
        .inline
        .iter()
        .copied()
        .filter(|s| !on_fence_line(s.start))
        .collect();
    inline.sort();
    let mut links = body.links.iter().peekable();
    let mut open_links: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    for &(start, end) in &fence_like {
        let line = &text[start..end];
        let colon = start + prefix_len(line);
        // Neither kind nests in itself: the last one starting before the colon is the one.
        let holding = |spans: &[Span]| {
            let n = spans.partition_point(|s| s.start < colon);
            n.checked_sub(1)
                .map(|k| spans[k])
                .filter(|s| s.contains(colon))
        };
        // Links nest images, so any link holding the colon counts, not only the last one:
        // the earliest-starting one still open. Colons come in order, so a link that ends
        // before one never holds a later one and leaves the heap for good (looking through
        // every earlier link at each fence was quadratic).
        while let Some(&(&link_start, &(link_end, _))) = links.peek()
            && link_start < colon
        {
            if !on_fence_line(link_start) {
                open_links.push(Reverse((link_start, link_end)));
            }
            links.next();
        }
        while open_links
            .peek()
            .is_some_and(|Reverse((_, end))| *end <= colon)
        {
            open_links.pop();
        }
        let link = open_links
            .peek()
            .map(|&Reverse((start, end))| Span::new(start, end));
        let Some(span) = [holding(&inline), holding(&body.html_blocks), link]
            .into_iter()
            .flatten()
            .min_by_key(|s| s.start)
        else {
            continue;
        };
        let opening = &text[span.start..];
        let what = if opening.starts_with('`') {
            "an inline code span"
        } else if opening.starts_with("<!--") {
            "an HTML comment"
        } else if body.links.get(&span.start).is_some_and(|l| l.0 == span.end) {
            "a link"
        } else if body.html_blocks.contains(&span) {
            "an HTML block"
        } else {
            "inline HTML"
        };
        let at_end = line_end_of(text, span.start).min(span.end);
        return Err(Diagnostic::new(
            Span::new(span.start, at_end.max(span.start + 1)),
            format!("{what} runs across a fence line"),
        )
        .note(format!(
            "the fence line is at {}",
            line_col_label(text, colon)
        ))
        .hint("a fence line always ends what is before it: close the code, link or HTML before it, or leave a blank line between them"));
    }
    Ok(())
}

/// The lines of `text[from..]` holding `:::`, as (start, end without terminator), the same
/// lines `lines` gives: found by searching for `:::` (memmem; a lone `:`, as in every URL,
/// costs nothing), not by walking every line, since most papers have few. (A container prefix
/// holds no `:`, so a fence's `:::` is its line's first.)
pub(super) fn fence_lines(text: &str, from: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    // Built once: building a searcher for each fence line cost more than the search.
    static COLONS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b":::"));
    let mut at = from;
    std::iter::from_fn(move || {
        let colon = at + COLONS.find(text.as_bytes().get(at..)?)?;
        let start = last_break(&text[from..colon]).map_or(from, |n| from + n + 1);
        let end = line_end_of(text, colon);
        at = end + 1;
        Some((start, end))
    })
}

/// The source with each fence line's colons and attributes masked as a thematic break of
/// the same length, so pulldown-cmark ends a paragraph there as a fence does. `fences` are in
/// line order; the text between them is copied as it is, never re-checked as UTF-8.
pub(super) fn mask(text: &str, fences: &[Fence]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for fence in fences {
        out.push_str(&text[at..fence.colon]);
        let width = fence.end - fence.colon;
        out.push_str(&"***"[..width.min(3)]);
        // Spaces a slice at a time, not a char at a time.
        const SPACES: &str = "                                                                ";
        let mut spaces = width.saturating_sub(3);
        while spaces > 0 {
            let n = spaces.min(SPACES.len());
            out.push_str(&SPACES[..n]);
            spaces -= n;
        }
        at = fence.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Every fence-like line, if none can sit inside code or HTML that masking it would break:
/// each follows a blank line, another fence-like line or the start of the body, or the lines
/// of its paragraph before it hold no `<` and close every code span and link they open (so
/// no code span, link, inline HTML or comment can run across it). None otherwise, or if one
/// does not parse. `all` is every fence-like line, read with nothing excluded.
pub(super) fn own_block_fences(text: &str, body_start: usize, all: &[Fence]) -> bool {
    if all.is_empty() {
        return false;
    }
    let line_starts: Vec<usize> = all.iter().map(|f| f.line_start).collect();
    let safe = |f: &Fence| {
        let mut end = f.line_start;
        // Walk back line by line to where this paragraph starts.
        while end > body_start {
            let before = &text[body_start..end];
            let before = before
                .strip_suffix("\r\n")
                .or_else(|| before.strip_suffix('\n'))
                .or_else(|| before.strip_suffix('\r'))
                .unwrap_or(before);
            let start = last_break(before).map_or(0, |n| n + 1);
            let line = &before[start..];
            if is_blank(line) {
                return true;
            }
            // HTML there, or a code span or link left open, could run across the fence: read
            // it unmasked. A fence line before it ends the walk, but unmasked it is text of the
            // same paragraph, and a backtick or bracket on it pairs with one further on.
            let closes = code_spans(line).is_some_and(|code| links_close(line, &code));
            if line.contains('<') || !closes {
                return false;
            }
            if line_starts.binary_search(&(body_start + start)).is_ok() {
                return true;
            }
            end = body_start + start;
        }
        true
    };
    all.iter().all(safe)
}

/// The code spans of `line` (from the opening backtick run to the end of the closing one),
/// if every backtick run in it is closed by a later run of the same length on it, as
/// CommonMark pairs code spans, so none can open here and close on a later line. A backslash
/// before a backtick (an escape, or literal inside code) gives up: None.
pub(super) fn code_spans(line: &str) -> Option<Vec<(usize, usize)>> {
    if line.contains("\\`") {
        return None;
    }
    let bytes = line.as_bytes();
    let run_end = |mut i: usize| {
        while i < bytes.len() && bytes[i] == b'`' {
            i += 1;
        }
        i
    };
    let mut spans = Vec::new();
    let mut i = 0;
    // Backticks found by memchr, not byte by byte: a paragraph line runs to a few hundred
    // bytes, and every line before a fence is read.
    while let Some(found) = memchr::memchr(b'`', &bytes[i..]) {
        let start = i + found;
        let end = run_end(start);
        let mut j = end;
        let closed = loop {
            let Some(next) = memchr::memchr(b'`', &bytes[j..]) else {
                break None;
            };
            let (s, e) = (j + next, run_end(j + next));
            if e - s == end - start {
                break Some(e);
            }
            j = e;
        };
        let after = closed?;
        spans.push((start, after));
        i = after;
    }
    Some(spans)
}

/// Whether no link can open on `line` and close on a later one: outside its code spans
/// (which bind tighter than brackets), every `[` is closed later on the line, and every `](`
/// destination closes on it holding no quote (a title may run on), bracket, backtick or `<`.
/// A backslash gives up (an escaped bracket counts for nothing): false. Only the brackets
/// are read here; `<` and unclosed code spans are refused by the caller.
pub(super) fn links_close(line: &str, code: &[(usize, usize)]) -> bool {
    if !line.contains('[') {
        return true;
    }
    if line.contains('\\') {
        return false;
    }
    let bytes = line.as_bytes();
    let mut next_code = code.iter().peekable();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(&&(start, end)) = next_code.peek()
            && i >= start
        {
            i = end;
            next_code.next();
            continue;
        }
        match bytes[i] {
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if bytes.get(i + 1) == Some(&b'(') {
                    let mut parens = 0usize;
                    let mut j = i + 1;
                    loop {
                        match bytes.get(j) {
                            None | Some(b'"' | b'\'' | b'[' | b']' | b'`' | b'<') => return false,
                            Some(b'(') => parens += 1,
                            Some(b')') => {
                                parens -= 1;
                                if parens == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j;
                }
            }
            _ => {
                // Nothing else counts: on to the next bracket, or the next code span (memchr,
                // not byte by byte).
                let stop = next_code.peek().map_or(bytes.len(), |&&(start, _)| start);
                i = memchr::memchr2(b'[', b']', &bytes[i..stop]).map_or(stop, |n| i + n);
                continue;
            }
        }
        i += 1;
    }
    depth == 0
}

fn inside_html(colon: usize, end: usize) -> Diagnostic {
    Diagnostic::new(Span::new(colon, end), "fenced div inside raw HTML")
        .hint("leave a blank line between the HTML block and the fence")
}

/// [`fences`], when every fence-like line is known to parse (`all`, read with nothing
/// excluded): the same fences and the same error, without reading each attribute block
/// again in every round.
pub(super) fn fences_outside(
    all: &[Fence],
    excluded: &[Span],
    html: &[Span],
) -> Result<Vec<Fence>, Diagnostic> {
    let mut out = Vec::with_capacity(all.len());
    for fence in all {
        if Body::in_any(excluded, fence.colon) {
            continue;
        }
        if Body::in_any(html, fence.colon) {
            return Err(inside_html(fence.colon, fence.end));
        }
        out.push(fence.clone());
    }
    Ok(out)
}

/// Every fence line outside code and comments. A fence inside raw HTML is an error.
pub(super) fn fences(
    text: &str,
    body_start: usize,
    excluded: &[Span],
    html: &[Span],
) -> Result<Vec<Fence>, Diagnostic> {
    let mut out = Vec::new();
    for (start, end) in fence_lines(text, body_start) {
        let line = &text[start..end];
        let p = prefix_len(line);
        if !line[p..].starts_with(":::") {
            continue;
        }
        let colon = start + p;
        if Body::in_any(excluded, colon) {
            continue;
        }
        if Body::in_any(html, colon) {
            return Err(inside_html(colon, end));
        }
        let mut i = colon;
        let bytes = text.as_bytes();
        while i < end && bytes[i] == b':' {
            i += 1;
        }
        let skip_ws = |mut i: usize| {
            while i < end && (bytes[i] == b' ' || bytes[i] == b'\t') {
                i += 1;
            }
            i
        };
        let trailing_ok = |i: usize| {
            let mut i = skip_ws(i);
            while i < end && bytes[i] == b':' {
                i += 1;
            }
            skip_ws(i) == end
        };
        let after = skip_ws(i);
        let kind = if after == end {
            FenceKind::Close
        } else if bytes[after] == b'{' {
            let block = parse_attr_block(text, after, end)?;
            if !trailing_ok(block.span.end) {
                return Err(Diagnostic::new(
                    Span::new(skip_ws(block.span.end), end),
                    "unexpected text after the fence's attribute block",
                )
                .hint("an opening fence is `::: {.S31}`, optionally followed by colons"));
            }
            FenceKind::Open {
                attrs: Some(Rc::new(block)),
                bare: None,
            }
        } else {
            let word_start = after;
            let mut j = after;
            while j < end && !matches!(bytes[j], b' ' | b'\t' | b':' | b'{' | b'}') {
                j += 1;
            }
            if j == word_start || !trailing_ok(j) {
                return Err(Diagnostic::new(
                    Span::new(word_start, end),
                    "fence line does not parse",
                )
                .hint(
                    "a fence is `:::` alone (closing), `::: S31` (one bare class) or `::: {.S31 .S24 ...}` (opening)",
                ));
            }
            FenceKind::Open {
                attrs: None,
                bare: Some((text[word_start..j].to_string(), Span::new(word_start, j))),
            }
        };
        out.push(Fence {
            line_start: start,
            colon,
            end,
            kind,
        });
    }
    Ok(out)
}
