//! YAML front matter: split it from the body, read its fixed set of keys strictly, and write
//! it afresh for copies whose marking differs from the source (so YAML comments never travel).
//!
//! The withholding keys (`withhold`, `withhold_reason`, `title_withhold`, `public_title`) are
//! read here and never written into a copy: an audience that withholds the title gets
//! [`FrontMatter::for_audience`], whose title is the public one, so no later stage can reach
//! the withheld title for it.

use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::rules::{Audience, ExemptionCode, Rules};
use crate::span::Span;
use crate::yaml::from_yaml;

/// The paper's cover values, in the fixed order they are written out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrontMatter {
    pub title: String,
    pub classification: String,
    pub organisation: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    pub reference: Option<String>,
    pub agenda_item: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    /// The paper's line ending, used when the front matter is written afresh.
    #[serde(skip)]
    pub newline: &'static str,
    /// `withhold`: the whole paper is withheld from an audience that withholds any of these.
    #[serde(skip)]
    pub withhold: Vec<ExemptionCode>,
    /// `withhold_reason`: internal, like a passage's `reason` (the audit only).
    #[serde(skip)]
    pub withhold_reason: Option<String>,
    /// `title_withhold`: the title is withheld from an audience that withholds any of these.
    #[serde(skip)]
    pub title_withhold: Vec<ExemptionCode>,
    #[serde(skip)]
    pub public_title: Option<String>,
    /// What an audience that withholds the title (or the paper) reads: the public title, no
    /// withholding keys. Built once here so every stage shows the same.
    #[serde(skip)]
    pub public_view: Option<Box<FrontMatter>>,
}

/// The title a wholly withheld paper shows when it gives no `public_title`.
pub const WITHHELD_TITLE: &str = "Withheld paper";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrontMatter {
    title: Option<Scalar>,
    classification: Option<Scalar>,
    organisation: Option<Scalar>,
    date: Option<Scalar>,
    author: Option<Scalar>,
    reference: Option<Scalar>,
    agenda_item: Option<Scalar>,
    version: Option<Scalar>,
    status: Option<Scalar>,
    withhold: Option<Codes>,
    withhold_reason: Option<Scalar>,
    title_withhold: Option<Codes>,
    public_title: Option<Scalar>,
}

/// A list of exemption codes (`[S23, S24]`), or one (`S23`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Codes {
    List(Vec<String>),
    One(String),
}

impl Codes {
    fn into_vec(self) -> Vec<String> {
        match self {
            Codes::List(v) => v,
            Codes::One(s) => vec![s],
        }
    }
}

/// A scalar read as text whatever YAML thinks it is (`date: 2023-07-12`, `version: 1.2`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

const KEYS: [&str; 13] = [
    "title",
    "classification",
    "organisation",
    "date",
    "author",
    "reference",
    "agenda_item",
    "version",
    "status",
    "withhold",
    "withhold_reason",
    "title_withhold",
    "public_title",
];

/// The front matter read without a YAML parser, when every line is blank or `key: value`
/// with a known text key (once), a plain value YAML can only read as that same text, and
/// nothing else: a paper's cover is almost always written so, and building a YAML parser for
/// ten lines cost more than reading the rest of the paper's structure. Anything else (quotes,
/// comments, a `:` or `#` in a value, a list, a repeated or unknown key, a value YAML would
/// read as a number, boolean or null, any non-ASCII byte, trailing space) returns None, and
/// the YAML parser reads it, with its errors: this never decides what is an error.
fn plain_front_matter(yaml: &str) -> Option<RawFrontMatter> {
    let mut raw = RawFrontMatter {
        title: None,
        classification: None,
        organisation: None,
        date: None,
        author: None,
        reference: None,
        agenda_item: None,
        version: None,
        status: None,
        withhold: None,
        withhold_reason: None,
        title_withhold: None,
        public_title: None,
    };
    for line in yaml.split(['\n', '\r']) {
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once(": ")?;
        let value = value.trim_start_matches(' ');
        if !plain_text_value(value) {
            return None;
        }
        let slot = match key {
            "title" => &mut raw.title,
            "classification" => &mut raw.classification,
            "organisation" => &mut raw.organisation,
            "date" => &mut raw.date,
            "author" => &mut raw.author,
            "reference" => &mut raw.reference,
            "agenda_item" => &mut raw.agenda_item,
            "version" => &mut raw.version,
            "status" => &mut raw.status,
            "withhold_reason" => &mut raw.withhold_reason,
            "public_title" => &mut raw.public_title,
            // `withhold`, `title_withhold`, unknown keys and anything odd: the YAML parser.
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(Scalar::Text(value.to_string()));
    }
    Some(raw)
}

/// Whether `value` is a one-line plain YAML scalar that reads as exactly this text: it starts
/// with a letter (or is a date `2024-03-14`), holds only letters, digits, spaces and
/// `. , / _ ( ) ' -`, does not end in a space, and is no word YAML or a float reads otherwise
/// (`true`, `No`, `null`, `inf`, `NaN`).
fn plain_text_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let date = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if date {
        return true;
    }
    let Some(first) = bytes.first() else {
        return false;
    };
    const WORDS: [&str; 12] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "inf", "infinity", "nan",
    ];
    first.is_ascii_alphabetic()
        && !value.ends_with(' ')
        && bytes.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b' ' | b'.' | b',' | b'/' | b'_' | b'(' | b')' | b'\'' | b'-'
                )
        })
        && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(value))
        && value.parse::<f64>().is_err()
}

