//! Paper text → [`Paper`]: front matter, then the body's redactions with their byte spans.
//!
//! pulldown-cmark knows no fenced divs or bracketed spans, so it is used for what it does
//! know: where code, raw HTML, containers, headings, links and table cells are. Fence lines
//! are found first, then masked as thematic breaks (same byte length, so offsets hold) and
//! the body parsed again, so a fence always ends a paragraph as pandoc's does. Our one
//! attribute parser (attr.rs) reads all three tag forms. Anything that looks like a tag but
//! does not attach to anything is an error: a tag that silently became text would publish
//! what it meant to withhold.
//!
//! The reading, in order (each step a module below):
//! 1. front matter (`front_matter.rs`): the YAML block, checked against the fixed keys;
//! 2. the body ([`body`], with [`scan`], [`fences`], [`references`] and [`comments`]): one
//!    pulldown-cmark pass for code, raw HTML, containers, links and references, repeated on
//!    the masked text until the fence lines settle;
//! 3. divs ([`divs`]): fences paired into divs, each in one container;
//! 4. sections ([`sections`]): tagged headings and how far their sections reach;
//! 5. look-alikes ([`near_miss`]): tags spelled with look-alike or invisible characters;
//! 6. spans ([`spans`]): `[text]{…}` and tagged links and images, with the near-misses
//!    between them;
//! 7. raw HTML ([`raw_html`]): no tag or exemption code inside it;
//! 8. ids unique, then nesting ([`collector`]): the redactions in document order, each with
//!    its parent;
//! 9. comment cuts ([`cuts`]): how each comment leaves a copy so that nothing else changes,
//!    or the error where no cut can.
//!
//! Each attribute block is read by [`attributes`]; line and prefix arithmetic is in [`text`].

use pulldown_cmark::Options;

use crate::error::Diagnostic;
use crate::front_matter;
use crate::model::Paper;
use crate::rules::Rules;
use crate::span::Span;

mod attributes;
mod body;
mod collector;
mod comments;
mod cuts;
mod divs;
mod fences;
mod near_miss;
mod raw_html;
mod references;
mod scan;
mod sections;
mod spans;
#[cfg(test)]
mod tests;
mod text;

use body::Body;
use collector::{Collector, nest};

/// Deeper nesting than this is refused rather than risk the stack.
pub const MAX_DEPTH: usize = 256;

pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

pub use text::newline_of;

/// Parses a whole paper. `text` is the file as read (a BOM, if any, is kept: offsets are into
/// the file).
pub fn parse_paper(text: &str, rules: &Rules) -> Result<Paper, Diagnostic> {
    let split = front_matter::split(text)?;
    let front_matter = front_matter::parse(text, split, rules)?;
    let body_start = split.block.end;
    let body = Body::analyse(text, body_start)?;
    let mut collector = Collector::new(text, &body, rules);
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
        comment_cuts: cuts::cuts(text, &body)?,
        comments: body.comments,
        raw_html: body.html,
        heading_attrs,
        references: body.references,
        links: body.link_refs,
    })
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Span::new(span.start, span.start + 1),
        format!("nesting deeper than {MAX_DEPTH} levels"),
    )
    .hint("flatten the structure: deeper nesting is refused")
}
