//! Paper + its rendered copies → the diff audit: a JSON record (schema 1) and an HTML page
//! for the FOI officer, listing every redaction with its exemptions, location, withheld text,
//! reason, public interest test, word count and what each audience sees in its place, every
//! removed comment, totals per code and per audience, and the proof (proof.rs) that each copy
//! differs from the source by exactly those changes.
//!
//! The audit holds withheld text: it carries the highest marking among the paper's own and
//! its audiences', and pipeline.rs writes it under `audit/`, never under an audience folder.
//! It has no timestamps; the only date in it is the `--date` given.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::Context;

use crate::model::{Form, Paper, Redaction};
use crate::proof::{Applied, Cause, Known, Proof, Prover};
use crate::render::{AuditList, Templates, escape_css_string};
use crate::rules::{Audience, Exemption, Marking, Origin, Rules, Test, hex};
use crate::schedule::{Release, Schedule, ScheduleRow};
use crate::span::{LineIndex, Span};

mod json;
mod page;

/// The version of the JSON layout; bump it when a field changes meaning or goes away.
pub const SCHEMA: u32 = 1;

/// One audience's rendered copy, as it will be written.
#[derive(Debug, Clone)]
pub struct CopyOutput<'a> {
    pub audience: &'a Audience,
    pub schedule: Option<Schedule>,
    pub markdown: Cow<'a, str>,
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

/// What the audit records of a paper withheld whole, if it is.
fn whole_record(paper: &Paper, rules: &Rules) -> Option<WholeRecord> {
    let fm = &paper.front_matter;
    if fm.withhold.is_empty() {
        return None;
    }
    Some(WholeRecord {
        codes: fm.withhold.iter().map(ToString::to_string).collect(),
        reason: fm.withhold_reason.clone(),
        public_title: fm.public_title.clone(),
        audiences: rules
            .audiences
            .iter()
            .filter(|a| fm.withheld_from(a))
            .map(|a| WholeAudience {
                audience: a.name.clone(),
                gets: if fm.denied_to(a) { "nothing" } else { "notice" },
            })
            .collect(),
    })
}

/// What the audit records of a withheld title, if it is.
fn title_record(paper: &Paper, rules: &Rules) -> Option<TitleRecord> {
    let fm = &paper.front_matter;
    if fm.title_withhold.is_empty() {
        return None;
    }
    Some(TitleRecord {
        codes: fm.title_withhold.iter().map(ToString::to_string).collect(),
        public_title: fm.public_title.clone(),
        audiences: rules
            .audiences
            .iter()
            .filter(|a| fm.title_withheld_from(a))
            .map(|a| a.name.clone())
            .collect(),
    })
}

/// The audit of one paper, proved and ready to write: what the build must report, and the
/// record its two files are written from (which borrows the paper and its copies).
pub struct Prepared<'a> {
    input: &'a AuditInput<'a>,
    record: AuditRecord<'a>,
    marking: String,
    /// Proof failures: the paper's copies must not be written.
    pub findings: Vec<String>,
    /// Worth a look, never a failure (a qualified exemption with no public interest summary).
    pub warnings: Vec<String>,
}

/// The audit of one paper in memory: its two files, and what the build must report.
#[derive(Debug)]
pub struct Audit {
    pub json: String,
    pub html: String,
    /// Proof failures: the paper's copies must not be written.
    pub findings: Vec<String>,
    /// Worth a look, never a failure (a qualified exemption with no public interest summary).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditRecord<'a> {
    pub schema: u32,
    /// The marking this audit carries: the highest of the paper's and its audiences'.
    pub marking: String,
    pub paper: PaperRecord,
    pub rules: OriginRecord,
    pub templates: OriginRecord,
    pub release: Release,
    pub audiences: Vec<AudienceRecord>,
    /// Made one at a time as they are written: a paper may have a million.
    pub redactions: Redactions<'a>,
    pub comments: Vec<CommentRecord<'a>>,
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
    /// Front matter `withhold`: the whole paper, and what each audience that withholds it got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withhold: Option<WholeRecord>,
    /// Front matter `title_withhold`: the title, and the audiences shown the public one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_withhold: Option<TitleRecord>,
}

#[derive(Debug, Serialize)]
pub struct WholeRecord {
    pub codes: Vec<String>,
    pub reason: Option<String>,
    pub public_title: Option<String>,
    /// Each audience that withholds the paper: `notice` (a notice of withholding in its
    /// place) or `nothing` (it combines a code to neither confirm nor deny).
    pub audiences: Vec<WholeAudience>,
}

#[derive(Debug, Serialize)]
pub struct WholeAudience {
    pub audience: String,
    pub gets: &'static str,
}

#[derive(Debug, Serialize)]
pub struct TitleRecord {
    pub codes: Vec<String>,
    pub public_title: Option<String>,
    /// Audiences that read `public_title` in place of the title.
    pub audiences: Vec<String>,
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
pub struct CodeRecord<'a> {
    pub code: &'a str,
    pub section: &'a str,
    pub title: &'a str,
    pub test: Test,
    /// Qualified exemptions only: the redaction's `pit`, else the rules' default for the code.
    pub pit: Option<&'a str>,
    /// `attribute`, `rules`, or null.
    pub pit_source: Option<&'static str>,
}

impl CodeRecord<'_> {
    /// A qualified exemption with no public interest test summary: a warning when withheld.
    fn lacks_pit(&self) -> bool {
        self.test == Test::Qualified && self.pit.is_none()
    }
}

#[derive(Debug, Serialize)]
pub struct RedactionAudience<'a> {
    pub audience: &'a str,
    pub withheld: bool,
    /// The marker shown in its place, or null where the passage is shown.
    pub marker: Option<String>,
    /// When withheld as part of an enclosing redaction: that redaction's number.
    pub within: Option<usize>,
    /// Footnote and link definitions withheld with this passage because only withheld text
    /// uses them (`[^note]`, `[label]`), listed under each redaction that uses them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RedactionRecord<'a> {
    pub number: usize,
    pub id: Option<&'a str>,
    pub form: Form,
    pub codes: Vec<CodeRecord<'a>>,
    /// `line:col`, 1-based; the end is exclusive.
    pub start: String,
    pub end: String,
    pub bytes: Span,
    /// The source bytes of the passage, tags included.
    pub text: &'a str,
    pub reason: Option<&'a str>,
    pub pit: Option<&'a str>,
    pub words: usize,
    pub parent: Option<usize>,
    pub nested: Vec<usize>,
    pub audiences: Vec<RedactionAudience<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CommentRecord<'a> {
    pub number: usize,
    pub start: String,
    pub end: String,
    pub bytes: Span,
    pub text: &'a str,
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

/// Every redaction's record, made on demand from the paper: holding them all would take
/// several times a large paper's size.
pub struct Redactions<'a> {
    input: &'a AuditInput<'a>,
    columns: Columns<'a>,
    counter: WordCounter<'a>,
    /// For each audience, each redaction's outermost withheld redaction, if withheld.
    within: Vec<Vec<Option<usize>>>,
    /// For each audience, the marker label of each redaction withheld as a whole.
    markers: Vec<Vec<Option<String>>>,
    /// For each audience, the definitions withheld with each redaction that uses them.
    references: Vec<BTreeMap<usize, Vec<String>>>,
    exemptions: Exemptions<'a>,
    /// Each redaction's place and words, worked out once: the JSON and the page both print them.
    places: Vec<Place>,
}

/// Where a redaction is, as `line:col` of its start and end, and the words in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    start: (usize, usize),
    end: (usize, usize),
    words: usize,
}

/// Redaction `r`'s [`Place`], worked out.
fn place_of(columns: &Columns, counter: &WordCounter, r: &Redaction) -> Place {
    Place {
        start: columns.line_col(r.span.start),
        end: columns.line_col(r.span.end),
        words: counter.words(&[r.span]),
    }
}

