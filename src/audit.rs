//! Paper + its rendered copies → the diff audit: a JSON record (schema 1) and an HTML page
//! for the FOI officer, listing every redaction with its exemptions, location, withheld text,
//! reason, public interest test, word count and what each audience sees in its place, every
//! removed comment, totals per code and per audience, and the proof (proof.rs) that each copy
//! differs from the source by exactly those changes.
//!
//! The audit holds withheld text: it carries the highest marking among the paper's own and
//! its audiences', and pipeline.rs writes it under `audit/`, never under an audience folder.
//! It has no timestamps; the only date in it is the `--date` given.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::Context;

use crate::model::{Form, Paper};
use crate::proof::{Applied, Cause, Lines, Proof, prove};
use crate::redact::marker_label;
use crate::render::{AUDIT_TEMPLATE, Templates, escape_css_string};
use crate::rules::{Audience, Marking, Origin, Rules, Test, hex};
use crate::schedule::{Release, Schedule, ScheduleRow, withheld_within};
use crate::span::{LineIndex, Span};

/// The version of the JSON layout; bump it when a field changes meaning or goes away.
pub const SCHEMA: u32 = 1;

/// One audience's rendered copy, as it will be written.
#[derive(Debug, Clone)]
pub struct CopyOutput<'a> {
    pub audience: &'a Audience,
    pub schedule: Option<Schedule>,
    pub markdown: String,
}

/// What the audit needs about one paper's build.
pub struct AuditInput<'a> {
    /// The paper's path as given on the command line (or found by the walk).
    pub path: &'a Path,
    pub name: &'a str,
    pub text: &'a str,
    pub paper: &'a Paper,
    pub rules: &'a Rules,
    pub templates: &'a Templates,
    pub release: &'a Release,
    pub copies: &'a [CopyOutput<'a>],
}

