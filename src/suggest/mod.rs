//! Suggestions of personal data (FOIA s40) that nobody tagged: a paper and its model in,
//! [`Suggestion`]s and `personal-data/<kind>` findings out. Pure: it reads and writes nothing
//! (cli.rs reads `people.yaml` and the baseline, and writes what `--apply` changes).
//!
//! Only text that an audience withholding S40 reads is looked at: the body outside what is
//! withheld from that audience (comments and tags left out), and the front matter, which every
//! audience reads. Names in `rules/people.yaml` are not suggested; a suggestion acknowledged in
//! a baseline is not reported, and an acknowledgement that matches nothing is a
//! `baseline/unused` finding. Front matter cannot be tagged, so a suggestion there says to
//! list the person in `people.yaml` or change the value.

pub mod apply;
pub mod baseline;
pub mod people;
pub mod recognise;

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use serde_saphyr::Spanned;

use crate::check::{CheckInput, Finding, Level, Location, display_path, front_matter_values};
use crate::model::Paper;
use crate::rules::{Audience, Rules};
use crate::span::{LineIndex, Span, subtract};
pub use baseline::{Acknowledgement, Baseline};
pub use people::People;
pub use recognise::{Hit, Recognisers};

/// The exemption personal data is withheld under.
pub const S40: &str = "S40";

/// What a suggestion says it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Email,
    /// Before `Phone`: ten digits an "NHS" names are an NHS number, though they dial too.
    Nhs,
    Phone,
    Nino,
    Postcode,
    Collar,
    Vehicle,
    Dob,
    Bank,
    Ip,
    Name,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Email,
        Kind::Phone,
        Kind::Nino,
        Kind::Nhs,
        Kind::Postcode,
        Kind::Collar,
        Kind::Vehicle,
        Kind::Dob,
        Kind::Bank,
        Kind::Ip,
        Kind::Name,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Nino => "nino",
            Kind::Nhs => "nhs",
            Kind::Postcode => "postcode",
            Kind::Collar => "collar",
            Kind::Vehicle => "vehicle",
            Kind::Dob => "dob",
            Kind::Bank => "bank",
            Kind::Ip => "ip",
            Kind::Name => "name",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the kind is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Kind::Email => "email address",
            Kind::Phone => "phone number",
            Kind::Nino => "National Insurance number",
            Kind::Nhs => "NHS number",
            Kind::Postcode => "postcode",
            Kind::Collar => "collar or warrant number",
            Kind::Vehicle => "vehicle registration",
            Kind::Dob => "date of birth",
            Kind::Bank => "sort code or account number",
            Kind::Ip => "IP address",
            Kind::Name => "person's name",
        }
    }

    /// The rule id findings carry.
    pub fn rule(self) -> String {
        format!("personal-data/{}", self.as_str())
    }

    /// A value as a person wrote it, normalised as suggestions print it; None if it is not
    /// one of this kind.
    pub fn normalise(self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let squeezed: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let value = match self {
            Kind::Phone => recognise::phone_value(raw)?,
            Kind::Name => recognise::normalise_name(raw),
            Kind::Email => raw.to_lowercase(),
            Kind::Nino | Kind::Vehicle => squeezed.to_uppercase(),
            Kind::Nhs => squeezed.chars().filter(char::is_ascii_digit).collect(),
            Kind::Postcode => {
                let upper = squeezed.to_uppercase();
                if upper.len() < 5 {
                    return None;
                }
                let (outward, inward) = upper.split_at(upper.len() - 3);
                format!("{outward} {inward}")
            }
            Kind::Ip => raw.parse::<std::net::IpAddr>().ok()?.to_string(),
            Kind::Collar => recognise::collar_value(raw)?,
            Kind::Dob => recognise::date_value(raw)?,
            Kind::Bank => recognise::bank_value(raw)?,
        };
        (!value.is_empty()).then_some(value)
    }
}

/// One suggestion in a paper.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suggestion {
    pub span: Span,
    pub kind: Kind,
    pub value: String,
    /// In the front matter, where no tag can go.
    pub front_matter: bool,
}

/// Recognisers, public figures and acknowledgements: what suggesting needs besides papers.
#[derive(Debug, Default)]
pub struct Suggester {
    pub recognisers: Recognisers,
    pub people: People,
    pub baseline: Option<Baseline>,
}

/// Audiences that do not see what is withheld under S40.
pub fn s40_audiences(rules: &Rules) -> impl Iterator<Item = &Audience> {
    rules
        .audiences
        .iter()
        .filter(|a| a.withholds.iter().any(|c| c.as_str() == S40))
}

