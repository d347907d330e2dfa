//! Findings → what `check` prints on stdout: text for people, JSON for scripts, SARIF for code
//! scanning. Pure; the same findings give the same bytes.
//!
//! **Text** (`--format text`), like cargo and ripgrep: each finding is a header
//! `path:line:col: level[rule]: message`, the line with carets under the span, then any
//! `note:` (a second place) and `help:`, then a unified diff for `release/changed`; a blank
//! line between findings and a count at the end. Nothing at all when there is no finding.
//!
//! **JSON** (`--format json`), schema 1. Stable: fields are only ever added, never renamed or
//! removed, without raising `schema`. Every key is always present (`null` when empty):
//!
//! ```json
//! {
//!   "schema": 1,
//!   "findings": [
//!     {
//!       "rule": "deny/collar-number",      // see RULES; `deny/<id>` for deny-list rules
//!       "level": "error",                  // "error" | "warning" | "note"
//!       "path": "papers/x.md",             // as given, `/`-separated
//!       "line": 14, "column": 35,          // 1-based; columns count Unicode scalar values
//!       "end_line": 14, "end_column": 42,  // just after the span
//!       "message": "…",
//!       "help": "…" | null,
//!       "related": { "path": "…", "line": 3, "column": 1, "message": "…" } | null,
//!       "fingerprint": "<SHA-256 of the trimmed line>" | null,  // what an allowlist names
//!       "diff": "<unified diff>" | null    // release/changed only
//!     }
//!   ],
//!   "summary": { "findings": 1, "errors": 1, "warnings": 0, "notes": 0 }
//! }
//! ```
//!
//! **SARIF** (`--format sarif`): SARIF 2.1.0 as GitHub code scanning reads it: one run whose
//! `tool.driver` lists every rule (id, short description, default level), results with
//! `ruleId`, `level`, `message.text`, a physical location (relative `uri` under `%SRCROOT%`,
//! region with 1-based `startLine`/`startColumn`, columns in Unicode code points), related
//! locations and a `partialFingerprints` entry so results keep their identity across runs.
//!
//! JSON and SARIF carry everything `check` reports on stderr, so code scanning shows why a job
//! failed: a paper (or a path given) that cannot be built is an `input/error` result at the
//! error's position (exit 2), a failed audit proof an `audit/proof-failed` result, and each
//! warning an `input/warning` result. The text report leaves those to stderr, where they are
//! drawn with their snippet already.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde_sarif::sarif;

use crate::check::{Finding, Level, Location};
use crate::deny::DenyList;
use crate::error::Error;
use crate::span::LineIndex;

/// A paper, or a path given, that cannot be built: exit 2.
pub const INPUT_ERROR: &str = "input/error";
/// A paper that builds, with a warning.
pub const INPUT_WARNING: &str = "input/warning";
/// A copy the audit's proof refused.
pub const PROOF_FAILED: &str = "audit/proof-failed";

/// Every fixed rule: id, what it means, default level.
pub const RULES: [(&str, &str, Level); 12] = [
    (
        INPUT_ERROR,
        "A paper or a path given cannot be read or built (malformed input, an unreadable file, a symlink, a failed render, no papers in a folder): exit 2",
        Level::Error,
    ),
    (
        INPUT_WARNING,
        "A paper builds, with a warning (such as a qualified exemption with no public interest test summary)",
        Level::Warning,
    ),
    (
        PROOF_FAILED,
        "The audit's proof failed: a copy is not the source with exactly its declared redactions",
        Level::Error,
    ),
    (
        "leak/withheld-word",
        "A distinctive word of a withheld passage is in a public copy",
        Level::Error,
    ),
    (
        "leak/withheld-run",
        "A run of words of a withheld passage is in a public copy",
        Level::Error,
    ),
    (
        "leak/hidden-channel",
        "Withheld text survives in a hidden part of a public copy (link target, image alt or source, heading id, footnote or reference definition, HTML comment, attribute, front matter)",
        Level::Error,
    ),
    (
        "leak/scan-failed",
        "The leak scan could not run on a paper",
        Level::Error,
    ),
    (
        "reference/only-withheld",
        "A published footnote or link reference definition is used only by withheld text",
        Level::Warning,
    ),
    (
        "consistency/shared-run",
        "Words withheld in one place are published in another",
        Level::Error,
    ),
    (
        "consistency/deny-term",
        "A deny-listed term withheld in one place is published in another",
        Level::Error,
    ),
    (
        "allowlist/unused",
        "An allowlist entry of the deny-list suppresses nothing",
        Level::Warning,
    ),
    (
        "release/changed",
        "A public copy would differ from the copy released",
        Level::Error,
    ),
];

