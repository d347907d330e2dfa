//! (Paper, Audience) → [`Copy`]: the paper as one audience may see it. A withheld passage
//! becomes a [`Piece::Marker`] holding only the label of its codes, so nothing rendered from
//! a copy can carry the passage's words, length, links, ids, footnotes or reason. A passage an
//! audience sees keeps its tag, but only the council (the audience that reads the source) sees
//! its `reason`, `pit`, id or classes: any other audience's tag names the codes alone.

use std::borrow::Cow;

use crate::front_matter::FrontMatter;
use crate::model::{BlockPlacement, Form, Paper, Redaction};
use crate::rules::{Audience, ExemptionCode, Marking};
use crate::span::Span;

/// A passage the audience sees, tagged in the source: how to open or close it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage<'a> {
    pub form: Form,
    /// Codes as the audience's markers show them, e.g. `S31 & S24`; empty for a wrapper.
    pub label: String,
    pub codes: Vec<&'a str>,
    pub reason: Option<&'a str>,
    pub id: Option<&'a str>,
    pub classes: &'a [String],
    pub highlight: bool,
    pub placement: Option<&'a BlockPlacement>,
    /// The tag as this audience's Markdown keeps it: the source's, or with the codes alone.
    pub markdown: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Source text outside any withheld passage.
    Text(&'a str),
    /// A withheld passage: its label (`S31 & S24`) and, for a block, where it sits.
    Marker {
        label: String,
        placement: Option<BlockPlacement>,
    },
    Open(Passage<'a>),
    Close(Passage<'a>),
    /// A heading's attribute block: kept in Markdown (codes alone but for the council),
    /// dropped from HTML.
    HeadingAttrs(Cow<'a, str>),
    /// Where a heading with an explicit id starts (HTML puts the id on the element).
    HeadingStart(&'a str),
}

/// One audience's copy of a paper.
#[derive(Debug, Clone)]
pub struct Copy<'a> {
    pub audience: &'a Audience,
    /// The marking this copy carries.
    pub marking: String,
    pub front_matter: &'a FrontMatter,
    /// For an audience that sees everything in the source's marking, the source itself.
    pub source: Option<&'a str>,
    pub pieces: Vec<Piece<'a>>,
    /// How many passages were withheld (maximal ones: nested ones go with their outer one).
    pub markers: usize,
}

enum Action {
    Drop,
    /// A comment's cut: what stands in its place (often nothing).
    Replace(&'static str),
    Marker(usize),
    Open(usize),
    Close(usize),
    /// A heading's attribute block, and the redaction it tags, if any.
    HeadingAttrs(Option<usize>),
    HeadingStart(usize),
}

impl Action {
    /// Order of cuts that start at the same byte: closes first, then what covers text,
    /// then the heading's own pieces.
    fn rank(&self) -> u8 {
        match self {
            Action::Close(_) => 0,
            Action::Marker(_) | Action::Open(_) | Action::Drop | Action::Replace(_) => 1,
            Action::HeadingStart(_) => 2,
            Action::HeadingAttrs(_) => 3,
        }
    }
}

/// Builds `audience`'s copy of `paper`, whose source is `text`.
pub fn copy_for<'a>(paper: &'a Paper, text: &'a str, audience: &'a Audience) -> Copy<'a> {
    let mut cuts: Vec<(Span, Action)> = Vec::new();
    // A comment goes with what the parser found it must take along, so nothing else changes.
    for cut in &paper.comment_cuts {
        cuts.push((cut.span, Action::Replace(cut.replacement)));
    }
    // A definition only withheld text uses goes with that text, without a marker of its own.
    let withheld = paper.maximal_withheld(audience);
    for (n, _) in paper.withheld_references(&withheld) {
        cuts.push((paper.references[n].span, Action::Drop));
    }
    for (k, r) in paper.redactions.iter().enumerate() {
        if r.withheld_from(audience) {
            cuts.push((r.span, Action::Marker(k)));
        } else {
            cuts.push((r.open, Action::Open(k)));
            cuts.push((r.close, Action::Close(k)));
        }
    }
    // Which heading redaction each heading attribute block tags, by where the block ends.
    let heading_tags: std::collections::HashMap<usize, usize> = (paper.redactions.iter())
        .enumerate()
        .filter(|(_, r)| r.form == Form::Heading)
        .map(|(k, r)| (r.attrs.end, k))
        .collect();
    for (k, h) in paper.heading_attrs.iter().enumerate() {
        let tags = heading_tags.get(&h.span.end).copied();
        cuts.push((h.span, Action::HeadingAttrs(tags)));
        if h.id.is_some() {
            cuts.push((Span::empty(h.heading.start), Action::HeadingStart(k)));
        }
    }
    cuts.sort_by(|(a, x), (b, y)| {
        a.start
            .cmp(&b.start)
            .then(x.rank().cmp(&y.rank()))
            .then(b.end.cmp(&a.end))
    });

    let council = audience.reads_source();
    let tag_text = |k: Option<usize>, tag: Span| -> Cow<'a, str> {
        match k.map(|k| &paper.redactions[k]) {
            Some(r) if !council => codes_alone(text, tag, r),
            _ => Cow::Borrowed(&text[tag.start..tag.end]),
        }
    };
    let passage = |k: usize, tag: Span| {
        let r = &paper.redactions[k];
        let codes: Vec<&str> = r.codes.iter().map(ExemptionCode::as_str).collect();
        let mut labels: Vec<&str> = Vec::new();
        for code in &r.codes {
            let label = audience.label(code);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        Passage {
            form: r.form,
            label: labels.join(" & "),
            codes,
            reason: r.reason.as_deref().filter(|_| council),
            // A heading's id goes on the heading element itself, not on its wrapper.
            id: r.id.as_deref().filter(|_| r.form != Form::Heading),
            classes: &r.classes,
            highlight: audience.highlight && r.is_exempt(),
            placement: r.placement.as_ref(),
            markdown: tag_text(Some(k), tag),
        }
    };

    let mut pieces = Vec::new();
    let mut markers = 0;
    let mut cursor = paper.body_start;
    for (span, action) in cuts {
        if span.start < cursor {
            continue;
        }
        if span.start > cursor {
            pieces.push(Piece::Text(&text[cursor..span.start]));
        }
        match action {
            Action::Drop => {}
            Action::Replace(text) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(text));
                }
            }
            Action::Marker(k) => {
                markers += 1;
                pieces.push(Piece::Marker {
                    label: paper.marker_text(k, audience),
                    placement: paper.redactions[k].placement.clone(),
                });
            }
            Action::Open(k) => pieces.push(Piece::Open(passage(k, span))),
            Action::Close(k) => pieces.push(Piece::Close(passage(k, span))),
            Action::HeadingAttrs(k) => pieces.push(Piece::HeadingAttrs(tag_text(k, span))),
            Action::HeadingStart(k) => {
                if let Some(id) = paper.heading_attrs[k].id.as_deref() {
                    pieces.push(Piece::HeadingStart(id));
                }
            }
        }
        cursor = span.end;
    }
    if cursor < text.len() {
        pieces.push(Piece::Text(&text[cursor..]));
    }
    copy_with(paper, text, audience, pieces, markers)
}

