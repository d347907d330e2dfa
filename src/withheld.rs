//! A paper withheld whole from an audience (front matter `withhold:`): in place of its copy,
//! that audience gets a notice of withholding naming the codes as it shows them, under the
//! public title (or a generic one). Built from the front matter's public view and the
//! audience's labels only, so nothing of the paper can reach it.

use crate::model::Paper;
use crate::redact::{Copy, Piece};
use crate::rules::{Audience, Marking};
use crate::schedule::whole_paper_labels;

/// The notice's body (Markdown, after the front matter): one sentence naming the codes.
pub fn notice_body(paper: &Paper, audience: &Audience) -> String {
    let nl = if paper.front_matter.newline.is_empty() {
        "\n"
    } else {
        paper.front_matter.newline
    };
    let labels = whole_paper_labels(paper, audience).join(" & ");
    format!(
        "{nl}This paper is withheld in full under the Freedom of Information Act 2000: \
         **{labels}**.{nl}"
    )
}

/// The notice as a copy, so it is written and rendered like any other: `body` is
/// [`notice_body`].
pub fn notice_copy<'a>(paper: &'a Paper, audience: &'a Audience, body: &'a str) -> Copy<'a> {
    let marking = match &audience.marking {
        Marking::Source => paper.front_matter.classification.clone(),
        Marking::Fixed(m) => m.clone(),
    };
    Copy {
        audience,
        marking,
        front_matter: paper.front_matter.for_audience(audience),
        source: None,
        pieces: vec![Piece::Text(body)],
        markers: 1,
    }
}
