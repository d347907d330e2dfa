//! The deny-list, `rules/deny.yaml`: terms and regexes that must never appear in text a
//! public copy publishes, the allowlist of deliberate exceptions, and the consistency
//! setting. It takes the file's text and gives a validated [`DenyList`]; every problem is an
//! error located in the file (`deny.yaml:line:col`), naming the rule it concerns. It never
//! reads a file itself (source.rs does) and matches nothing (check.rs does).
//!
//! ```yaml
//! consistency:
//!   min_words: 5            # shortest run of words shared by withheld and public text
//! deny:
//!   - id: collar-number     # findings are reported as `deny/collar-number`
//!     regex: '\b(?:PC|DC|PS|DS) ?[0-9]{3,5}\b'
//!     description: an officer's collar number
//!   - id: kestrel
//!     term: Operation Kestrel   # whole words, any case, however encoded
//! allow:
//!   - rule: deny/kestrel    # or consistency/shared-run, consistency/deny-term,
//!                           #    reference/only-withheld
//!     paper: 03-covert-surveillance-collaboration
//!     line: 5f1c…           # SHA-256 of the line's text, trimmed (the finding prints it)
//!     reason: named in the Chief Constable's published letter
//! ```
//!
//! A `term` matches whole words after the same normalising as the leak scan (case, HTML
//! entities, percent-encoding, NFKC, zero-width characters). A `regex` (Rust `regex`
//! syntax; write it in single quotes so backslashes stay as written) runs on the decoded
//! text with case kept: add `(?i)` to ignore case. An allowlist entry is tied to a paper (its
//! name, as in the output folders, or its path as given) and to the fingerprint of a line,
//! not a line number that drifts; an entry for a paper in the run that suppresses nothing is
//! itself a finding (`allowlist/unused`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::check::text::words_of;
use crate::error::{Diagnostic, Error};
use crate::rules::hex;
use crate::span::Span;
use crate::yaml::from_yaml;

pub const DENY_FILE: &str = "deny.yaml";
/// The default deny-list, compiled in like the other rules.
pub const DEFAULT_DENY: &str = include_str!("../rules/deny.yaml");
/// The shortest shared run of words that is a consistency finding, unless `rules/` says.
pub const DEFAULT_MIN_WORDS: usize = 5;

/// Finding rules an allowlist entry may name besides `deny/<id>`. Leaks are not among them:
/// a leak proves a bug or tampering and is never a deliberate exception.
pub const ALLOWABLE_RULES: [&str; 3] = [
    "consistency/shared-run",
    "consistency/deny-term",
    "reference/only-withheld",
];

#[derive(Debug, Clone)]
pub enum Pattern {
    /// Whole words: the term normalised, words joined by single spaces.
    Term(String),
    Regex(regex::Regex),
}

#[derive(Debug, Clone)]
pub struct DenyRule {
    pub id: String,
    pub description: Option<String>,
    pub pattern: Pattern,
}

impl DenyRule {
    /// The rule id findings carry: `deny/<id>`.
    pub fn finding_rule(&self) -> String {
        format!("deny/{}", self.id)
    }
}

