//! Acknowledgements: suggestions a person has looked at and decided to publish, each keyed by
//! its paper, kind and normalised value with a reason, never by a line number that drifts.
//! `redact suggest --write-baseline FILE` writes one; `redact check --baseline FILE` reads
//! it. Takes the file's text, gives a [`Baseline`] or an error located in the file; renders
//! one back as YAML in a fixed order.
//!
//! ```yaml
//! acknowledged:
//!   - paper: 02-firearms-licensing-fees
//!     kind: phone
//!     value: "+441632960000"
//!     reason: the licensing unit's public switchboard
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Kind, value_span};
use crate::error::{Diagnostic, Error};
use crate::span::Span;
use crate::yaml::from_yaml;

/// One acknowledged suggestion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Acknowledgement {
    /// The paper's name (as in the output folders) or its path as given.
    pub paper: String,
    pub kind: Kind,
    /// Normalised as the suggestion prints it.
    pub value: String,
    pub reason: String,
    /// Where the entry is in the file.
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub path: PathBuf,
    pub text: String,
    pub entries: Vec<Acknowledgement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    #[serde(default)]
    acknowledged: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    paper: Spanned<String>,
    kind: Spanned<String>,
    value: Spanned<String>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
}

impl Baseline {
    /// Parses and validates a baseline; `path` names it in errors and findings.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, Error> {
        let located = |diagnostic| Error::source(path, text, diagnostic);
        let mut baseline = Baseline {
            path: path.to_path_buf(),
            text: text.to_string(),
            entries: Vec::new(),
        };
        let only_comments = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if only_comments {
            return Ok(baseline);
        }
        let file: BaselineFile = from_yaml(text, 0).map_err(located)?;
        for entry in file.acknowledged {
            let kind_at = value_span(text, &entry.kind);
            let Some(kind) = Kind::parse(entry.kind.value.trim()) else {
                return Err(located(
                    Diagnostic::new(
                        kind_at,
                        format!("unknown kind of personal data `{}`", entry.kind.value),
                    )
                    .hint(format!(
                        "kinds: {}",
                        Kind::ALL.map(|k| k.as_str()).join(", ")
                    )),
                ));
            };
            let reason = match &entry.reason {
                Some(r) if !r.value.trim().is_empty() => r.value.trim().to_string(),
                Some(r) => {
                    return Err(located(Diagnostic::new(
                        value_span(text, r),
                        "acknowledgement gives no reason",
                    )));
                }
                None => {
                    return Err(located(
                        Diagnostic::new(kind_at, "acknowledgement gives no reason")
                            .hint("add `reason:` saying why this may be published"),
                    ));
                }
            };
            let paper = entry.paper.value.trim().to_string();
            if paper.is_empty() {
                return Err(located(Diagnostic::new(
                    value_span(text, &entry.paper),
                    "acknowledgement names no paper",
                )));
            }
            let Some(value) = kind.normalise(&entry.value.value) else {
                return Err(located(
                    Diagnostic::new(
                        value_span(text, &entry.value),
                        format!("`{}` is not a {}", entry.value.value, kind.what()),
                    )
                    .hint("copy the value from the suggestion"),
                ));
            };
            baseline.entries.push(Acknowledgement {
                paper,
                kind,
                value,
                reason,
                span: value_span(text, &entry.paper),
            });
        }
        Ok(baseline)
    }

    /// The entry acknowledging this suggestion in the paper known by `names`, if any.
    pub fn find(&self, names: [&str; 2], kind: Kind, value: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.kind == kind && e.value == value && names.contains(&e.paper.as_str()))
    }
}

/// A baseline as YAML: a header, then entries sorted by paper, kind and value.
pub fn render(entries: &[Acknowledgement]) -> String {
    let mut sorted: Vec<&Acknowledgement> = entries.iter().collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.paper == b.paper && a.kind == b.kind && a.value == b.value);
    let mut out = String::from(
        "# Personal data acknowledged for publication, per paper (`redact check --baseline`).\n\
         # Each entry names a paper, a kind and the value as suggestions print it, with a reason.\n",
    );
    if sorted.is_empty() {
        out.push_str("acknowledged: []\n");
        return out;
    }
    out.push_str("acknowledged:\n");
    for e in sorted {
        out.push_str(&format!(
            "  - paper: {}\n    kind: {}\n    value: {}\n    reason: {}\n",
            quoted(&e.paper),
            e.kind.as_str(),
            quoted(&e.value),
            quoted(&e.reason)
        ));
    }
    out
}

/// A YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}