/// Where the front matter sits in the file.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// The YAML between the delimiter lines.
    pub yaml: Span,
    /// From the opening `---` to the end of the closing line, terminator included.
    pub block: Span,
}

/// Finds the front matter at the top of `text` (after any byte order mark).
pub fn split(text: &str) -> Result<Split, Diagnostic> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let first_line_end = line_end(text, start);
    if text[start..first_line_end].trim_end_matches([' ', '\t']) != "---" {
        return Err(Diagnostic::new(
            Span::new(start, first_line_end.max(start + 1).min(text.len())),
            "paper has no front matter",
        )
        .hint("start the paper with `---`, then `title:` and `classification:`, then `---`"));
    }
    let yaml_start = next_line(text, first_line_end);
    let mut at = yaml_start;
    while at < text.len() {
        let end = line_end(text, at);
        let line = text[at..end].trim_end_matches([' ', '\t']);
        if line == "---" || line == "..." {
            return Ok(Split {
                yaml: Span::new(yaml_start, at),
                block: Span::new(start, next_line(text, end)),
            });
        }
        at = next_line(text, end);
    }
    Err(Diagnostic::new(
        Span::new(start, first_line_end),
        "front matter is never closed",
    )
    .hint("end the front matter with a line `---` (or `...`)"))
}