/// The audit of one paper: its two files, and what the build must report.
#[derive(Debug)]
pub struct Audit {
    pub record: AuditRecord,
    pub json: String,
    pub html: String,
    /// Proof failures: the paper's copies must not be written.
    pub findings: Vec<String>,
    /// Worth a look, never a failure (a qualified exemption with no public interest summary).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditRecord {
    pub schema: u32,
    /// The marking this audit carries: the highest of the paper's and its audiences'.
    pub marking: String,
    pub paper: PaperRecord,
    pub rules: OriginRecord,
    pub templates: OriginRecord,
    pub release: Release,
    pub audiences: Vec<AudienceRecord>,
    pub redactions: Vec<RedactionRecord>,
    pub comments: Vec<CommentRecord>,
    pub totals: Totals,
    pub proof: Vec<Proof>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PaperRecord {
    pub path: String,
    pub name: String,
    pub title: String,
    pub classification: String,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct OriginRecord {
    /// `embedded` or `folder`.
    pub source: &'static str,
    pub path: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct AudienceRecord {
    pub name: String,
    pub marking: String,
    pub withholds: Vec<String>,
    /// Codes shown under a combined label (`S23 / S24`).
    pub combined: Vec<CombinedCode>,
    pub schedule: bool,
}

#[derive(Debug, Serialize)]
pub struct CombinedCode {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct CodeRecord {
    pub code: String,
    pub section: String,
    pub title: String,
    pub test: Test,
    /// Qualified exemptions only: the redaction's `pit`, else the rules' default for the code.
    pub pit: Option<String>,
    /// `attribute`, `rules`, or null.
    pub pit_source: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct RedactionAudience {
    pub audience: String,
    pub withheld: bool,
    /// The marker shown in its place, or null where the passage is shown.
    pub marker: Option<String>,
    /// When withheld as part of an enclosing redaction: that redaction's number.
    pub within: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct RedactionRecord {
    pub number: usize,
    pub id: Option<String>,
    pub form: Form,
    pub codes: Vec<CodeRecord>,
    /// `line:col`, 1-based; the end is exclusive.
    pub start: String,
    pub end: String,
    pub bytes: Span,
    /// The source bytes of the passage, tags included.
    pub text: String,
    pub reason: Option<String>,
    pub pit: Option<String>,
    pub words: usize,
    pub parent: Option<usize>,
    pub nested: Vec<usize>,
    pub audiences: Vec<RedactionAudience>,
}

#[derive(Debug, Serialize)]
pub struct CommentRecord {
    pub number: usize,
    pub start: String,
    pub end: String,
    pub bytes: Span,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    /// Words of the body as read, tags, attributes and comments left out.
    pub body_words: usize,
    pub codes: Vec<CodeTotal>,
    pub audiences: Vec<AudienceTotal>,
}

#[derive(Debug, Serialize)]
pub struct CodeTotal {
    pub code: String,
    pub section: String,
    pub title: String,
    pub test: Test,
    /// Redactions naming the code.
    pub redactions: usize,
    /// Words inside those redactions, each word once.
    pub words: usize,
    /// `words` as a share of `body_words`, to four decimal places.
    pub share: f64,
}

#[derive(Debug, Serialize)]
pub struct AudienceCodeTotal {
    pub code: String,
    pub redactions: usize,
    pub words: usize,
}

#[derive(Debug, Serialize)]
pub struct AudienceTotal {
    pub audience: String,
    /// Redactions withheld, nested ones included.
    pub redactions: usize,
    /// Markers shown: one per maximal withheld passage.
    pub markers: usize,
    pub words: usize,
    pub share: f64,
    pub codes: Vec<AudienceCodeTotal>,
    pub schedule: Option<Vec<ScheduleRow>>,
}

/// Builds the audit, proving each copy. Fails only if the audit template fails to render.
pub fn audit(input: &AuditInput) -> Result<Audit, String> {
    let AuditInput {
        path,
        text,
        paper,
        rules,
        ..
    } = *input;
    let index = LineIndex::new(text);
    let at = |offset: usize| {
        let (line, col) = index.line_col(text, offset);
        format!("{line}:{col}")
    };
    let counter = WordCounter::new(text, paper);
    let within: Vec<Vec<Option<usize>>> = input
        .copies
        .iter()
        .map(|c| withheld_within(paper, c.audience))
        .collect();

    let proofs: Vec<Proof> = input
        .copies
        .iter()
        .map(|c| prove(paper, text, c.audience, c.schedule.as_ref(), &c.markdown))
        .collect();
    let findings: Vec<String> = proofs
        .iter()
        .flat_map(|p| p.findings.iter())
        .map(|f| format!("{}: error: audit: {f}", path.display()))
        .collect();

    let mut warnings = Vec::new();
    let mut redactions = Vec::with_capacity(paper.redactions.len());
    for (k, r) in paper.redactions.iter().enumerate() {
        let mut codes = Vec::new();
        let mut missing_pit = Vec::new();
        for code in &r.codes {
            let Some(e) = rules.exemption(code.as_str()) else {
                continue;
            };
            let (pit, source) = match e.test {
                Test::Absolute => (None, None),
                Test::Qualified => match (&r.pit, &e.pit) {
                    (Some(p), _) => (Some(p.clone()), Some("attribute")),
                    (None, Some(p)) => (Some(p.clone()), Some("rules")),
                    (None, None) => {
                        missing_pit.push(code.as_str());
                        (None, None)
                    }
                },
            };
            codes.push(CodeRecord {
                code: code.to_string(),
                section: e.section.clone(),
                title: e.title.clone(),
                test: e.test,
                pit,
                pit_source: source,
            });
        }
        let audiences: Vec<RedactionAudience> = input
            .copies
            .iter()
            .zip(&within)
            .map(|(c, w)| {
                let outer = w[k];
                RedactionAudience {
                    audience: c.audience.name.clone(),
                    withheld: outer.is_some(),
                    marker: outer.map(|o| marker_label(paper, o, c.audience)),
                    within: outer.filter(|&o| o != k).map(|o| o + 1),
                }
            })
            .collect();
        if !missing_pit.is_empty() && audiences.iter().any(|a| a.withheld) {
            // By number, not id: the id may itself be withheld, and this goes to stderr.
            warnings.push(format!(
                "{}:{}: warning: redaction {} is withheld under qualified exemption{} {} with no public interest test summary (give it pit=\"...\", or the code a default `pit` in the rules)",
                path.display(),
                at(r.span.start),
                r.number,
                if missing_pit.len() == 1 { "" } else { "s" },
                missing_pit.join(", ")
            ));
        }
        redactions.push(RedactionRecord {
            number: r.number,
            id: r.id.clone(),
            form: r.form,
            codes,
            start: at(r.span.start),
            end: at(r.span.end),
            bytes: r.span,
            text: text[r.span.start..r.span.end].to_string(),
            reason: r.reason.clone(),
            pit: r.pit.clone(),
            words: counter.words(&[r.span]),
            parent: r.parent.map(|p| p + 1),
            nested: paper.descendants(k).map(|d| d.number).collect(),
            audiences,
        });
    }

    let comments = paper
        .comments
        .iter()
        .enumerate()
        .map(|(n, c)| CommentRecord {
            number: n + 1,
            start: at(c.start),
            end: at(c.end),
            bytes: *c,
            text: text[c.start..c.end].to_string(),
        })
        .collect();

    let body_words = counter.words(&[Span::new(paper.body_start, text.len())]);
    let share = |words: usize| {
        if body_words == 0 {
            0.0
        } else {
            (words as f64 * 10_000.0 / body_words as f64).round() / 10_000.0
        }
    };
    let mut code_totals = Vec::new();
    for e in &rules.exemptions {
        let spans: Vec<Span> = paper
            .redactions
            .iter()
            .filter(|r| r.codes.contains(&e.code))
            .map(|r| r.span)
            .collect();
        if spans.is_empty() {
            continue;
        }
        let words = counter.words(&outermost(&spans));
        code_totals.push(CodeTotal {
            code: e.code.to_string(),
            section: e.section.clone(),
            title: e.title.clone(),
            test: e.test,
            redactions: spans.len(),
            words,
            share: share(words),
        });
    }
    let mut audience_totals = Vec::new();
    for (c, w) in input.copies.iter().zip(&within) {
        let markers: Vec<Span> = (0..paper.redactions.len())
            .filter(|&k| w[k] == Some(k))
            .map(|k| paper.redactions[k].span)
            .collect();
        let words = counter.words(&markers);
        let mut codes = Vec::new();
        for e in &rules.exemptions {
            if !c.audience.withholds.contains(&e.code) {
                continue;
            }
            let spans: Vec<Span> = (0..paper.redactions.len())
                .filter(|&k| w[k].is_some() && paper.redactions[k].codes.contains(&e.code))
                .map(|k| paper.redactions[k].span)
                .collect();
            if spans.is_empty() {
                continue;
            }
            codes.push(AudienceCodeTotal {
                code: e.code.to_string(),
                redactions: spans.len(),
                words: counter.words(&outermost(&spans)),
            });
        }
        audience_totals.push(AudienceTotal {
            audience: c.audience.name.clone(),
            redactions: w.iter().filter(|x| x.is_some()).count(),
            markers: markers.len(),
            words,
            share: share(words),
            codes,
            schedule: c.schedule.as_ref().map(|s| s.rows.clone()),
        });
    }

    let marking = audit_marking(paper, rules);
    let record = AuditRecord {
        schema: SCHEMA,
        marking: marking.clone(),
        paper: PaperRecord {
            path: path.display().to_string(),
            name: input.name.to_string(),
            title: paper.front_matter.title.clone(),
            classification: paper.front_matter.classification.clone(),
            sha256: hex(&Sha256::digest(text.as_bytes())),
        },
        rules: match &rules.origin {
            Origin::Embedded => OriginRecord {
                source: "embedded",
                path: None,
                sha256: rules.hash.clone(),
            },
            Origin::Folder(p) => OriginRecord {
                source: "folder",
                path: Some(p.display().to_string()),
                sha256: rules.hash.clone(),
            },
        },
        templates: OriginRecord {
            source: if input.templates.origin.is_some() {
                "folder"
            } else {
                "embedded"
            },
            path: input
                .templates
                .origin
                .as_ref()
                .map(|p| p.display().to_string()),
            sha256: input.templates.hash.clone(),
        },
        release: input.release.clone(),
        audiences: input
            .copies
            .iter()
            .map(|c| AudienceRecord {
                name: c.audience.name.clone(),
                marking: copy_marking(paper, c.audience),
                withholds: c
                    .audience
                    .withholds
                    .iter()
                    .map(|code| (rules.code_rank(code), code.to_string()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|(_, code)| code)
                    .collect(),
                combined: c
                    .audience
                    .labels
                    .iter()
                    .map(|(code, label)| (rules.code_rank(code), code.to_string(), label.clone()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|(_, code, label)| CombinedCode { code, label })
                    .collect(),
                schedule: c.audience.schedule,
            })
            .collect(),
        redactions,
        comments,
        totals: Totals {
            body_words,
            codes: code_totals,
            audiences: audience_totals,
        },
        proof: proofs,
        warnings: warnings.clone(),
    };

    let mut json = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
    json.push('\n');
    let html = audit_html(input, &record, &marking)?;
    Ok(Audit {
        record,
        json,
        html,
        findings,
        warnings,
    })
}

/// The marking a copy carries.
fn copy_marking(paper: &Paper, audience: &Audience) -> String {
    match &audience.marking {
        Marking::Source => paper.front_matter.classification.clone(),
        Marking::Fixed(m) => m.clone(),
    }
}

/// The highest marking among the paper's audiences, and never lower than the paper's own:
/// the audit holds every withheld passage.
pub fn audit_marking(paper: &Paper, rules: &Rules) -> String {
    let rank = |m: &str| rules.markings.iter().position(|x| x == m).unwrap_or(0);
    let mut best = paper.front_matter.classification.clone();
    for audience in &rules.audiences {
        let m = copy_marking(paper, audience);
        if rank(&m) > rank(&best) {
            best = m;
        }
    }
    best
}

/// Drops spans enclosed by another in the list, so nested words count once.
fn outermost(spans: &[Span]) -> Vec<Span> {
    let mut sorted = spans.to_vec();
    sorted.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Span> = Vec::new();
    for s in sorted {
        match out.last() {
            Some(last) if last.encloses(s) => {}
            _ => out.push(s),
        }
    }
    out
}

/// Counts words (white-space separated runs holding a letter or digit) in the text a reader
/// sees: redaction tags, attribute blocks (with their reasons) and comments left out.
struct WordCounter<'a> {
    text: &'a str,
    excluded: Vec<Span>,
}

impl<'a> WordCounter<'a> {
    fn new(text: &'a str, paper: &Paper) -> Self {
        let mut excluded: Vec<Span> = Vec::new();
        for r in &paper.redactions {
            excluded.extend([r.open, r.close, r.attrs]);
        }
        excluded.extend(paper.heading_attrs.iter().map(|h| h.span));
        excluded.extend(paper.comments.iter().copied());
        excluded.retain(|s| !s.is_empty());
        excluded.sort();
        let mut merged: Vec<Span> = Vec::with_capacity(excluded.len());
        for s in excluded {
            match merged.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => merged.push(s),
            }
        }
        WordCounter {
            text,
            excluded: merged,
        }
    }

    /// Words in each of `spans` (disjoint), a word never running from one span to the next.
    fn words(&self, spans: &[Span]) -> usize {
        let mut total = 0;
        for span in spans {
            let mut counted = false;
            let mut at = span.start;
            let first = self.excluded.partition_point(|e| e.end <= span.start);
            let mut cuts = self.excluded[first..].iter().peekable();
            while at < span.end {
                // Skip an excluded stretch: the text either side joins as if it were absent.
                if let Some(cut) = cuts.peek()
                    && cut.start <= at
                {
                    at = at.max(cut.end);
                    cuts.next();
                    continue;
                }
                let stop = cuts
                    .peek()
                    .map(|c| c.start)
                    .unwrap_or(span.end)
                    .min(span.end);
                for c in self.text[at..stop].chars() {
                    if c.is_whitespace() {
                        counted = false;
                    } else if !counted && c.is_alphanumeric() {
                        counted = true;
                        total += 1;
                    }
                }
                at = stop;
            }
        }
        total
    }
}

/// A run of context text for the audit page.
#[derive(Debug, Serialize)]
struct Segment {
    text: String,
    /// `plain`, `withheld` (the passage, in the council form), `marker`, or `note` (text
    /// left out).
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct CopyForm {
    audience: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Serialize)]
struct EntryView<'a> {
    record: &'a RedactionRecord,
    anchor: String,
    /// A public interest test applies to at least one of its codes.
    qualified: bool,
    council: Vec<Segment>,
    forms: Vec<CopyForm>,
}

#[derive(Debug, Serialize)]
struct CodeView<'a> {
    total: &'a CodeTotal,
    anchor: String,
    public_interest_test: bool,
    percent: String,
    entries: Vec<Link>,
}

#[derive(Debug, Serialize)]
struct Link {
    number: usize,
    anchor: String,
}

#[derive(Debug, Serialize)]
struct AudienceView<'a> {
    total: &'a AudienceTotal,
    marking: String,
    percent: String,
}

#[derive(Debug, Serialize)]
struct ProofView<'a> {
    proof: &'a Proof,
    explained: usize,
    hunks: Vec<HunkView<'a>>,
}

#[derive(Debug, Serialize)]
struct HunkView<'a> {
    council_lines: String,
    copy_lines: String,
    explained_by: &'a [Cause],
}

/// `12`, `12–14`, or `after 11` for a place between lines.
fn lines_label(lines: &Lines) -> String {
    match lines.count {
        0 => format!("after {}", lines.start - 1),
        1 => lines.start.to_string(),
        n => format!("{}–{}", lines.start, lines.start + n - 1),
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// The index of the outermost redaction `index` is withheld with in an audience's copy.
fn within_of(audience: &RedactionAudience, index: usize) -> usize {
    audience.within.map(|n| n - 1).unwrap_or(index)
}

/// The edits of a sorted, non-overlapping list that overlap `[start, end)`.
fn edits_within<'e, 'a>(edits: &'e [&'a Applied], start: usize, end: usize) -> &'e [&'a Applied] {
    let lo = edits.partition_point(|e| e.old.end <= start);
    let hi = edits.partition_point(|e| e.old.start < end).max(lo);
    &edits[lo..hi]
}

/// Bytes of context shown either side of a passage in the audit page.
const CONTEXT: usize = 400;
/// Bytes of a withheld passage shown in the audit page before the middle is left out (the
/// JSON always holds all of it).
const PASSAGE: usize = 4000;

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The context around `span`: its own lines and one line either side within the same
/// paragraph, never more than [`CONTEXT`] bytes either side of it. The flags say whether
/// text was cut off before or after.
fn around(text: &str, paper: &Paper, span: Span) -> (Span, bool, bool) {
    let floor = paper.body_start;
    let line_start = |at: usize| {
        text[..at]
            .rfind(['\n', '\r'])
            .map(|n| n + 1)
            .unwrap_or(0)
            .max(floor)
    };
    let line_end = |at: usize| {
        text[at..]
            .find(['\n', '\r'])
            .map(|n| at + n)
            .unwrap_or(text.len())
    };
    let next_line = |end: usize| {
        if text[end..].starts_with("\r\n") {
            end + 2
        } else {
            (end + 1).min(text.len())
        }
    };
    let blank = |a: usize, b: usize| text[a..b].trim().is_empty();
    let mut start = line_start(span.start);
    if start > floor {
        let prev = line_start(start - 1);
        if !blank(prev, start) {
            start = prev;
        }
    }
    let mut end = line_end(span.end);
    if end < text.len() {
        let next = next_line(end);
        let next_end = line_end(next);
        if !blank(next, next_end) {
            end = next_end;
        }
    }
    let clipped_start = ceil_boundary(text, start.max(span.start.saturating_sub(CONTEXT)));
    let clipped_end = floor_boundary(text, end.min(span.end + CONTEXT));
    (
        Span::new(clipped_start, clipped_end),
        clipped_start > start,
        clipped_end < end,
    )
}

/// The passage's text for the page, its middle left out past [`PASSAGE`] bytes.
fn passage_segments(text: &str, kind: &'static str) -> Vec<Segment> {
    if text.len() <= PASSAGE {
        return vec![Segment {
            text: text.to_string(),
            kind,
        }];
    }
    let head = floor_boundary(text, PASSAGE / 2);
    let tail = ceil_boundary(text, text.len() - PASSAGE / 2);
    vec![
        Segment {
            text: text[..head].to_string(),
            kind,
        },
        Segment {
            text: format!(
                " [… {} characters left out here; the JSON audit holds the whole passage …] ",
                text[head..tail].chars().count()
            ),
            kind: "note",
        },
        Segment {
            text: text[tail..].to_string(),
            kind,
        },
    ]
}

fn cut(before: bool) -> Option<Segment> {
    before.then(|| Segment {
        text: "…".to_string(),
        kind: "note",
    })
}

fn audit_html(input: &AuditInput, record: &AuditRecord, marking: &str) -> Result<String, String> {
    let AuditInput { text, paper, .. } = *input;
    let proofs = &record.proof;
    let body_edits: Vec<Vec<&Applied>> = proofs
        .iter()
        .map(|p| {
            p.splice
                .applied
                .iter()
                .filter(|a| matches!(a.cause, Cause::Marker { .. } | Cause::Comment { .. }))
                .collect()
        })
        .collect();
    let mut entries = Vec::with_capacity(record.redactions.len());
    for (k, r) in record.redactions.iter().enumerate() {
        let span = paper.redactions[k].span;
        let shown: Vec<usize> = r
            .audiences
            .iter()
            .enumerate()
            .filter(|(_, a)| a.withheld)
            .map(|(i, _)| i)
            .collect();
        let (range, cut_before, cut_after) = around(text, paper, span);
        let mut council: Vec<Segment> = cut(cut_before).into_iter().collect();
        council.push(Segment {
            text: text[range.start..span.start].to_string(),
            kind: "plain",
        });
        council.extend(passage_segments(&text[span.start..span.end], "withheld"));
        council.push(Segment {
            text: text[span.end..range.end].to_string(),
            kind: "plain",
        });
        council.extend(cut(cut_after));
        let forms = shown
            .iter()
            .map(|&i| {
                // In the copy the passage is the marker of its outermost withheld redaction.
                let outer = within_of(&r.audiences[i], k);
                let outer_span = paper.redactions[outer].span;
                let (mut range, mut cut_before, mut cut_after) = around(text, paper, outer_span);
                // Never cut an edit in half: leave out one that crosses the window's edge.
                let edits = &body_edits[i];
                for e in edits_within(edits, range.start, outer_span.start) {
                    if e.old.start < range.start {
                        range.start = e.old.end;
                        cut_before = true;
                    }
                }
                for e in edits_within(edits, outer_span.end, range.end) {
                    if e.old.end > range.end {
                        range.end = e.old.start.max(outer_span.end);
                        cut_after = true;
                        break;
                    }
                }
                let mut segments: Vec<Segment> = cut(cut_before).into_iter().collect();
                segments.extend(spliced_segments(text, range, edits, &proofs[i].splice.text));
                segments.extend(cut(cut_after));
                CopyForm {
                    audience: r.audiences[i].audience.clone(),
                    segments,
                }
            })
            .collect();
        entries.push(EntryView {
            record: r,
            anchor: format!("redaction-{}", r.number),
            qualified: r.codes.iter().any(|c| c.test == Test::Qualified),
            council: council.into_iter().filter(|s| !s.text.is_empty()).collect(),
            forms,
        });
    }
    let codes: Vec<CodeView> = record
        .totals
        .codes
        .iter()
        .map(|t| CodeView {
            total: t,
            anchor: format!("code-{}", t.code),
            public_interest_test: t.test == Test::Qualified,
            percent: percent(t.share),
            entries: record
                .redactions
                .iter()
                .filter(|r| r.codes.iter().any(|c| c.code == t.code))
                .map(|r| Link {
                    number: r.number,
                    anchor: format!("redaction-{}", r.number),
                })
                .collect(),
        })
        .collect();
    let audiences: Vec<AudienceView> = record
        .totals
        .audiences
        .iter()
        .zip(&record.audiences)
        .map(|(t, a)| AudienceView {
            total: t,
            marking: a.marking.clone(),
            percent: percent(t.share),
        })
        .collect();
    let proof_views: Vec<ProofView> = proofs
        .iter()
        .map(|p| ProofView {
            proof: p,
            explained: p
                .hunks
                .iter()
                .filter(|h| !h.explained_by.is_empty())
                .count(),
            hunks: p
                .hunks
                .iter()
                .map(|h| HunkView {
                    council_lines: lines_label(&h.council),
                    copy_lines: lines_label(&h.copy),
                    explained_by: &h.explained_by,
                })
                .collect(),
        })
        .collect();
    let mut context = Context::new();
    context.insert("marking", marking);
    context.insert("marking_css", &escape_css_string(marking));
    context.insert("title", &record.paper.title);
    context.insert("schema", &record.schema);
    context.insert("paper", &record.paper);
    context.insert("rules", &record.rules);
    context.insert("templates", &record.templates);
    context.insert("release", &record.release);
    context.insert("body_words", &record.totals.body_words);
    context.insert("codes", &codes);
    context.insert("audiences", &audiences);
    context.insert("entries", &entries);
    context.insert("comments", &record.comments);
    context.insert("proofs", &proof_views);
    context.insert("warnings", &record.warnings);
    input.templates.render(AUDIT_TEMPLATE, &context)
}

/// The copy's text for source `range`: verbatim stretches, and each edit inside it as its
/// replacement (markers flagged). `range` never cuts an edit (context_range sees to that);
/// `edits` are in source order and never overlap.
fn spliced_segments(text: &str, range: Span, edits: &[&Applied], copy: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = range.start;
    for e in edits_within(edits, range.start, range.end) {
        if e.old.start > at {
            out.push(Segment {
                text: text[at..e.old.start].to_string(),
                kind: "plain",
            });
        }
        if let Cause::Marker { .. } = e.cause {
            out.push(Segment {
                text: copy[e.new.clone()].to_string(),
                kind: "marker",
            });
        }
        at = at.max(e.old.end);
    }
    if at < range.end {
        out.push(Segment {
            text: text[at..range.end].to_string(),
            kind: "plain",
        });
    }
    out.retain(|s| !s.text.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_paper;

    #[test]
    fn words_skip_tags_reasons_and_comments() {
        let rules = Rules::embedded().expect("embedded rules");
        let text = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\
                    One [two three]{.S31 reason=\"four five six\"} seven <!-- eight -->.\n\n\
                    ## Nine {.S24 reason=\"ten\"}\n\nEleven - twelve.\n";
        let paper = parse_paper(text, &rules).expect("parses");
        let counter = WordCounter::new(text, &paper);
        assert_eq!(counter.words(&[Span::new(paper.body_start, text.len())]), 7);
        assert_eq!(counter.words(&[paper.redactions[0].span]), 2);
        assert_eq!(counter.words(&[paper.redactions[1].span]), 3);
    }
}