impl<'a> Redactions<'a> {
    pub fn len(&self) -> usize {
        self.input.paper.redactions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `line:col` of a source offset.
    fn at(&self, offset: usize) -> String {
        line_col(self.columns.line_col(offset))
    }

    /// Redaction `k`'s codes as recorded, and the qualified ones with no public interest test
    /// summary.
    fn codes(&self, k: usize) -> (Vec<CodeRecord<'a>>, Vec<&'a str>) {
        codes_of(self.input, &self.exemptions, k)
    }
}

/// `line:col`, written without the formatting machinery (every comment's place is one).
fn line_col((line, col): (usize, usize)) -> String {
    let (mut digits, mut out) = (itoa::Buffer::new(), String::with_capacity(12));
    out.push_str(digits.format(line));
    out.push(':');
    out.push_str(digits.format(col));
    out
}

/// Each exemption of the rules by its code: asked for every code of every redaction, where
/// [`Rules::exemption`]'s scan of the list compared strings by the dozen.
struct Exemptions<'a>(CodeMap<'a, &'a Exemption>);

/// A map keyed by exemption code: a few dozen short keys, hashed by foldhash (SipHash cost
/// more than the look-ups it served; nothing depends on the order).
type CodeMap<'a, V> = std::collections::HashMap<&'a str, V, foldhash::fast::RandomState>;

impl<'a> Exemptions<'a> {
    fn new(rules: &'a Rules) -> Self {
        Exemptions(
            rules
                .exemptions
                .iter()
                .rev()
                .map(|e| (e.code.as_str(), e))
                .collect(),
        )
    }

    /// As [`Rules::exemption`]: the first exemption with that code (the list is collected in
    /// reverse, so the first one is the one kept).
    fn get(&self, code: &str) -> Option<&'a Exemption> {
        self.0.get(code).copied()
    }
}

/// Redaction `k`'s codes as recorded, and the qualified ones with no public interest test
/// summary.
fn codes_of<'a>(
    input: &AuditInput<'a>,
    exemptions: &Exemptions<'a>,
    k: usize,
) -> (Vec<CodeRecord<'a>>, Vec<&'a str>) {
    let r = &input.paper.redactions[k];
    let mut codes = Vec::with_capacity(r.codes.len());
    let mut missing_pit = Vec::new();
    for record in code_records(r, exemptions) {
        if record.lacks_pit() {
            missing_pit.push(record.code);
        }
        codes.push(record);
    }
    (codes, missing_pit)
}

/// Each code of `r` the rules define, as recorded: a qualified one takes the redaction's
/// `pit`, else the rules' default for the code, else none.
fn code_records<'a, 'e>(
    r: &'a Redaction,
    exemptions: &'e Exemptions<'a>,
) -> impl Iterator<Item = CodeRecord<'a>> + 'e
where
    'a: 'e,
{
    r.codes.iter().filter_map(move |code| {
        let e = exemptions.get(code.as_str())?;
        let (pit, source) = match e.test {
            Test::Absolute => (None, None),
            Test::Qualified => match (&r.pit, &e.pit) {
                (Some(p), _) => (Some(p.as_str()), Some("attribute")),
                (None, Some(p)) => (Some(p.as_str()), Some("rules")),
                (None, None) => (None, None),
            },
        };
        Some(CodeRecord {
            code: code.as_str(),
            section: &e.section,
            title: &e.title,
            test: e.test,
            pit,
            pit_source: source,
        })
    })
}

impl<'a> Redactions<'a> {
    /// Redaction `k`'s record.
    pub fn get(&self, k: usize) -> RedactionRecord<'a> {
        let AuditInput { text, paper, .. } = *self.input;
        let r = &paper.redactions[k];
        let audiences = self
            .input
            .copies
            .iter()
            .zip(&self.within)
            .zip(&self.markers)
            .zip(&self.references)
            .map(|(((c, w), labels), references)| {
                let outer = w[k];
                RedactionAudience {
                    audience: &c.audience.name,
                    withheld: outer.is_some(),
                    marker: outer.and_then(|o| labels[o].clone()),
                    within: outer.filter(|&o| o != k).map(|o| o + 1),
                    references: references.get(&k).cloned().unwrap_or_default(),
                }
            })
            .collect();
        RedactionRecord {
            number: r.number,
            id: r.id.as_deref(),
            form: r.form,
            codes: self.codes(k).0,
            start: line_col(self.places[k].start),
            end: line_col(self.places[k].end),
            bytes: r.span,
            text: &text[r.span.start..r.span.end],
            reason: r.reason.as_deref(),
            pit: r.pit.as_deref(),
            words: self.places[k].words,
            parent: r.parent.map(|p| p + 1),
            nested: paper.descendants(k).map(|d| d.number).collect(),
            audiences,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = RedactionRecord<'a>> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }
}

impl std::fmt::Debug for Redactions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactions({})", self.len())
    }
}

impl Serialize for Redactions<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for record in self.iter() {
            seq.serialize_element(&record)?;
        }
        seq.end()
    }
}

/// Builds the audit in memory, proving each copy. Fails only if the audit template fails to
/// render.
pub fn audit(input: &AuditInput) -> Result<Audit, String> {
    let prepared = prepare(input);
    let mut json = Vec::new();
    prepared.write_json(&mut json)?;
    let mut html = Vec::new();
    prepared.write_html(&mut html)?;
    let to_string = |bytes| String::from_utf8(bytes).map_err(|e| e.to_string());
    Ok(Audit {
        json: to_string(json)?,
        html: to_string(html)?,
        findings: prepared.findings,
        warnings: prepared.warnings,
    })
}

impl Prepared<'_> {
    /// Writes the JSON record.
    pub fn write_json(&self, out: &mut dyn Write) -> Result<(), String> {
        json::write_record(&self.record, out)
    }

    /// Writes the HTML page. Fails if the audit template fails to render.
    pub fn write_html(&self, out: &mut dyn Write) -> Result<(), String> {
        audit_html(self.input, &self.record, &self.marking, out)
    }
}

