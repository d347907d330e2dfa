//! Inline spans: `[text]{…}`, and links and images followed by an attribute block, read in
//! one left-to-right walk that skips code, comments, raw HTML and fence lines. A span must
//! close in the block it opens in; a reference link with attributes must have a definition;
//! a comment or code span cutting through a span is an error; a `{` no span took goes to the
//! near-miss check. Brackets that pair with nothing are text, read in linear time.

use super::attributes::{code_like, tagged};
use super::collector::{Collector, Found};
use super::text::{merge, word_prefix};
use crate::attr::{AttrItem, parse_attr_block};
use crate::error::{Diagnostic, line_col_label};
use crate::model::Form;
use crate::span::Span;

impl Collector<'_> {
    pub(super) fn spans(&mut self) -> Result<(), Diagnostic> {
        let text = self.text;
        let bytes = text.as_bytes();
        let body = self.body;
        let mut skip: Vec<Span> = Vec::new();
        skip.extend(body.code.iter().copied());
        skip.extend(body.comments.iter().copied());
        skip.extend(body.html.iter().copied());
        skip.extend(body.footnote_refs.iter().copied());
        skip.extend(body.fences.iter().map(|f| Span::new(f.colon, f.end)));
        skip.extend(self.heading_attrs.iter().map(|h| h.span));
        skip.extend(
            body.links
                .iter()
                .filter(|(_, (_, auto))| *auto)
                .map(|(s, (e, _))| Span::new(*s, *e)),
        );
        skip.extend(body.refdefs.iter().copied());
        for refdef in &body.refdefs {
            self.no_tags_in(*refdef, "a link reference definition")?;
        }
        for (start, (end, auto)) in &body.links {
            if *auto {
                self.no_tags_in(Span::new(*start, *end), "an autolink")?;
            }
        }
        let skip = merge(skip);
        let mut next_skip = 0;
        let mut openers: Vec<usize> = Vec::new();
        // The last `[…]` closed, to tell `[text][label]{…}` from a span.
        let mut last_pair: Option<(usize, usize)> = None;
        let mut i = body.body_start;
        let mut specials = Specials::default();
        while i < bytes.len() {
            while next_skip < skip.len() && skip[next_skip].end <= i {
                next_skip += 1;
            }
            if next_skip < skip.len() && skip[next_skip].start <= i {
                let region = skip[next_skip];
                if let Some(&open) = openers.last() {
                    self.cut_through(open, region)?;
                }
                i = region.end;
                continue;
            }
            // Only these bytes start or end anything here: jump to the next one.
            if !special(bytes[i]) {
                let limit = skip.get(next_skip).map_or(bytes.len(), |s| s.start);
                i = specials.next(bytes, i, limit);
                continue;
            }
            match bytes[i] {
                b'\\' if bytes.get(i + 1).is_some_and(|b| b.is_ascii_punctuation()) => i += 2,
                b'[' => {
                    // Unmatched brackets are text, however many: only nested redactions
                    // count against the nesting limit (in `nest`).
                    openers.push(i);
                    i += 1;
                }
                b']' => {
                    let opener = openers.pop();
                    let pair = opener.map(|o| (o, i));
                    if bytes.get(i + 1) == Some(&b'{') {
                        let attr_at = i + 1;
                        // Braces that name no code and no key are prose unless they are a
                        // well-formed block on a span: `x[i]{j}`.
                        let parsed = parse_attr_block(text, attr_at, self.limit(attr_at));
                        let well_formed = parsed.as_ref().is_ok_and(|b| {
                            !b.items
                                .iter()
                                .any(|(item, _)| matches!(item, AttrItem::Bare(_)))
                        });
                        if (opener.is_none() || !well_formed) && !self.names_code_or_key(attr_at) {
                            i += 1;
                            continue;
                        }
                        let Some(open) = opener else {
                            return Err(self.unattached(attr_at, "no `[` opens a span before it"));
                        };
                        let block = parsed?;
                        self.same_block(open, i)?;
                        if let Some((text_open, _)) = last_pair.filter(|(_, c)| c + 1 == open) {
                            return Err(Diagnostic::new(
                                Span::new(text_open, text_open + 1),
                                "reference link with attributes has no definition",
                            )
                            .note(format!(
                                "read literally, the tag would withhold only `{}`",
                                &text[open..i + 1]
                            ))
                            .hint(format!(
                                "define it (`{}: https://...`), or write `[text]{{.S31}}` for a span",
                                &text[open..i + 1]
                            )));
                        }
                        let tagged = tagged(self.rules, block.items)?;
                        self.check_tag(&tagged, block.span, "span")?;
                        self.note_id(&tagged.id)?;
                        self.found.push(Found {
                            form: Form::Span,
                            tagged,
                            span: Span::new(open, block.span.end),
                            open: Span::new(open, open + 1),
                            close: Span::new(i, block.span.end),
                            attrs: block.span,
                            placement: None,
                        });
                        i = block.span.end;
                        last_pair = None;
                        continue;
                    }
                    last_pair = pair;
                    let link = opener.and_then(|o| {
                        let bang = o.checked_sub(1).filter(|b| bytes[*b] == b'!');
                        bang.and_then(|b| body.links.get(&b).map(|l| (b, *l)))
                            .or_else(|| body.links.get(&o).map(|l| (o, *l)))
                    });
                    match link {
                        Some((link_start, (link_end, false))) if link_end > i => {
                            // A collapsed reference `[text][]` may end before its `[]`.
                            let link_end = if text[i + 1..].starts_with("[]") && link_end <= i + 1 {
                                i + 3
                            } else {
                                link_end
                            };
                            self.no_tags_in(
                                Span::new(i + 1, link_end),
                                "a link destination or title",
                            )?;
                            if bytes.get(link_end) == Some(&b'{') {
                                let block = parse_attr_block(text, link_end, self.limit(link_end))?;
                                self.same_block(link_start, link_end)?;
                                let tagged = tagged(self.rules, block.items)?;
                                self.check_tag(&tagged, block.span, "link")?;
                                self.note_id(&tagged.id)?;
                                self.found.push(Found {
                                    form: Form::Span,
                                    tagged,
                                    span: Span::new(link_start, block.span.end),
                                    open: Span::empty(link_start),
                                    close: Span::new(link_end, block.span.end),
                                    attrs: block.span,
                                    placement: None,
                                });
                                i = block.span.end;
                            } else {
                                i = link_end;
                            }
                        }
                        _ => i += 1,
                    }
                }
                b'{' => {
                    self.near_miss(i)?;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// A comment, code span or raw HTML holding the `]{…}` of a span opened before it (in the
    /// same block): the tag would be read as code or comment, and the span's text published.
    pub(super) fn cut_through(&self, open: usize, region: Span) -> Result<(), Diagnostic> {
        let inside = &self.text[region.start..region.end];
        if !inside.contains("]{") || self.body.innermost(open) != self.body.innermost(region.start)
        {
            return Ok(());
        }
        let mut depth = 0usize;
        let bytes = inside.as_bytes();
        for (k, &b) in bytes.iter().enumerate() {
            match b {
                b'[' => depth += 1,
                b']' if depth > 0 => depth -= 1,
                b']' if bytes.get(k + 1) == Some(&b'{')
                    && self.names_code_or_key(region.start + k + 1) =>
                {
                    let what = if inside.starts_with("<!--") {
                        "an HTML comment"
                    } else if inside.starts_with('`') {
                        "a code span"
                    } else {
                        "raw HTML"
                    };
                    return Err(Diagnostic::new(
                        Span::new(region.start, region.start + 1),
                        format!("{what} cuts through a span"),
                    )
                    .note(format!(
                        "the span opens at {} and its tag is inside it",
                        line_col_label(self.text, open)
                    ))
                    .hint("close the span before the comment or code starts, or keep both inside the span"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Link destinations, titles, autolinks and reference definitions are not Markdown text:
    /// a tag there would not withhold anything, so it is an error.
    pub(super) fn no_tags_in(&self, span: Span, what: &str) -> Result<(), Diagnostic> {
        let region = &self.text[span.start..span.end.min(self.text.len())];
        let bytes = region.as_bytes();
        let separator = |c: char| c.is_whitespace() || c == '}' || c == '.' || c == '#';
        for (k, _) in region.match_indices('{') {
            let after = region[k + 1..].trim_start();
            // The first word, read no further than a code could be long.
            let word = word_prefix(
                after.trim_start_matches(separator),
                separator,
                self.code_chars,
            );
            let tag_like = (k > 0 && bytes[k - 1] == b']')
                || ((after.starts_with('.') || after.starts_with('#'))
                    && (code_like(word) || self.rules.exemption(word).is_some()))
                || code_like(word);
            if tag_like {
                let at = span.start + k;
                return Err(Diagnostic::new(
                    Span::new(at, at + 1),
                    format!("redaction tag inside {what}"),
                )
                .hint("a tag there withholds nothing; put `{.S31}` after the whole link: `[text](url){.S31}`"));
            }
        }
        Ok(())
    }
}

/// The bytes that start or end a span, or escape one of them.
pub(super) fn special(b: u8) -> bool {
    matches!(b, b'\\' | b'[' | b']' | b'{')
}

/// Where the next [`special`] byte is, for a walk that only moves forward. Most of a paper is
/// prose with none, so it is found by memchr (three bytes at once), not read byte by byte; a
/// backslash is rare, so where the next one is is remembered until the walk passes it, rather
/// than searched for before every bracket.
#[derive(Default)]
pub(super) struct Specials {
    /// (from, at): the first `\` at or after `from` is at `at` (the end if none).
    backslash: Option<(usize, usize)>,
}

impl Specials {
    /// The first special byte of `bytes[from..limit]`, else `limit`. `from` never decreases
    /// from one call to the next.
    pub(super) fn next(&mut self, bytes: &[u8], from: usize, limit: usize) -> usize {
        let backslash = match self.backslash {
            Some((seen, at)) if seen <= from && from <= at => at,
            _ => {
                let at = memchr::memchr(b'\\', &bytes[from..]).map_or(bytes.len(), |n| from + n);
                self.backslash = Some((from, at));
                at
            }
        };
        let bracket =
            memchr::memchr3(b'[', b']', b'{', &bytes[from..limit]).map_or(limit, |n| from + n);
        bracket.min(backslash)
    }
}
