//! `redact suggest --apply`: a paper's text and suggestions in, the text with each suggestion
//! wrapped in `[…]{.S40 reason="personal data: <kind>"}` out, every other byte as it was, or
//! the reasons it cannot be done. All or nothing per paper: a paper with one suggestion that
//! cannot be tagged safely is left unchanged, so a reviewer never gets half a job.
//!
//! A suggestion can be wrapped only where it lies in plain text as CommonMark reads it (one
//! run of text events, soft breaks included): never in code, raw HTML, an autolink, a link's
//! or image's destination, an image's alt text, an existing tag, or the text of a link whose
//! target holds the same value (the target would still publish it). The result is parsed
//! again and must build with exactly one new S40 redaction per suggestion.

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};

use super::{Kind, S40, Suggestion};
use crate::parse::{markdown_options, parse_paper};
use crate::rules::Rules;
use crate::span::Span;

/// What `--apply` did to one paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Nothing to tag.
    Nothing,
    /// The new text, with this many suggestions tagged.
    Tagged(String, usize),
    /// Left unchanged: why, per suggestion that could not be tagged (or once for the paper).
    Unchanged(Vec<(Span, String)>),
}

/// The tag `--apply` writes around a suggestion of `kind`.
pub fn wrap(text: &str, kind: Kind) -> String {
    format!(
        "[{text}]{{.{S40} reason=\"personal data: {}\"}}",
        kind.as_str()
    )
}

/// Where text may be wrapped, and where a link's target holds what its text shows.
struct Plain {
    /// Runs of plain text (merged across soft breaks), sorted.
    runs: Vec<Span>,
    /// Link text spans with their destination.
    links: Vec<(Span, String)>,
}

fn plain_text(text: &str, body_start: usize) -> Plain {
    let body = &text[body_start..];
    let mut runs: Vec<Span> = Vec::new();
    let mut links = Vec::new();
    // Open links and images: (destination, start of text, is image).
    let mut open: Vec<(String, usize, bool)> = Vec::new();
    let mut images = 0usize;
    for (event, range) in Parser::new_ext(body, markdown_options()).into_offset_iter() {
        let span = Span::new(body_start + range.start, body_start + range.end);
        match event {
            Event::Text(_) | Event::SoftBreak if images == 0 => {
                // A list item's or quote's continuation indent between two lines is not
                // text, but a span may still run across it (the result is parsed again).
                let joins = |last: &Span| {
                    last.end <= span.start
                        && text[last.end..span.start]
                            .chars()
                            .all(|c| c == ' ' || c == '\t')
                };
                match runs.last_mut() {
                    Some(last) if !last.is_empty() && joins(last) => last.end = span.end,
                    _ => runs.push(span),
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let autolink = matches!(link_type, LinkType::Autolink | LinkType::Email);
                // An autolink's text is its destination: never wrapped.
                open.push((dest_url.to_string(), span.start, autolink));
                if autolink {
                    images += 1;
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                open.push((dest_url.to_string(), span.start, true));
                images += 1;
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some((dest, start, opaque)) = open.pop() {
                    if opaque {
                        images = images.saturating_sub(1);
                    }
                    links.push((Span::new(start, span.end), dest));
                }
                // Text after a link is a new run even if it touches the link's end.
                runs.push(Span::empty(span.end));
            }
            _ => {
                // Anything else between two texts (code, HTML, emphasis marks) splits runs.
                if let Some(last) = runs.last()
                    && !last.is_empty()
                {
                    runs.push(Span::empty(span.end));
                }
            }
        }
    }
    runs.retain(|r| !r.is_empty());
    Plain { runs, links }
}

/// Why `s` cannot be wrapped in `text`, if it cannot.
fn unsafe_reason(
    text: &str,
    s: &Suggestion,
    plain: &Plain,
    paper: &crate::model::Paper,
) -> Option<String> {
    if s.front_matter {
        return Some("it is in the front matter, where no tag can go".into());
    }
    if paper
        .redactions
        .iter()
        .any(|r| r.span.start < s.span.end && s.span.start < r.span.end)
    {
        return Some("it is inside an existing tag".into());
    }
    let written = &text[s.span.start..s.span.end];
    for (link, dest) in &plain.links {
        if link.encloses(s.span) {
            let value_in_dest = dest.to_lowercase().contains(&written.to_lowercase())
                || dest.to_lowercase().contains(&s.value.to_lowercase());
            if value_in_dest {
                return Some(
                    "it is the text of a link whose target holds the same value: tag the whole link by hand"
                        .into(),
                );
            }
        }
    }
    let in_plain = plain.runs.iter().any(|r| r.encloses(s.span));
    if !in_plain {
        return Some(
            "it is not in plain text (code, raw HTML, a URL or an image): change it by hand".into(),
        );
    }
    None
}

/// Wraps every suggestion of a paper, or says why not.
pub fn apply(text: &str, suggestions: &[Suggestion], rules: &Rules) -> Applied {
    if suggestions.is_empty() {
        return Applied::Nothing;
    }
    if rules.exemption(S40).is_none() {
        return Applied::Unchanged(vec![(
            suggestions[0].span,
            "the rules define no S40 exemption to tag with".into(),
        )]);
    }
    let paper = match parse_paper(text, rules) {
        Ok(p) => p,
        Err(d) => return Applied::Unchanged(vec![(d.span, d.message)]),
    };
    let plain = plain_text(text, paper.body_start);
    let mut problems = Vec::new();
    // Overlapping suggestions cannot both be wrapped: the first wins, the other is reported.
    let mut chosen: Vec<&Suggestion> = Vec::new();
    for s in suggestions {
        if let Some(why) = unsafe_reason(text, s, &plain, &paper) {
            problems.push((s.span, why));
        } else if chosen
            .iter()
            .any(|c| c.span.start < s.span.end && s.span.start < c.span.end)
        {
            problems.push((s.span, "it overlaps another suggestion".into()));
        } else {
            chosen.push(s);
        }
    }
    if !problems.is_empty() {
        return Applied::Unchanged(problems);
    }
    chosen.sort_by_key(|s| s.span);
    let mut out = String::with_capacity(text.len() + chosen.len() * 48);
    let mut at = 0;
    for s in &chosen {
        out.push_str(&text[at..s.span.start]);
        out.push_str(&wrap(&text[s.span.start..s.span.end], s.kind));
        at = s.span.end;
    }
    out.push_str(&text[at..]);
    // The proof that the tags took: the result parses, with one more S40 redaction per
    // suggestion and no other change to the redactions.
    match parse_paper(&out, rules) {
        Ok(after) => {
            let s40 = |p: &crate::model::Paper| {
                p.redactions
                    .iter()
                    .filter(|r| r.codes.len() == 1 && r.codes[0].as_str() == S40)
                    .count()
            };
            if after.redactions.len() == paper.redactions.len() + chosen.len()
                && s40(&after) == s40(&paper) + chosen.len()
            {
                Applied::Tagged(out, chosen.len())
            } else {
                Applied::Unchanged(vec![(
                    chosen[0].span,
                    "the tags would not all be read as redactions: tag this paper by hand".into(),
                )])
            }
        }
        Err(d) => Applied::Unchanged(vec![(
            chosen[0].span,
            format!(
                "the tagged paper would not build ({}): tag it by hand",
                d.message
            ),
        )]),
    }
}