/// Reads the YAML of `split` into the fixed keys and checks them against the rules.
pub fn parse(text: &str, split: Split, rules: &Rules) -> Result<FrontMatter, Diagnostic> {
    let yaml = &text[split.yaml.start..split.yaml.end];
    let line_one = Span::new(split.block.start, split.block.start + 3);
    let raw: RawFrontMatter = if yaml.trim().is_empty() {
        return Err(Diagnostic::new(line_one, "front matter is empty")
            .hint("give at least `title:` and `classification:`"));
    } else if let Some(raw) = plain_front_matter(yaml) {
        raw
    } else {
        from_yaml(yaml, split.yaml.start).map_err(|mut d| {
            let unknown = d
                .message
                .strip_prefix("unknown field `")
                .map(|rest| rest.split('`').next().unwrap_or("").to_string());
            if let Some(key) = unknown {
                let key = key.as_str();
                if let Some(near) = KEYS
                    .iter()
                    .map(|k| (strsim::levenshtein(k, key), *k))
                    .filter(|(dist, _)| *dist <= 3)
                    .min()
                {
                    d = d.hint(format!("did you mean `{}`?", near.1));
                } else {
                    d = d.hint(format!("front matter keys are: {}", KEYS.join(", ")));
                }
                d.message = format!("unknown front matter key `{key}`");
            } else if let Some(rest) = d.message.strip_prefix("duplicate mapping key: ") {
                let key = rest.split(',').next().unwrap_or("").trim().to_string();
                d.message = format!("duplicate front matter key `{key}`");
                d = d.hint("each key may appear once; delete one of them");
            } else if d.hint.is_none() {
                d = d.hint("the front matter is YAML: check the quoting and indentation here");
            }
            d
        })?
    };
    let text_of = |s: Option<Scalar>| s.map(Scalar::into_text);
    let required = |value: Option<String>, key: &str| -> Result<String, Diagnostic> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(v),
            Some(_) => Err(Diagnostic::new(
                value_span(text, split, key),
                format!("`{key}` is empty"),
            )
            .hint(format!("give the paper's {key}; it is required"))),
            // `key:` with nothing after it reads as no value: point at its own line.
            None => match key_at(text, split, key) {
                Some(at) => Err(Diagnostic::new(at, format!("`{key}` is empty"))
                    .hint(format!("give the paper's {key}; it is required"))),
                None => Err(
                    Diagnostic::new(line_one, format!("front matter has no `{key}`"))
                        .hint(format!("add `{key}:` to the front matter")),
                ),
            },
        }
    };
    let withhold = codes_of(text, split, "withhold", raw.withhold, rules)?;
    let title_withhold = codes_of(text, split, "title_withhold", raw.title_withhold, rules)?;
    let withhold_reason = text_of(raw.withhold_reason);
    let public_title = text_of(raw.public_title);
    if public_title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(Diagnostic::new(
            value_span(text, split, "public_title"),
            "`public_title` is empty",
        )
        .hint("give the title that audiences who withhold the real one see"));
    }
    if !title_withhold.is_empty() && public_title.is_none() {
        return Err(Diagnostic::new(
            value_span(text, split, "title_withhold"),
            "`title_withhold` needs a `public_title`",
        )
        .hint("add `public_title:`, the title audiences that withhold this one see"));
    }
    if public_title.is_some() && title_withhold.is_empty() && withhold.is_empty() {
        return Err(Diagnostic::new(
            value_span(text, split, "public_title"),
            "`public_title` is given but nothing is withheld",
        )
        .hint("add `title_withhold: [codes]` (or `withhold:`), or remove `public_title`"));
    }
    if withhold_reason.is_some() && withhold.is_empty() {
        return Err(Diagnostic::new(
            value_span(text, split, "withhold_reason"),
            "`withhold_reason` is given but the paper is not withheld",
        )
        .hint("add `withhold: [codes]`, or remove `withhold_reason`"));
    }
    let mut front = FrontMatter {
        title: required(text_of(raw.title), "title")?,
        classification: required(text_of(raw.classification), "classification")?,
        organisation: text_of(raw.organisation),
        date: text_of(raw.date),
        author: text_of(raw.author),
        reference: text_of(raw.reference),
        agenda_item: text_of(raw.agenda_item),
        version: text_of(raw.version),
        status: text_of(raw.status),
        newline: crate::parse::newline_of(text),
        withhold,
        withhold_reason,
        title_withhold,
        public_title,
        public_view: None,
    };
    if !rules.markings.contains(&front.classification) {
        return Err(Diagnostic::new(
            value_span(text, split, "classification"),
            format!("unknown classification `{}`", front.classification),
        )
        .hint(format!("markings are: {}", rules.markings.join(", "))));
    }
    let internal = [
        ("withhold_reason", front.withhold_reason.as_deref()),
        ("public_title", front.public_title.as_deref()),
    ];
    let internal = internal.into_iter().filter_map(|(k, v)| v.map(|v| (k, v)));
    for (key, value) in front.entries().into_iter().chain(internal) {
        if looks_like_tag(value) {
            return Err(Diagnostic::new(
                value_span(text, split, key),
                format!("redaction tag in front matter value `{key}`"),
            )
            .hint("front matter is public in every copy; move the sensitive words into the body"));
        }
    }
    if !front.withhold.is_empty() || !front.title_withhold.is_empty() {
        let mut public = front.clone();
        public.title = front
            .public_title
            .clone()
            .unwrap_or_else(|| WITHHELD_TITLE.to_string());
        public.withhold.clear();
        public.withhold_reason = None;
        public.title_withhold.clear();
        public.public_title = None;
        front.public_view = Some(Box::new(public));
    }
    Ok(front)
}

/// The codes of a withholding key, each known to the rules, or an error at the key's line.
fn codes_of(
    text: &str,
    split: Split,
    key: &str,
    codes: Option<Codes>,
    rules: &Rules,
) -> Result<Vec<ExemptionCode>, Diagnostic> {
    let Some(codes) = codes else {
        return Ok(Vec::new());
    };
    let at = value_span(text, split, key);
    let codes = codes.into_vec();
    if codes.is_empty() {
        return Err(
            Diagnostic::new(at, format!("`{key}` names no exemption code"))
                .hint(format!("give the codes, `{key}: [S31]`, or remove `{key}`")),
        );
    }
    let mut out: Vec<ExemptionCode> = Vec::new();
    for code in codes {
        let Some(known) = rules.exemption(&code).map(|e| e.code.clone()) else {
            let hint = match rules.suggest_code(&code) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "codes are defined in rules/exemptions.yaml".to_string(),
            };
            return Err(
                Diagnostic::new(at, format!("unknown exemption code `{code}` in `{key}`"))
                    .hint(hint),
            );
        };
        if !out.contains(&known) {
            out.push(known);
        }
    }
    Ok(out)
}

