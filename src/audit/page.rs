//! The audit page's values, flat and ready to print: templates/audit.html (or a custom
//! audit template) only prints them, and tera renders every byte of the page. What a loop of
//! the template would work out for each row (a heading with its codes joined, a location, the
//! schedule in one line, which hunk opens or closes a copy's table) is worked out here, once,
//! so tera builds few values per row and its loops only print. Every value is text, escaped
//! by the template's autoescape; nothing here writes HTML.

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

#[derive(Serialize)]
struct CodeLine<'a> {
    code: &'a str,
    /// `section 31, Law enforcement (qualified)`.
    exemption: String,
}

#[derive(Serialize)]
struct PitLine<'a> {
    /// A line break before it: the code is not the redaction's first.
    br: bool,
    code: &'a str,
    /// The summary, marked when it is the rules' default; null when none is given.
    pit: Option<String>,
}

#[derive(Serialize)]
struct AudienceLine<'a> {
    audience: &'a str,
    withheld: bool,
    within: Option<usize>,
    marker: Option<String>,
}

/// One redaction's section of the page.
#[derive(Serialize)]
pub(super) struct EntryRow<'a> {
    number: usize,
    /// `Redaction 3 (#id): S31 & S24`.
    heading: String,
    form: &'static str,
    /// `4:7 to 4:30 (bytes 120–143)`.
    location: String,
    codes: Vec<CodeLine<'a>>,
    reason: &'a str,
    /// One per qualified code; empty when every code is absolute.
    pits: Vec<PitLine<'a>>,
    words: usize,
    parent: Option<usize>,
    nested: Vec<usize>,
    audiences: Vec<AudienceLine<'a>>,
    council: Vec<Segment<'a>>,
    forms: Vec<CopyForm<'a>>,
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
    let pits = r
        .codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.test == Test::Qualified)
        .map(|(n, c)| PitLine {
            // The template's `loop.first` counted every code, qualified or not.
            br: n > 0,
            code: c.code,
            pit: given(&c.pit).map(|pit| {
                if c.pit_source == Some("rules") {
                    format!("{pit} (default from the rules)")
                } else {
                    pit.to_string()
                }
            }),
        })
        .collect();
    EntryRow {
        number: r.number,
        heading,
        form: form_name(r.form),
        location: format!(
            "{} to {} (bytes {}–{})",
            r.start, r.end, r.bytes.start, r.bytes.end
        ),
        codes: r
            .codes
            .iter()
            .map(|c| CodeLine {
                code: c.code,
                exemption: format!("section {}, {} ({})", c.section, c.title, test_name(c.test)),
            })
            .collect(),
        reason: given(&r.reason).unwrap_or("none given"),
        pits,
        words: r.words,
        parent: r.parent.filter(|&p| p != 0),
        nested: r.nested,
        audiences: r
            .audiences
            .into_iter()
            .map(|a| AudienceLine {
                audience: a.audience,
                withheld: a.withheld,
                within: a.within.filter(|&w| w != 0),
                marker: a.marker.filter(|m| !m.is_empty()),
            })
            .collect(),
        council,
        forms,
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

/// What explains a hunk: text, then a link to a redaction if it names one.
#[derive(Serialize)]
struct CauseLine<'a> {
    text: Cow<'a, str>,
    redaction: Option<usize>,
}

/// A row of a copy's line diff; the first of a copy opens its table, the last closes it.
#[derive(Serialize)]
pub(super) struct HunkRow<'a> {
    /// The copy's audience, on the copy's first hunk.
    table: Option<&'a str>,
    council_lines: String,
    copy_lines: String,
    explained_by: Vec<CauseLine<'a>>,
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
            HunkRow {
                table: (h == 0).then_some(proof.audience.as_str()),
                council_lines: lines_label(&hunk.council),
                copy_lines: lines_label(&hunk.copy),
                explained_by: hunk
                    .explained_by
                    .iter()
                    .map(|cause| {
                        let (text, redaction): (Cow<str>, _) = match cause {
                            Cause::Marker { redaction, .. } => ("".into(), Some(*redaction)),
                            Cause::Tag { redaction } => ("tag of ".into(), Some(*redaction)),
                            Cause::Comment { comment } => {
                                (format!("comment {comment}").into(), None)
                            }
                            Cause::Reference { reference } => {
                                (format!("definition {reference}").into(), None)
                            }
                            Cause::FrontMatter => ("front matter".into(), None),
                            Cause::Schedule => ("schedule".into(), None),
                        };
                        CauseLine { text, redaction }
                    })
                    .collect(),
                last: h + 1 == proof.hunks.len(),
            }
        })
        .collect()
}
