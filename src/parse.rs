//! Paper text → [`Paper`]: front matter, then the body's redactions with their byte spans.
//!
//! pulldown-cmark knows no fenced divs or bracketed spans, so it is used for what it does
//! know: where code, raw HTML, containers, headings, links and table cells are. Fence lines
//! are found first, then masked as thematic breaks (same byte length, so offsets hold) and
//! the body parsed again, so a fence always ends a paragraph as pandoc's does. Our one
//! attribute parser (attr.rs) reads all three tag forms. Anything that looks like a tag but
//! does not attach to anything is an error: a tag that silently became text would publish
//! what it meant to withhold.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

use crate::attr::{AttrBlock, AttrItem, parse_attr_block};
use crate::error::{Diagnostic, line_col_label};
use crate::front_matter;
use crate::model::{BlockPlacement, Form, HeadingAttrs, Paper, Redaction, Reference};
use crate::rules::Rules;
use crate::span::Span;

mod attributes;
mod comments;
use attributes::{Tagged, code_like, key_like, tagged};
use comments::{block_comments, escaped, unclosed_comment};

/// `class="…"` in raw HTML, compiled once: building a regex costs more than parsing a paper.
static CLASS_ATTRIBUTE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(r#"(?i)\bclass\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))"#)
        .unwrap_or_else(|e| unreachable!("the class regex is valid: {e}"))
});

const SETEXT_HINT: &str = "write the heading with `#`s (`## Heading`), or put a blank line before `---` for a thematic break";

/// The head of a tag or fence (brace or colons, an optional dot, a word), read after NFKC
/// with zero-width characters removed.
static TAG_HEAD: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(r"(?:\{|:::+)\s*\{?\s*[.#]?\s*([A-Za-z][A-Za-z0-9]*)")
        .unwrap_or_else(|e| unreachable!("the tag head regex is valid: {e}"))
});

/// Deeper nesting than this is refused rather than risk the stack.
pub const MAX_DEPTH: usize = 256;

pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

