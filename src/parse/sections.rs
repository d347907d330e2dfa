//! Tagged headings and their sections: a heading's section runs to the next heading of the
//! same or a higher level in the same container (or the end of its div, container or file).
//! A setext heading that would end a withheld section, or that carries an attribute block, is
//! an error: a `---` meant as a thematic break must never cut a section short.

use super::attributes::tagged;
use super::body::{BlockKind, Body};
use super::collector::{Collector, Found};
use super::comments::escaped;
use super::text::{line_end_of, line_start_of, lines, trim_back};
use crate::attr::{AttrBlock, parse_attr_block};
use crate::error::{Diagnostic, line_col_label};
use crate::model::{Form, HeadingAttrs};
use crate::span::Span;

pub(super) const SETEXT_HINT: &str = "write the heading with `#`s (`## Heading`), or put a blank line before `---` for a thematic break";

/// A heading and the container its section cannot leave.
pub(super) struct HeadingAt {
    /// Text underlined with `===` or `---`, not opened with `#`.
    pub(super) setext: bool,
    pub(super) start: usize,
    pub(super) block_end: usize,
    pub(super) level: u8,
    /// Identifies the container: (kind, index or start).
    pub(super) container: (usize, usize),
    pub(super) container_end: usize,
}

impl Collector<'_> {
    pub(super) fn headings(&mut self) -> Result<(), Diagnostic> {
        let text = self.text;
        let body = self.body;
        let divs = self.div_spans();
        // Divs nest, and headings come in document order: the divs open at a heading are a
        // stack, the innermost on top (a scan of every div per heading was quadratic).
        let mut open: Vec<usize> = Vec::new();
        let mut next_div = 0;
        let mut headings: Vec<HeadingAt> = Vec::new();
        for block in &body.blocks {
            let BlockKind::Heading(level) = block.kind else {
                continue;
            };
            let start = block.span.start;
            let block_container = body.container(start);
            while next_div < divs.len() && divs[next_div].0.start <= start {
                let opening = divs[next_div].0.start;
                while open.last().is_some_and(|&d| divs[d].0.end <= opening) {
                    open.pop();
                }
                open.push(next_div);
                next_div += 1;
            }
            while open.last().is_some_and(|&d| !divs[d].0.contains(start)) {
                open.pop();
            }
            let div = open.last().map(|&d| &divs[d]);
            let (key, end) = match (block_container, div) {
                (Some(c), Some((content, _))) if content.start > body.blocks[c].span.start => {
                    ((1, content.start), content.end)
                }
                (Some(c), _) => ((2, c), body.blocks[c].span.end),
                (None, Some((content, _))) => ((1, content.start), content.end),
                (None, None) => ((0, 0), body.text_len),
            };
            headings.push(HeadingAt {
                setext: text.as_bytes().get(start) != Some(&b'#'),
                start,
                block_end: block.span.end,
                level,
                container: key,
                container_end: end,
            });
        }
        for (i, h) in headings.iter().enumerate() {
            let (start, level, key, container_end) =
                (h.start, h.level, h.container, h.container_end);
            let block_end = h.block_end;
            let Some((line_end, mut attrs)) = self.heading_attr_block(start, block_end)? else {
                continue;
            };
            if h.setext {
                return Err(Diagnostic::new(
                    attrs.span,
                    "a setext heading (text underlined with `===` or `---`) carries an attribute block",
                )
                .hint(SETEXT_HINT));
            }
            let tagged = tagged(self.rules, std::mem::take(&mut attrs.items))?;
            self.note_id(&tagged.id)?;
            let before = text[..attrs.span.start].trim_end_matches([' ', '\t']).len();
            self.heading_attrs.push(HeadingAttrs {
                heading: Span::new(start, line_end),
                span: Span::new(before, attrs.span.end),
                id: tagged.id.as_ref().map(|(id, _)| id.clone()),
            });
            if tagged.codes.is_empty() {
                if tagged.reason.is_some() || tagged.pit.is_some() {
                    return Err(Diagnostic::new(
                        attrs.span,
                        "heading has a reason but no exemption code",
                    )
                    .hint("add the code its section is withheld under, e.g. `.S31`"));
                }
                continue;
            }
            let next_heading = headings[i + 1..]
                .iter()
                .take_while(|h| h.start < container_end)
                .find(|h| h.container == key && h.level <= level);
            if let Some(setext) = next_heading.filter(|h| h.setext) {
                // Its underline: the block's last line.
                let underline =
                    line_start_of(text, trim_back(text, setext.block_end, setext.start));
                return Err(Diagnostic::new(
                    Span::new(underline, line_end_of(text, underline).max(underline + 1)),
                    "a setext heading ends a withheld section",
                )
                .note(format!(
                    "the section withheld from {} would stop at this underline",
                    line_col_label(text, start)
                ))
                .hint(SETEXT_HINT));
            }
            let next = next_heading.map(|h| line_start_of(text, h.start));
            let raw_end = next.unwrap_or(container_end).min(text.len());
            let end = trim_back(text, raw_end, line_end);
            let line_start = line_start_of(text, start);
            let prefix = &text[line_start..start];
            let placement = self.placement(start, end, prefix);
            self.found.push(Found {
                form: Form::Heading,
                tagged,
                span: Span::new(start, end),
                open: Span::empty(start),
                close: Span::empty(end),
                attrs: attrs.span,
                placement: Some(placement),
            });
        }
        Ok(())
    }

    /// The attribute block closing a heading's text line, if any: `(text line end, block)`.
    pub(super) fn heading_attr_block(
        &self,
        start: usize,
        block_end: usize,
    ) -> Result<Option<(usize, AttrBlock)>, Diagnostic> {
        let text = self.text;
        let bytes = text.as_bytes();
        let heading_lines: Vec<(usize, usize, usize)> = lines(text, start)
            .take_while(|(s, _, _)| *s < block_end)
            .collect();
        let (line_start, line_end) = if bytes.get(start) == Some(&b'#') || heading_lines.len() < 2 {
            let (s, e, _) = heading_lines
                .first()
                .copied()
                .unwrap_or((start, start, start));
            (s, e)
        } else {
            let (s, e, _) = heading_lines[heading_lines.len() - 2];
            (s, e)
        };
        let mut t = text[..line_end]
            .trim_end_matches([' ', '\t'])
            .len()
            .max(line_start);
        if bytes.get(start) == Some(&b'#') {
            let hashes = text[line_start..t].trim_end_matches('#');
            let cut = line_start + hashes.len();
            if cut < t && (hashes.ends_with([' ', '\t'])) {
                t = text[..cut].trim_end_matches([' ', '\t']).len();
            }
        }
        if t == 0 || bytes[t - 1] != b'}' {
            return Ok(None);
        }
        let mut at = t;
        while let Some(found) = text[line_start..at].rfind('{') {
            let pos = line_start + found;
            at = pos;
            // `\{` is a literal brace, at a heading's end too.
            if Body::in_any(&self.body.code, pos) || escaped(text, pos) {
                continue;
            }
            let Ok(block) = parse_attr_block(text, pos, t) else {
                continue;
            };
            if block.span.end != t {
                continue;
            }
            let before = text[..pos].chars().next_back();
            if matches!(before, Some(']' | ')')) {
                return Ok(None);
            }
            return Ok(Some((line_end, block)));
        }
        Ok(None)
    }
}