#[derive(Debug, Clone)]
pub struct Allow {
    /// A finding rule id: `deny/<id>` or one of [`ALLOWABLE_RULES`].
    pub rule: String,
    pub paper: String,
    /// SHA-256 (hex) of the trimmed line the finding points at.
    pub line: String,
    pub reason: String,
    /// Where the entry is in the deny-list file.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct DenyList {
    /// The file, as findings about it name it.
    pub path: PathBuf,
    pub text: String,
    pub rules: Vec<DenyRule>,
    pub allow: Vec<Allow>,
    pub min_words: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenyFile {
    #[serde(default)]
    consistency: Option<ConsistencyEntry>,
    #[serde(default)]
    deny: Vec<RuleEntry>,
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyEntry {
    min_words: Spanned<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: Spanned<String>,
    #[serde(default)]
    term: Option<Spanned<String>>,
    #[serde(default)]
    regex: Option<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    rule: Spanned<String>,
    paper: Spanned<String>,
    line: Spanned<String>,
    reason: Spanned<String>,
}

/// The fingerprint an allowlist entry names: SHA-256 of the line's text, trimmed.
pub fn fingerprint(line: &str) -> String {
    hex(&Sha256::digest(line.trim().as_bytes()))
}

impl DenyList {
    /// No rules, no allowlist, the default run length.
    pub fn empty() -> DenyList {
        DenyList {
            path: PathBuf::from("rules").join(DENY_FILE),
            text: String::new(),
            rules: Vec::new(),
            allow: Vec::new(),
            min_words: DEFAULT_MIN_WORDS,
        }
    }

    /// The embedded default (`rules/deny.yaml` of this project).
    pub fn embedded() -> Result<DenyList, Error> {
        DenyList::parse(&PathBuf::from("rules").join(DENY_FILE), DEFAULT_DENY)
    }

    /// Parses and validates a deny-list; `path` names it in errors and findings.
    pub fn parse(path: &Path, text: &str) -> Result<DenyList, Error> {
        let located = |diagnostic| Error::source(path, text, diagnostic);
        let mut list = DenyList {
            path: path.to_path_buf(),
            text: text.to_string(),
            ..DenyList::empty()
        };
        let only_comments = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if only_comments {
            return Ok(list);
        }
        let file: DenyFile = from_yaml(text, 0).map_err(located)?;
        if let Some(consistency) = file.consistency {
            let n = consistency.min_words.value;
            if !(2..=100).contains(&n) {
                return Err(located(
                    Diagnostic::new(
                        value_span(text, &consistency.min_words),
                        format!("`min_words` is {n}; it must be between 2 and 100"),
                    )
                    .hint("5 catches copied phrases without flagging common ones"),
                ));
            }
            list.min_words = n;
        }
        for entry in file.deny {
            let id = entry.id.value.clone();
            let id_span = value_span(text, &entry.id);
            let valid_id = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !id.starts_with('-');
            if !valid_id {
                return Err(located(Diagnostic::new(
                    id_span,
                    format!("deny rule id `{id}` must be lower-case letters, digits and `-`"),
                )));
            }
            if list.rules.iter().any(|r| r.id == id) {
                return Err(located(Diagnostic::new(
                    id_span,
                    format!("deny rule `{id}` is defined twice"),
                )));
            }
            let pattern = match (&entry.term, &entry.regex) {
                (Some(term), None) => {
                    let words = words_of(&term.value);
                    if words.is_empty() {
                        return Err(located(Diagnostic::new(
                            value_span(text, term),
                            format!("deny rule `{id}`: the term has no words"),
                        )));
                    }
                    Pattern::Term(words)
                }
                (None, Some(regex)) => Pattern::Regex(compile(text, &id, regex).map_err(located)?),
                (Some(_), Some(_)) | (None, None) => {
                    return Err(located(
                        Diagnostic::new(
                            id_span,
                            format!("deny rule `{id}` needs exactly one of `term` and `regex`"),
                        )
                        .hint("split it into two rules if it needs both"),
                    ));
                }
            };
            list.rules.push(DenyRule {
                id,
                description: entry.description.filter(|d| !d.trim().is_empty()),
                pattern,
            });
        }
        for entry in file.allow {
            let rule = entry.rule.value.clone();
            let known = ALLOWABLE_RULES.contains(&rule.as_str())
                || rule
                    .strip_prefix("deny/")
                    .is_some_and(|id| list.rules.iter().any(|r| r.id == id));
            if !known {
                let mut known_ids: Vec<String> =
                    list.rules.iter().map(DenyRule::finding_rule).collect();
                known_ids.extend(ALLOWABLE_RULES.iter().map(|r| r.to_string()));
                return Err(located(
                    Diagnostic::new(
                        value_span(text, &entry.rule),
                        format!("allowlist entry names unknown rule `{rule}`"),
                    )
                    .hint(format!(
                        "rules that can be allowed: {}",
                        known_ids.join(", ")
                    )),
                ));
            }
            let line = entry.line.value.trim().to_ascii_lowercase();
            if line.len() != 64 || !line.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(located(
                    Diagnostic::new(
                        value_span(text, &entry.line),
                        "allowlist `line` must be the 64-digit SHA-256 of the line's text, trimmed",
                    )
                    .hint("copy it from the finding's help: it names the line without a line number that drifts"),
                ));
            }
            if entry.reason.value.trim().is_empty() {
                return Err(located(Diagnostic::new(
                    value_span(text, &entry.reason),
                    "allowlist entry gives no reason",
                )));
            }
            if entry.paper.value.trim().is_empty() {
                return Err(located(Diagnostic::new(
                    value_span(text, &entry.paper),
                    "allowlist entry names no paper",
                )));
            }
            list.allow.push(Allow {
                rule,
                paper: entry.paper.value.trim().to_string(),
                line,
                reason: entry.reason.value,
                span: value_span(text, &entry.rule),
            });
        }
        Ok(list)
    }
}

/// Where a value sits in the file (a quote included), one byte wide if the parser lost it.
fn value_span<T>(text: &str, spanned: &Spanned<T>) -> Span {
    let span = spanned.referenced.span();
    match span.byte_offset() {
        Some(start) => {
            let start = (start as usize).min(text.len());
            let len = span.byte_len().unwrap_or(1).max(1) as usize;
            Span::new(start, (start + len).min(text.len()))
        }
        None => {
            let at = crate::span::LineIndex::new(text)
                .line_start(spanned.referenced.line() as usize)
                .min(text.len());
            Span::new(at, (at + 1).min(text.len()))
        }
    }
}

/// Compiles a rule's regex, or says where in the file it fails.
fn compile(text: &str, id: &str, regex: &Spanned<String>) -> Result<regex::Regex, Diagnostic> {
    let pattern = &regex.value;
    let value = value_span(text, regex);
    let syntax = regex_syntax::ParserBuilder::new().build().parse(pattern);
    let (at, end, what) = match syntax {
        Ok(_) => match regex::Regex::new(pattern) {
            Ok(compiled) => {
                if compiled.is_match("") {
                    return Err(Diagnostic::new(
                        value,
                        format!("deny rule `{id}`: the regex matches empty text"),
                    )
                    .hint("a deny regex must match at least one character"));
                }
                return Ok(compiled);
            }
            Err(e) => (0, pattern.len(), e.to_string()),
        },
        Err(regex_syntax::Error::Parse(e)) => (
            e.span().start.offset,
            e.span().end.offset,
            e.kind().to_string(),
        ),
        Err(regex_syntax::Error::Translate(e)) => (
            e.span().start.offset,
            e.span().end.offset,
            e.kind().to_string(),
        ),
        Err(e) => (0, pattern.len(), e.to_string()),
    };
    let start = raw_offset(text, value.start, at);
    let end = raw_offset(text, value.start, end).max(start + 1);
    Err(Diagnostic::new(
        Span::new(start, end.min(text.len()).max(start)),
        format!("deny rule `{id}`: invalid regex: {what}"),
    )
    .hint("deny regexes use Rust `regex` syntax; write them in single quotes so backslashes stay as written"))
}

/// The file offset of byte `offset` of a YAML scalar's value, undoing its quoting.
fn raw_offset(text: &str, value_start: usize, offset: usize) -> usize {
    let raw = &text[value_start.min(text.len())..];
    let (quote, body_start) = match raw.chars().next() {
        Some(q @ ('\'' | '"')) => (Some(q), 1),
        _ => (None, 0),
    };
    let mut decoded = 0;
    let mut chars = raw[body_start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if decoded >= offset {
            return value_start + body_start + i;
        }
        let width = match (quote, c) {
            (Some('\''), '\'') => {
                chars.next();
                1
            }
            (Some('"'), '\\') => {
                let skip = match chars.next().map(|(_, e)| e) {
                    Some('x') => 2,
                    Some('u') => 4,
                    Some('U') => 8,
                    _ => 0,
                };
                for _ in 0..skip {
                    chars.next();
                }
                1
            }
            _ => c.len_utf8(),
        };
        decoded += width;
    }
    value_start + raw.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::LineIndex;

    fn error(text: &str) -> (String, (usize, usize)) {
        match DenyList::parse(Path::new("rules/deny.yaml"), text) {
            Err(Error::Source(e)) => {
                let at = LineIndex::new(text).line_col(text, e.diagnostic.span.start);
                (e.diagnostic.message.clone(), at)
            }
            other => panic!("expected a located error, got {other:?}"),
        }
    }

    #[test]
    fn embedded_deny_list_loads() {
        let list = DenyList::embedded().expect("embedded deny-list loads");
        assert_eq!(list.min_words, DEFAULT_MIN_WORDS);
    }

    #[test]
    fn invalid_regex_is_located_at_the_fault_and_names_the_rule() {
        let text = "deny:\n  - id: op-name\n    regex: '\\bOp (KES[A-Z'\n";
        let (message, at) = error(text);
        assert!(
            message.starts_with("deny rule `op-name`: invalid regex"),
            "{message}"
        );
        // The unclosed `[` is at column 22 of line 3.
        assert_eq!(at, (3, 22));
    }

    #[test]
    fn invalid_regex_in_double_quotes_is_located_through_escapes() {
        let text = "deny:\n  - id: num\n    regex: \"\\\\d{3,2}\"\n";
        let (message, at) = error(text);
        assert!(message.contains("`num`"), "{message}");
        // `\\` is one character of the pattern: `{3,2}` starts at column 16.
        assert_eq!(at, (3, 16));
    }

    #[test]
    fn regex_matching_empty_text_is_refused() {
        let (message, at) = error("deny:\n  - id: any\n    regex: 'x*'\n");
        assert!(message.contains("matches empty text"), "{message}");
        assert_eq!(at.0, 3);
    }

    #[test]
    fn unknown_key_duplicate_id_and_bad_allow_entries_are_located() {
        assert_eq!(error("deny:\n  - id: a\n    trem: x\n").1.0, 3);
        let dup = "deny:\n  - id: a\n    term: x\n  - id: a\n    term: y\n";
        assert_eq!(
            error(dup),
            ("deny rule `a` is defined twice".into(), (4, 9))
        );
        let unknown = "allow:\n  - rule: deny/nope\n    paper: p\n    line: x\n    reason: r\n";
        assert_eq!(error(unknown).1, (2, 11));
        let line = "deny:\n  - id: a\n    term: x\nallow:\n  - rule: deny/a\n    paper: p\n    line: abc\n    reason: r\n";
        assert_eq!(error(line).1, (7, 11));
    }

    #[test]
    fn terms_are_normalised_and_min_words_is_read() {
        let text =
            "consistency:\n  min_words: 7\ndeny:\n  - id: k\n    term: ' Operation  KESTREL '\n";
        let list = DenyList::parse(Path::new("deny.yaml"), text).expect("parses");
        assert_eq!(list.min_words, 7);
        assert!(matches!(&list.rules[0].pattern, Pattern::Term(t) if t == "operation kestrel"));
    }
}