impl Suggester {
    /// Every suggestion in a paper that an audience withholding S40 would read, sorted.
    pub fn paper(&self, text: &str, paper: &Paper, rules: &Rules) -> Vec<Suggestion> {
        let mut found = BTreeSet::new();
        let mut seen_stretches = BTreeSet::new();
        let mut any = false;
        for audience in s40_audiences(rules) {
            any = true;
            for stretch in published_body(text, paper, audience) {
                if !seen_stretches.insert(stretch) {
                    continue;
                }
                for hit in self.recognisers.scan(text, stretch) {
                    if self.wanted(text, &hit) {
                        found.insert(Suggestion {
                            span: hit.span,
                            kind: hit.kind,
                            value: hit.value,
                            front_matter: false,
                        });
                    }
                }
            }
        }
        if any {
            for span in front_matter_values(text, paper) {
                for hit in self.recognisers.scan(text, span) {
                    if self.wanted(text, &hit) {
                        found.insert(Suggestion {
                            span: hit.span,
                            kind: hit.kind,
                            value: hit.value,
                            front_matter: true,
                        });
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    fn wanted(&self, text: &str, hit: &Hit) -> bool {
        hit.kind != Kind::Name || !self.people.covers(hit, &text[hit.span.start..hit.span.end])
    }

    /// The `personal-data/<kind>` findings of every paper, less those acknowledged, and a
    /// `baseline/unused` finding for each acknowledgement of a paper here that matched nothing.
    pub fn findings(&self, inputs: &[CheckInput], rules: &Rules) -> Vec<Finding> {
        let per_paper: Vec<(Vec<Finding>, Vec<usize>)> = inputs
            .par_iter()
            .map(|input| {
                let suggestions = self.paper(input.text, input.paper, rules);
                self.paper_findings(input.path, input.name, input.text, &suggestions)
            })
            .collect();
        let mut used = vec![false; self.baseline.as_ref().map_or(0, |b| b.entries.len())];
        let mut findings = Vec::new();
        for (f, u) in per_paper {
            findings.extend(f);
            for k in u {
                used[k] = true;
            }
        }
        let papers: Vec<[String; 2]> = inputs
            .iter()
            .map(|i| [i.name.to_string(), display_path(i.path)])
            .collect();
        findings.extend(self.unused(&papers, &used));
        findings
    }

    /// Findings for one paper's suggestions, and the acknowledgements they used.
    pub fn paper_findings(
        &self,
        path: &Path,
        name: &str,
        text: &str,
        suggestions: &[Suggestion],
    ) -> (Vec<Finding>, Vec<usize>) {
        let shown = display_path(path);
        let mut used = Vec::new();
        let mut findings = Vec::new();
        let mut index = None;
        for s in suggestions {
            if let Some(k) = self
                .baseline
                .as_ref()
                .and_then(|b| b.find([name, &shown], s.kind, &s.value))
            {
                used.push(k);
                continue;
            }
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            findings.push(finding(&shown, text, index, s));
        }
        (findings, used)
    }

    fn unused(&self, papers: &[[String; 2]], used: &[bool]) -> Vec<Finding> {
        let Some(baseline) = &self.baseline else {
            return Vec::new();
        };
        let index = LineIndex::new(&baseline.text);
        let path = display_path(&baseline.path);
        baseline
            .entries
            .iter()
            .zip(used)
            .filter(|(e, used)| !**used && papers.iter().any(|p| p.contains(&e.paper)))
            .map(|(e, _)| {
                let location = location(&path, &baseline.text, &index, e.span);
                let line = index.line_text(&baseline.text, location.line).to_string();
                Finding {
                    rule: "baseline/unused".into(),
                    level: Level::Warning,
                    location,
                    message: format!(
                        "acknowledged {} `{}` in `{}` is no longer suggested",
                        e.kind.what(),
                        e.value,
                        e.paper
                    ),
                    related: None,
                    help: Some(
                        "the value changed or is gone from the paper: remove the entry".into(),
                    ),
                    snippet: Some(line),
                    fingerprint: None,
                    diff: None,
                }
            })
            .collect()
    }
}

fn location(path: &str, text: &str, index: &LineIndex, span: Span) -> Location {
    let (line, column) = index.line_col(text, span.start);
    let (end_line, end_column) = index.line_col(text, span.end.max(span.start));
    Location {
        path: path.to_string(),
        line,
        column,
        end_line,
        end_column,
    }
}

/// A suggestion as a `check` finding.
pub fn finding(path: &str, text: &str, index: &LineIndex, s: &Suggestion) -> Finding {
    let location = location(path, text, index, s.span);
    let line = index.line_text(text, location.line).to_string();
    let written = &text[s.span.start..s.span.end];
    let help = if s.front_matter {
        match s.kind {
            Kind::Name => format!(
                "front matter cannot be tagged: list the person in rules/people.yaml with this form (`{}`), or change the value",
                written.split_whitespace().collect::<Vec<_>>().join(" ")
            ),
            _ => {
                "front matter cannot be tagged: change the value, or acknowledge it in the baseline"
                    .into()
            }
        }
    } else {
        format!(
            "withhold it (`redact suggest --apply` writes `[…]{{.S40 reason=\"personal data: {}\"}}`), or acknowledge `{}` for this paper in the baseline with a reason",
            s.kind.as_str(),
            s.value
        )
    };
    Finding {
        rule: s.kind.rule(),
        level: Level::Warning,
        location,
        message: format!(
            "possible {} published untagged: `{}`",
            s.kind.what(),
            s.value
        ),
        related: None,
        help: Some(help),
        snippet: Some(line),
        fingerprint: None,
        diff: None,
    }
}

/// The body as `audience` reads it, as stretches of source: outside what is withheld from it,
/// without comments, tags or heading attribute blocks.
pub fn published_body(text: &str, paper: &Paper, audience: &Audience) -> Vec<Span> {
    let mut holes: Vec<Span> = paper.withheld_spans(audience);
    holes.extend(paper.comments.iter().copied());
    for r in &paper.redactions {
        holes.extend([r.open, r.close, r.attrs]);
    }
    holes.extend(paper.heading_attrs.iter().map(|h| h.span));
    subtract(Span::new(paper.body_start, text.len()), &holes)
}

/// Where a YAML value sits in its file, one byte wide if the parser lost it.
pub(crate) fn value_span<T>(text: &str, spanned: &Spanned<T>) -> Span {
    let span = spanned.referenced.span();
    match span.byte_offset() {
        Some(start) => {
            let start = (start as usize).min(text.len());
            let len = span.byte_len().unwrap_or(1).max(1) as usize;
            Span::new(start, (start + len).min(text.len()))
        }
        None => {
            let at = LineIndex::new(text)
                .line_start(spanned.referenced.line() as usize)
                .min(text.len());
            Span::new(at, (at + 1).min(text.len()))
        }
    }
}
