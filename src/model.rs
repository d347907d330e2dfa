//! The parsed paper: its front matter and every redaction with the byte spans that locate it.
//! Built by parse.rs, read by redact.rs and the audit; it holds no rendering decisions.

use crate::front_matter::FrontMatter;
use crate::rules::ExemptionCode;
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