/// Proves each copy and gathers the audit's record.
pub fn prepare<'a>(input: &'a AuditInput<'a>) -> Prepared<'a> {
    let AuditInput {
        path,
        text,
        paper,
        rules,
        ..
    } = *input;
    let columns = Columns::new(text);
    let counter = WordCounter::new(text, paper);
    let within: Vec<Vec<Option<usize>>> = input
        .copies
        .iter()
        .map(|c| paper.outermost_withheld(c.audience))
        .collect();

    // Each marker's label once: every redaction nested in a withheld one shows the same, and
    // working it out walks all of them.
    let markers: Vec<Vec<Option<String>>> = input
        .copies
        .iter()
        .zip(&within)
        .map(|(c, w)| {
            (0..w.len())
                .map(|k| (w[k] == Some(k)).then(|| paper.marker_text(k, c.audience)))
                .collect()
        })
        .collect();
    let references: Vec<BTreeMap<usize, Vec<String>>> = within
        .iter()
        .map(|w| {
            let maximal: Vec<usize> = (0..w.len()).filter(|&k| w[k] == Some(k)).collect();
            let mut by: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for (n, users) in paper.withheld_references(&maximal) {
                for k in users {
                    by.entry(k).or_default().push(paper.references[n].name());
                }
            }
            by
        })
        .collect();
    let known: Vec<Known> = within
        .iter()
        .zip(&markers)
        .map(|(within, markers)| Known { within, markers })
        .collect();
    let (proofs, findings) = prove_copies(input, &known);
    drop(known);
    let redactions = Redactions {
        input,
        within,
        markers,
        references,
        exemptions: Exemptions::new(rules),
        places: paper
            .redactions
            .iter()
            .map(|r| place_of(&columns, &counter, r))
            .collect(),
        columns,
        counter,
    };
    let warnings = missing_pit_warnings(
        input,
        &redactions.exemptions,
        &redactions.within,
        |offset| redactions.at(offset),
    );
    let (counter, within) = (&redactions.counter, &redactions.within);

    let comments = paper
        .comments
        .iter()
        .enumerate()
        .map(|(n, c)| CommentRecord {
            number: n + 1,
            start: redactions.at(c.start),
            end: redactions.at(c.end),
            bytes: *c,
            text: &text[c.start..c.end],
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
    // The redactions naming each code of the rules, in document order, from one pass.
    let naming = redactions_naming(paper, rules);
    let mut code_totals = Vec::new();
    for (e, named) in rules.exemptions.iter().zip(&naming) {
        let spans: Vec<Span> = named.iter().map(|&k| paper.redactions[k].span).collect();
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
    for (c, w) in input.copies.iter().zip(within) {
        let markers: Vec<Span> = (0..paper.redactions.len())
            .filter(|&k| w[k] == Some(k))
            .map(|k| paper.redactions[k].span)
            .collect();
        let words = counter.words(&markers);
        let mut codes = Vec::new();
        for (e, named) in rules.exemptions.iter().zip(&naming) {
            if named.is_empty() || !c.audience.withholds.contains(&e.code) {
                continue;
            }
            let spans: Vec<Span> = named
                .iter()
                .filter(|&&k| w[k].is_some())
                .map(|&k| paper.redactions[k].span)
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
            withhold: whole_record(paper, rules),
            title_withhold: title_record(paper, rules),
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

    Prepared {
        input,
        record,
        marking,
        findings,
        warnings,
    }
}

/// What the audit decides about a paper, without its record: what `check` needs, as it
/// writes no audit.
pub struct Verdict {
    /// The proof's findings, one line each: the paper's copies must not be written.
    pub findings: Vec<String>,
    pub warnings: Vec<String>,
}

/// The proof and the warnings of [`prepare`], and nothing else.
pub fn verify(input: &AuditInput) -> Verdict {
    let within: Vec<Vec<Option<usize>>> = input
        .copies
        .iter()
        .map(|c| input.paper.outermost_withheld(c.audience))
        .collect();
    // The markers are not worked out here: the proof works out those it needs.
    let known: Vec<Known> = within
        .iter()
        .map(|within| Known {
            within,
            markers: &[],
        })
        .collect();
    let (_, findings) = prove_copies(input, &known);
    let columns = std::cell::OnceCell::new();
    let warnings = missing_pit_warnings(input, &Exemptions::new(input.rules), &within, |offset| {
        line_col(
            columns
                .get_or_init(|| Columns::new(input.text))
                .line_col(offset),
        )
    });
    Verdict { findings, warnings }
}

/// Each copy's proof, and its findings as lines for stderr; `known`, what the record already
/// worked out of each copy, if it did.
fn prove_copies(input: &AuditInput, known: &[Known]) -> (Vec<Proof>, Vec<String>) {
    let mut prover = Prover::new(input.paper, input.text);
    let proofs: Vec<Proof> = input
        .copies
        .iter()
        .enumerate()
        .map(|(n, c)| {
            prover.prove_with(
                c.audience,
                c.schedule.as_ref(),
                &c.markdown,
                known.get(n).copied(),
            )
        })
        .collect();
    let findings = proofs
        .iter()
        .flat_map(|p| p.findings.iter())
        .map(|f| format!("{}: error: audit: {f}", input.path.display()))
        .collect();
    (proofs, findings)
}

/// A warning for each redaction withheld (for some audience, per `within`) under a qualified
/// exemption that has no public interest test summary; `at` gives an offset's `line:col`.
fn missing_pit_warnings<'a>(
    input: &AuditInput<'a>,
    exemptions: &Exemptions<'a>,
    within: &[Vec<Option<usize>>],
    at: impl Fn(usize) -> String,
) -> Vec<String> {
    let mut warnings = Vec::new();
    // The codes of [`codes_of`] that lack a summary, in one list reused for every redaction.
    let mut missing_pit = Vec::new();
    for (k, r) in input.paper.redactions.iter().enumerate() {
        missing_pit.clear();
        missing_pit.extend(
            code_records(r, exemptions)
                .filter(CodeRecord::lacks_pit)
                .map(|c| c.code),
        );
        if !missing_pit.is_empty() && within.iter().any(|w| w[k].is_some()) {
            // By number, not id: the id may itself be withheld, and this goes to stderr.
            warnings.push(format!(
                "{}:{}: warning: redaction {} is withheld under qualified exemption{} {} with no public interest test summary (give it pit=\"...\", or the code a default `pit` in the rules)",
                input.path.display(),
                at(r.span.start),
                r.number,
                if missing_pit.len() == 1 { "" } else { "s" },
                missing_pit.join(", ")
            ));
        }
    }
    warnings
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

/// For each exemption of the rules, in their order, the redactions naming its code, in
/// document order. A code names one exemption, so a pass over the redactions finds them all.
fn redactions_naming(paper: &Paper, rules: &Rules) -> Vec<Vec<usize>> {
    let index: CodeMap<usize> = rules
        .exemptions
        .iter()
        .enumerate()
        .map(|(n, e)| (e.code.as_str(), n))
        .collect();
    let mut naming = vec![Vec::new(); rules.exemptions.len()];
    for (k, r) in paper.redactions.iter().enumerate() {
        for code in &r.codes {
            if let Some(&n) = index.get(code.as_str()) {
                naming[n].push(k);
            }
        }
    }
    naming
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

/// Line and column of offsets in one paper. [`LineIndex::line_col`] counts characters from the
/// line's start on every call, which is quadratic in the offsets asked on one long line (a
/// 50 kB line with 2,000 spans); this counts from a checkpoint every [`STEP`] bytes instead.
struct Columns<'a> {
    text: &'a str,
    index: LineIndex,
    bom: usize,
    /// Characters before byte `k * STEP`, built on the first long count.
    chars_before: std::cell::OnceCell<Vec<usize>>,
}

/// Bytes between column checkpoints.
const STEP: usize = 512;

impl<'a> Columns<'a> {
    fn new(text: &'a str) -> Self {
        Columns {
            text,
            index: LineIndex::new(text),
            bom: if text.starts_with('\u{feff}') { 3 } else { 0 },
            chars_before: std::cell::OnceCell::new(),
        }
    }

    /// As [`LineIndex::line_col`]: 1-based line and column (in Unicode scalar values).
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // The number of lines starting at or before `offset`.
        let (mut lo, mut hi) = (0, self.index.line_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.index.line_start(mid + 1) <= offset {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let line = lo.max(1) - 1;
        let mut start = self.index.line_start(line + 1);
        if line == 0 {
            start = start.max(self.bom).min(offset);
        }
        let col = if self.text.get(start..offset).is_some() {
            self.chars(start, offset)
        } else {
            offset - start
        };
        (line + 1, col + 1)
    }

    /// Characters in `text[start..end]`, both char boundaries.
    fn chars(&self, start: usize, end: usize) -> usize {
        if end - start <= 2 * STEP {
            return self.text[start..end].chars().count();
        }
        self.chars_to(end) - self.chars_to(start)
    }

    /// Characters in `text[..at]`.
    fn chars_to(&self, at: usize) -> usize {
        let bytes = self.text.as_bytes();
        let table = self.chars_before.get_or_init(|| {
            let mut table = vec![0];
            let mut total = 0;
            for chunk in bytes.chunks(STEP) {
                total += char_starts(chunk);
                table.push(total);
            }
            table
        });
        let k = at / STEP;
        table[k] + char_starts(&bytes[k * STEP..at])
    }
}

/// Bytes that start a character (are not UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// Every line break byte (`\n` or `\r`) of a paper, so finding the line around an offset is a
/// binary search, not a scan back over a line that may hold thousands of redactions.
struct Breaks {
    at: Vec<usize>,
    len: usize,
}

impl Breaks {
    fn new(text: &str) -> Self {
        let at = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n' || b == b'\r')
            .map(|(i, _)| i)
            .collect();
        Breaks {
            at,
            len: text.len(),
        }
    }

    /// Just after the last break before `at` (0 if none).
    fn line_start(&self, at: usize) -> usize {
        let n = self.at.partition_point(|&b| b < at);
        n.checked_sub(1).map_or(0, |k| self.at[k] + 1)
    }

    /// The first break at or after `at` (the text's end if none).
    fn line_end(&self, at: usize) -> usize {
        let n = self.at.partition_point(|&b| b < at);
        self.at.get(n).copied().unwrap_or(self.len)
    }
}

/// Counts words (white-space separated runs holding a letter or digit) in the text a reader
/// sees: redaction tags, attribute blocks (with their reasons) and comments left out.
///
/// The body is read once, noting at each redaction's start and end how many words came
/// before and whether the reading is inside a word. A span's count is then the words
/// starting in it, plus one if it starts inside a word that has a letter or digit before its
/// next white space (reading the span alone, that is a word of its own). Reading every span
/// afresh read the text several times over, and nested ones again for each level.
struct WordCounter<'a> {
    text: &'a str,
    excluded: Vec<Span>,
    /// Every redaction's start and end, and the body's, in order, with what the one reading
    /// of the body knew there.
    probes: Vec<Probe>,
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    at: usize,
    /// Words counted before `at`.
    before: usize,
    /// `at` is inside a counted word.
    inside: bool,
    /// The first letter or digit at or after `at`, before any white space.
    first: Option<usize>,
}

/// Reads `text[at..limit]` on from `words` counted so far and `counted` (the reading is inside
/// a word already counted), and gives where it stopped (`limit`) and the two after it: the
/// steps of [`char_class`] a character at a time, 64 ASCII bytes at a time where it can.
#[inline(never)]
fn count_words(
    text: &str,
    bytes: &[u8],
    mut at: usize,
    limit: usize,
    mut words: usize,
    mut counted: bool,
) -> (usize, usize, bool) {
    while at < limit {
        let block = &bytes[at..(at + 64).min(limit)];
        // The ASCII bytes from here, up to 64: read as bit masks. Any other character: alone.
        let ascii = if block.is_ascii() {
            block.len()
        } else {
            block
                .iter()
                .position(|b| !b.is_ascii())
                .unwrap_or(block.len())
        };
        if ascii > 0 {
            let (starts, after) = ascii_block_words(&block[..ascii], counted);
            words += starts;
            counted = after;
            at += ascii;
        } else {
            let (space, alnum, len) = char_class(text, at);
            words += usize::from(alnum && !counted);
            counted = alnum || (counted && !space);
            at += len;
        }
    }
    (at, words, counted)
}

/// Which of 8 ASCII bytes (byte k as bit k) are letters or digits, and which white space, as
/// [`char_class`] has them: each range tested in all eight bytes at once (a byte below 0x80
/// plus at most 0x80 carries into no other), the top bits gathered by one multiplication.
fn ascii_classes(word: u64) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Top bit of each byte set where the byte is at least `c` (`c` at most 0x80).
    let at_least = |c: u8| word.wrapping_add(ONES * u64::from(0x80 - c)) & HIGH;
    let within = |lo: u8, hi: u8| at_least(lo) & !at_least(hi + 1);
    let alnum = within(b'0', b'9') | within(b'A', b'Z') | within(b'a', b'z');
    let space = within(0x09, 0x0d) | within(b' ', b' ');
    let gather = |high: u64| high.wrapping_mul(0x0002_0408_1020_4081) >> 56;
    (gather(alnum), gather(space))
}

/// Words starting in up to 64 ASCII bytes read on from `counted`, and `counted` after them,
/// with the bytes as bit masks. A byte is inside a counted word when some letter or digit
/// comes before it with no white space between (or the block opens inside one and no white
/// space comes first): a prefix over the bits, worked out in six doublings as a carry is. A
/// word starts at each letter or digit not inside one. Bits past the block's end hold
/// neither, and a prefix only carries towards higher bits, so they change nothing below.
fn ascii_block_words(block: &[u8], counted: bool) -> (usize, bool) {
    debug_assert!(!block.is_empty() && block.len() <= 64);
    let (mut alnum, mut space) = (0u64, 0u64);
    for (c, chunk) in block.chunks(8).enumerate() {
        // A short last chunk is filled out with `.`, which is neither.
        let mut word = [b'.'; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let (a, s) = ascii_classes(u64::from_le_bytes(word));
        alnum |= a << (8 * c);
        space |= s << (8 * c);
    }
    let through = !space;
    // inside[i]: after reading byte i, the reading is inside a counted word.
    let mut inside = alnum | (u64::from(counted) & through & 1);
    let mut pass = through;
    for shift in [1, 2, 4, 8, 16, 32] {
        inside |= pass & (inside << shift);
        pass &= pass << shift;
    }
    let before = (inside << 1) | u64::from(counted);
    let last = block.len() - 1;
    (
        (alnum & !before).count_ones() as usize,
        (inside >> last) & 1 == 1,
    )
}

/// How a character counts: white space ends a word, a letter or digit makes one.
fn char_class(text: &str, at: usize) -> (bool, bool, usize) {
    match text.as_bytes()[at] {
        b if b.is_ascii() => (
            matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
            b.is_ascii_alphanumeric(),
            1,
        ),
        _ => {
            let c = text[at..].chars().next().unwrap_or(' ');
            (c.is_whitespace(), c.is_alphanumeric(), c.len_utf8())
        }
    }
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
        let mut at: Vec<usize> = paper
            .redactions
            .iter()
            .flat_map(|r| [r.span.start, r.span.end])
            .chain([paper.body_start, text.len()])
            .collect();
        at.sort_unstable();
        at.dedup();
        let mut counter = WordCounter {
            text,
            excluded: merged,
            probes: at
                .into_iter()
                .map(|at| Probe {
                    at,
                    before: 0,
                    inside: false,
                    first: None,
                })
                .collect(),
        };
        counter.read_body(paper.body_start);
        counter
    }

    fn read_body(&mut self, from: usize) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut counted = false;
        let mut words = 0;
        let mut next = self.probes.partition_point(|p| p.at < from);
        let mut pending: Vec<usize> = Vec::new();
        let mut at = from;
        let mut cuts = self
            .excluded
            .iter()
            .skip_while(|c| c.end <= from)
            .peekable();
        while at < text.len() {
            if let Some(cut) = cuts.peek()
                && cut.start <= at
            {
                at = at.max(cut.end);
                cuts.next();
                continue;
            }
            let stop = cuts.peek().map_or(text.len(), |c| c.start.min(text.len()));
            while at < stop {
                if let Some(probe) = self.probes.get_mut(next)
                    && probe.at <= at
                {
                    probe.before = words;
                    probe.inside = counted;
                    if counted {
                        pending.push(next);
                    }
                    next += 1;
                    continue;
                }
                let limit = self.probes.get(next).map_or(stop, |p| p.at.min(stop));
                // A probe inside a word waits for the word's first letter or digit, or its end.
                while at < limit && !pending.is_empty() {
                    let (space, alnum, len) = char_class(text, at);
                    if space {
                        counted = false;
                        pending.clear();
                    } else if alnum {
                        if !counted {
                            counted = true;
                            words += 1;
                        }
                        for k in pending.drain(..) {
                            self.probes[k].first = Some(at);
                        }
                    }
                    at += len;
                }
                (at, words, counted) = count_words(text, bytes, at, limit, words, counted);
            }
        }
        for probe in &mut self.probes[next..] {
            probe.before = words;
            probe.inside = counted;
        }
    }

    /// Words in each of `spans` (disjoint), a word never running from one span to the next.
    fn words(&self, spans: &[Span]) -> usize {
        let probe = |at: usize| {
            self.probes
                .binary_search_by_key(&at, |p| p.at)
                .ok()
                .map(|k| self.probes[k])
        };
        let mut total = 0;
        for span in spans {
            let (Some(start), Some(end)) = (probe(span.start), probe(span.end)) else {
                total += self.read(*span);
                continue;
            };
            total += end.before.saturating_sub(start.before);
            if start.inside && start.first.is_some_and(|f| f < span.end) {
                total += 1;
            }
        }
        total
    }

    /// Words in `span` read on its own (for a span not starting where a redaction does).
    fn read(&self, span: Span) -> usize {
        let mut total = 0;
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
            while at < stop {
                let (space, alnum, len) = char_class(self.text, at);
                if space {
                    counted = false;
                } else if !counted && alnum {
                    counted = true;
                    total += 1;
                }
                at += len;
            }
        }
        total
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
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
fn around(text: &str, breaks: &Breaks, paper: &Paper, span: Span) -> (Span, bool, bool) {
    let floor = paper.body_start;
    let line_start = |at: usize| breaks.line_start(at).max(floor);
    let line_end = |at: usize| breaks.line_end(at);
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

/// Appends the passage's runs for a `<pre>`, as `run`, its middle left out past [`PASSAGE`]
/// bytes.
fn push_passage(out: &mut String, text: &str, span: Span, columns: &Columns, run: page::Run) {
    let passage = &text[span.start..span.end];
    if passage.len() <= PASSAGE {
        page::push_run(out, run, passage);
        return;
    }
    let head = floor_boundary(passage, PASSAGE / 2);
    let tail = ceil_boundary(passage, passage.len() - PASSAGE / 2);
    page::push_run(out, run, &passage[..head]);
    let left_out = columns.chars(span.start + head, span.start + tail);
    page::push_run(
        out,
        page::Run::Note,
        &format!(
            " [… {left_out} characters left out here; the JSON audit holds the whole passage …] "
        ),
    );
    page::push_run(out, run, &passage[tail..]);
}

/// Appends the note that text was cut off here, if it was.
fn push_cut(out: &mut String, cut: bool) {
    if cut {
        page::push_run(out, page::Run::Note, "…");
    }
}

/// What the audit page needs of the paper and its record for each row, gathered once.
struct EntrySource<'a, 'r> {
    input: &'r AuditInput<'a>,
    redactions: &'r Redactions<'a>,
    breaks: Breaks,
    /// For each copy, the edits of its body (markers, comments, definitions) in source order.
    body_edits: Vec<Vec<&'r Applied>>,
    proofs: &'r [Proof],
}

/// What redaction `k`'s [`RedactionRecord`] holds, read straight from the paper and the
/// record's tables (the JSON's [`Redactions::get`] makes the same values into strings and
/// lists, which the page would only read once; a test holds the two to each other), given
/// its `codes` as [`codes_of`] makes them.
fn entry_of<'a, 'r, 'c>(
    from: &EntrySource<'a, 'r>,
    codes: &'c [CodeRecord<'a>],
    seen: &'c mut Vec<page::Seen<'r>>,
    k: usize,
) -> page::Entry<'a, 'c> {
    let AuditInput { paper, copies, .. } = *from.input;
    let redactions = from.redactions;
    let r = &paper.redactions[k];
    seen.clear();
    for ((c, w), labels) in copies
        .iter()
        .zip(&redactions.within)
        .zip(&redactions.markers)
    {
        let outer = w[k];
        seen.push(page::Seen {
            audience: &c.audience.name,
            withheld: outer.is_some(),
            within: outer.filter(|&o| o != k).map(|o| o + 1),
            marker: outer.and_then(|o| labels[o].as_deref()),
        });
    }
    // The descendants of a redaction are the ones right after it that it encloses.
    let nested = paper.descendants(k).count();
    page::Entry {
        number: r.number,
        id: r.id.as_deref(),
        form: r.form,
        codes,
        start: redactions.places[k].start,
        end: redactions.places[k].end,
        bytes: r.span,
        reason: r.reason.as_deref(),
        words: redactions.places[k].words,
        parent: r.parent.map(|p| p + 1),
        nested: &paper.redactions[k + 1..k + 1 + nested],
        seen,
    }
}

/// Redaction `k`'s section of the audit page: what its record holds ([`entry_of`]), the
/// source around it, and each copy that withholds it around its marker, written as runs of
/// HTML straight into `scratch`.
fn entry_view<'a, 'r>(
    from: &EntrySource<'a, 'r>,
    scratch: &mut page::Scratch,
    codes: &mut Vec<CodeRecord<'a>>,
    seen: &mut Vec<page::Seen<'r>>,
    k: usize,
) -> page::EntryRow<'a> {
    let input = from.input;
    let AuditInput { text, paper, .. } = *input;
    let span = paper.redactions[k].span;
    // The codes [`codes_of`] gives, in a list reused from row to row.
    codes.clear();
    codes.extend(code_records(
        &paper.redactions[k],
        &from.redactions.exemptions,
    ));
    let entry = entry_of(from, codes, seen, k);
    let own = around(text, &from.breaks, paper, span);
    let council = scratch.html(|out| {
        let (range, cut_before, cut_after) = own;
        push_cut(out, cut_before);
        page::push_run(out, page::Run::Plain, &text[range.start..span.start]);
        push_passage(
            out,
            text,
            span,
            &from.redactions.columns,
            page::Run::Withheld,
        );
        page::push_run(out, page::Run::Plain, &text[span.end..range.end]);
        push_cut(out, cut_after);
    });
    let forms = scratch.html(|out| {
        for (i, a) in entry.seen.iter().enumerate() {
            if !a.withheld {
                continue;
            }
            // In the copy the passage is the marker of its outermost withheld redaction.
            let outer = a.within.map_or(k, |n| n - 1);
            let outer_span = paper.redactions[outer].span;
            let (mut range, mut cut_before, mut cut_after) = if outer == k {
                own
            } else {
                around(text, &from.breaks, paper, outer_span)
            };
            // Never cut an edit in half: leave out one that crosses the window's edge.
            let edits = &from.body_edits[i];
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
            let copy = from.proofs[i].spliced_text(input.copies[i].markdown.as_ref());
            page::push_form(out, a.audience, |out| {
                push_cut(out, cut_before);
                push_spliced(out, text, range, edits, copy);
                push_cut(out, cut_after);
            });
        }
    });
    page::entry_row(scratch, &entry, council, forms)
}

fn audit_html(
    input: &AuditInput,
    record: &AuditRecord,
    marking: &str,
    out: &mut dyn Write,
) -> Result<(), String> {
    with_page_values(input, record, marking, |context, lists| {
        input.templates.write_audit(context, lists, out)
    })
}

/// The audit page's values, every chunk of every list made once and kept, so that rendering
/// them times tera's own work alone: the floor of the page under one renderer. For measuring;
/// a build renders each chunk as it is made.
#[doc(hidden)]
pub struct PageValues<'t> {
    templates: &'t Templates,
    context: Context,
    lists: Vec<KeptList>,
}

/// One long list's rows, kept as the values `write_audit` asks for, by range.
struct KeptList {
    name: &'static str,
    len: usize,
    chunks: Vec<(std::ops::Range<usize>, tera::Value)>,
}

impl KeptList {
    /// Inserts the kept rows `range` under the list's name.
    fn insert(&self, range: std::ops::Range<usize>, context: &mut Context) {
        if let Some((_, rows)) = self.chunks.iter().find(|(r, _)| *r == range) {
            context.insert_value(self.name, rows.clone());
        }
    }
}

impl Prepared<'_> {
    /// Makes the page's values, and keeps them (see [`PageValues`]).
    #[doc(hidden)]
    pub fn page_values(&self) -> PageValues<'_> {
        let templates = self.input.templates;
        let mut kept = Vec::new();
        let mut context_kept = Context::new();
        with_page_values(self.input, &self.record, &self.marking, |context, lists| {
            context_kept = context;
            for list in lists {
                // The ranges `write_audit` asks for: chunks when the page streams, else whole.
                let chunk = if templates.audit_streams() {
                    crate::render::AUDIT_CHUNK
                } else {
                    list.len.max(1)
                };
                let mut chunks = Vec::new();
                let mut scratch = Context::new();
                for start in (0..list.len).step_by(chunk) {
                    let range = start..(start + chunk).min(list.len);
                    (list.insert)(range.clone(), &mut scratch);
                    chunks.extend(scratch.remove(list.name).map(|v| (range, v)));
                }
                if list.len == 0 {
                    (list.insert)(0..0, &mut scratch);
                    chunks.extend(scratch.remove(list.name).map(|v| (0..0, v)));
                }
                kept.push(KeptList {
                    name: list.name,
                    len: list.len,
                    chunks,
                });
            }
        });
        PageValues {
            templates,
            context: context_kept,
            lists: kept,
        }
    }
}

