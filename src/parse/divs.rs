//! Fenced divs: fences paired into divs, innermost first. A closing fence with no open div,
//! one shorter than its opening fence (pandoc's two readers disagree on it), one in another
//! container than its opening, and a div never closed are errors: each would leave the
//! author's div and the tool's disagreeing about what is withheld.

use super::MAX_DEPTH;
use super::attributes::{Tagged, tagged};
use super::collector::{Collector, Found};
use super::fences::{Fence, FenceKind};
use super::too_deep;
use crate::attr::AttrItem;
use crate::error::{Diagnostic, line_col_label};
use crate::model::Form;
use crate::span::Span;

/// Where a div lives: its content and the container its fences sit in.
pub(super) struct DivExtent {
    /// From the opening fence's colon to the end of the closing fence line.
    pub(super) outer: Span,
    /// The closing fence line's start (where the div's content ends).
    pub(super) content_end: usize,
}

impl Collector<'_> {
    pub(super) fn divs(&mut self) -> Result<(), Diagnostic> {
        let body = self.body;
        let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
        let mut extents: Vec<(usize, DivExtent)> = Vec::new();
        let mut tags: Vec<Option<Tagged>> = Vec::new();
        tags.resize_with(body.fences.len(), || None);
        for (k, fence) in body.fences.iter().enumerate() {
            let container = body.container(fence.colon);
            match &fence.kind {
                FenceKind::Open { attrs, bare } => {
                    // Check the tag first: `::: word` meant as a closing fence is an unknown
                    // class at the word, not a div that is never closed.
                    // Kept for the div's redaction below, so each tag is read once.
                    tags[k] = Some(match (attrs, bare) {
                        (Some(block), _) => tagged(self.rules, block.items.clone())?,
                        (None, Some((word, span))) => tagged(
                            self.rules,
                            vec![(
                                AttrItem::Class(word.clone()),
                                Span::new(span.start.saturating_sub(1), span.end),
                            )],
                        )?,
                        (None, None) => tagged(self.rules, Vec::new())?,
                    });
                    if stack.len() >= MAX_DEPTH {
                        return Err(too_deep(Span::new(fence.colon, fence.end)));
                    }
                    stack.push((k, container));
                }
                FenceKind::Close => {
                    let Some((open, open_container)) = stack.pop() else {
                        return Err(Diagnostic::new(
                            Span::new(fence.colon, fence.end),
                            "closing fence with no open div",
                        )
                        .hint("remove it, or open a div above with `::: {.S31}`"));
                    };
                    let colons = |f: &Fence| {
                        self.text.as_bytes()[f.colon..f.end]
                            .iter()
                            .take_while(|&&b| b == b':')
                            .count()
                    };
                    let (opening, closing) = (colons(&body.fences[open]), colons(fence));
                    if closing < opening {
                        // pandoc's two readers disagree on what a shorter fence closes.
                        return Err(Diagnostic::new(
                            Span::new(fence.colon, fence.end),
                            "closing fence is shorter than its div's opening fence",
                        )
                        .note(format!(
                            "the div opens at {} with {opening} colons",
                            line_col_label(self.text, body.fences[open].colon)
                        ))
                        .hint(format!(
                            "close it with at least {opening} colons: `{}`",
                            ":".repeat(opening)
                        )));
                    }
                    if open_container != container {
                        let first = body.fences[open].colon;
                        return Err(Diagnostic::new(
                            Span::new(fence.colon, fence.end),
                            "closing fence is in a different container from its opening fence",
                        )
                        .note(format!(
                            "the div opens at {}",
                            line_col_label(self.text, first)
                        ))
                        .hint("open and close a div inside the same blockquote or list item"));
                    }
                    extents.push((
                        open,
                        DivExtent {
                            outer: Span::new(body.fences[open].colon, fence.end),
                            content_end: fence.line_start,
                        },
                    ));
                    let _ = k;
                }
            }
        }
        if let Some(&(open, _)) = stack.last() {
            let fence = &body.fences[open];
            return Err(Diagnostic::new(
                Span::new(fence.colon, fence.end),
                "fenced div is never closed",
            )
            .hint("close it with a line `:::`"));
        }
        extents.sort_by_key(|(open, _)| *open);
        for (open, extent) in extents {
            let fence = &body.fences[open];
            let FenceKind::Open { attrs, bare } = &fence.kind else {
                continue;
            };
            let attr_span = match (attrs, bare) {
                (Some(block), _) => block.span,
                (None, Some((_, span))) => *span,
                (None, None) => continue,
            };
            let Some(tagged) = tags[open].take() else {
                continue;
            };
            self.check_tag(&tagged, attr_span, "div")?;
            self.note_id(&tagged.id)?;
            // Fences are in line order: find the closing one by its line, not by a scan.
            let close_fence = body
                .fences
                .get(
                    body.fences
                        .partition_point(|f| f.line_start < extent.content_end),
                )
                .filter(|f| f.line_start == extent.content_end)
                .map(|f| Span::new(f.colon, f.end))
                .unwrap_or(Span::empty(extent.outer.end));
            let placement = self.placement(
                extent.outer.start,
                extent.outer.end,
                fence.prefix(self.text),
            );
            self.found.push(Found {
                form: Form::Div,
                tagged,
                span: extent.outer,
                open: Span::new(fence.colon, fence.end),
                close: close_fence,
                attrs: attr_span,
                placement: Some(placement),
            });
        }
        Ok(())
    }

    /// Div extents, for heading sections that end with their div.
    pub(super) fn div_spans(&self) -> Vec<(Span, usize)> {
        // (content span, content end) of every div, whether or not it is a redaction.
        let mut out = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for fence in &self.body.fences {
            match fence.kind {
                FenceKind::Open { .. } => stack.push(fence.end),
                FenceKind::Close => {
                    if let Some(open_end) = stack.pop() {
                        out.push((Span::new(open_end, fence.line_start), fence.line_start));
                    }
                }
            }
        }
        out.sort();
        out
    }
}
