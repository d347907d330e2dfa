//! Rules: the protective markings, the FOIA exemption codes, presentational classes and the
//! audiences, read from YAML (`rules/`) or the defaults embedded in the binary. Codes and
//! audiences are validated here once; later stages only look them up.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::Diagnostic;
use crate::span::Span;
use crate::yaml::from_yaml;

pub const MARKINGS_FILE: &str = "markings.yaml";
pub const EXEMPTIONS_FILE: &str = "exemptions.yaml";
pub const AUDIENCES_FILE: &str = "audiences.yaml";
pub const RULE_FILES: [&str; 3] = [MARKINGS_FILE, EXEMPTIONS_FILE, AUDIENCES_FILE];
/// The refusal notice's wording. Optional in a rules folder (one made before notices existed
/// stays complete): without it the embedded default is used.
pub const NOTICE_FILE: &str = "notice.yaml";
/// The default notice wording, written from the ICO's guidance (cited in the file).
pub const DEFAULT_NOTICE: &str = include_str!("../rules/notice.yaml");

/// The default rules, compiled in so the binary works with no `rules/` folder.
pub const DEFAULT_RULES: [(&str, &str); 3] = [
    (MARKINGS_FILE, include_str!("../rules/markings.yaml")),
    (EXEMPTIONS_FILE, include_str!("../rules/exemptions.yaml")),
    (AUDIENCES_FILE, include_str!("../rules/audiences.yaml")),
];

/// Public figures whose names `check` does not suggest as personal data (suggest/people.rs
/// reads it). Optional in a rules folder; the embedded default lists the example papers'
/// authors.
pub const PEOPLE_FILE: &str = "people.yaml";
pub const DEFAULT_PEOPLE: &str = include_str!("../rules/people.yaml");

/// An exemption code such as `S31`, known to be defined in the rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ExemptionCode(String);

impl ExemptionCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This code, keeping `spelled` (a class that spells it exactly) as its string rather
    /// than copying the rules' one: a paper's every tag names a code.
    pub(crate) fn spelled_by(&self, spelled: String) -> ExemptionCode {
        debug_assert_eq!(self.0, spelled);
        ExemptionCode(spelled)
    }
}

impl std::fmt::Display for ExemptionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    Absolute,
    Qualified,
}

impl Test {
    /// The test's name as the audit writes it (its serde name).
    pub fn name(self) -> &'static str {
        match self {
            Test::Absolute => "absolute",
            Test::Qualified => "qualified",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exemption {
    pub code: ExemptionCode,
    pub section: String,
    pub title: String,
    pub test: Test,
    /// A default public interest test summary for a qualified exemption, used in the audit
    /// when a redaction gives no `pit="..."`.
    pub pit: Option<String>,
}

/// The marking an audience's copy carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marking {
    /// The paper's own classification.
    Source,
    Fixed(String),
}

#[derive(Debug, Clone)]
pub struct Audience {
    pub name: String,
    pub marking: Marking,
    pub notice: Option<String>,
    /// Codes withheld from this audience.
    pub withholds: BTreeSet<ExemptionCode>,
    pub highlight: bool,
    /// How each code is shown in markers (a combined group shares one label).
    pub labels: BTreeMap<ExemptionCode, String>,
    /// The copy ends with a schedule of the exemptions relied on (FOIA s17).
    pub schedule: bool,
}

impl Audience {
    pub fn withholds_any(&self, codes: &[ExemptionCode]) -> bool {
        codes.iter().any(|c| self.withholds.contains(c))
    }

    /// The audience's Markdown is the source itself: it sees everything in its own marking.
    pub fn reads_source(&self) -> bool {
        self.withholds.is_empty() && self.marking == Marking::Source
    }

    /// What this audience's markers call `code`: its own label, or the code itself.
    pub fn label<'a>(&'a self, code: &'a ExemptionCode) -> &'a str {
        self.labels.get(code).map_or(code.as_str(), String::as_str)
    }
}

/// Where the rules came from, for the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Embedded,
    Folder(std::path::PathBuf),
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub markings: Vec<String>,
    pub exemptions: Vec<Exemption>,
    pub presentational: BTreeSet<String>,
    pub audiences: Vec<Audience>,
    pub origin: Origin,
    /// SHA-256 over the three files, in a fixed order.
    pub hash: String,
    /// The refusal notice's wording (`notice.yaml`).
    pub notice: NoticeWording,
    /// Asset extensions copied as they are, with a warning (`assets.yaml`): types redact
    /// cannot clean. Empty by default.
    pub asset_extensions: BTreeSet<String>,
    /// The second reader for these exemption codes, made on first use and kept: its matcher
    /// cost about 4% of a build when each paper made its own.
    pub second_reader: std::sync::OnceLock<crate::reread::Reader>,
}