impl PageValues<'_> {
    /// Every kept list's rows as plain JSON values (the same strings, numbers, lists and
    /// maps): to time tera's serializer making its values of them, the least that turning
    /// rows into tera's values costs whatever the rows are made from. For measuring.
    pub fn plain_rows(&self) -> Vec<serde_json::Value> {
        (self.lists.iter())
            .flat_map(|list| &list.chunks)
            .map(|(_, rows)| serde_json::to_value(rows).expect("tera values are JSON"))
            .collect()
    }

    /// Renders the page from the kept values: the bytes [`Prepared::write_html`] writes.
    pub fn write(&self, out: &mut dyn Write) -> Result<(), String> {
        let inserts: Vec<_> = self
            .lists
            .iter()
            .map(|list| move |range, context: &mut Context| list.insert(range, context))
            .collect();
        let lists: Vec<AuditList> = self
            .lists
            .iter()
            .zip(&inserts)
            .map(|(list, insert)| AuditList {
                name: list.name,
                len: list.len,
                insert,
            })
            .collect();
        self.templates
            .write_audit(self.context.clone(), &lists, out)
    }
}

/// Gathers the audit page's values (the context, and each long list to be made a chunk at a
/// time) and hands them to `render`.
fn with_page_values<R>(
    input: &AuditInput,
    record: &AuditRecord,
    marking: &str,
    render: impl FnOnce(Context, &[AuditList]) -> R,
) -> R {
    let proofs = &record.proof;
    let from = EntrySource {
        input,
        redactions: &record.redactions,
        breaks: Breaks::new(input.text),
        body_edits: proofs
            .iter()
            .map(|p| {
                p.splice
                    .applied
                    .iter()
                    .filter(|a| {
                        matches!(
                            a.cause,
                            Cause::Marker { .. } | Cause::Comment { .. } | Cause::Reference { .. }
                        )
                    })
                    .collect()
            })
            .collect(),
        proofs,
    };
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
    context.insert("codes", &page::code_rows(record));
    context.insert("audiences", &page::audience_rows(record));
    context.insert("proofs", &page::proof_rows(record));
    context.insert("warnings", &record.warnings);
    // The lists that grow with the paper, made a chunk at a time as they are rendered.
    // One buffer for every value the rows make.
    let scratch = std::cell::RefCell::new(page::Scratch::default());
    let seen = std::cell::RefCell::new(Vec::new());
    let codes = std::cell::RefCell::new(Vec::new());
    let entries = |range: std::ops::Range<usize>, context: &mut Context| {
        let scratch = &mut *scratch.borrow_mut();
        let seen = &mut *seen.borrow_mut();
        let codes = &mut *codes.borrow_mut();
        let rows: Vec<page::EntryRow> = range
            .map(|k| entry_view(&from, scratch, codes, seen, k))
            .collect();
        context.insert("entries", &rows);
    };
    let comments = |range: std::ops::Range<usize>, context: &mut Context| {
        let scratch = &mut *scratch.borrow_mut();
        context.insert("comments", &page::comment_rows(scratch, record, range));
    };
    let hunk_index = page::hunk_index(record);
    let hunks = |range: std::ops::Range<usize>, context: &mut Context| {
        let scratch = &mut *scratch.borrow_mut();
        context.insert(
            "hunks",
            &page::hunk_rows(scratch, record, &hunk_index[range]),
        );
    };
    let lists = [
        AuditList {
            name: "entries",
            len: record.redactions.len(),
            insert: &entries,
        },
        AuditList {
            name: "comments",
            len: record.comments.len(),
            insert: &comments,
        },
        AuditList {
            name: "hunks",
            len: hunk_index.len(),
            insert: &hunks,
        },
    ];
    render(context, &lists)
}

