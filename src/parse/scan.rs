//! One pulldown-cmark pass over the body: where code, raw HTML, comments, containers,
//! headings, table cells, links and references are. It decides nothing about tags; it must
//! see every event, since a code span or HTML it missed would hide a tag from the steps after
//! it. A code fence left open at the end of the file is refused here: every tag after it
//! would silently be code.

use std::cell::Cell;
use std::collections::BTreeMap;

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};

use super::body::{Block, BlockKind, Body};
use super::comments::block_comments;
use super::references::References;
use super::text::{line_end_of, line_start_of, merge, prefix_len, trim_back};
use super::{MAX_DEPTH, markdown_options, too_deep};
use crate::error::Diagnostic;
use crate::span::Span;

/// One pulldown-cmark pass over `text[body_start..]`.
pub(super) fn scan(text: &str, body_start: usize) -> Result<Body, Diagnostic> {
    let body = &text[body_start..];
    let parser = Parser::new_ext(body, markdown_options());
    // Room for part of what a paper usually holds, so these are regrown fewer times: a block
    // every line or two, some code on most. Sized low (a block per 256 bytes, where the bench's
    // papers have one per 100 or so), so that prose with few blocks does not hold more memory
    // than growing would have; only lists the reading drops are sized, the ones the paper
    // keeps grow as needed.
    let mut out = Body {
        text_len: text.len(),
        body_start,
        code: Vec::with_capacity(body.len() / 1024),
        html: Vec::new(),
        comments: Vec::new(),
        inline: Vec::with_capacity(body.len() / 1024),
        html_blocks: Vec::new(),
        blocks: Vec::with_capacity(body.len() / 256),
        links: BTreeMap::new(),
        link_refs: Vec::new(),
        footnote_refs: Vec::new(),
        fences: Vec::new(),
        fenced_code: Vec::new(),
        refdefs: Vec::new(),
        references: Vec::new(),
        excluded: Vec::new(),
        last_partition: Cell::new(0),
    };
    let mut references = References::default();
    let mut stack: Vec<usize> = Vec::with_capacity(16);
    let mut inline_depth = 0usize;
    let mut events = parser.into_offset_iter();
    out.refdefs = events
        .reference_definitions()
        .iter()
        .map(|(_, def)| Span::new(def.span.start + body_start, def.span.end + body_start))
        .collect();
    out.refdefs.sort();
    for (label, def) in events.reference_definitions().iter() {
        let start = def.span.start + body_start;
        let end = trim_back(text, def.span.end + body_start, start);
        references.define(false, label, Span::new(start, end));
    }
    for (event, range) in events.by_ref() {
        let span = Span::new(range.start + body_start, range.end + body_start);
        match event {
            Event::Start(tag) => {
                match &tag {
                    Tag::FootnoteDefinition(label) => {
                        let end = trim_back(text, span.end, span.start);
                        references.define(true, label, Span::new(span.start, end));
                    }
                    Tag::Link {
                        link_type: LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut,
                        id,
                        ..
                    }
                    | Tag::Image {
                        link_type: LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut,
                        id,
                        ..
                    } => references.used(false, id, span.start),
                    _ => {}
                }
                let kind = match &tag {
                    Tag::BlockQuote(_) | Tag::Item | Tag::FootnoteDefinition(_) => {
                        Some(BlockKind::Container)
                    }
                    Tag::Paragraph => Some(BlockKind::Leaf),
                    Tag::TableCell => Some(BlockKind::Cell),
                    Tag::Heading { level, .. } => Some(BlockKind::Heading(*level as u8)),
                    Tag::CodeBlock(kind) => {
                        out.code.push(span);
                        if matches!(kind, pulldown_cmark::CodeBlockKind::Fenced(_)) {
                            out.fenced_code.push(span);
                        }
                        Some(BlockKind::Other)
                    }
                    Tag::HtmlBlock => {
                        out.html.push(span);
                        out.html_blocks.push(span);
                        Some(BlockKind::Other)
                    }
                    Tag::List(_)
                    | Tag::Table(_)
                    | Tag::TableHead
                    | Tag::TableRow
                    | Tag::DefinitionList
                    | Tag::DefinitionListTitle
                    | Tag::DefinitionListDefinition
                    | Tag::MetadataBlock(_) => Some(BlockKind::Other),
                    Tag::Link {
                        link_type,
                        dest_url,
                        ..
                    }
                    | Tag::Image {
                        link_type,
                        dest_url,
                        ..
                    } => {
                        let auto = matches!(link_type, LinkType::Autolink | LinkType::Email);
                        out.links.insert(span.start, (span.end, auto));
                        out.link_refs.push(crate::model::LinkRef {
                            dest: String::from(&**dest_url),
                            span,
                            image: matches!(tag, Tag::Image { .. }),
                            auto,
                        });
                        inline_depth += 1;
                        None
                    }
                    _ => {
                        inline_depth += 1;
                        None
                    }
                };
                if inline_depth > MAX_DEPTH {
                    return Err(too_deep(span));
                }
                if let Some(kind) = kind {
                    let depth = stack
                        .iter()
                        .filter(|&&b| !matches!(out.blocks[b].kind, BlockKind::Other))
                        .count();
                    if depth >= MAX_DEPTH {
                        return Err(too_deep(span));
                    }
                    out.blocks.push(Block {
                        span,
                        kind,
                        parent: stack.last().copied(),
                    });
                    stack.push(out.blocks.len() - 1);
                }
            }
            Event::End(end) => match end {
                TagEnd::BlockQuote(_)
                | TagEnd::Item
                | TagEnd::FootnoteDefinition
                | TagEnd::Paragraph
                | TagEnd::TableCell
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::List(_)
                | TagEnd::Table
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::DefinitionList
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition
                | TagEnd::MetadataBlock(_) => {
                    stack.pop();
                }
                _ => inline_depth = inline_depth.saturating_sub(1),
            },
            Event::Code(_) => {
                out.code.push(span);
                out.inline.push(span);
            }
            Event::InlineHtml(html) => {
                out.html.push(span);
                out.inline.push(span);
                if html.starts_with("<!--") {
                    out.comments.push(span);
                }
            }
            Event::FootnoteReference(label) => {
                out.footnote_refs.push(span);
                references.used(true, &label, span.start);
            }
            _ => {}
        }
    }
    for &block in &out.fenced_code {
        // A fence its container closes (a blockquote, a list item) hides nothing after the
        // container; one left open at the end of the file hides everything after it.
        let at_end = text[block.end..].trim().is_empty();
        if at_end && !code_fence_closed(text, block) {
            return Err(Diagnostic::new(
                Span::new(block.start, line_end_of(text, block.start)),
                "code fence is never closed",
            )
            .hint("close it with a line of the same fence characters; every tag after an open fence would be read as code"));
        }
    }
    out.references = references.matched();
    for &block in &out.html_blocks {
        block_comments(text, block, &mut out.comments)?;
    }
    out.comments.sort();
    out.code = merge(out.code);
    out.html = merge(out.html);
    out.blocks.sort_by_key(|b| b.span.start);
    // Sorting may reorder blocks that start together (a list and its first item); rebuild
    // parents from containment so `innermost` can walk up.
    let mut parents: Vec<usize> = Vec::new();
    for i in 0..out.blocks.len() {
        while let Some(&top) = parents.last() {
            if out.blocks[top].span.encloses(out.blocks[i].span) && top != i {
                break;
            }
            parents.pop();
        }
        out.blocks[i].parent = parents.last().copied();
        parents.push(i);
    }
    Ok(out)
}

/// Whether a fenced code block ends with its closing fence (not the end of its container).
pub(super) fn code_fence_closed(text: &str, block: Span) -> bool {
    let opening = &text[block.start..line_end_of(text, block.start)];
    let opening = opening.trim_start();
    let Some(fence_char) = opening.chars().next().filter(|c| *c == '`' || *c == '~') else {
        return true;
    };
    let width = opening.chars().take_while(|c| *c == fence_char).count();
    let body = text[block.start..block.end].trim_end_matches(['\n', '\r']);
    let last_start = line_start_of(text, block.start + body.len());
    if last_start <= block.start {
        return false;
    }
    let last = &text[last_start..block.start + body.len()];
    let last = last[prefix_len(last)..].trim();
    last.len() >= width && last.chars().all(|c| c == fence_char)
}