/// `assets.yaml`: optional in a rules folder.
pub const ASSETS_FILE: &str = "assets.yaml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetsFile {
    /// Extensions without the dot, e.g. `csv`.
    copy_as_is: Vec<String>,
}

/// Reads `assets.yaml`: the extensions copied as they are, lower-cased.
pub fn parse_asset_extensions(text: &str) -> Result<BTreeSet<String>, Diagnostic> {
    let file: AssetsFile = from_yaml(text, 0)?;
    let mut out = BTreeSet::new();
    for ext in file.copy_as_is {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        if ext == "md" || ext.is_empty() {
            return Err(Diagnostic::new(
                find_span(text, &ext),
                format!("`{ext}` cannot be copied as an asset"),
            ));
        }
        out.insert(ext);
    }
    Ok(out)
}

/// The wording of the s17 refusal notice, from `notice.yaml`. Placeholders `{request}`,
/// `{date}`, `{section}`, `{title}`, `{label}` are filled in by notice.rs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeWording {
    pub title: String,
    pub intro: String,
    pub date_line: String,
    pub released_heading: String,
    pub released_intro: String,
    pub withheld_heading: String,
    pub withheld_intro: String,
    pub nothing_withheld: String,
    pub exemptions_heading: String,
    pub exemptions_intro: String,
    pub absolute: String,
    pub qualified: String,
    pub ncnd: String,
    pub rights_heading: String,
    pub rights: Vec<String>,
    /// The public interest test for each qualified exemption, by code.
    #[serde(default)]
    pub public_interest: BTreeMap<String, String>,
}