/// `audience`'s copy of `paper` with `pieces` for its body (`markers` of them withheld
/// passages): the marking, front matter and source every page of the paper is framed with.
pub fn copy_with<'a>(
    paper: &'a Paper,
    text: &'a str,
    audience: &'a Audience,
    pieces: Vec<Piece<'a>>,
    markers: usize,
) -> Copy<'a> {
    let marking = match &audience.marking {
        Marking::Source => paper.front_matter.classification.clone(),
        Marking::Fixed(m) => m.clone(),
    };
    Copy {
        audience,
        marking,
        front_matter: paper.front_matter.for_audience(audience),
        source: audience.reads_source().then_some(text),
        pieces,
        markers,
    }
}

/// `tag` (source text holding `r`'s attribute block, or not) with that block cut down to the
/// codes: `{.S31 #r4 reason="…" pit="…"}` becomes `{.S31}`. A bare fence class (`::: S31`) is
/// a code alone already; a tag without codes is a presentational wrapper, kept as written.
fn codes_alone<'t>(text: &'t str, tag: Span, r: &Redaction) -> Cow<'t, str> {
    let kept = &text[tag.start..tag.end];
    let extra = r.reason.is_some() || r.pit.is_some() || r.id.is_some() || !r.classes.is_empty();
    if !r.is_exempt() || !extra || !tag.encloses(r.attrs) || !text[r.attrs.start..].starts_with('{')
    {
        return Cow::Borrowed(kept);
    }
    let mut out = String::with_capacity(kept.len());
    out.push_str(&text[tag.start..r.attrs.start]);
    out.push_str(&codes_block(r));
    out.push_str(&text[r.attrs.end..tag.end]);
    Cow::Owned(out)
}

/// `{.S31 .S24}`: a redaction's codes in tag order, and nothing else.
fn codes_block(r: &Redaction) -> String {
    let codes: Vec<String> = r.codes.iter().map(|c| format!(".{}", c.as_str())).collect();
    format!("{{{}}}", codes.join(" "))
}
