//! What the reading has found so far (redactions, heading attribute blocks, ids) and the
//! checks every tag form shares: ids unique in the paper, a span or div naming a code, a
//! span closing in the block it opens in, and where a block marker sits in its container.
//! Last, [`nest`] puts the redactions in document order with their parents, refusing two
//! that overlap without nesting: neither could be withheld cleanly.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::MAX_DEPTH;
use super::attributes::Tagged;
use super::body::{BlockKind, Body};
use super::text::{
    continuation, has_list_marker, indent_after_quotes, is_blank, line_start_of, lines, newline_of,
    prefix_len,
};
use super::too_deep;
use crate::error::{Diagnostic, line_col_label};
use crate::model::{BlockPlacement, Form, HeadingAttrs, Redaction};
use crate::rules::Rules;
use crate::span::Span;

/// A redaction found, before nesting is known.
pub(super) struct Found {
    pub(super) form: Form,
    pub(super) tagged: Tagged,
    pub(super) span: Span,
    pub(super) open: Span,
    pub(super) close: Span,
    pub(super) attrs: Span,
    pub(super) placement: Option<BlockPlacement>,
}

pub(super) struct Collector<'a> {
    pub(super) text: &'a str,
    pub(super) body: &'a Body,
    pub(super) rules: &'a Rules,
    pub(super) found: Vec<Found>,
    pub(super) heading_attrs: Vec<HeadingAttrs>,
    /// Every id seen, with where it was first used.
    pub(super) ids: Vec<(usize, String, Span)>,
    /// The longest exemption code, in characters (at least 2): a word longer than this is
    /// no code, so a word need never be read further to tell.
    pub(super) code_chars: usize,
    /// (from, at): the first `}` at or after `from` is at `at`. `{`s come in order, and
    /// looking afresh from each was quadratic on a long line of them.
    pub(super) next_close: Cell<Option<(usize, usize)>>,
    /// The same for `{`.
    pub(super) next_open: Cell<Option<(usize, usize)>>,
}