/// Parses a whole paper. `text` is the file as read (a BOM, if any, is kept: offsets are into
/// the file).
pub fn parse_paper(text: &str, rules: &Rules) -> Result<Paper, Diagnostic> {
    let split = front_matter::split(text)?;
    let front_matter = front_matter::parse(text, split, rules)?;
    let body_start = split.block.end;
    let body = Body::analyse(text, body_start)?;
    let mut collector = Collector {
        text,
        body: &body,
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
    };
    collector.divs()?;
    collector.headings()?;
    collector.look_alikes()?;
    collector.spans()?;
    collector.raw_html()?;
    collector.check_ids()?;
    let Collector {
        found,
        heading_attrs,
        ..
    } = collector;
    let mut redactions = nest(text, found)?;
    let mut heading_attrs = heading_attrs;
    // The paper is kept for the whole build: give back what growing these left over.
    redactions.shrink_to_fit();
    heading_attrs.shrink_to_fit();
    Ok(Paper {
        front_matter,
        front_matter_span: split.block,
        body_start,
        redactions,
        comment_cuts: comments::cuts(text, &body)?,
        comments: body.comments,
        raw_html: body.html,
        heading_attrs,
        references: body.references,
        links: body.link_refs,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Container,
    Leaf,
    Cell,
    Heading(u8),
    Other,
}

#[derive(Debug, Clone)]
struct Block {
    span: Span,
    kind: BlockKind,
    parent: Option<usize>,
}

#[derive(Debug, Clone)]
enum FenceKind {
    Open {
        attrs: Option<AttrBlock>,
        bare: Option<(String, Span)>,
    },
    Close,
}

#[derive(Debug, Clone)]
struct Fence {
    line_start: usize,
    colon: usize,
    end: usize,
    kind: FenceKind,
    /// Text before the colon on the fence line (container markers, indentation).
    prefix: String,
}

/// What pulldown-cmark and our own scans know about the body.
struct Body {
    text_len: usize,
    body_start: usize,
    code: Vec<Span>,
    html: Vec<Span>,
    comments: Vec<Span>,
    /// Inline code spans and inline raw HTML (comments included), unmerged: what a fence
    /// line must not fall inside.
    inline: Vec<Span>,
    /// HTML blocks, unmerged.
    html_blocks: Vec<Span>,
    blocks: Vec<Block>,
    links: BTreeMap<usize, (usize, bool)>,
    /// Each link's and image's destination, for the assets a paper names.
    link_refs: Vec<crate::model::LinkRef>,
    footnote_refs: Vec<Span>,
    fences: Vec<Fence>,
    /// Fenced code blocks, to refuse one left open.
    fenced_code: Vec<Span>,
    /// Link reference definitions (`[r]: url "title"`).
    refdefs: Vec<Span>,
    /// Footnote and link definitions with their uses.
    references: Vec<Reference>,
}

impl Body {
    fn analyse(text: &str, body_start: usize) -> Result<Body, Diagnostic> {
        Self::analyse_from(text, body_start, true)
    }

    /// [`Body::analyse`]; `guess: false` always starts from the source as it is (tests
    /// compare the two).
    fn analyse_from(text: &str, body_start: usize, guess: bool) -> Result<Body, Diagnostic> {
        let mut masked: Option<String> = None;
        let mut previous: Option<Vec<usize>> = None;
        let mut rounds = 4;
        // Fence lines are found on the source as pulldown-cmark reads it, then masked, and the
        // masked text read again until the fences settle. When every fence-like line starts a
        // block of its own (after a blank line or another fence line), masking it cannot
        // change what is code or HTML around it, so start from all of them masked: one pass,
        // and the same fences the first way would settle on.
        if let Some(guess) = own_block_fences(text, body_start).filter(|_| guess) {
            masked = Some(mask(text, body_start, &guess)?);
            previous = Some(guess.iter().map(|f| f.colon).collect());
            rounds += 1;
        }
        for _ in 0..rounds {
            let source = masked.as_deref().unwrap_or(text);
            let mut body = scan(source, body_start)?;
            // Fence lines left unmasked in this reading must not sit inside inline code or
            // HTML (masked ones read as thematic breaks, which nothing inline crosses).
            crossing_fence(source, body_start, &body)?;
            let excluded = merge(body.code.iter().chain(&body.comments).copied());
            body.fences = fences(text, body_start, &excluded, &body.html)?;
            let positions: Vec<usize> = body.fences.iter().map(|f| f.colon).collect();
            let settled = match &previous {
                Some(p) => *p == positions,
                None => positions.is_empty(),
            };
            if settled {
                unclosed_comment(text, body_start, &body)?;
                return Ok(body);
            }
            masked = Some(mask(text, body_start, &body.fences)?);
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
    fn innermost(&self, offset: usize) -> Option<usize> {
        let n = self.blocks.partition_point(|b| b.span.start <= offset);
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

    /// Innermost container block (blockquote, list item, footnote definition) holding `offset`.
    fn container(&self, offset: usize) -> Option<usize> {
        let mut at = self.innermost(offset);
        while let Some(i) = at {
            if self.blocks[i].kind == BlockKind::Container {
                return Some(i);
            }
            at = self.blocks[i].parent;
        }
        None
    }

    fn in_any(spans: &[Span], offset: usize) -> bool {
        let n = spans.partition_point(|s| s.start <= offset);
        n > 0 && spans[n - 1].contains(offset)
    }
}

/// One pulldown-cmark pass over `text[body_start..]`.
fn scan(text: &str, body_start: usize) -> Result<Body, Diagnostic> {
    let body = &text[body_start..];
    let parser = Parser::new_ext(body, markdown_options());
    let mut out = Body {
        text_len: text.len(),
        body_start,
        code: Vec::new(),
        html: Vec::new(),
        comments: Vec::new(),
        inline: Vec::new(),
        html_blocks: Vec::new(),
        blocks: Vec::new(),
        links: BTreeMap::new(),
        link_refs: Vec::new(),
        footnote_refs: Vec::new(),
        fences: Vec::new(),
        fenced_code: Vec::new(),
        refdefs: Vec::new(),
        references: Vec::new(),
    };
    // (footnote, label as matched) → index in `out.references`, and the uses seen.
    let mut defined: HashMap<(bool, String), usize> = HashMap::new();
    let mut used: Vec<((bool, String), usize)> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
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
        defined.entry((false, label_key(label))).or_insert_with(|| {
            out.references.push(Reference {
                footnote: false,
                label: label.to_string(),
                span: Span::new(start, end),
                uses: Vec::new(),
            });
            out.references.len() - 1
        });
    }
    for (event, range) in events.by_ref() {
        let span = Span::new(range.start + body_start, range.end + body_start);
        match event {
            Event::Start(tag) => {
                match &tag {
                    Tag::FootnoteDefinition(label) => {
                        let end = trim_back(text, span.end, span.start);
                        defined.entry((true, label_key(label))).or_insert_with(|| {
                            out.references.push(Reference {
                                footnote: true,
                                label: label.to_string(),
                                span: Span::new(span.start, end),
                                uses: Vec::new(),
                            });
                            out.references.len() - 1
                        });
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
                    } => used.push(((false, label_key(id)), span.start)),
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
                            dest: dest_url.to_string(),
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
                used.push(((true, label_key(&label)), span.start));
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
    for (key, at) in used {
        if let Some(&k) = defined.get(&key) {
            out.references[k].uses.push(at);
        }
    }
    out.references.sort_by_key(|r| r.span.start);
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

/// A reference label as CommonMark matches it: case-folded, white space collapsed.
fn label_key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn line_end_of(text: &str, from: usize) -> usize {
    text[from..]
        .find(['\n', '\r'])
        .map(|n| from + n)
        .unwrap_or(text.len())
}

/// Whether a fenced code block ends with its closing fence (not the end of its container).
fn code_fence_closed(text: &str, block: Span) -> bool {
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

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Span::new(span.start, span.start + 1),
        format!("nesting deeper than {MAX_DEPTH} levels"),
    )
    .hint("flatten the structure: deeper nesting is refused")
}

/// Sorts and merges overlapping spans.
fn merge(spans: impl IntoIterator<Item = Span>) -> Vec<Span> {
    let mut spans: Vec<Span> = spans.into_iter().collect();
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// An inline code span, link, inline HTML, HTML comment or HTML block that runs across a fence
/// line, read as CommonMark reads the source: an error at its opening, since the author may
/// have meant either.
fn crossing_fence(text: &str, body_start: usize, body: &Body) -> Result<(), Diagnostic> {
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
        // Links nest images, so any link holding the colon counts, not only the last one.
        let link = body
            .links
            .range(..colon)
            .filter(|&(&start, &(end, _))| colon < end && !on_fence_line(start))
            .map(|(&start, &(end, _))| Span::new(start, end))
            .min_by_key(|s| s.start);
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

/// Length of a line's container prefix: blockquote markers, indentation and list markers.
fn prefix_len(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        let before = i;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'>' {
            i += 1;
            continue;
        }
        let marker_end = if i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'*') {
            Some(i + 1)
        } else {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if (1..=9).contains(&digits)
                && i + digits < bytes.len()
                && matches!(bytes[i + digits], b'.' | b')')
            {
                Some(i + digits + 1)
            } else {
                None
            }
        };
        if let Some(end) = marker_end
            && end < bytes.len()
            && (bytes[end] == b' ' || bytes[end] == b'\t')
        {
            i = end;
            continue;
        }
        if i == before {
            return i;
        }
        if i >= bytes.len() || !(bytes[i] == b' ' || bytes[i] == b'\t') {
            return i;
        }
    }
}

/// The prefix that continues a container on later lines: list markers become spaces.
fn continuation(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| if c == '>' || c == '\t' { c } else { ' ' })
        .collect::<String>()
        .replace(|c: char| c != '>' && c != '\t', " ")
}

/// Indentation after any blockquote markers.
fn indent_after_quotes(line: &str) -> usize {
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        match trimmed.strip_prefix('>') {
            Some(after) => rest = after.strip_prefix(' ').unwrap_or(after),
            None => break,
        }
    }
    rest.len() - rest.trim_start_matches([' ', '\t']).len()
}

fn has_list_marker(prefix: &str) -> bool {
    prefix.chars().any(|c| c != '>' && c != ' ' && c != '\t')
}

/// Iterates the lines of `text[from..]` as (start, end-without-terminator, next-line-start).
fn lines(text: &str, from: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'\n' && bytes[end] != b'\r' {
            end += 1;
        }
        let mut next = end;
        if next < bytes.len() {
            next += if bytes[next] == b'\r' && bytes.get(next + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
        }
        at = next;
        Some((start, end, next))
    })
}

fn line_start_of(text: &str, offset: usize) -> usize {
    text[..offset]
        .rfind(['\n', '\r'])
        .map(|n| n + 1)
        .unwrap_or(0)
}

fn is_blank(line: &str) -> bool {
    line.chars().all(|c| c == '>' || c == ' ' || c == '\t')
}

/// The lines of `text[from..]` holding `:::`, as (start, end without terminator), the same
/// lines `lines` gives: found by searching for `:`, not by walking every line, since most
/// papers have few. (A container prefix holds no `:`, so a fence's `:::` is its line's first.)
fn fence_lines(text: &str, from: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        loop {
            let colon = at + text.get(at..)?.find(':')?;
            if !text[colon..].starts_with(":::") {
                at = colon + 1;
                continue;
            }
            let start = text[from..colon]
                .rfind(['\n', '\r'])
                .map_or(from, |n| from + n + 1);
            let end = line_end_of(text, colon);
            at = end + 1;
            return Some((start, end));
        }
    })
}

/// The source with each fence line's colons and attributes masked as a thematic break of
/// the same length, so pulldown-cmark ends a paragraph there as a fence does.
fn mask(text: &str, body_start: usize, fences: &[Fence]) -> Result<String, Diagnostic> {
    let mut bytes = text.as_bytes().to_vec();
    for fence in fences {
        for (k, b) in bytes[fence.colon..fence.end].iter_mut().enumerate() {
            *b = if k < 3 { b'*' } else { b' ' };
        }
    }
    String::from_utf8(bytes).map_err(|_| {
        Diagnostic::new(
            Span::new(body_start, body_start),
            "internal: mask broke UTF-8",
        )
    })
}

/// Every fence-like line, if none can sit inside code or HTML that masking it would break:
/// each follows a blank line, another fence-like line or the start of the body, or the lines
/// of its paragraph before it hold no backtick and no `<` (so no code span, inline HTML or
/// comment can run across it). None otherwise, or if one does not parse.
fn own_block_fences(text: &str, body_start: usize) -> Option<Vec<Fence>> {
    let all = fences(text, body_start, &[], &[]).ok()?;
    if all.is_empty() {
        return None;
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
            let start = before.rfind(['\n', '\r']).map_or(0, |n| n + 1);
            let line = &before[start..];
            if is_blank(line) || line_starts.binary_search(&(body_start + start)).is_ok() {
                return true;
            }
            // A link (`[`) or HTML there could run across the fence: read it unmasked.
            if line.contains(['<', '[']) || !code_spans_close(line) {
                return false;
            }
            end = body_start + start;
        }
        true
    };
    all.iter().all(safe).then_some(all)
}

/// Whether every backtick run in `line` is closed by a later run of the same length on it,
/// as CommonMark pairs code spans, so none can open here and close on a later line. A
/// backslash before a backtick (an escape, or literal inside code) gives up: false.
fn code_spans_close(line: &str) -> bool {
    if line.contains("\\`") {
        return false;
    }
    let bytes = line.as_bytes();
    let run_end = |mut i: usize| {
        while i < bytes.len() && bytes[i] == b'`' {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while let Some(found) = bytes[i..].iter().position(|&b| b == b'`') {
        let start = i + found;
        let end = run_end(start);
        let mut j = end;
        let closed = loop {
            let Some(next) = bytes[j..].iter().position(|&b| b == b'`') else {
                break None;
            };
            let (s, e) = (j + next, run_end(j + next));
            if e - s == end - start {
                break Some(e);
            }
            j = e;
        };
        match closed {
            Some(after) => i = after,
            None => return false,
        }
    }
    true
}

/// Every fence line outside code and comments. A fence inside raw HTML is an error.
fn fences(
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
            return Err(
                Diagnostic::new(Span::new(colon, end), "fenced div inside raw HTML")
                    .hint("leave a blank line between the HTML block and the fence"),
            );
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
                attrs: Some(block),
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
            prefix: line[..p].to_string(),
        });
    }
    Ok(out)
}

/// A redaction found, before nesting is known.
struct Found {
    form: Form,
    tagged: Tagged,
    span: Span,
    open: Span,
    close: Span,
    attrs: Span,
    placement: Option<BlockPlacement>,
}

struct Collector<'a> {
    text: &'a str,
    body: &'a Body,
    rules: &'a Rules,
    found: Vec<Found>,
    heading_attrs: Vec<HeadingAttrs>,
    /// Every id seen, with where it was first used.
    ids: Vec<(usize, String, Span)>,
    /// The longest exemption code, in characters (at least 2): a word longer than this is
    /// no code, so a word need never be read further to tell.
    code_chars: usize,
    /// (from, at): the first `}` at or after `from` is at `at`. `{`s come in order, and
    /// looking afresh from each was quadratic on a long line of them.
    next_close: Cell<Option<(usize, usize)>>,
    /// The same for `{`.
    next_open: Cell<Option<(usize, usize)>>,
}

