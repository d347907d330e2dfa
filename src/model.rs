//! The parsed paper: its front matter and every redaction with the byte spans that locate it,
//! and the answers to what the later stages ask of it: which redactions an audience withholds
//! and which of those are outermost (each becomes one marker), which codes a marker names,
//! and what lies within a withheld passage (nested redactions, comments, references used only
//! there). Built by parse.rs; the copies, the proof, the schedule and the audit ask it rather
//! than work these out again, so they cannot disagree. It holds no rendering decisions.

use crate::front_matter::FrontMatter;
use crate::rules::{Audience, ExemptionCode};
use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// `[text]{.S31}`, or a link or image with attributes.
    Span,
    /// `::: {.S23}` … `:::`
    Div,
    /// `## Heading {.S31}` and its section.
    Heading,
}

impl Form {
    /// The form's name as the audit writes it (its serde name).
    pub fn name(self) -> &'static str {
        match self {
            Form::Span => "span",
            Form::Div => "div",
            Form::Heading => "heading",
        }
    }
}

/// How a block redaction sits in its container, so a marker put in its place is still its
/// own paragraph there (`> ` in a blockquote, indentation in a list item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPlacement {
    /// What starts each continuation line of the container (`> `, spaces).
    pub prefix: String,
    /// The line before is text of the same paragraph flow: a blank line must come first.
    pub blank_before: bool,
    /// The line after would continue a marker paragraph: a blank line must follow.
    pub blank_after: bool,
    /// The line after would continue an HTML block put here: a blank line must follow.
    pub html_blank_after: bool,
    /// The paper's line ending, so inserted lines match the rest (CRLF papers stay CRLF).
    pub newline: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// Position in document order, from 1; names an unnamed redaction.
    pub number: usize,
    pub id: Option<String>,
    pub form: Form,
    /// Exemption codes in tag order, each once. Empty for a presentational-only wrapper.
    pub codes: Vec<ExemptionCode>,
    pub classes: Vec<String>,
    pub reason: Option<String>,
    pub pit: Option<String>,
    /// Everything withheld: tags, content and attributes.
    pub span: Span,
    /// What opens the passage (`[`, the opening fence); empty for links and headings.
    pub open: Span,
    /// What closes it (`]{…}`, the attribute block after a link, the closing fence); empty
    /// at the section end for headings.
    pub close: Span,
    /// The attribute block, for diagnostics.
    pub attrs: Span,
    /// The enclosing redaction, if any.
    pub parent: Option<usize>,
    pub placement: Option<BlockPlacement>,
}

impl Redaction {
    pub fn is_exempt(&self) -> bool {
        !self.codes.is_empty()
    }

    /// Whether `audience` withholds this passage under its own codes (not only through an
    /// enclosing one): any one of its codes withheld is enough.
    pub fn withheld_from(&self, audience: &Audience) -> bool {
        self.is_exempt() && audience.withholds_any(&self.codes)
    }

    /// What lies between the tags.
    pub fn content(&self) -> Span {
        Span::new(self.open.end, self.close.start)
    }

    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("#{id}"),
            None => format!("redaction {}", self.number),
        }
    }
}

/// A heading's own attribute block (`{#id}` or with codes), removed from HTML where the id
/// becomes the element's `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadingAttrs {
    /// Where the heading's text starts (after `#`s and container prefix for ATX, or the text).
    pub heading: Span,
    /// The block with the whitespace before it.
    pub span: Span,
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Paper {
    pub front_matter: FrontMatter,
    /// The front matter block, delimiters included.
    pub front_matter_span: Span,
    /// Where the body starts.
    pub body_start: usize,
    /// Every redaction, in document order (by start).
    pub redactions: Vec<Redaction>,
    /// HTML comments (notes to authors), removed from every copy but the council Markdown.
    pub comments: Vec<Span>,
    /// How each comment (same order) leaves a copy so that nothing else changes.
    pub comment_cuts: Vec<CommentCut>,
    /// Every raw HTML span, HTML blocks and inline HTML alike (comments included), sorted
    /// and merged where they touch.
    pub raw_html: Vec<Span>,
    pub heading_attrs: Vec<HeadingAttrs>,
    /// Footnote and link reference definitions with their uses, in document order.
    pub references: Vec<Reference>,
    /// Every link and image in the body, in document order: the assets a paper names.
    pub links: Vec<LinkRef>,
}

/// How one HTML comment leaves a copy: the bytes cut (the comment, and where needed the
/// whitespace or line around it) and what stands in their place, chosen so that the copy reads
/// as the source does with the comment gone (no hard break, paragraph, list or code made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentCut {
    pub span: Span,
    pub replacement: &'static str,
}

