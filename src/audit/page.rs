//! The audit page's values, flat and ready to print: templates/audit.html (or a custom
//! audit template) only prints them, and tera renders every byte of the page. What a loop of
//! the template would work out for each row (a heading with its codes joined, a location, the
//! schedule in one line, which hunk opens or closes a copy's table) is worked out here, once,
//! so tera builds few values per row and its loops only print. The parts of a row that were
//! loops of their own (an entry's codes, public interest lines, nested links, audiences rows,
//! context `<pre>`s and copies, a hunk's row) are written here as HTML, in fields named
//! `…_html` that the template prints `safe`: every value in them is escaped here exactly as
//! the template's autoescape escapes it, so the page is the bytes those loops wrote. Every
//! other value is text, escaped by the template.

use std::borrow::Cow;

use serde::Serialize;

use super::{AuditRecord, CopyForm, RedactionRecord, Segment, lines_label, percent};
use crate::model::Form;
use crate::proof::Cause;
use crate::rules::Test;

/// tera's truthiness of an optional string: present and not empty.
fn given<'a>(value: &Option<&'a str>) -> Option<&'a str> {
    value.filter(|v| !v.is_empty())
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Span => "span",
        Form::Div => "div",
        Form::Heading => "heading",
    }
}

fn test_name(test: Test) -> &'static str {
    match test {
        Test::Absolute => "absolute",
        Test::Qualified => "qualified",
    }
}

/// A row of the exemptions table.
#[derive(Serialize)]
pub(super) struct CodeRow<'a> {
    code: &'a str,
    /// `section 31, Law enforcement`.
    exemption: String,
    test: &'static str,
    public_interest_test: &'static str,
    redactions: usize,
    /// The numbers of the redactions naming the code.
    numbers: Vec<usize>,
    words: usize,
    percent: String,
}

pub(super) fn code_rows<'a>(record: &'a AuditRecord) -> Vec<CodeRow<'a>> {
    let paper = record.redactions.input.paper;
    record
        .totals
        .codes
        .iter()
        .map(|t| CodeRow {
            code: &t.code,
            exemption: format!("section {}, {}", t.section, t.title),
            test: test_name(t.test),
            public_interest_test: if t.test == Test::Qualified {
                "yes"
            } else {
                "no"
            },
            redactions: t.redactions,
            numbers: paper
                .redactions
                .iter()
                .filter(|r| r.codes.iter().any(|c| c.as_str() == t.code))
                .map(|r| r.number)
                .collect(),
            words: t.words,
            percent: percent(t.share),
        })
        .collect()
}

/// A row of the copies table.
#[derive(Serialize)]
pub(super) struct AudienceRow<'a> {
    audience: &'a str,
    marking: &'a str,
    redactions: usize,
    markers: usize,
    words: usize,
    percent: String,
    /// `S31: 3; S24: 1`, `nothing withheld`, or `none` (no schedule).
    schedule: String,
}

pub(super) fn audience_rows<'a>(record: &'a AuditRecord) -> Vec<AudienceRow<'a>> {
    record
        .totals
        .audiences
        .iter()
        .zip(&record.audiences)
        .map(|(t, a)| AudienceRow {
            audience: &t.audience,
            marking: &a.marking,
            redactions: t.redactions,
            markers: t.markers,
            words: t.words,
            percent: percent(t.share),
            schedule: match &t.schedule {
                None => "none".to_string(),
                Some(rows) if rows.is_empty() => "nothing withheld".to_string(),
                Some(rows) => rows
                    .iter()
                    .map(|row| format!("{}: {}", row.label, row.passages))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        })
        .collect()
}

/// Appends `text` escaped as tera's autoescape escapes a printed value (`&`, `<`, `>`, `"`
/// and `'`, the last as `&#39;`), so a fragment written here is the bytes the template's own
/// loop wrote.
fn push_escaped(out: &mut String, text: &str) {
    let mut done = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[done..at]);
        out.push_str(entity);
        done = at + 1;
    }
    out.push_str(&text[done..]);
}

/// Appends a number as tera prints it.
fn push_number(out: &mut String, n: usize) {
    use std::fmt::Write;
    let _ = write!(out, "{n}");
}

/// The runs of a `<pre>` of context: a withheld passage marked, a marker boxed, text left
/// out in a note, plain text as it is; every run escaped.
fn segments_html(out: &mut String, segments: &[Segment]) {
    for s in segments {
        let (open, close) = match s.kind {
            "withheld" => ("<mark class=\"withheld\">", "</mark>"),
            "marker" => ("<span class=\"marker\">", "</span>"),
            "note" => ("<em class=\"note\">", "</em>"),
            _ => ("", ""),
        };
        out.push_str(open);
        push_escaped(out, &s.text);
        out.push_str(close);
    }
}