impl NoticeWording {
    /// Reads `notice.yaml`, checking each public interest paragraph names a qualified code.
    pub fn parse(text: &str, exemptions: &[Exemption]) -> Result<NoticeWording, Diagnostic> {
        let wording: NoticeWording = from_yaml(text, 0)?;
        for code in wording.public_interest.keys() {
            let at = find_span(text, &format!("{code}:"));
            match exemptions.iter().find(|e| e.code.as_str() == code) {
                None => {
                    return Err(Diagnostic::new(
                        at,
                        format!("`public_interest` names unknown exemption code `{code}`"),
                    ));
                }
                Some(e) if e.test == Test::Absolute => {
                    return Err(Diagnostic::new(
                        at,
                        format!(
                            "exemption `{code}` is absolute: no public interest test applies, so it takes no paragraph"
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(wording)
    }
}

/// A rules problem, located in one of the three files.
#[derive(Debug, Clone)]
pub struct RulesError {
    pub file: &'static str,
    pub diagnostic: Diagnostic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkingsFile {
    markings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptionsFile {
    exemptions: Vec<ExemptionEntry>,
    #[serde(default)]
    presentational: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptionEntry {
    code: String,
    section: String,
    title: String,
    test: Test,
    #[serde(default)]
    pit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudiencesFile {
    audiences: Vec<AudienceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudienceEntry {
    name: String,
    /// Optional here only so that a missing marking is reported at the audience's name.
    #[serde(default)]
    marking: Option<String>,
    #[serde(default)]
    notice: Option<String>,
    withholds: Withholds,
    #[serde(default)]
    highlight: bool,
    #[serde(default)]
    combine: Vec<Vec<String>>,
    #[serde(default)]
    schedule: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Withholds {
    Keyword(String),
    Codes(Vec<String>),
}

impl Rules {
    /// The embedded defaults. They are tested, so failing to load them is a build defect.
    pub fn embedded() -> Result<Rules, RulesError> {
        let files = DEFAULT_RULES.map(|(name, text)| (name, text.to_string()));
        Rules::from_files(&files, Origin::Embedded)
    }

    /// Parses the three files, given as (file name, text) in [`RULE_FILES`] order.
    pub fn from_files(
        files: &[(&'static str, String); 3],
        origin: Origin,
    ) -> Result<Rules, RulesError> {
        let [
            (_, markings_text),
            (_, exemptions_text),
            (_, audiences_text),
        ] = files;
        let located = |file: &'static str| move |diagnostic| RulesError { file, diagnostic };

        let markings: MarkingsFile = from_yaml(markings_text, 0).map_err(located(MARKINGS_FILE))?;
        if markings.markings.is_empty() {
            return Err(RulesError {
                file: MARKINGS_FILE,
                diagnostic: Diagnostic::new(Span::new(0, 1), "no markings are listed"),
            });
        }
        let exemptions_file: ExemptionsFile =
            from_yaml(exemptions_text, 0).map_err(located(EXEMPTIONS_FILE))?;
        let mut exemptions = Vec::new();
        let mut seen = BTreeSet::new();
        for entry in exemptions_file.exemptions {
            let bad = |message: String| RulesError {
                file: EXEMPTIONS_FILE,
                diagnostic: Diagnostic::new(find_span(exemptions_text, &entry.code), message),
            };
            if entry.code.is_empty() || !entry.code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(format!(
                    "exemption code `{}` must be letters and digits only",
                    entry.code
                )));
            }
            if !seen.insert(entry.code.clone()) {
                return Err(bad(format!(
                    "exemption code `{}` is defined twice",
                    entry.code
                )));
            }
            if entry.pit.is_some() && entry.test == Test::Absolute {
                return Err(bad(format!(
                    "exemption `{}` is absolute: no public interest test applies, so it takes no `pit`",
                    entry.code
                )));
            }
            exemptions.push(Exemption {
                code: ExemptionCode(entry.code),
                section: entry.section,
                title: entry.title,
                test: entry.test,
                pit: entry.pit.filter(|p| !p.trim().is_empty()),
            });
        }
        let presentational: BTreeSet<String> = exemptions_file.presentational.into_iter().collect();
        for class in &presentational {
            if seen.contains(class) {
                return Err(RulesError {
                    file: EXEMPTIONS_FILE,
                    diagnostic: Diagnostic::new(
                        find_span(exemptions_text, class),
                        format!("`{class}` is both an exemption code and a presentational class"),
                    ),
                });
            }
        }

        let audiences_file: AudiencesFile =
            from_yaml(audiences_text, 0).map_err(located(AUDIENCES_FILE))?;
        let mut audiences = Vec::new();
        let mut names = BTreeSet::new();
        let code_of = |name: &str| {
            exemptions
                .iter()
                .find(|e| e.code.as_str() == name)
                .map(|e| e.code.clone())
        };
        let mut cursor = 0;
        for entry in audiences_file.audiences {
            // Point errors at this audience's entry, not at the first look-alike in the file.
            let entry_at = find_name(audiences_text, &entry.name, cursor);
            cursor = entry_at;
            let bad = |needle: &str, message: String| RulesError {
                file: AUDIENCES_FILE,
                diagnostic: Diagnostic::new(find_word(audiences_text, needle, entry_at), message),
            };
            let valid_name = !entry.name.is_empty()
                && entry
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !entry.name.starts_with('-');
            if !valid_name {
                return Err(bad(
                    &entry.name,
                    format!(
                        "audience name `{}` must be lower-case letters, digits and `-`",
                        entry.name
                    ),
                ));
            }
            if entry.name == "audit" {
                return Err(bad(
                    &entry.name,
                    "an audience cannot be named `audit`: that folder holds the audits".into(),
                ));
            }
            if !names.insert(entry.name.clone()) {
                return Err(bad(
                    &entry.name,
                    format!("audience `{}` is defined twice", entry.name),
                ));
            }
            let Some(entry_marking) = entry.marking.as_deref().filter(|m| !m.trim().is_empty())
            else {
                return Err(RulesError {
                    file: AUDIENCES_FILE,
                    diagnostic: Diagnostic::new(
                        find_word(audiences_text, &entry.name, entry_at),
                        format!("audience `{}` has no marking", entry.name),
                    )
                    .hint(format!(
                        "add `marking: source` (the paper's own classification) or one of {MARKINGS_FILE}: {}",
                        markings.markings.join(", ")
                    )),
                });
            };
            let marking = if entry_marking == "source" {
                Marking::Source
            } else if markings.markings.iter().any(|m| m == entry_marking) {
                Marking::Fixed(entry_marking.to_string())
            } else {
                return Err(bad(
                    entry_marking,
                    format!(
                        "audience `{}` has marking `{entry_marking}`, which is not in {MARKINGS_FILE}",
                        entry.name
                    ),
                ));
            };
            let withholds = match &entry.withholds {
                Withholds::Keyword(word) if word == "all" => {
                    exemptions.iter().map(|e| e.code.clone()).collect()
                }
                Withholds::Keyword(word) => {
                    return Err(bad(
                        word,
                        format!("`withholds` is `all` or a list of codes, not `{word}`"),
                    ));
                }
                Withholds::Codes(codes) => {
                    let mut set = BTreeSet::new();
                    for code in codes {
                        let Some(code) = code_of(code) else {
                            return Err(bad(code, format!("unknown exemption code `{code}`")));
                        };
                        set.insert(code);
                    }
                    set
                }
            };
            let mut labels = BTreeMap::new();
            for group in &entry.combine {
                let mut codes = Vec::new();
                for code in group {
                    let Some(known) = code_of(code) else {
                        return Err(bad(
                            code,
                            format!("combined marker names unknown exemption code `{code}`"),
                        ));
                    };
                    if labels.contains_key(&known) || codes.contains(&known) {
                        return Err(bad(
                            code,
                            format!("`{code}` is combined twice in audience `{}`", entry.name),
                        ));
                    }
                    codes.push(known);
                }
                let label = group.join(" / ");
                for code in codes {
                    labels.insert(code, label.clone());
                }
            }
            audiences.push(Audience {
                name: entry.name,
                marking,
                notice: entry.notice,
                withholds,
                highlight: entry.highlight,
                labels,
                schedule: entry.schedule,
            });
        }
        if audiences.is_empty() {
            return Err(RulesError {
                file: AUDIENCES_FILE,
                diagnostic: Diagnostic::new(Span::new(0, 1), "no audiences are defined"),
            });
        }

        let mut hasher = Sha256::new();
        for (name, text) in files {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
        }
        let notice =
            NoticeWording::parse(DEFAULT_NOTICE, &exemptions).map_err(|diagnostic| RulesError {
                file: NOTICE_FILE,
                diagnostic,
            })?;
        Ok(Rules {
            notice,
            asset_extensions: BTreeSet::new(),
            markings: markings.markings,
            exemptions,
            presentational,
            audiences,
            origin,
            hash: hex(&hasher.finalize()),
            second_reader: std::sync::OnceLock::new(),
        })
    }

    pub fn exemption(&self, code: &str) -> Option<&Exemption> {
        self.exemptions.iter().find(|e| e.code.as_str() == code)
    }

    /// Index of a code in the rules, which is section order.
    pub fn code_rank(&self, code: &ExemptionCode) -> usize {
        self.exemptions
            .iter()
            .position(|e| &e.code == code)
            .unwrap_or(usize::MAX)
    }

    /// The code a mistyped class meant when only its case is wrong (`s31` for `S31`). No
    /// guess by spelling: suggesting a different exemption would suggest a different legal
    /// basis.
    pub fn suggest_code(&self, class: &str) -> Option<&str> {
        self.exemptions
            .iter()
            .find(|e| e.code.as_str().eq_ignore_ascii_case(class))
            .map(|e| e.code.as_str())
    }
}

/// Where a value first appears in a rules file, to point an error at it.
fn find_span(text: &str, needle: &str) -> Span {
    if needle.is_empty() {
        return Span::new(0, 1.min(text.len()));
    }
    text.find(needle)
        .map(|at| Span::new(at, at + needle.len()))
        .unwrap_or(Span::new(0, 1.min(text.len())))
}

/// Where an audience's `name:` entry is, at or after `from` (0 if it cannot be found).
fn find_name(text: &str, name: &str, from: usize) -> usize {
    let pattern = format!(
        r#"\bname\s*:\s*["']?{}(?:["'\s,}}]|$)"#,
        regex::escape(name)
    );
    regex::Regex::new(&pattern)
        .ok()
        .and_then(|re| re.find_at(text, from.min(text.len())))
        .map(|m| m.start())
        .unwrap_or(0)
}

/// The first occurrence of `needle` as a whole word at or after `from`, else anywhere.
fn find_word(text: &str, needle: &str, from: usize) -> Span {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let whole = |at: usize| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    };
    if !needle.is_empty() {
        let from = from.min(text.len());
        for start in [from, 0] {
            if let Some((at, _)) = text
                .get(start..)
                .into_iter()
                .flat_map(|t| t.match_indices(needle))
                .map(|(i, m)| (start + i, m))
                .find(|(at, _)| whole(*at))
            {
                return Span::new(at, at + needle.len());
            }
        }
    }
    find_span(text, needle)
}

pub fn hex(bytes: &[u8]) -> String {
    // Two digits a byte from a table: formatting each byte made a string of its own.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hex from the table is what formatting each byte wrote, for every byte.
    #[test]
    fn hex_is_what_formatting_wrote() {
        let bytes: Vec<u8> = (0..=255u8).chain([0, 255, 16, 1]).collect();
        let formatted: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), formatted);
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn embedded_rules_carry_every_part_ii_exemption() {
        let rules = Rules::embedded().expect("embedded rules load");
        let codes: Vec<&str> = rules.exemptions.iter().map(|e| e.code.as_str()).collect();
        let mut expected = vec!["S21", "S22", "S22A", "S23", "S24"];
        let numbered: Vec<String> = (26..=44).map(|n| format!("S{n}")).collect();
        expected.extend(numbered.iter().map(String::as_str));
        assert_eq!(codes, expected);
        assert_eq!(rules.exemption("S23").map(|e| e.test), Some(Test::Absolute));
        assert_eq!(
            rules.exemption("S31").map(|e| e.test),
            Some(Test::Qualified)
        );
        let public = rules.audiences.iter().find(|a| a.name == "public");
        assert!(public.is_some_and(|a| a.withholds.len() == codes.len()));
    }

    #[test]
    fn suggests_exact_case() {
        let rules = Rules::embedded().expect("embedded rules load");
        assert_eq!(rules.suggest_code("s31"), Some("S31"));
        assert_eq!(rules.suggest_code("s22a"), Some("S22A"));
    }
}
