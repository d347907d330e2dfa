//! What the reading knows about a paper's body: code, raw HTML, comments, containers, links,
//! references and fence lines, with their byte spans, and which block holds an offset.
//!
//! pulldown-cmark reads the body; a fence line must end the paragraph before it, as pandoc's
//! does, so fence lines are masked as thematic breaks and the body read again until the
//! fences found and the code and HTML around them agree. Everything later in the reading asks
//! this one `Body`: two readings that disagreed about what is code would let a tag pass as
//! text.

use super::comments::unclosed_comment;
use super::fences::{Fence, crossing_fence, fences, fences_outside, mask, own_block_fences};
use super::scan::scan;
use super::text::merge;
use crate::error::Diagnostic;
use crate::model::{LinkRef, Reference};
use crate::span::Span;
use std::cell::Cell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    Container,
    Leaf,
    Cell,
    Heading(u8),
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Block {
    pub(super) span: Span,
    pub(super) kind: BlockKind,
    pub(super) parent: Option<usize>,
}

/// What pulldown-cmark and our own scans know about the body.
pub(super) struct Body {
    pub(super) text_len: usize,
    pub(super) body_start: usize,
    pub(super) code: Vec<Span>,
    pub(super) html: Vec<Span>,
    pub(super) comments: Vec<Span>,
    /// Inline code spans and inline raw HTML (comments included), unmerged: what a fence
    /// line must not fall inside.
    pub(super) inline: Vec<Span>,
    /// HTML blocks, unmerged.
    pub(super) html_blocks: Vec<Span>,
    pub(super) blocks: Vec<Block>,
    pub(super) links: BTreeMap<usize, (usize, bool)>,
    /// Each link's and image's destination, for the assets a paper names.
    pub(super) link_refs: Vec<LinkRef>,
    pub(super) footnote_refs: Vec<Span>,
    pub(super) fences: Vec<Fence>,
    /// Fenced code blocks, to refuse one left open.
    pub(super) fenced_code: Vec<Span>,
    /// Link reference definitions (`[r]: url "title"`).
    pub(super) refdefs: Vec<Span>,
    /// Footnote and link definitions with their uses.
    pub(super) references: Vec<Reference>,
    /// `code` and `comments` merged: where no fence or look-alike tag is read.
    pub(super) excluded: Vec<Span>,
    /// Where [`Body::blocks_starting_by`] last ended, to search on from there.
    pub(super) last_partition: Cell<usize>,
}

impl Body {
    pub(super) fn analyse(text: &str, body_start: usize) -> Result<Body, Diagnostic> {
        Self::analyse_from(text, body_start, true)
    }

    /// [`Body::analyse`]; `guess: false` always starts from the source as it is (tests
    /// compare the two).
    pub(super) fn analyse_from(
        text: &str,
        body_start: usize,
        guess: bool,
    ) -> Result<Body, Diagnostic> {
        let mut masked: Option<String> = None;
        let mut previous: Option<Vec<usize>> = None;
        let mut rounds = 4;
        // Fence lines are found on the source as pulldown-cmark reads it, then masked, and the
        // masked text read again until the fences settle. When every fence-like line starts a
        // block of its own (after a blank line or another fence line), masking it cannot
        // change what is code or HTML around it, so start from all of them masked: one pass,
        // and the same fences the first way would settle on.
        let all = fences(text, body_start, &[], &[]).ok();
        if guess
            && let Some(all) = &all
            && own_block_fences(text, body_start, all)
        {
            masked = Some(mask(text, all));
            previous = Some(all.iter().map(|f| f.colon).collect());
            rounds += 1;
        }
        for _ in 0..rounds {
            let source = masked.as_deref().unwrap_or(text);
            let mut body = scan(source, body_start)?;
            // Fence lines left unmasked in this reading must not sit inside inline code or
            // HTML (masked ones read as thematic breaks, which nothing inline crosses).
            crossing_fence(source, body_start, &body)?;
            let excluded = merge(body.code.iter().chain(&body.comments).copied());
            body.fences = match &all {
                Some(all) => fences_outside(all, &excluded, &body.html)?,
                None => fences(text, body_start, &excluded, &body.html)?,
            };
            body.excluded = excluded;
            let positions: Vec<usize> = body.fences.iter().map(|f| f.colon).collect();
            let settled = match &previous {
                Some(p) => *p == positions,
                None => positions.is_empty(),
            };
            if settled {
                unclosed_comment(text, body_start, &body)?;
                return Ok(body);
            }
            masked = Some(mask(text, &body.fences));
            previous = Some(positions);
        }
        let at = previous
            .and_then(|p| p.first().copied())
            .unwrap_or(body_start);
        Err(Diagnostic::new(
            Span::new(at, at + 3),
            "cannot tell whether these fence lines are code or fences",
        )
        .hint("put blank lines around fenced divs and code blocks"))
    }

    /// Index of the innermost block containing `offset`.
    pub(super) fn innermost(&self, offset: usize) -> Option<usize> {
        let n = self.blocks_starting_by(offset);
        let mut at = n.checked_sub(1)?;
        loop {
            let block = &self.blocks[at];
            if block.span.contains(offset) {
                return Some(at);
            }
            // A preceding sibling may not contain the offset; its parent might.
            at = match block.parent {
                Some(p) => p,
                None => {
                    // Walk back to an earlier top-level block that might (they do not nest).
                    return None;
                }
            };
        }
    }

    /// How many blocks start at or before `offset` (the blocks' partition point), searched
    /// on from where the last call ended: the reading asks in document order, mostly a block
    /// or two further on, where a binary search over a large paper's blocks from the start
    /// would miss the cache at nearly every step.
    pub(super) fn blocks_starting_by(&self, offset: usize) -> usize {
        let blocks = &self.blocks;
        let starts_by = |b: &Block| b.span.start <= offset;
        let last = self.last_partition.get().min(blocks.len());
        let n = if last > 0 && !starts_by(&blocks[last - 1]) {
            // Behind the last call: search what comes before it.
            blocks[..last - 1].partition_point(starts_by)
        } else {
            // Every block before `from` starts by `offset`: gallop forward until one does
            // not, then search the last stride.
            let mut from = last;
            let mut stride = 1;
            loop {
                let to = from + stride;
                if to > blocks.len() || !starts_by(&blocks[to - 1]) {
                    let to = to.min(blocks.len());
                    break from + blocks[from..to].partition_point(starts_by);
                }
                from = to;
                stride *= 2;
            }
        };
        self.last_partition.set(n);
        n
    }

    /// Innermost container block (blockquote, list item, footnote definition) holding `offset`.
    pub(super) fn container(&self, offset: usize) -> Option<usize> {
        let mut at = self.innermost(offset);
        while let Some(i) = at {
            if self.blocks[i].kind == BlockKind::Container {
                return Some(i);
            }
            at = self.blocks[i].parent;
        }
        None
    }

    pub(super) fn in_any(spans: &[Span], offset: usize) -> bool {
        let n = spans.partition_point(|s| s.start <= offset);
        n > 0 && spans[n - 1].contains(offset)
    }
}