impl<'a> Collector<'a> {
    pub(super) fn new(text: &'a str, body: &'a Body, rules: &'a Rules) -> Collector<'a> {
        Collector {
            text,
            body,
            rules,
            found: Vec::new(),
            heading_attrs: Vec::new(),
            ids: Vec::new(),
            code_chars: rules
                .exemptions
                .iter()
                .map(|e| e.code.as_str().chars().count())
                .max()
                .unwrap_or(0)
                .max(2),
            next_close: Cell::new(None),
            next_open: Cell::new(None),
        }
    }

    pub(super) fn note_id(&mut self, id: &Option<(String, Span)>) -> Result<(), Diagnostic> {
        if let Some((id, span)) = id {
            self.ids.push((span.start, id.clone(), *span));
        }
        Ok(())
    }

    /// Every id is unique; a clash is reported at the second in document order.
    pub(super) fn check_ids(&mut self) -> Result<(), Diagnostic> {
        self.ids.sort_by_key(|(start, _, _)| *start);
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        for (start, id, span) in &self.ids {
            if let Some(&at) = first.get(id.as_str()) {
                return Err(Diagnostic::new(*span, format!("duplicate id `{id}`"))
                    .note(format!("first used at {}", line_col_label(self.text, at)))
                    .hint("every id in a paper must be unique"));
            }
            first.insert(id, *start);
        }
        Ok(())
    }

    pub(super) fn placement(&self, start: usize, end: usize, prefix: &str) -> BlockPlacement {
        let line_start = line_start_of(self.text, start);
        let blank_before = !has_list_marker(prefix) && line_start > self.body.body_start && {
            // The previous line ends where its terminator starts: bytes, not chars, so a
            // multi-byte character before the line break cannot split a slice.
            let bytes = self.text.as_bytes();
            let mut prev_end = line_start - 1;
            if bytes[prev_end] == b'\n' && prev_end > 0 && bytes[prev_end - 1] == b'\r' {
                prev_end -= 1;
            }
            let prev_start = line_start_of(self.text, prev_end);
            prev_start >= self.body.body_start && !is_blank(&self.text[prev_start..prev_end])
        };
        let prefix = continuation(prefix);
        let next = lines(self.text, end)
            .nth(1)
            .map(|(s, e, _)| &self.text[s..e])
            .filter(|line| !is_blank(line));
        // The next line leaves our list item (less indented): the item's end ends the marker.
        let closes =
            next.is_some_and(|line| indent_after_quotes(line) < indent_after_quotes(&prefix));
        // A list item, heading, quote or fence interrupts a paragraph by itself.
        let interrupts = next.is_some_and(|line| {
            let rest = line.trim_start_matches(['>', ' ', '\t']);
            rest.starts_with('#')
                || rest.starts_with(":::")
                || rest.starts_with("```")
                || rest.starts_with("~~~")
                || (prefix_len(rest) > 0 && !rest.starts_with(' '))
        });
        BlockPlacement {
            blank_before,
            blank_after: next.is_some() && !closes && !interrupts,
            html_blank_after: next.is_some() && !closes,
            prefix,
            newline: newline_of(self.text),
        }
    }

    /// A span or div must name a code (or be a presentational wrapper); an id alone is not a
    /// redaction.
    pub(super) fn check_tag(
        &self,
        tagged: &Tagged,
        at: Span,
        what: &str,
    ) -> Result<(), Diagnostic> {
        if tagged.codes.is_empty() {
            if let Some((_, id_span)) = &tagged.id {
                return Err(Diagnostic::new(
                    *id_span,
                    format!("{what} has an id but no exemption code"),
                )
                .hint("add the code it is withheld under, e.g. `.S31`"));
            }
            if tagged.classes.is_empty() || tagged.reason.is_some() || tagged.pit.is_some() {
                return Err(
                    Diagnostic::new(at, format!("{what} names no exemption code"))
                        .hint("add the code it is withheld under, e.g. `{.S31}`"),
                );
            }
        }
        Ok(())
    }

    /// Where an attribute block must close by: the end of the block it is in.
    pub(super) fn limit(&self, at: usize) -> usize {
        self.body
            .innermost(at)
            .map(|b| self.body.blocks[b].span.end)
            .unwrap_or(self.text.len())
    }

    pub(super) fn same_block(&self, open: usize, close: usize) -> Result<(), Diagnostic> {
        let a = self.body.innermost(open);
        let b = self.body.innermost(close);
        if a != b {
            let in_table = [a, b]
                .iter()
                .flatten()
                .any(|&k| self.body.blocks[k].kind == BlockKind::Cell);
            let hint = if in_table {
                "a span must open and close in the same table cell"
            } else {
                "a span must open and close in the same paragraph; use a fenced div for blocks"
            };
            return Err(Diagnostic::new(
                Span::new(open, open + 1),
                "span crosses a block boundary",
            )
            .hint(hint));
        }
        Ok(())
    }
}

/// Sorts redactions into document order, numbers them and finds each one's parent. Two that
/// overlap without nesting cannot both be withheld cleanly: an error.
pub(super) fn nest(text: &str, found: Vec<Found>) -> Result<Vec<Redaction>, Diagnostic> {
    // Document order: by start, the longer first, then in the order found. The keys are
    // sorted, not the finds themselves (each is a few hundred bytes to move).
    let mut order: Vec<(usize, Reverse<usize>, usize)> = found
        .iter()
        .enumerate()
        .map(|(k, f)| (f.span.start, Reverse(f.span.end), k))
        .collect();
    order.sort_unstable();
    let mut found: Vec<Option<Found>> = found.into_iter().map(Some).collect();
    let mut out: Vec<Redaction> = Vec::with_capacity(found.len());
    let mut stack: Vec<usize> = Vec::new();
    for (_, _, at) in order {
        let Some(f) = found[at].take() else {
            continue;
        };
        // The same tag found twice (same span, same attribute block) counts once. Finds with
        // one span are next to each other in this order, and each one kept is the last in
        // `out`: only the run of the same span at its end need be looked through.
        let twice = out
            .iter()
            .rev()
            .take_while(|r| r.span == f.span)
            .any(|r| r.attrs.start == f.attrs.start);
        if twice {
            continue;
        }
        while let Some(&top) = stack.last() {
            if out[top].span.end <= f.span.start {
                stack.pop();
            } else {
                break;
            }
        }
        let parent = stack.last().copied();
        if let Some(p) = parent
            && !out[p].span.encloses(f.span)
        {
            return Err(Diagnostic::new(
                Span::new(f.span.start, f.span.start + 1),
                "redaction overlaps another without nesting inside it",
            )
            .note(format!(
                "the other starts at {}",
                line_col_label(text, out[p].span.start)
            ))
            .hint("close the inner redaction before the outer one ends"));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(too_deep(f.span));
        }
        out.push(Redaction {
            number: out.len() + 1,
            id: f.tagged.id.map(|(id, _)| id),
            form: f.form,
            codes: f.tagged.codes,
            classes: f.tagged.classes,
            reason: f.tagged.reason,
            pit: f.tagged.pit,
            span: f.span,
            open: f.open,
            close: f.close,
            attrs: f.attrs,
            parent,
            placement: f.placement,
        });
        stack.push(out.len() - 1);
    }
    Ok(out)
}