/// A footnote (`[^note]: …`) or link reference definition (`[label]: url`) and where it is
/// used: one used only by withheld text is withheld with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub footnote: bool,
    /// The label as written in the definition.
    pub label: String,
    /// From the definition's `[` to the end of its last line (line ending not included), so
    /// removing it leaves a blank line and changes no block around it.
    pub span: Span,
    /// Where each use starts (`[^note]`, `[text][label]`), in document order.
    pub uses: Vec<usize>,
}

impl Reference {
    /// The definition's label as a reader would cite it: `[^note]` or `[label]`.
    pub fn name(&self) -> String {
        if self.footnote {
            format!("[^{}]", self.label)
        } else {
            format!("[{}]", self.label)
        }
    }
}

/// A link's or image's destination as the parser read it, and where it is in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    pub dest: String,
    /// The whole link or image (`![alt](dest)`), for errors and to tell whether a withheld
    /// passage covers it.
    pub span: Span,
    pub image: bool,
    /// An autolink or e-mail autolink (`<https://…>`, `<a@b.org>`): never a file.
    pub auto: bool,
}

impl Paper {
    /// For each redaction, the index of the outermost redaction withheld from `audience` that
    /// covers it (itself included), if any. One that maps to itself is outermost: a marker.
    pub fn outermost_withheld(&self, audience: &Audience) -> Vec<Option<usize>> {
        let mut out: Vec<Option<usize>> = Vec::with_capacity(self.redactions.len());
        for (k, r) in self.redactions.iter().enumerate() {
            // Parents come before their children, so the parent's answer is already known.
            let inherited = r.parent.and_then(|p| out.get(p).copied().flatten());
            out.push(inherited.or_else(|| r.withheld_from(audience).then_some(k)));
        }
        out
    }

    /// Indices of the outermost redactions withheld from `audience`, in document order: each
    /// becomes one marker. Their spans are disjoint.
    pub fn maximal_withheld(&self, audience: &Audience) -> Vec<usize> {
        self.outermost_withheld(audience)
            .into_iter()
            .enumerate()
            .filter_map(|(k, w)| (w == Some(k)).then_some(k))
            .collect()
    }

    /// The spans of [`Paper::maximal_withheld`], in document order and disjoint.
    pub fn withheld_spans(&self, audience: &Audience) -> Vec<Span> {
        self.maximal_withheld(audience)
            .into_iter()
            .map(|k| self.redactions[k].span)
            .collect()
    }

    /// The codes the marker of redaction `index` names: its own, then those nested in it, in
    /// tag order, each once.
    pub fn marker_codes(&self, index: usize) -> Vec<&ExemptionCode> {
        let mut codes: Vec<&ExemptionCode> = Vec::new();
        let own = self.redactions[index].codes.iter();
        let nested = self.descendants(index).flat_map(|r| r.codes.iter());
        for code in own.chain(nested) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }

    /// The marker text for redaction `index` withheld from `audience`: its marker codes as
    /// the audience labels them, each label once, joined by ` & ` (`S31 & S24`).
    pub fn marker_text(&self, index: usize, audience: &Audience) -> String {
        let mut labels: Vec<&str> = Vec::new();
        for code in self.marker_codes(index) {
            let label = audience.label(code);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        labels.join(" & ")
    }

    /// The definitions withheld along with `withheld` (an audience's maximal withheld
    /// redactions, in document order), each with the redactions among them that use it. A
    /// definition goes when it is used, every use lies in a withheld passage, and it does not
    /// lie in one itself (then it goes with that passage anyway).
    pub fn withheld_references(&self, withheld: &[usize]) -> Vec<(usize, Vec<usize>)> {
        let holder = |at: usize| {
            let k = withheld.partition_point(|&w| self.redactions[w].span.start <= at);
            k.checked_sub(1)
                .map(|k| withheld[k])
                .filter(|&w| self.redactions[w].span.contains(at))
        };
        let mut out = Vec::new();
        for (n, reference) in self.references.iter().enumerate() {
            if reference.uses.is_empty() || holder(reference.span.start).is_some() {
                continue;
            }
            let mut by: Vec<usize> = Vec::new();
            let every = reference.uses.iter().all(|&at| match holder(at) {
                Some(w) => {
                    if !by.contains(&w) {
                        by.push(w);
                    }
                    true
                }
                None => false,
            });
            if every {
                out.push((n, by));
            }
        }
        out
    }

    /// Children of each redaction, for walking nested ones in tag order.
    pub fn descendants(&self, index: usize) -> impl Iterator<Item = &Redaction> {
        let span = self.redactions[index].span;
        self.redactions[index + 1..]
            .iter()
            .take_while(move |r| span.encloses(r.span))
    }
}

/// Whether `span` lies inside one of `withheld` (disjoint and in document order, as
/// [`Paper::withheld_spans`] gives them): only the last one starting at or before it can
/// hold it.
pub fn within(withheld: &[Span], span: Span) -> bool {
    let before = withheld.partition_point(|w| w.start <= span.start);
    before > 0 && withheld[before - 1].encloses(span)
}