/// A path as findings name it: as given, `/`-separated.
fn shown(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A finding at line 1, column 1 of `path` (a problem with the file as a whole).
fn whole_file(rule: &str, level: Level, path: &str, message: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        level,
        location: Location {
            path: path.to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        },
        message,
        related: None,
        help: None,
        snippet: None,
        fingerprint: None,
        diff: None,
    }
}

/// An error that stops a paper (or a run), as a result: at the error's own position in the
/// file it names, or line 1 of it; an error tied to no file is named after the run.
pub fn error_finding(error: &Error) -> Finding {
    match error {
        Error::Source(e) => {
            let text = &e.text;
            let index = LineIndex::new(text);
            let span = e.diagnostic.span;
            let start = span.start.min(text.len());
            let end = span.end.clamp(start, text.len());
            let (line, column) = index.line_col(text, start);
            let (end_line, end_column) = index.line_col(text, end);
            let mut message = e.diagnostic.message.clone();
            if let Some(note) = &e.diagnostic.note {
                message.push_str(" (");
                message.push_str(note);
                message.push(')');
            }
            Finding {
                rule: INPUT_ERROR.to_string(),
                level: Level::Error,
                location: Location {
                    path: shown(&e.path),
                    line,
                    column,
                    end_line,
                    end_column,
                },
                message,
                related: None,
                help: e.diagnostic.hint.clone(),
                snippet: Some(index.line_text(text, line).to_string()),
                fingerprint: None,
                diff: None,
            }
        }
        Error::Path { path, message } => {
            whole_file(INPUT_ERROR, Level::Error, &shown(path), message.clone())
        }
        Error::Render { path, message } => whole_file(
            INPUT_ERROR,
            Level::Error,
            &shown(path),
            format!("cannot render: {message}"),
        ),
        Error::Usage(message) => whole_file(INPUT_ERROR, Level::Error, ".", message.clone()),
    }
}

/// A warning line as the build prints it (`path:line:col: warning: message`), as a result
/// at that position; a line in another shape is kept whole, at line 1 of `path`.
pub fn warning_finding(path: &std::path::Path, line: &str) -> Finding {
    let name = shown(path);
    let parsed = line
        .strip_prefix(&format!("{}:", path.display()))
        .and_then(|rest| {
            let (at, message) = rest.split_once(": warning: ")?;
            let (l, c) = at.split_once(':')?;
            Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?, message))
        });
    match parsed {
        Some((l, c, message)) if l > 0 && c > 0 => Finding {
            location: Location {
                path: name,
                line: l,
                column: c,
                end_line: l,
                end_column: c,
            },
            ..whole_file(INPUT_WARNING, Level::Warning, "", message.to_string())
        },
        _ => whole_file(INPUT_WARNING, Level::Warning, &name, line.to_string()),
    }
}

/// A copy the audit's proof refused, as a result at line 1 of the paper (the proof names
/// positions in the copy, which code scanning cannot show).
pub fn proof_finding(path: &std::path::Path, line: &str) -> Finding {
    let message = line
        .strip_prefix(&format!("{}: error: ", path.display()))
        .unwrap_or(line);
    whole_file(
        PROOF_FAILED,
        Level::Error,
        &shown(path),
        message.to_string(),
    )
}

/// Columns of a long source line shown around the finding.
const SNIPPET_WIDTH: usize = 100;

/// The report for people.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for (k, f) in findings.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let l = &f.location;
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            l.path,
            l.line,
            l.column,
            f.level.as_str(),
            f.rule,
            f.message
        );
        let gutter = l.line.to_string().len();
        if let Some(line) = &f.snippet {
            draw_snippet(&mut out, line, l, gutter);
        }
        if let Some(related) = &f.related {
            let r = &related.location;
            let _ = writeln!(
                out,
                "{:gutter$} = note: {} at {}:{}:{}",
                "", related.message, r.path, r.line, r.column
            );
        }
        if let Some(help) = &f.help {
            let mut lines = help.lines();
            if let Some(first) = lines.next() {
                let _ = writeln!(out, "{:gutter$} = help: {first}", "");
            }
            for more in lines {
                let _ = writeln!(out, "{:gutter$}         {more}", "");
            }
        }
        if let Some(diff) = &f.diff {
            out.push_str(diff);
            if !diff.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    if !findings.is_empty() {
        let n = findings.len();
        let _ = writeln!(out, "\n{n} finding{}", if n == 1 { "" } else { "s" });
    }
    out
}