impl FrontMatter {
    /// The front matter `audience` reads: the public view when it withholds the title or the
    /// whole paper, else this one.
    pub fn for_audience(&self, audience: &Audience) -> &FrontMatter {
        match &self.public_view {
            Some(public) if self.title_withheld_from(audience) => public,
            _ => self,
        }
    }

    /// Whether `audience` withholds the whole paper.
    pub fn withheld_from(&self, audience: &Audience) -> bool {
        audience.withholds_any(&self.withhold)
    }

    /// Whether `audience` may not read the title: it withholds the title or the whole paper.
    pub fn title_withheld_from(&self, audience: &Audience) -> bool {
        self.withheld_from(audience) || audience.withholds_any(&self.title_withhold)
    }

    /// Whether the whole paper is withheld from `audience` under a code it combines with
    /// others to neither confirm nor deny: it then gets no file and no index entry at all.
    pub fn denied_to(&self, audience: &Audience) -> bool {
        self.withheld_from(audience)
            && self
                .withhold
                .iter()
                .any(|c| audience.withholds.contains(c) && audience.labels.contains_key(c))
    }

    /// Present values in the fixed key order.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        let optional = [
            ("organisation", &self.organisation),
            ("date", &self.date),
            ("author", &self.author),
            ("reference", &self.reference),
            ("agenda_item", &self.agenda_item),
            ("version", &self.version),
            ("status", &self.status),
        ];
        let mut out = Vec::with_capacity(2 + optional.len());
        out.push(("title", self.title.as_str()));
        out.push(("classification", self.classification.as_str()));
        out.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.as_deref().map(|v| (k, v))),
        );
        out
    }

    /// The front matter block written afresh, with `classification` set to `marking`.
    pub fn to_yaml(&self, marking: &str) -> String {
        let nl = if self.newline.is_empty() {
            "\n"
        } else {
            self.newline
        };
        let mut out = format!("---{nl}");
        for (key, value) in self.entries() {
            let value = if key == "classification" {
                marking
            } else {
                value
            };
            // A JSON string is a valid YAML double-quoted scalar, so every value round-trips.
            let quoted = serde_json::to_string(value).unwrap_or_else(|_| "\"\"".into());
            out.push_str(&format!("{key}: {quoted}{nl}"));
        }
        out.push_str(&format!("---{nl}"));
        out
    }
}

/// Words too common in titles and file names to give a withheld title away.
const COMMON_WORDS: &[&str] = &[
    "about", "after", "annual", "before", "board", "council", "draft", "final", "from", "into",
    "meeting", "minutes", "note", "paper", "report", "review", "than", "that", "their", "this",
    "update", "with", "year",
];

impl FrontMatter {
    /// A distinctive word of the withheld title that `name` repeats: the name is public in
    /// every audience's folder, so it must not say what the title withholds. Words the public
    /// title shows too are not withheld.
    pub fn withheld_title_word_in(&self, name: &str) -> Option<String> {
        if self.withhold.is_empty() && self.title_withhold.is_empty() {
            return None;
        }
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        let shown = words(self.public_title.as_deref().unwrap_or(""));
        let name_lower = name.to_lowercase();
        let name_words = words(name);
        words(&self.title).into_iter().find(|w| {
            let distinctive = w.chars().count() >= 4
                && !w.chars().all(|c| c.is_ascii_digit())
                && !COMMON_WORDS.contains(&w.as_str())
                && !shown.contains(w);
            // A long word is found inside a name that runs words together, too.
            distinctive
                && (name_words.contains(w) || (w.chars().count() >= 5 && name_lower.contains(w)))
        })
    }
}

/// The span of `key`'s value in `text`'s front matter (its first line if it has none), to
/// point an error about the paper's cover at the right line.
pub fn key_span(text: &str, key: &str) -> Span {
    match split(text) {
        Ok(split) => value_span(text, split, key),
        Err(_) => Span::new(0, 1.min(text.len())),
    }
}

/// A span, attribute block or fence in a value: the value is public, so a tag there is a
/// mistake that would publish what it meant to withhold.
fn looks_like_tag(value: &str) -> bool {
    let bytes = value.as_bytes();
    value.contains("]{")
        || value.trim_start().starts_with(":::")
        || bytes
            .windows(2)
            .any(|w| w[0] == b'{' && matches!(w[1], b'.' | b'#'))
        || value.contains("] {")
}