/// A heading and the container its section cannot leave.
struct HeadingAt {
    /// Text underlined with `===` or `---`, not opened with `#`.
    setext: bool,
    start: usize,
    block_end: usize,
    level: u8,
    /// Identifies the container: (kind, index or start).
    container: (usize, usize),
    container_end: usize,
}

/// Where a div lives: its content and the container its fences sit in.
struct DivExtent {
    /// From the opening fence's colon to the end of the closing fence line.
    outer: Span,
    /// The closing fence line's start (where the div's content ends).
    content_end: usize,
}

impl<'a> Collector<'a> {
    fn note_id(&mut self, id: &Option<(String, Span)>) -> Result<(), Diagnostic> {
        if let Some((id, span)) = id {
            self.ids.push((span.start, id.clone(), *span));
        }
        Ok(())
    }

    /// Every id is unique; a clash is reported at the second in document order.
    fn check_ids(&mut self) -> Result<(), Diagnostic> {
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

    /// Link destinations, titles, autolinks and reference definitions are not Markdown text:
    /// a tag there would not withhold anything, so it is an error.
    fn no_tags_in(&self, span: Span, what: &str) -> Result<(), Diagnostic> {
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

    fn placement(&self, start: usize, end: usize, prefix: &str) -> BlockPlacement {
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

    fn divs(&mut self) -> Result<(), Diagnostic> {
        let body = self.body;
        let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
        let mut extents: Vec<(usize, DivExtent)> = Vec::new();
        for (k, fence) in body.fences.iter().enumerate() {
            let container = body.container(fence.colon);
            match &fence.kind {
                FenceKind::Open { attrs, bare } => {
                    // Check the tag first: `::: word` meant as a closing fence is an unknown
                    // class at the word, not a div that is never closed.
                    let items = match (attrs, bare) {
                        (Some(block), _) => block.items.clone(),
                        (None, Some((word, span))) => vec![(
                            AttrItem::Class(word.clone()),
                            Span::new(span.start.saturating_sub(1), span.end),
                        )],
                        (None, None) => Vec::new(),
                    };
                    tagged(self.rules, &items)?;
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
            let (items, attr_span) = match (attrs, bare) {
                (Some(block), _) => (block.items.clone(), block.span),
                (None, Some((word, span))) => (
                    vec![(
                        AttrItem::Class(word.clone()),
                        Span::new(span.start.saturating_sub(1), span.end),
                    )],
                    *span,
                ),
                (None, None) => continue,
            };
            let tagged = tagged(self.rules, &items)?;
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
            let placement = self.placement(extent.outer.start, extent.outer.end, &fence.prefix);
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

    /// A span or div must name a code (or be a presentational wrapper); an id alone is not a
    /// redaction.
    fn check_tag(&self, tagged: &Tagged, at: Span, what: &str) -> Result<(), Diagnostic> {
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

    /// Div extents, for heading sections that end with their div.
    fn div_spans(&self) -> Vec<(Span, usize)> {
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

    fn headings(&mut self) -> Result<(), Diagnostic> {
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
            let Some((line_end, attrs)) = self.heading_attr_block(start, block_end)? else {
                continue;
            };
            if h.setext {
                return Err(Diagnostic::new(
                    attrs.span,
                    "a setext heading (text underlined with `===` or `---`) carries an attribute block",
                )
                .hint(SETEXT_HINT));
            }
            let tagged = tagged(self.rules, &attrs.items)?;
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
    fn heading_attr_block(
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

    fn spans(&mut self) -> Result<(), Diagnostic> {
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
            let special = |b: &u8| matches!(b, b'\\' | b'[' | b']' | b'{');
            if !special(&bytes[i]) {
                let limit = skip.get(next_skip).map_or(bytes.len(), |s| s.start);
                i = bytes[i..limit]
                    .iter()
                    .position(special)
                    .map_or(limit, |n| i + n);
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
                        let tagged = tagged(self.rules, &block.items)?;
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
                                let tagged = tagged(self.rules, &block.items)?;
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
    fn cut_through(&self, open: usize, region: Span) -> Result<(), Diagnostic> {
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

    /// Where an attribute block must close by: the end of the block it is in.
    fn limit(&self, at: usize) -> usize {
        self.body
            .innermost(at)
            .map(|b| self.body.blocks[b].span.end)
            .unwrap_or(self.text.len())
    }

    fn same_block(&self, open: usize, close: usize) -> Result<(), Diagnostic> {
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

    fn unattached(&self, at: usize, why: &str) -> Diagnostic {
        let end = self.text[at..]
            .find(['}', '\n', '\r'])
            .map(|n| at + n + 1)
            .unwrap_or(self.text.len())
            .min(self.text.len());
        let end = if self.text.is_char_boundary(end) {
            end
        } else {
            at + 1
        };
        Diagnostic::new(
            Span::new(at, end),
            "attribute block attaches to nothing",
        )
        .note(why.to_string())
        .hint("write `[text]{.S31}` with nothing between `]` and `{`, or `\\{` for a literal brace")
    }

    /// The first match of `find` at or after `at`, else the text's end, remembered in `cache`
    /// for the next call from further on.
    fn next_of(
        &self,
        cache: &Cell<Option<(usize, usize)>>,
        at: usize,
        find: impl Fn(&str) -> Option<usize>,
    ) -> usize {
        if let Some((from, found)) = cache.get()
            && from <= at
            && at <= found
        {
            return found;
        }
        let found = find(&self.text[at..]).map_or(self.text.len(), |n| at + n);
        cache.set(Some((at, found)));
        found
    }

    /// The inner text of the braces opening at `at`: up to the next `}` or `{`, or the end
    /// of the block they are in (so a block split across lines is read whole). Stretches
    /// between braces do not overlap, so reading each `{` this way is linear overall.
    fn brace_inner(&self, at: usize) -> (&str, usize) {
        let text = self.text;
        let close = self.next_of(&self.next_close, at, |s| s.find('}'));
        let open = self.next_of(&self.next_open, at + 1, |s| s.find('{'));
        let limit = self.limit(at);
        let end = close.min(open).min(limit).max(at + 1);
        (&text[at + 1..end], end)
    }

    /// Whether the braces at `at` name an exemption code (or something shaped like one) or a
    /// redaction key: then they are a tag, never prose.
    fn names_code_or_key(&self, at: usize) -> bool {
        let (inner, _) = self.brace_inner(at);
        let separator = |c: char| {
            c.is_whitespace() || matches!(c, '.' | '#' | ',' | '=' | '"' | '\'' | '[' | ']')
        };
        inner
            .split(separator)
            .any(|w| self.code_spelled(w).is_some())
            || key_like(inner)
    }

    /// The exemption code `word` names, in any case (`s31` is a mis-cased `S31`), as the rules
    /// spell it. A word shaped like a code that the rules do not define (`s3`, `S99`) names
    /// none: in loose braces it is prose.
    fn code_spelled(&self, word: &str) -> Option<&str> {
        self.rules
            .exemptions
            .iter()
            .map(|e| e.code.as_str())
            .find(|code| code.eq_ignore_ascii_case(word))
    }

    /// A `{` that no span, link or heading took: an error if it names a code or a key.
    fn near_miss(&self, at: usize) -> Result<(), Diagnostic> {
        let text = self.text;
        if !self.names_code_or_key(at) {
            return Ok(());
        }
        let (inner, inner_end) = self.brace_inner(at);
        let first = inner.trim_start().chars().next();
        let prev = text[..at].chars().next_back();
        let why = match prev {
            Some(']') => "the `]` before it closes no `[`",
            Some(c) if c.is_whitespace() => {
                "there is white space between it and the `]` or heading it was meant for"
            }
            Some(c) if is_invisible(c) => {
                return Err(self.unattached(at, "").note(format!(
                    "an invisible character (U+{:04X}) stands between it and the `]`",
                    c as u32
                )));
            }
            _ => "no `[text]`, link or heading comes right before it",
        };
        if first.is_some_and(|c| c.is_ascii_alphanumeric()) && !key_like(inner) {
            let word = inner.split_whitespace().next().unwrap_or("");
            if let Some(code) = self.code_spelled(word) {
                return Err(Diagnostic::new(
                    Span::new(at, (inner_end + 1).min(text.len())),
                    format!("class `{word}` is missing its dot"),
                )
                .hint(format!(
                    "write `{{.{code}}}` after the `[text]` it withholds"
                )));
            }
        }
        Err(self.unattached(at, why))
    }

    /// A tag or fence naming a code that is spelled with look-alike characters (full-width
    /// `｛．S31｝`, `：：：`) or broken by invisible ones: it would pass as text. Read after
    /// NFKC with zero-width characters removed, on each line holding such a character,
    /// outside code and comments.
    fn look_alikes(&self) -> Result<(), Diagnostic> {
        use unicode_normalization::UnicodeNormalization;
        let text = self.text;
        let bytes = text.as_bytes();
        let skip = merge(self.body.code.iter().chain(&self.body.comments).copied());
        let suspect = |c: char| {
            is_invisible(c)
                || (c as u32 >= 0x2000
                    && c.nfkc()
                        .any(|n| matches!(n, '{' | '}' | '.' | ':' | '#' | '[' | ']')))
        };
        let mut i = self.body.body_start;
        let mut done_to = i;
        while let Some(n) = bytes[i..].iter().position(|&b| b >= 0xC0) {
            let at = i + n;
            let c = text[at..].chars().next().unwrap_or('\u{fffd}');
            i = at + c.len_utf8();
            if at < done_to || !suspect(c) || Body::in_any(&skip, at) {
                continue;
            }
            let line = Span::new(line_start_of(text, at), line_end_of(text, at));
            done_to = line.end;
            // The line normalised, and where each normalised character came from.
            let mut normal = String::new();
            let mut origin: Vec<(usize, usize)> = Vec::new();
            for (k, ch) in text[line.start..line.end].char_indices() {
                let from = line.start + k;
                if is_invisible(ch) || Body::in_any(&skip, from) {
                    continue;
                }
                for n in ch.nfkc() {
                    origin.push((normal.len(), from));
                    normal.push(n);
                }
            }
            let source_of = |k: usize| {
                let p = origin.partition_point(|(n, _)| *n < k);
                origin.get(p).map_or(line.end, |(_, o)| *o)
            };
            for caps in TAG_HEAD.captures_iter(&normal) {
                let (Some(head), Some(word)) = (caps.get(0), caps.get(1)) else {
                    continue;
                };
                let word = word.as_str();
                if self.rules.exemption(word).is_none() && !code_like(word) {
                    continue;
                }
                let (from, to) = (source_of(head.start()), source_of(head.end()));
                let original = &text[from..to];
                let odd = original.char_indices().find(|&(_, ch)| !ch.is_ascii());
                if let Some((k, ch)) = odd {
                    return Err(Diagnostic::new(
                        Span::new(from + k, from + k + ch.len_utf8()),
                        format!(
                            "look-alike character U+{:04X} in what reads as a redaction tag",
                            ch as u32
                        ),
                    )
                    .note(format!("read as plain text it says `{}`", head.as_str()))
                    .hint("type tags and fences with plain `{`, `.`, `:` and `}`, with nothing invisible inside; write `\\{` for a literal brace"));
                }
            }
        }
        Ok(())
    }

    /// Raw HTML may not carry tags or exemption codes: they would not withhold anything.
    fn raw_html(&self) -> Result<(), Diagnostic> {
        let class_re = &*CLASS_ATTRIBUTE;
        for span in &self.body.html {
            // The HTML less the comments that overlap it (comments are sorted and disjoint):
            // the stretches between them.
            let first = self.body.comments.partition_point(|c| c.end <= span.start);
            let overlapping = self.body.comments[first..]
                .iter()
                .take_while(|c| c.start < span.end);
            let mut pieces = Vec::new();
            let mut at = span.start;
            for comment in overlapping {
                if comment.start > at {
                    pieces.push(Span::new(at, comment.start));
                }
                at = at.max(comment.end);
            }
            if at < span.end {
                pieces.push(Span::new(at, span.end));
            }
            for piece in pieces {
                let html = &self.text[piece.start..piece.end];
                for caps in class_re.captures_iter(html) {
                    let value = caps.get(2).or(caps.get(3)).or(caps.get(4));
                    let Some(value) = value else { continue };
                    let mut word_at = value.start();
                    for word in value.as_str().split_whitespace() {
                        let offset = html[word_at..]
                            .find(word)
                            .map(|n| word_at + n)
                            .unwrap_or(word_at);
                        word_at = offset + word.len();
                        if self.rules.exemption(word).is_some() || code_like(word) {
                            let at = piece.start + offset;
                            return Err(Diagnostic::new(
                                Span::new(at, at + word.len()),
                                format!("exemption code `{word}` in a class inside raw HTML"),
                            )
                            .hint(
                                "raw HTML is never withheld; use `::: {.S31}` or `[text]{.S31}`",
                            ));
                        }
                    }
                }
                for (k, _) in html.match_indices('{') {
                    let after = html[k + 1..].trim_start();
                    let before = html[..k].chars().next_back();
                    if after.starts_with('.') || after.starts_with('#') || before == Some(']') {
                        let at = piece.start + k;
                        return Err(Diagnostic::new(
                            Span::new(at, at + 1),
                            "redaction tag inside raw HTML",
                        )
                        .hint("raw HTML is passed through whole; put the tag outside the HTML"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The first word of `text` (up to the first `separator`), or, if that word is longer than
/// `chars`, its first `chars + 1` characters: enough to tell it is no code, without reading a
/// word as long as the line.
fn word_prefix(text: &str, separator: impl Fn(char) -> bool, chars: usize) -> &str {
    let end = text
        .char_indices()
        .enumerate()
        .find(|&(n, (_, c))| n > chars || separator(c))
        .map_or(text.len(), |(_, (k, _))| k);
    &text[..end]
}

/// The line ending a paper uses: the first one in it.
pub fn newline_of(text: &str) -> &'static str {
    match text.find(['\n', '\r']) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{202a}'..='\u{202e}'
    )
}

/// Moves `end` back over blank lines so a section stops at its last line of content, never
/// before `floor`.
fn trim_back(text: &str, mut end: usize, floor: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        if end <= floor {
            return floor;
        }
        let prev = bytes[end - 1];
        if prev != b'\n' && prev != b'\r' {
            // Mid-line: drop trailing container markers and spaces on this line.
            let line_start = line_start_of(text, end);
            if is_blank(&text[line_start..end]) && line_start > floor {
                end = line_start;
                continue;
            }
            return end;
        }
        let mut line_end = end - 1;
        if prev == b'\n' && line_end > 0 && bytes[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line_start = line_start_of(text, line_end);
        if line_start > floor && is_blank(&text[line_start..line_end]) {
            end = line_start;
            continue;
        }
        return line_end.max(floor);
    }
}

/// Sorts redactions into document order, numbers them and finds each one's parent. Two that
/// overlap without nesting cannot both be withheld cleanly: an error.
fn nest(text: &str, mut found: Vec<Found>) -> Result<Vec<Redaction>, Diagnostic> {
    found.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut out: Vec<Redaction> = Vec::with_capacity(found.len());
    let mut stack: Vec<usize> = Vec::new();
    let mut seen = BTreeSet::new();
    for (k, f) in found.into_iter().enumerate() {
        if !seen.insert((f.span.start, f.span.end, f.attrs.start)) {
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
        let _ = k;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Paper, Diagnostic> {
        let rules = Rules::embedded().expect("embedded rules");
        let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{body}");
        parse_paper(&text, &rules)
    }

    /// Loose braces holding a code-shaped word the rules do not define are prose; a mis-cased
    /// real code is still a tag missing its dot, and the hint spells it as the rules do.
    #[test]
    fn loose_braces_name_a_code_only_when_the_rules_define_it() {
        assert!(parse("Store it in {s3 bucket}, not {S99}.\n").is_ok());
        let error = parse("Withheld {s31} here.\n").expect_err("a mis-cased code");
        assert!(
            error.message.contains("missing its dot"),
            "{}",
            error.message
        );
        assert!(
            error.hint.as_deref().is_some_and(|h| h.contains("{.S31}")),
            "{:?}",
            error.hint
        );
    }

    /// A multi-byte character just before the line break above a fence once split a slice.
    #[test]
    fn fence_after_a_line_ending_in_a_multibyte_character_parses() {
        for body in [
            "abc\u{200b}\n::: S31\nx\n:::\n",
            "é\r\n::: S31\r\nx\r\n:::\r\n",
        ] {
            let paper = parse(body).expect("valid paper");
            assert_eq!(paper.redactions.len(), 1);
            assert!(
                paper.redactions[0]
                    .placement
                    .as_ref()
                    .is_some_and(|p| p.blank_before)
            );
        }
    }

    /// A long run of `{` on one line is read once, not once per `{`, and a near miss at its
    /// end is still found, at the same place.
    #[test]
    fn near_miss_after_a_long_line_of_braces_is_found_in_linear_time() {
        let braces = "{".repeat(200_000);
        let started = std::time::Instant::now();
        assert!(parse(&format!("x {braces} y\n")).is_ok());
        assert!(parse(&format!("[a]: /u{braces}\n")).is_ok());
        assert!(parse(&format!("x {}\n", "{ ".repeat(100_000))).is_ok());
        let error = parse(&format!("x {braces}S31}} y\n"))
            .err()
            .map(|d| (d.span, d.message));
        let at = "---\ntitle: T\nclassification: OFFICIAL\n---\nx ".len() + braces.len() - 1;
        assert_eq!(
            error,
            Some((
                Span::new(at, at + 5),
                "class `S31` is missing its dot".to_string()
            ))
        );
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn heading_section_stops_at_same_level_heading_in_its_container() {
        let body = "## A {.S31}\n\ntext\n\n### deeper\n\n> ## quoted\n\n## B\n\nkept\n";
        let paper = parse(body).expect("valid paper");
        let r = &paper.redactions[0];
        let text = format!("---\ntitle: T\nclassification: OFFICIAL\n---\n{body}");
        assert!(text[r.span.start..r.span.end].ends_with("> ## quoted"));
    }

    /// Starting from every fence line masked settles on the same fences, code and HTML as
    /// starting from the source, on every paper the tests hold and on papers made to tell
    /// them apart.
    #[test]
    fn masked_start_settles_where_the_source_start_does() {
        let mut papers: Vec<(String, String)> = vec![
            ("span across".into(), "Para `code\n:::\nmore` end\n".into()),
            (
                "html across".into(),
                "Para <span title=\"\n:::\n\">x</span>\n".into(),
            ),
            (
                "escaped".into(),
                "Para \\`x\n::: {.S31}\nwithheld\n:::\n".into(),
            ),
            ("double".into(), "Para `` ` `` `\n:::\nmore` end\n".into()),
            (
                "closed".into(),
                "Para `a` and ``b``\n::: {.S31}\nwithheld `c`\n:::\n".into(),
            ),
            (
                "in code".into(),
                "```\n\n:::\n\n```\n\n::: {.S31}\nx\n:::\n".into(),
            ),
            ("indented".into(), "text\n:::\n    ::: {.S31}\n".into()),
            ("quote".into(), "> text\n> ::: {.S31}\n> x\n> :::\n".into()),
            (
                "comment".into(),
                "<!--\n\n:::\n\n-->\n\n::: {.S31}\nx\n:::\n".into(),
            ),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [
            "fixtures",
            "tests/adversarial",
            "tests/leaks",
            "tests/invalid",
            "tests/check",
        ] {
            for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let entry = entry.expect("walk");
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "md")
                    && let Ok(text) = std::fs::read_to_string(path)
                {
                    papers.push((path.display().to_string(), text));
                }
            }
        }
        assert!(papers.len() > 100, "{} papers", papers.len());
        let outcome = |text: &str, guess: bool| match Body::analyse_from(text, 0, guess) {
            Ok(b) => Ok((
                b.fences.iter().map(|f| f.colon).collect::<Vec<_>>(),
                b.code,
                b.html,
                b.blocks.len(),
            )),
            Err(d) => Err(format!("{d:?}")),
        };
        for (name, text) in &papers {
            assert_eq!(outcome(text, true), outcome(text, false), "{name}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Papers made of fence lines, code spans and fences, HTML and containers in any
        /// order: both starts settle on the same fences.
        #[test]
        fn masked_start_settles_alike_on_generated_papers(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                ":::", "::: {.S31}", "::: S24", "::: {.S31 reason=\"`\"}", "text `a", "b` c",
                "`x` y", "``a ` b``", "\\`", "<span title=\"", "\">x</span>", "", "```", "~~~",
                "> q", "> :::", "> ::: {.S23}", "- item", "  ::: {.S31}", "    code",
                "<!--", "-->", "para", "## Head {.S31}", "---",
            ]), 0..24)
        ) {
            let text = lines.join("\n");
            let outcome = |guess: bool| match Body::analyse_from(&text, 0, guess) {
                Ok(b) => Ok((b.fences.iter().map(|f| f.colon).collect::<Vec<_>>(), b.code, b.html)),
                Err(d) => Err(format!("{d:?}")),
            };
            proptest::prop_assert_eq!(outcome(true), outcome(false), "{}", text);
        }
    }
}