fn draw_snippet(out: &mut String, line: &str, l: &Location, gutter: usize) {
    let chars: Vec<char> = line.chars().collect();
    let col = l.column.max(1);
    let width = if l.end_line == l.line {
        l.end_column.saturating_sub(col)
    } else {
        chars.len().saturating_sub(col - 1)
    }
    .clamp(1, SNIPPET_WIDTH / 2);
    let first = (col - 1).saturating_sub(SNIPPET_WIDTH / 2);
    let last = (first + SNIPPET_WIDTH).min(chars.len());
    let lead = if first > 0 { "…" } else { "" };
    let tail = if last < chars.len() { "…" } else { "" };
    let shown: String = chars[first.min(chars.len())..last]
        .iter()
        .map(|&c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    let _ = writeln!(out, "{} | {lead}{shown}{tail}", l.line);
    let before: String = chars[first.min(chars.len())..(col - 1).min(chars.len())]
        .iter()
        .map(|&c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let pad = if first > 0 { " " } else { "" };
    let _ = writeln!(out, "{:gutter$} | {pad}{before}{}", "", "^".repeat(width));
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    level: Level,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
    related: Option<JsonRelated<'a>>,
    fingerprint: Option<&'a str>,
    diff: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    findings: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
}

/// The JSON report, schema 1 (see the module documentation).
pub fn json(findings: &[Finding]) -> String {
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let report = JsonReport {
        schema: 1,
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: &f.rule,
                level: f.level,
                path: &f.location.path,
                line: f.location.line,
                column: f.location.column,
                end_line: f.location.end_line,
                end_column: f.location.end_column,
                message: &f.message,
                help: f.help.as_deref(),
                related: f.related.as_ref().map(|r| JsonRelated {
                    path: &r.location.path,
                    line: r.location.line,
                    column: r.location.column,
                    message: &r.message,
                }),
                fingerprint: f.fingerprint.as_deref(),
                diff: f.diff.as_deref(),
            })
            .collect(),
        summary: Summary {
            findings: findings.len(),
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            notes: count(Level::Note),
        },
    };
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_default();
    out.push('\n');
    out
}

/// Characters escaped in a SARIF `uri` path segment.
const URI_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A path as a SARIF artifact location: relative to the checkout (`%SRCROOT%`), or a
/// `file://` URI if it is absolute.
fn artifact(path: &str) -> sarif::ArtifactLocation {
    let encoded: Vec<String> = path
        .split('/')
        .map(|segment| utf8_percent_encode(segment, URI_SEGMENT).to_string())
        .collect();
    let encoded = encoded.join("/");
    if path.starts_with('/') {
        sarif::ArtifactLocation::builder()
            .uri(format!("file://{encoded}"))
            .build()
    } else {
        sarif::ArtifactLocation::builder()
            .uri(encoded.trim_start_matches("./").to_string())
            .uri_base_id("%SRCROOT%")
            .build()
    }
}

fn sarif_level(level: Level) -> sarif::ResultLevel {
    match level {
        Level::Error => sarif::ResultLevel::Error,
        Level::Warning => sarif::ResultLevel::Warning,
        Level::Note => sarif::ResultLevel::Note,
    }
}

fn physical(location: &Location) -> sarif::PhysicalLocation {
    let region = if (location.end_line, location.end_column) > (location.line, location.column) {
        sarif::Region::builder()
            .start_line(location.line as i64)
            .start_column(location.column as i64)
            .end_line(location.end_line as i64)
            .end_column(location.end_column as i64)
            .build()
    } else {
        sarif::Region::builder()
            .start_line(location.line as i64)
            .start_column(location.column as i64)
            .build()
    };
    sarif::PhysicalLocation::builder()
        .artifact_location(artifact(&location.path))
        .region(region)
        .build()
}

fn text_message(text: &str) -> sarif::Message {
    sarif::Message::builder().text(text.to_string()).build()
}