/// One redaction's section of the page. The `_html` fields are HTML, every value in them
/// escaped here; the others are text, escaped by the template.
#[derive(Serialize)]
pub(super) struct EntryRow<'a> {
    number: usize,
    /// `Redaction 3 (#id): S31 & S24`.
    heading: String,
    form: &'static str,
    /// `4:7 to 4:30 (bytes 120–143)`.
    location: String,
    /// Each code linked to its row of the exemptions table, with its exemption; one a line.
    codes_html: String,
    reason: &'a str,
    /// One line per qualified code: its public interest summary.
    pits_html: String,
    words: usize,
    parent: Option<usize>,
    /// Links to the redactions inside this one; empty when none.
    nested_html: String,
    /// A row of the audiences table per audience.
    audiences_html: String,
    /// The council Markdown around the passage, for its `<pre>`.
    council_html: String,
    /// A `<div class="form">` per copy that withholds the passage.
    forms_html: String,
}

pub(super) fn entry_row<'a>(
    r: RedactionRecord<'a>,
    council: Vec<Segment<'a>>,
    forms: Vec<CopyForm<'a>>,
) -> EntryRow<'a> {
    let mut heading = format!("Redaction {}", r.number);
    if let Some(id) = given(&r.id) {
        heading.push_str(&format!(" (#{id})"));
    }
    for (n, c) in r.codes.iter().enumerate() {
        heading.push_str(if n == 0 { ": " } else { " & " });
        heading.push_str(c.code);
    }
    let mut codes_html = String::new();
    for (n, c) in r.codes.iter().enumerate() {
        if n > 0 {
            codes_html.push_str("<br>");
        }
        codes_html.push_str("<a href=\"#code-");
        push_escaped(&mut codes_html, c.code);
        codes_html.push_str("\">");
        push_escaped(&mut codes_html, c.code);
        codes_html.push_str("</a>: ");
        push_escaped(
            &mut codes_html,
            &format!("section {}, {} ({})", c.section, c.title, test_name(c.test)),
        );
    }
    if r.codes.is_empty() {
        codes_html.push_str("none (presentational)");
    }
    let mut pits_html = String::new();
    for (n, c) in r.codes.iter().enumerate() {
        if c.test != Test::Qualified {
            continue;
        }
        // A line break before every code but the redaction's first, qualified or not.
        if n > 0 {
            pits_html.push_str("<br>");
        }
        push_escaped(&mut pits_html, c.code);
        pits_html.push_str(": ");
        match given(&c.pit) {
            Some(pit) => {
                push_escaped(&mut pits_html, pit);
                if c.pit_source == Some("rules") {
                    pits_html.push_str(" (default from the rules)");
                }
            }
            None => pits_html.push_str("<strong>no summary given</strong>"),
        }
    }
    if pits_html.is_empty() {
        pits_html.push_str("does not apply: every exemption relied on is absolute");
    }
    let mut nested_html = String::new();
    for (n, &nested) in r.nested.iter().enumerate() {
        if n > 0 {
            nested_html.push_str(", ");
        }
        nested_html.push_str("<a href=\"#redaction-");
        push_number(&mut nested_html, nested);
        nested_html.push_str("\">redaction ");
        push_number(&mut nested_html, nested);
        nested_html.push_str("</a>");
    }
    let mut audiences_html = String::new();
    for a in &r.audiences {
        audiences_html.push_str("\n<tr><td>");
        push_escaped(&mut audiences_html, a.audience);
        audiences_html.push_str("</td><td>");
        if a.withheld {
            audiences_html.push_str("yes");
            if let Some(within) = a.within.filter(|&w| w != 0) {
                audiences_html.push_str(" (inside <a href=\"#redaction-");
                push_number(&mut audiences_html, within);
                audiences_html.push_str("\">redaction ");
                push_number(&mut audiences_html, within);
                audiences_html.push_str("</a>)");
            }
        } else {
            audiences_html.push_str("no");
        }
        audiences_html.push_str("</td><td>");
        match a.marker.as_deref().filter(|m| !m.is_empty()) {
            Some(marker) => {
                audiences_html.push_str("<span class=\"marker\">");
                push_escaped(&mut audiences_html, marker);
                audiences_html.push_str("</span>");
            }
            None => audiences_html.push_str("the passage"),
        }
        audiences_html.push_str("</td></tr>");
    }
    // Room for the text and a little markup and escaping, so the strings seldom grow.
    let room = |segments: &[Segment]| segments.iter().map(|s| s.text.len() + 32).sum::<usize>();
    let mut council_html = String::with_capacity(room(&council));
    segments_html(&mut council_html, &council);
    let mut forms_html = String::with_capacity(forms.iter().map(|f| room(&f.segments) + 64).sum());
    for f in &forms {
        forms_html.push_str("\n<div class=\"form\">\n<h4>");
        push_escaped(&mut forms_html, f.audience);
        forms_html.push_str(" Markdown</h4>\n<pre>");
        segments_html(&mut forms_html, &f.segments);
        forms_html.push_str("</pre>\n</div>");
    }
    EntryRow {
        number: r.number,
        heading,
        form: form_name(r.form),
        location: format!(
            "{} to {} (bytes {}–{})",
            r.start, r.end, r.bytes.start, r.bytes.end
        ),
        codes_html,
        reason: given(&r.reason).unwrap_or("none given"),
        pits_html,
        words: r.words,
        parent: r.parent.filter(|&p| p != 0),
        nested_html,
        audiences_html,
        council_html,
        forms_html,
    }
}