/// The span of `key`'s value line, for errors about it.
fn value_span(text: &str, split: Split, key: &str) -> Span {
    let yaml = &text[split.yaml.start..split.yaml.end];
    let mut offset = 0;
    for line in yaml.split_inclusive(['\n', '\r']) {
        if let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with(':')
        {
            let value_at = line.find(':').map(|c| c + 1).unwrap_or(0);
            let skip = line[value_at..].len() - line[value_at..].trim_start().len();
            let start = split.yaml.start + offset + value_at + skip;
            let end = split.yaml.start + offset + line.trim_end().len();
            return Span::new(start.min(end), end.max(start + 1));
        }
        offset += line.len();
    }
    Span::new(split.block.start, split.block.start + 3)
}

/// The span of `key` itself at the start of a line of the front matter, if it is there.
fn key_at(text: &str, split: Split, key: &str) -> Option<Span> {
    let yaml = &text[split.yaml.start..split.yaml.end];
    let mut offset = 0;
    for line in yaml.split_inclusive(['\n', '\r']) {
        if let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with(':')
        {
            let start = split.yaml.start + offset;
            return Some(Span::new(start, start + key.len()));
        }
        offset += line.len();
    }
    None
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(['\n', '\r'])
        .map(|n| from + n)
        .unwrap_or(text.len())
}

fn next_line(text: &str, line_end: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes.get(line_end) {
        Some(b'\r') if bytes.get(line_end + 1) == Some(&b'\n') => line_end + 2,
        Some(_) => line_end + 1,
        None => line_end,
    }
}

#[cfg(test)]
mod tests {
    use super::{RawFrontMatter, Scalar, plain_front_matter};
    use crate::yaml::from_yaml;

    fn texts(raw: RawFrontMatter) -> Vec<Option<String>> {
        [
            raw.title,
            raw.classification,
            raw.organisation,
            raw.date,
            raw.author,
            raw.reference,
            raw.agenda_item,
            raw.version,
            raw.status,
            raw.withhold_reason,
            raw.public_title,
        ]
        .into_iter()
        .map(|s| s.map(Scalar::into_text))
        .collect()
    }

    /// Whatever the plain reading accepts, the YAML parser reads the same.
    fn agrees(yaml: &str) -> bool {
        let Some(fast) = plain_front_matter(yaml) else {
            return false;
        };
        let slow: RawFrontMatter = from_yaml(yaml, 0).unwrap_or_else(|e| {
            panic!(
                "the plain reading took what YAML refuses: {yaml:?}: {}",
                e.message
            )
        });
        assert_eq!(texts(fast), texts(slow), "{yaml:?}");
        true
    }

    #[test]
    fn plain_front_matter_reads_what_yaml_reads() {
        let cover = "title: Continuation of the full-time SOC lead\r\nclassification: OFFICIAL-SENSITIVE\r\n\r\norganisation: NPCC SOC Portfolio\r\ndate: 2023-07-12\r\nreference: CCC/2024/0000\r\nversion: v1.2 (draft)\r\nstatus: Chief's review, part 2\n";
        assert!(agrees(cover));
        // Values YAML reads as something other than their text, and YAML syntax: left to it.
        for value in [
            "1.20",
            "12",
            "0x1F",
            "1e5",
            "true",
            "No",
            "NULL",
            "y",
            "inf",
            "NaN",
            "Infinity",
            "a: b",
            "a #b",
            "'quoted'",
            "\"quoted\"",
            "[S31]",
            "{a}",
            "a ",
            "~",
            "-a",
            "é",
            "2024-03-14T10:00",
            "a\tb",
            "*x",
            "&x",
            "!x",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
        ] {
            assert!(
                !agrees(&format!("title: {value}\nclassification: OFFICIAL\n")),
                "{value:?}"
            );
        }
        for yaml in [
            "title: a\ntitle: b\n",
            "titel: a\n",
            "withhold: S23\n",
            "title:a\n",
            "title : a\n",
            " title: a\n",
            "# note\ntitle: a\n",
            "title: a\n  b\n",
        ] {
            assert!(!agrees(yaml), "{yaml:?}");
        }
    }

    /// Random one-line values over an alphabet of YAML's special characters: wherever the
    /// plain reading answers, it answers as YAML does.
    #[test]
    fn plain_front_matter_agrees_with_yaml_on_random_values() {
        const ALPHABET: &[u8] = b"aZy0129 .,/_()'-:#\"[]{}!&*|>%@`~?-eEnNxX+";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..4000 {
            let len = 1 + next(8);
            let value: String = (0..len)
                .map(|_| ALPHABET[next(ALPHABET.len())] as char)
                .collect();
            if agrees(&format!("title: x\nversion: {value}\n")) {
                taken += 1;
            }
        }
        assert!(taken > 100, "the plain reading took only {taken} values");
    }
}