/// Appends the copy's text for source `range` as runs: verbatim stretches, and each edit
/// inside it as its replacement (markers flagged). `range` never cuts an edit (entry_view sees
/// to that); `edits` are in source order and never overlap.
fn push_spliced(out: &mut String, text: &str, range: Span, edits: &[&Applied], copy: &str) {
    let mut at = range.start;
    for e in edits_within(edits, range.start, range.end) {
        if e.old.start > at {
            page::push_run(out, page::Run::Plain, &text[at..e.old.start]);
        }
        if let Cause::Marker { .. } = e.cause {
            page::push_run(out, page::Run::Marker, &copy[e.new.clone()]);
        }
        at = at.max(e.old.end);
    }
    if at < range.end {
        page::push_run(out, page::Run::Plain, &text[at..range.end]);
    }
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

    /// The default audit page is rendered a chunk of rows at a time: edit templates/audit.html
    /// so that a long list's loop can no longer stream, and this says so.
    #[test]
    fn the_default_audit_template_streams_its_long_lists() {
        let templates = Templates::embedded().expect("embedded templates");
        assert!(templates.audit_streams());
    }

    /// The audit page rendered a chunk of each long list at a time is byte for byte the page
    /// tera renders from the whole template, for every fixture and for values that test each
    /// branch and escape.
    #[test]
    fn audit_page_streamed_in_chunks_is_the_page_rendered_whole() {
        use crate::pipeline::build_paper;
        use crate::render::{AUDIT_TEMPLATE, DEFAULT_TEMPLATES};
        use crate::rules::DEFAULT_RULES;

        let fast = Templates::embedded().expect("embedded templates");
        // A `set` outside any loop prints nothing, but a loop's own template would not see
        // it: the template is rendered whole.
        let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, t)| {
                (
                    *n,
                    format!(
                        "{t}{}",
                        if *n == AUDIT_TEMPLATE {
                            "{% set whole = true %}"
                        } else {
                            ""
                        }
                    ),
                )
            })
            .collect();
        let mut slow = Templates::from_files(&files, None).expect("templates");
        // The audit records the templates' hash: the same for both, so only the page differs.
        slow.hash = fast.hash.clone();
        assert!(fast.audit_streams() && !slow.audit_streams());

        let mut rule_files = DEFAULT_RULES.map(|(n, t)| (n, t.to_string()));
        rule_files[1].1 = rule_files[1].1.replace(
            "title: \"Law enforcement\" }",
            "title: \"Law <enforcement> & 'order'\", pit: \"A & <b> \\\"quoted\\\"\" }",
        );
        rule_files[2].1 = rule_files[2]
            .1
            .replace("combine: []", "combine: [[S23, S24]]");
        let rule_sets = [
            Rules::embedded().expect("embedded rules"),
            Rules::from_files(&rule_files, Origin::Embedded).expect("edited rules"),
        ];
        let mut papers: Vec<String> = std::fs::read_dir("fixtures")
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        let long = "withheld words ".repeat(400);
        papers.push(format!(
            "---\ntitle: \"A <b> & 'c'\"\nclassification: SECRET\n---\n\n\
             <!-- note & <aside> 'x' -->\n\n\
             One [two]{{.S23 .S31 #id-1 reason=\"\" pit=\"\"}} three [four]{{.S24 .S23 reason=\"a & <b> 'c' \\\"d\\\"\"}}.\n\n\
             ::: {{.S40 pit=\"p\"}}\nNested [five]{{.S31}} and [six]{{.S43 pit=\"q\"}}.\n\n[{long}]{{.S31}}\n:::\n\n\
             ## Heading {{.S31 #h}}\n\nSection [seven]{{.S23}}.\r\n\n## Next\n\nEnd.\n"
        ));
        papers.push(
            "---\ntitle: Nothing\nclassification: OFFICIAL\n---\n\nNo redactions.\n".to_string(),
        );
        // More rows than a chunk in every streamed list: entries, comments and hunks.
        let many: String = (0..300)
            .map(|i| format!("Para {i} [w{i}]{{.S31 pit=\"p\"}} end <!-- c{i} -->.\n\n"))
            .collect();
        papers.push(format!(
            "---\ntitle: Many\nclassification: OFFICIAL\n---\n\n{many}"
        ));
        papers.push(
            "---\r\ntitle: CRLF\r\nclassification: OFFICIAL\r\n---\r\nA\r\n[b]{.S31}\r\nc\r\n\r\nd [e]{.S24}\r\n"
                .to_string(),
        );
        let releases = [
            Release::default(),
            Release {
                request: Some("FOI <1> & 'x'".to_string()),
                date: Some("2024-01-02".to_string()),
            },
        ];
        for rules in &rule_sets {
            for release in &releases {
                for text in &papers {
                    let path = Path::new("a & <b>.md");
                    let build = |templates| {
                        build_paper(path, "a", text, rules, templates, release)
                            .map(|b| b.outputs)
                            .map_err(|e| e.render())
                    };
                    let (fast, slow) = (build(&fast), build(&slow));
                    // A paper withheld whole to neither confirm nor deny has no public file.
                    let whole = text.contains("\nwithhold:");
                    assert!(
                        fast.as_ref().is_ok_and(|o| o.len() == 6 || whole),
                        "{fast:?}"
                    );
                    if let (Ok(f), Ok(s)) = (&fast, &slow) {
                        for (a, b) in f.iter().zip(s) {
                            let at = a.bytes.iter().zip(&b.bytes).position(|(x, y)| x != y);
                            if let Some(at) = at {
                                let show = |v: &[u8]| {
                                    String::from_utf8_lossy(
                                        &v[at.saturating_sub(300)..(at + 200).min(v.len())],
                                    )
                                    .into_owned()
                                };
                                panic!(
                                    "{:?} differs at {at}:\nFAST {}\nSLOW {}",
                                    a.relative,
                                    show(&a.bytes),
                                    show(&b.bytes)
                                );
                            }
                        }
                    }
                    assert!(fast == slow, "{text}");
                }
            }
        }
    }

    proptest::proptest! {
        /// `line:col` written digit by digit is what formatting wrote.
        #[test]
        fn line_col_is_what_formatting_wrote(line in 0usize..usize::MAX, col in 0usize..100_000) {
            proptest::prop_assert_eq!(line_col((line, col)), format!("{line}:{col}"));
        }
    }

    /// A template whose loops could stream but whose frame holds a loop's place twice (a
    /// value printed `safe` writes its sentinel) is rendered whole, with every list whole:
    /// the page a template that never streams renders.
    #[test]
    fn an_audit_frame_holding_a_loop_place_twice_is_rendered_whole() {
        use crate::pipeline::build_paper;
        use crate::render::{AUDIT_TEMPLATE, DEFAULT_TEMPLATES};

        let with = |tail: &str| {
            let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
                .iter()
                .map(|(n, t)| {
                    let extra = if *n == AUDIT_TEMPLATE { tail } else { "" };
                    (*n, format!("{t}{extra}"))
                })
                .collect();
            Templates::from_files(&files, None).expect("templates")
        };
        let twice = r#"{{ "<!--redact:loop:entries--><!--redact:loop:hunks-->" | safe }}"#;
        let fallen = with(twice);
        let mut whole = with(&format!("{twice}{{% set whole = true %}}"));
        whole.hash = fallen.hash.clone();
        assert!(fallen.audit_streams() && !whole.audit_streams());
        let rules = Rules::embedded().expect("embedded rules");
        let mut seen = 0;
        let papers = std::fs::read_dir("fixtures")
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok());
        for text in papers {
            let build = |templates| {
                build_paper(
                    Path::new("a.md"),
                    "a",
                    &text,
                    &rules,
                    templates,
                    &Release::default(),
                )
                .map(|b| b.outputs)
                .map_err(|e| e.render())
            };
            if let (Ok(a), Ok(b)) = (build(&fallen), build(&whole)) {
                seen += a.iter().filter(|o| !o.bytes.is_empty()).count();
                assert!(a == b, "{text}");
            }
        }
        assert!(seen > 0);
    }

    /// The classes of eight bytes read at once are those of each byte read alone, for every
    /// ASCII byte in every place.
    #[test]
    fn ascii_classes_of_a_word_are_those_of_each_byte() {
        for b in 0u8..0x80 {
            for place in 0..8 {
                let mut word = [b'.'; 8];
                word[place] = b;
                word[(place + 3) % 8] = 0x7f;
                word[(place + 5) % 8] = b'z';
                let (alnum, space) = ascii_classes(u64::from_le_bytes(word));
                let text = std::str::from_utf8(&word).expect("ASCII");
                for (k, &x) in word.iter().enumerate() {
                    let (is_space, is_alnum, _) = char_class(text, k);
                    assert_eq!((alnum >> k) & 1 == 1, is_alnum, "{x:#x} at {k}");
                    assert_eq!((space >> k) & 1 == 1, is_space, "{x:#x} at {k}");
                }
            }
        }
    }

    /// Words counted 64 bytes at a time as bit masks are those counted a character at a time,
    /// from any start, inside a word or not, over ASCII and other text.
    #[test]
    fn words_counted_by_block_are_those_counted_by_character() {
        let long_other = ".".repeat(45);
        let long_word = "w".repeat(70);
        let pieces = [
            "a",
            "Z",
            "9",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            "\u{c}",
            ".",
            "-",
            &long_other,
            &long_word,
            "*",
            "[",
            "é",
            "\u{a0}",
            "\u{2003}",
            "ß",
            "x y",
            "ab",
            "  ",
            "..",
            "\u{200b}",
        ];
        let mut rng = crate::test_rng::Lcg::new(17);
        let mut next = |n: usize| rng.below(n);
        for round in 0..4000 {
            let mut text = String::new();
            let len = if round % 2 == 0 { next(40) } else { next(400) };
            for _ in 0..len {
                // Long ASCII stretches as well as mixed ones.
                let p = if round % 3 == 0 {
                    next(13)
                } else {
                    next(pieces.len())
                };
                text.push_str(pieces[p]);
            }
            let bytes = text.as_bytes();
            let counted = next(2) == 1;
            let start = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .nth(next(8))
                .unwrap_or(0);
            let (mut words, mut inside) = (0, counted);
            let mut at = start;
            while at < text.len() {
                let (space, alnum, len) = char_class(&text, at);
                if space {
                    inside = false;
                } else if alnum && !inside {
                    inside = true;
                    words += 1;
                }
                at += len;
            }
            assert_eq!(
                count_words(&text, bytes, start, text.len(), 5, counted),
                (text.len(), words + 5, inside),
                "{text:?} from {start}, counted {counted}"
            );
        }
    }

    /// Prepares the audit of every fixture and of `extra` with the embedded rules and
    /// templates, and hands each paper's text, model, input and audit to `check`.
    fn each_fixture_prepared(
        extra: &str,
        mut check: impl FnMut(&str, &Paper, &AuditInput, &Prepared),
    ) {
        use crate::redact::copy_for;
        use crate::render::copy_markdown;
        use crate::schedule::schedule_for;

        let rules = Rules::embedded().expect("embedded rules");
        let templates = Templates::embedded().expect("embedded templates");
        let release = Release::default();
        let mut papers: Vec<String> = std::fs::read_dir("fixtures")
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        papers.push(extra.to_string());
        for text in &papers {
            let paper = parse_paper(text, &rules).expect("parses");
            let copies: Vec<CopyOutput> = rules
                .audiences
                .iter()
                .map(|audience| {
                    let copy = copy_for(&paper, text, audience);
                    let schedule = schedule_for(&paper, audience, &rules, &release);
                    let markdown = copy_markdown(&copy, schedule.as_ref()).into_owned().into();
                    CopyOutput {
                        audience,
                        schedule,
                        markdown,
                    }
                })
                .collect();
            let input = AuditInput {
                path: Path::new("p.md"),
                name: "p",
                text,
                paper: &paper,
                rules: &rules,
                templates: &templates,
                release: &release,
                copies: &copies,
            };
            check(text, &paper, &input, &prepare(&input));
        }
    }

    /// The page reads each redaction's values from the paper and the record's tables
    /// (`entry_of`), not from the record the JSON writes (`Redactions::get`): they must be the
    /// same values, for every redaction of every fixture and of papers that nest, withhold
    /// from one audience only, hold wide characters and CRLF line ends, and name ids.
    #[test]
    fn the_page_reads_each_redaction_as_its_record_says() {
        let mut checked = 0;
        let extra = "---\ntitle: T\nclassification: SECRET\n---\n\nÉé [one]{.S23 #a reason=\"r\"} \
             [two [three]{.S31}]{.S24 pit=\"p\"}.\n\n::: {.S40}\nNested [four]{.S43} and \
             [five]{.S31}.\n:::\n\n## Head {.S31 #h}\n\nUnder it [six]{.S24}.\r\n\r\nEnd.\n";
        each_fixture_prepared(extra, |text, paper, input, prepared| {
            let record = &prepared.record;
            let from = EntrySource {
                input,
                redactions: &record.redactions,
                breaks: Breaks::new(text),
                body_edits: Vec::new(),
                proofs: &record.proof,
            };
            let mut seen = Vec::new();
            for k in 0..paper.redactions.len() {
                let r = record.redactions.get(k);
                let (codes, _) = codes_of(input, &record.redactions.exemptions, k);
                let e = entry_of(&from, &codes, &mut seen, k);
                let at = |(line, col): (usize, usize)| format!("{line}:{col}");
                assert_eq!(e.number, r.number);
                assert_eq!(e.id, r.id);
                assert_eq!(e.form, r.form);
                assert_eq!(
                    serde_json::to_value(e.codes).expect("json"),
                    serde_json::to_value(&r.codes).expect("json"),
                    "{text}"
                );
                assert_eq!((at(e.start), at(e.end)), (r.start.clone(), r.end.clone()));
                assert_eq!(e.bytes, r.bytes);
                assert_eq!(e.reason, r.reason);
                assert_eq!(e.words, r.words, "{text}");
                assert_eq!(e.parent, r.parent);
                let nested: Vec<usize> = e.nested.iter().map(|n| n.number).collect();
                assert_eq!(nested, r.nested, "{text}");
                assert_eq!(e.seen.len(), r.audiences.len());
                for (seen, a) in e.seen.iter().zip(&r.audiences) {
                    assert_eq!(seen.audience, a.audience);
                    assert_eq!(seen.withheld, a.withheld);
                    assert_eq!(seen.within, a.within, "{text}");
                    assert_eq!(seen.marker, a.marker.as_deref(), "{text}");
                }
                checked += 1;
            }
        });
        assert!(checked > 50, "{checked} redactions");
    }

    /// A definition withheld with the only passage that uses it explains a hunk of the line
    /// diff by its label as cited, which is the author's text: escaped in the page.
    #[test]
    fn a_withheld_definition_s_label_is_escaped_in_the_line_diff() {
        use crate::pipeline::build_paper;
        let rules = Rules::embedded().expect("embedded rules");
        let templates = Templates::embedded().expect("embedded templates");
        let text = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n\n\
                    See [the [page][Q & A's \"list\"]]{.S24} here.\n\n\
                    [Q & A's \"list\"]: https://example.org/withheld\n";
        let built = build_paper(
            Path::new("p.md"),
            "p",
            text,
            &rules,
            &templates,
            &Release::default(),
        )
        .map_err(|e| e.render())
        .expect("builds");
        let audit = built
            .outputs
            .iter()
            .find(|o| o.relative == Path::new("audit/p.html"))
            .expect("the audit page");
        let page = String::from_utf8_lossy(&audit.bytes);
        assert!(
            page.contains("definition [Q &amp; A&#39;s &quot;list&quot;]"),
            "{page}"
        );
        assert!(!page.contains("definition [Q & A"));
    }

    /// The place and words worked out once for each redaction, which the JSON and the page
    /// print, are those of that redaction: its start and end as the line index has them and
    /// its words read alone, for every redaction of every fixture and of a paper that nests
    /// and holds wide characters and CRLF line ends.
    #[test]
    fn each_redaction_s_place_is_worked_out_once_for_it() {
        let mut checked = 0;
        let extra = "---\r\ntitle: T\r\nclassification: SECRET\r\n---\r\n\r\nÉé [one]{.S23 #a} \
             [two [three]{.S31}]{.S24 pit=\"p\"}.\r\n\r\nß [four]{.S43} ü\r\n";
        each_fixture_prepared(extra, |text, paper, _, prepared| {
            let redactions = &prepared.record.redactions;
            let index = LineIndex::new(text);
            let counter = WordCounter::new(text, paper);
            assert_eq!(redactions.places.len(), paper.redactions.len());
            for (r, place) in paper.redactions.iter().zip(&redactions.places) {
                assert_eq!(place.start, index.line_col(text, r.span.start), "{text}");
                assert_eq!(place.end, index.line_col(text, r.span.end), "{text}");
                assert_eq!(place.words, counter.read(r.span), "{text}");
                checked += 1;
            }
        });
        assert!(checked > 50, "{checked} redactions");
    }

    /// The page rendered from values made beforehand and kept (the bench's floor of the page)
    /// is the page a build writes, for every fixture and a paper longer than a chunk of rows.
    #[test]
    fn the_page_from_kept_values_is_the_page_written() {
        use crate::pipeline::build_paper;

        let rules = Rules::embedded().expect("embedded rules");
        let templates = Templates::embedded().expect("embedded templates");
        let release = Release::default();
        let mut papers: Vec<String> = std::fs::read_dir("fixtures")
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        let many: String = (0..300)
            .map(|i| format!("Para {i} [w{i}]{{.S31 pit=\"p\"}} end <!-- c{i} -->.\n\n"))
            .collect();
        papers.push(format!(
            "---\ntitle: Many\nclassification: OFFICIAL\n---\n\n{many}"
        ));
        let mut compared = 0;
        for text in &papers {
            let Ok(paper) = parse_paper(text, &rules) else {
                continue;
            };
            if !paper.front_matter.withhold.is_empty() {
                continue;
            }
            let built = build_paper(Path::new("p.md"), "p", text, &rules, &templates, &release)
                .map_err(|e| e.render())
                .expect("builds");
            let copies: Vec<CopyOutput> = rules
                .audiences
                .iter()
                .map(|audience| {
                    let path = Path::new(&audience.name).join("p.md");
                    let md = built
                        .outputs
                        .iter()
                        .find(|o| o.relative == path)
                        .expect("the copy");
                    CopyOutput {
                        audience,
                        schedule: crate::schedule::schedule_for(&paper, audience, &rules, &release),
                        markdown: String::from_utf8(md.bytes.clone()).expect("UTF-8").into(),
                    }
                })
                .collect();
            let input = AuditInput {
                path: Path::new("p.md"),
                name: "p",
                text,
                paper: &paper,
                rules: &rules,
                templates: &templates,
                release: &release,
                copies: &copies,
            };
            let prepared = prepare(&input);
            let mut page = Vec::new();
            prepared.write_html(&mut page).expect("renders");
            let mut again = Vec::new();
            prepared.page_values().write(&mut again).expect("renders");
            assert!(page == again, "{text}");
            let written = built
                .outputs
                .iter()
                .find(|o| o.relative == Path::new("audit/p.html"))
                .expect("the audit page");
            assert!(written.bytes == page, "{text}");
            compared += 1;
        }
        assert!(compared > 5, "{compared}");
    }

    /// Counting from the one reading of the body gives what reading each span alone gives,
    /// whatever a span starts in the middle of.
    #[test]
    fn words_from_one_reading_match_each_span_read_alone() {
        let rules = Rules::embedded().expect("embedded rules");
        let mut papers: Vec<String> = std::fs::read_dir("fixtures")
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        papers.push(
            "---\ntitle: T\nclassification: OFFICIAL\n---\nab[cd]{.S31}ef x[,,y]{.S24} z[..]{.S31}\
             q é[ü]{.S31}ß -[-]{.S31} k<!-- c -->m[n]{.S31}\n"
                .to_string(),
        );
        for text in &papers {
            let paper = parse_paper(text, &rules).expect("parses");
            let counter = WordCounter::new(text, &paper);
            let body = Span::new(paper.body_start, text.len());
            assert_eq!(counter.words(&[body]), counter.read(body));
            for r in &paper.redactions {
                assert_eq!(counter.words(&[r.span]), counter.read(r.span), "{text}");
            }
        }
    }
}