/// A row of the comments table.
#[derive(Serialize)]
pub(super) struct CommentRow<'a> {
    number: usize,
    /// `3:1 to 3:25`.
    location: String,
    text: &'a str,
}

pub(super) fn comment_rows<'a>(
    record: &'a AuditRecord,
    range: std::ops::Range<usize>,
) -> Vec<CommentRow<'a>> {
    record.comments[range]
        .iter()
        .map(|c| CommentRow {
            number: c.number,
            location: format!("{} to {}", c.start, c.end),
            text: c.text,
        })
        .collect()
}

/// A row of the proof's summary table.
#[derive(Serialize)]
pub(super) struct ProofRow<'a> {
    audience: &'a str,
    matches: &'static str,
    edits: usize,
    hunk_count: usize,
    explained: usize,
}

pub(super) fn proof_rows<'a>(record: &'a AuditRecord) -> Vec<ProofRow<'a>> {
    record
        .proof
        .iter()
        .map(|p| ProofRow {
            audience: &p.audience,
            matches: if p.matches { "yes" } else { "NO" },
            edits: p.edits,
            hunk_count: p.hunks.len(),
            explained: p
                .hunks
                .iter()
                .filter(|h| !h.explained_by.is_empty())
                .count(),
        })
        .collect()
}

/// A row of a copy's line diff; the first of a copy opens its table, the last closes it.
#[derive(Serialize)]
pub(super) struct HunkRow<'a> {
    /// The copy's audience, on the copy's first hunk.
    table: Option<&'a str>,
    /// The row's `<tr>`: its lines and what explains it, every value escaped here.
    row_html: String,
    last: bool,
}

/// Every copy's hunks in order, as (proof, hunk) index pairs.
pub(super) fn hunk_index(record: &AuditRecord) -> Vec<(usize, usize)> {
    record
        .proof
        .iter()
        .enumerate()
        .flat_map(|(p, proof)| (0..proof.hunks.len()).map(move |h| (p, h)))
        .collect()
}

pub(super) fn hunk_rows<'a>(record: &'a AuditRecord, index: &[(usize, usize)]) -> Vec<HunkRow<'a>> {
    index
        .iter()
        .map(|&(p, h)| {
            let proof = &record.proof[p];
            let hunk = &proof.hunks[h];
            let mut row_html = String::from("<tr><td>");
            push_escaped(&mut row_html, &lines_label(&hunk.council));
            row_html.push_str("</td><td>");
            push_escaped(&mut row_html, &lines_label(&hunk.copy));
            row_html.push_str("</td><td>");
            for (n, cause) in hunk.explained_by.iter().enumerate() {
                if n > 0 {
                    row_html.push_str(", ");
                }
                let (text, redaction): (Cow<str>, _) = match cause {
                    Cause::Marker { redaction, .. } => ("".into(), Some(*redaction)),
                    Cause::Tag { redaction } => ("tag of ".into(), Some(*redaction)),
                    Cause::Comment { comment } => (format!("comment {comment}").into(), None),
                    Cause::Reference { reference } => {
                        (format!("definition {reference}").into(), None)
                    }
                    Cause::FrontMatter => ("front matter".into(), None),
                    Cause::Schedule => ("schedule".into(), None),
                };
                push_escaped(&mut row_html, &text);
                if let Some(redaction) = redaction.filter(|&r| r != 0) {
                    row_html.push_str("<a href=\"#redaction-");
                    push_number(&mut row_html, redaction);
                    row_html.push_str("\">redaction ");
                    push_number(&mut row_html, redaction);
                    row_html.push_str("</a>");
                }
            }
            row_html.push_str("</td></tr>");
            HunkRow {
                table: (h == 0).then_some(proof.audience.as_str()),
                row_html,
                last: h + 1 == proof.hunks.len(),
            }
        })
        .collect()
}