/// The SARIF 2.1.0 log. `deny` supplies the deny-list's rules, so each is described.
pub fn sarif(findings: &[Finding], deny: &DenyList) -> String {
    let mut catalogue: Vec<(String, String, Level)> = RULES
        .iter()
        .map(|(id, text, level)| (id.to_string(), text.to_string(), *level))
        .collect();
    for rule in &deny.rules {
        let what = rule.description.as_deref().unwrap_or(&rule.id);
        catalogue.push((
            rule.finding_rule(),
            format!("Deny-listed in a public copy: {what}"),
            Level::Error,
        ));
    }
    for f in findings {
        if !catalogue.iter().any(|(id, _, _)| *id == f.rule) {
            catalogue.push((f.rule.clone(), f.rule.clone(), f.level));
        }
    }
    let rules: Vec<sarif::ReportingDescriptor> = catalogue
        .iter()
        .map(|(id, text, level)| {
            sarif::ReportingDescriptor::builder()
                .id(id.clone())
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(text.clone())
                        .build(),
                )
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(serde_json::json!(level.as_str()))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = findings
        .iter()
        .map(|f| {
            let index = catalogue.iter().position(|(id, _, _)| *id == f.rule);
            let mut message = f.message.clone();
            if let Some(related) = &f.related {
                let r = &related.location;
                message.push_str(&format!(
                    " ({} at {}:{}:{})",
                    related.message, r.path, r.line, r.column
                ));
            }
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let location = sarif::Location::builder()
                .physical_location(physical(&f.location))
                .build();
            let related: Vec<sarif::Location> = f
                .related
                .iter()
                .map(|r| {
                    sarif::Location::builder()
                        .id(1)
                        .physical_location(physical(&r.location))
                        .message(text_message(&r.message))
                        .build()
                })
                .collect();
            let mut fingerprints = BTreeMap::new();
            if let Some(fp) = &f.fingerprint {
                fingerprints.insert("redactLineHash/v1".to_string(), fp.clone());
            }
            let mut properties = BTreeMap::new();
            if let Some(diff) = &f.diff {
                properties.insert("diff".to_string(), serde_json::json!(diff));
            }
            let mut result = sarif::Result::builder()
                .rule_id(f.rule.clone())
                .level(sarif_level(f.level))
                .message(text_message(&message))
                .locations(vec![location])
                .build();
            result.rule_index = index.map(|i| i as i64);
            if !related.is_empty() {
                result.related_locations = Some(related);
            }
            if !fingerprints.is_empty() {
                result.partial_fingerprints = Some(fingerprints);
            }
            if !properties.is_empty() {
                result.properties = Some(
                    sarif::PropertyBag::builder()
                        .additional_properties(properties)
                        .build(),
                );
            }
            result
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("redact")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .build();
    let log = sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Related;

    fn finding() -> Finding {
        Finding {
            rule: "deny/collar-number".into(),
            level: Level::Error,
            location: Location {
                path: "papers/a b.md".into(),
                line: 12,
                column: 6,
                end_line: 12,
                end_column: 13,
            },
            message: "`PC 4021` matches deny rule `collar-number`".into(),
            related: Some(Related {
                location: Location {
                    path: "papers/b.md".into(),
                    line: 3,
                    column: 1,
                    end_line: 3,
                    end_column: 8,
                },
                message: "withheld".into(),
            }),
            help: Some("withhold it\n  - rule: x".into()),
            snippet: Some("Call PC 4021 now".into()),
            fingerprint: Some("ab".repeat(32)),
            diff: None,
        }
    }

    #[test]
    fn text_report_reads_like_cargo() {
        let expected = "\
papers/a b.md:12:6: error[deny/collar-number]: `PC 4021` matches deny rule `collar-number`
12 | Call PC 4021 now
   |      ^^^^^^^
   = note: withheld at papers/b.md:3:1
   = help: withhold it
             - rule: x

1 finding
";
        assert_eq!(text(&[finding()]), expected);
        assert_eq!(text(&[]), "");
    }

    #[test]
    fn json_report_has_schema_and_every_key() {
        let value: serde_json::Value =
            serde_json::from_str(&json(&[finding()])).expect("valid JSON");
        assert_eq!(value["schema"], 1);
        let f = &value["findings"][0];
        assert_eq!(f["rule"], "deny/collar-number");
        assert_eq!(f["level"], "error");
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(12), Some(6))
        );
        assert_eq!(f["related"]["path"], "papers/b.md");
        assert!(f["diff"].is_null());
        assert_eq!(value["summary"]["errors"], 1);
    }

    #[test]
    fn sarif_results_point_at_rules_and_relative_uris() {
        let log: serde_json::Value =
            serde_json::from_str(&sarif(&[finding()], &DenyList::empty())).expect("valid JSON");
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let result = &run["results"][0];
        let index = result["ruleIndex"].as_u64().expect("rule index") as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            "deny/collar-number"
        );
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "papers/a%20b.md");
        assert_eq!(location["region"]["startLine"], 12);
        assert_eq!(location["region"]["startColumn"], 6);
    }
}
