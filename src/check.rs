//! `redact check`'s scans, in memory: papers, their public copies and the deny-list in,
//! [`Finding`]s out. Pure: it reads and writes nothing, and the same input gives the same
//! findings in the same order.
//!
//! A "public" copy here is any copy for an audience that withholds something. For each paper
//! and each such audience:
//!
//! - **Leaks** (`leak/withheld-word`, `leak/withheld-run`, `leak/hidden-channel`): every
//!   distinctive word of each withheld passage (one that, normalised, occurs nowhere in what
//!   the copy should publish: the source outside withheld passages and comments, its front
//!   matter, and the template, markers and schedule as rendered around a neutral probe body),
//!   and every run of `min_words` words of it, is searched in every byte of the rendered
//!   Markdown and HTML, after undoing case, HTML entities, percent-encoding, NFKC forms,
//!   zero-width characters and inline markup. One aho-corasick automaton per paper and
//!   audience. Copies are built leak-free, so a hit proves a bug or tampering; a hit in a
//!   link target, image alt or source, heading id, footnote or reference definition, HTML
//!   comment, attribute, front matter or page head is reported as a hidden channel, named.
//! - **Deny-list** (`deny/<id>`): a term or regex of `rules/deny.yaml` in text the copy
//!   publishes, located in the source.
//! - **References** (`reference/only-withheld`): a published footnote or link reference
//!   definition that only withheld text refers to.
//! - **Consistency** (`consistency/shared-run`, `consistency/deny-term`): a run of
//!   `min_words` or more words withheld in one place and published in another, in the same
//!   paper or another paper of the run; runs made mostly of common words are ignored. The
//!   cross-paper index holds hashes of word shingles, not text. A deny-listed term withheld
//!   in one place and published (by allowlist) in another is a finding too.
//!
//! Allowlist entries then suppress matching findings, and an entry for a checked paper that
//! suppresses nothing is an `allowlist/unused` finding. Release records (records.rs) add
//! `release/changed`.

pub(crate) mod channel;
pub(crate) mod text;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

use aho_corasick::{AhoCorasick, MatchKind};
use pulldown_cmark::{Event, LinkType, Parser, Tag};
use serde::Serialize;

use crate::deny::{DenyList, Pattern, fingerprint};
use crate::model::{BlockPlacement, Form, Paper};
use crate::parse::markdown_options;
use crate::redact::{Passage as OpenPassage, Piece, copy_for};
use crate::render::{Templates, html_page_with_schedule, markdown_with_schedule};
use crate::rules::{Audience, Rules};
use crate::schedule::{Release, maximal_withheld, schedule_for};
use crate::span::{LineIndex, Span};
use crate::write::Output;
use channel::Channels;
use text::{NChar, Strip, Words, decoded, normalise};

/// How serious a finding is. Every finding fails `check` (exit 1); the level tells a reader
/// (and SARIF consumers) what kind of problem it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// A place in a file: 1-based line and column (Unicode scalar values, as in errors).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// The file as given (`/`-separated), or a copy's path as `build` would write it
    /// (`public/<name>.md`).
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Location {
    fn of(path: &str, text: &str, index: &LineIndex, span: Span) -> Location {
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
}

/// A second place a finding names (where the same words are withheld, where a leak sits in
/// a copy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `leak/withheld-word`, `deny/<id>`, `consistency/shared-run`, …
    pub rule: String,
    pub level: Level,
    pub location: Location,
    pub message: String,
    pub related: Option<Related>,
    pub help: Option<String>,
    /// The text of the line the finding points at, for a snippet (not in JSON or SARIF).
    #[serde(skip)]
    pub snippet: Option<String>,
    /// SHA-256 of that line, trimmed: what an allowlist entry names.
    pub fingerprint: Option<String>,
    /// A unified diff (`release/changed`).
    pub diff: Option<String>,
}

impl Finding {
    /// A finding at `span` of a paper's text.
    fn at(
        rule: impl Into<String>,
        level: Level,
        path: &str,
        text: &str,
        index: &LineIndex,
        span: Span,
        message: String,
    ) -> Finding {
        let location = Location::of(path, text, index, span);
        let line = index.line_text(text, location.line).to_string();
        Finding {
            rule: rule.into(),
            level,
            fingerprint: Some(fingerprint(&line)),
            snippet: Some(line),
            location,
            message,
            related: None,
            help: None,
            diff: None,
        }
    }

    fn sort_key(&self) -> (String, usize, usize, String, String) {
        (
            self.location.path.clone(),
            self.location.line,
            self.location.column,
            self.rule.clone(),
            self.message.clone(),
        )
    }
}

/// Sorts findings by place, then rule, and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by_key(Finding::sort_key);
    findings.dedup();
}

/// A rendered copy for one audience that withholds something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOutput {
    pub audience: String,
    pub markdown: String,
    pub html: String,
}

/// One paper to check.
#[derive(Debug)]
pub struct CheckInput<'a> {
    /// The paper as given on the command line.
    pub path: &'a Path,
    /// Its name in output folders (`sub/x` for `DIR/sub/x.md`).
    pub name: &'a str,
    pub text: &'a str,
    pub paper: &'a Paper,
    /// The copies to scan for leaks; an audience with none here gets no leak scan.
    pub outputs: Vec<PublicOutput>,
}

/// What rendering needs, so the scan knows what an honest copy holds around the body.
#[derive(Clone, Copy)]
pub struct CheckOptions<'a> {
    pub templates: &'a Templates,
    /// The release the copies were built for (its request and date are in the schedule).
    pub release: &'a Release,
}

/// Audiences whose copies count as public: those that withhold something.
pub fn public_audiences(rules: &Rules) -> impl Iterator<Item = &Audience> {
    rules.audiences.iter().filter(|a| !a.withholds.is_empty())
}

/// Renders the public copies of a paper (what `build` writes for those audiences).
pub fn public_outputs(
    paper: &Paper,
    text: &str,
    rules: &Rules,
    options: &CheckOptions,
) -> Result<Vec<PublicOutput>, String> {
    let mut out = Vec::new();
    for audience in public_audiences(rules) {
        let copy = copy_for(paper, text, audience);
        let schedule = schedule_for(paper, audience, rules, options.release);
        out.push(PublicOutput {
            audience: audience.name.clone(),
            markdown: markdown_with_schedule(&copy, schedule.as_ref()),
            html: html_page_with_schedule(&copy, options.templates, schedule.as_ref())?,
        });
    }
    Ok(out)
}

/// Picks a paper's public copies out of what `build_paper` produced.
pub fn public_outputs_from(name: &str, outputs: &[Output], rules: &Rules) -> Vec<PublicOutput> {
    let find = |audience: &str, ext: &str| {
        let relative = Path::new(audience).join(format!("{name}.{ext}"));
        outputs
            .iter()
            .find(|o| o.relative == relative)
            .map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
    };
    public_audiences(rules)
        .filter_map(|a| {
            Some(PublicOutput {
                audience: a.name.clone(),
                markdown: find(&a.name, "md")?,
                html: find(&a.name, "html")?,
            })
        })
        .collect()
}

/// Words too common to make a shared run a finding on their own.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "between", "both", "but", "by", "can", "could", "did", "do", "does", "each",
    "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "may", "more", "most", "must", "no", "not", "of", "on", "one", "or", "other",
    "our", "out", "over", "per", "s", "shall", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "to", "two", "under", "up", "upon", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "will", "with", "would", "year", "years", "you",
];

/// A shared run needs this many words that are not [`STOPWORDS`]: "of the Home Office and"
/// alone is a common phrase, not a finding.
const MIN_CONTENT_WORDS: usize = 3;

/// Shortest word (in characters) the leak scan looks for on its own.
const MIN_WORD_CHARS: usize = 2;

/// Attribute keys: part of the tag, not of the withheld text.
const ATTRIBUTE_KEYS: [&str; 2] = ["reason", "pit"];

/// One withheld passage as the audience does not see it.
struct Withheld {
    redaction: usize,
    /// The passage's text without its tags (and those of redactions nested in it).
    content: Vec<Span>,
    /// Attribute blocks (ids, reasons) of the passage and those nested in it.
    attrs: Vec<Span>,
    /// Words of `content`, in order, as one stream.
    words: Words,
}

/// A stretch of published source text: between two withheld passages, or one front matter
/// value. Comments inside it are skipped.
struct Stretch {
    pieces: Vec<Span>,
    words: Words,
}

/// One paper as one public audience sees it.
struct View<'a> {
    input: usize,
    audience: &'a Audience,
    public: Vec<Stretch>,
    withheld: Vec<Withheld>,
}

/// Per-input facts every scan needs.
struct Checked<'a> {
    input: &'a CheckInput<'a>,
    path: String,
    index: LineIndex,
}

/// Runs every scan over every paper. See the module documentation.
pub fn check_papers(
    inputs: &[CheckInput],
    rules: &Rules,
    deny: &DenyList,
    options: &CheckOptions,
) -> Vec<Finding> {
    let papers: Vec<Checked> = inputs
        .iter()
        .map(|input| Checked {
            input,
            path: display_path(input.path),
            index: LineIndex::new(input.text),
        })
        .collect();
    let mut views = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for audience in public_audiences(rules) {
            views.push(view(i, input, audience));
        }
    }
    let mut findings = Vec::new();
    for view in &views {
        let paper = &papers[view.input];
        findings.extend(leaks(paper, view, rules, deny.min_words, options));
    }
    let mut candidates = Vec::new();
    for view in &views {
        candidates.extend(references(&papers[view.input], view));
    }
    candidates.extend(shared_runs(&papers, &views, deny.min_words));
    let (deny_findings, pending) = deny_hits(&papers, &views, deny);
    candidates.extend(deny_findings);

    let mut used = vec![false; deny.allow.len()];
    let mut suppressed = Vec::new();
    for (finding, input) in candidates {
        match allowed(deny, &papers[input], &finding) {
            Some(k) => {
                used[k] = true;
                suppressed.push(finding);
            }
            None => findings.push(finding),
        }
    }
    // A deny-listed term allowed in one place is still inconsistent with a place that
    // withholds it.
    for (finding, input, withheld) in pending {
        if !suppressed.contains(&finding) {
            continue;
        }
        let mut consistency = Finding {
            rule: "consistency/deny-term".into(),
            message: format!(
                "{} is published here (allowed by the deny-list) but withheld elsewhere",
                finding.message.split(" matches ").next().unwrap_or("this term"),
            ),
            related: Some(withheld),
            help: Some(
                "the same words should get the same decision: withhold them here too, or publish them there"
                    .into(),
            ),
            ..finding
        };
        consistency.level = Level::Error;
        match allowed(deny, &papers[input], &consistency) {
            Some(k) => used[k] = true,
            None => findings.push(consistency),
        }
    }
    findings.extend(unused_allowances(deny, &papers, &used));
    sort_findings(&mut findings);
    findings
}

fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Which allowlist entry, if any, suppresses `finding`.
fn allowed(deny: &DenyList, paper: &Checked, finding: &Finding) -> Option<usize> {
    let fingerprint = finding.fingerprint.as_deref()?;
    deny.allow.iter().position(|a| {
        a.rule == finding.rule
            && (a.paper == paper.input.name || a.paper == paper.path)
            && a.line == fingerprint
    })
}

fn unused_allowances(deny: &DenyList, papers: &[Checked], used: &[bool]) -> Vec<Finding> {
    let index = LineIndex::new(&deny.text);
    let path = display_path(&deny.path);
    deny.allow
        .iter()
        .zip(used)
        .filter(|(a, used)| {
            !**used
                && papers
                    .iter()
                    .any(|p| a.paper == p.input.name || a.paper == p.path)
        })
        .map(|(a, _)| {
            let mut f = Finding::at(
                "allowlist/unused",
                Level::Warning,
                &path,
                &deny.text,
                &index,
                a.span,
                format!(
                    "allowlist entry for `{}` in `{}` matches no finding",
                    a.rule, a.paper
                ),
            );
            f.help = Some(
                "the line changed or the finding is gone: remove the entry, or update its `line` fingerprint"
                    .into(),
            );
            f.fingerprint = None;
            f
        })
        .collect()
}

/// Splits a paper into what `audience` sees and what it does not.
fn view<'a>(input_index: usize, input: &CheckInput, audience: &'a Audience) -> View<'a> {
    let paper = input.paper;
    let text = input.text;
    let maximal = maximal_withheld(paper, audience);
    let mut withheld = Vec::new();
    for &k in &maximal {
        let span = paper.redactions[k].span;
        let mut tags = Vec::new();
        let mut attrs = Vec::new();
        for r in paper.redactions.iter().filter(|r| span.encloses(r.span)) {
            tags.extend([r.open, r.close, r.attrs]);
            attrs.push(r.attrs);
        }
        for h in paper.heading_attrs.iter().filter(|h| span.encloses(h.span)) {
            tags.push(h.span);
            attrs.push(h.span);
        }
        let content = subtract(span, &tags);
        let mut words = Words::default();
        for piece in &content {
            words.push_chars(&normalise(text, *piece, Strip::None));
        }
        withheld.push(Withheld {
            redaction: k,
            content,
            attrs,
            words,
        });
    }
    let mut public = Vec::new();
    let mut from = paper.body_start;
    let mut cuts: Vec<Span> = maximal.iter().map(|&k| paper.redactions[k].span).collect();
    cuts.push(Span::empty(text.len()));
    for cut in cuts {
        if cut.start >= from {
            let stretch = subtract(Span::new(from, cut.start), &paper.comments);
            public.push(stretch);
        }
        from = from.max(cut.end);
    }
    for span in front_matter_values(text, paper) {
        public.push(vec![span]);
    }
    let public = public
        .into_iter()
        .map(|pieces| {
            let mut words = Words::default();
            for piece in &pieces {
                words.push_chars(&normalise(text, *piece, Strip::None));
            }
            Stretch { pieces, words }
        })
        .collect();
    View {
        input: input_index,
        audience,
        public,
        withheld,
    }
}

/// `span` without the parts covered by `holes`.
fn subtract(span: Span, holes: &[Span]) -> Vec<Span> {
    let mut holes: Vec<Span> = holes
        .iter()
        .filter(|h| h.end > span.start && h.start < span.end && !h.is_empty())
        .copied()
        .collect();
    holes.sort();
    let mut out = Vec::new();
    let mut at = span.start;
    for h in holes {
        if h.start > at {
            out.push(Span::new(at, h.start));
        }
        at = at.max(h.end);
    }
    if at < span.end {
        out.push(Span::new(at, span.end));
    }
    out
}

/// The span of each front matter value in the source (YAML comments left out: they never
/// travel to a copy).
fn front_matter_values(text: &str, paper: &Paper) -> Vec<Span> {
    let block = paper.front_matter_span;
    let mut out = Vec::new();
    let mut offset = block.start;
    for line in text[block.start..block.end].split_inclusive(['\n', '\r']) {
        let body = line.trim_end_matches(['\n', '\r']);
        if let Some(colon) = body.find(':') {
            let key = body[..colon].trim();
            if paper.front_matter.entries().iter().any(|(k, _)| *k == key) {
                let value = &body[colon + 1..];
                let value = match value.find(" #") {
                    Some(hash) => &value[..hash],
                    None => value,
                };
                let start = offset + colon + 1 + (value.len() - value.trim_start().len());
                let end = offset + colon + 1 + value.trim_end().len();
                if end > start {
                    out.push(Span::new(start, end));
                }
            }
        }
        offset += line.len();
    }
    out
}

// ---------------------------------------------------------------------------------------
// Leaks

/// What an honest copy of this paper holds besides the published source text: the page
/// template, front matter as written afresh, markers and the schedule, rendered around a
/// neutral probe body that exercises every construct the renderer emits.
fn boilerplate(
    input: &CheckInput,
    audience: &Audience,
    rules: &Rules,
    options: &CheckOptions,
) -> Result<[String; 2], String> {
    const PROBE: &str = "# x\n\n## x\n\n### x\n\n#### x\n\n##### x\n\n###### x\n\n\
        x *x* **x** ~~x~~ `x` [x](x \"x\") ![x](x \"x\") <x@x.x> <http://x.x> x\\\nx  \nx[^x]\n\n\
        [^x]: x\n\n> x\n\n- x\n\n1. x\n\n3. x\n\n\
        | x | x | x | x |\n|:--|:-:|--:|---|\n| x | x | x | x |\n\n\
        ```x\nx\n```\n\n    x\n\n***\n\n<div>x</div>\n\n";
    let placement = BlockPlacement {
        prefix: String::new(),
        blank_before: true,
        blank_after: true,
        html_blank_after: true,
        newline: "\n",
    };
    let classes: Vec<String> = rules.presentational.iter().cloned().collect();
    let passage = |form: Form, placement: Option<&'static BlockPlacement>| OpenPassage {
        form,
        label: "x".into(),
        codes: vec!["x"],
        reason: Some("x"),
        id: Some("x"),
        classes: &[],
        highlight: audience.highlight,
        placement,
        markdown: "",
    };
    static DIV_PLACEMENT: BlockPlacement = BlockPlacement {
        prefix: String::new(),
        blank_before: true,
        blank_after: true,
        html_blank_after: true,
        newline: "\n",
    };
    let mut probe = copy_for(input.paper, input.text, audience);
    probe.pieces = vec![
        Piece::Text(PROBE),
        Piece::HeadingStart("x"),
        Piece::Text("## x\n\nx "),
        Piece::Marker {
            label: "x".into(),
            placement: None,
        },
        Piece::Text(" x\n\n"),
        Piece::Marker {
            label: "x".into(),
            placement: Some(placement),
        },
        Piece::Text("\nx "),
        Piece::Open(passage(Form::Span, None)),
        Piece::Text("x"),
        Piece::Close(passage(Form::Span, None)),
        Piece::Text("\n\n"),
        Piece::Open(OpenPassage {
            classes: &classes,
            ..passage(Form::Div, Some(&DIV_PLACEMENT))
        }),
        Piece::Text("x\n"),
        Piece::Close(passage(Form::Div, Some(&DIV_PLACEMENT))),
        Piece::Text("\n"),
    ];
    let schedule = schedule_for(input.paper, audience, rules, options.release);
    Ok([
        markdown_with_schedule(&probe, schedule.as_ref()),
        html_page_with_schedule(&probe, options.templates, schedule.as_ref())?,
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    Word,
    /// A run of words starting at this word of the passage.
    Run(usize),
}

struct LeakPattern {
    kind: PatternKind,
    passage: usize,
    /// Where in the source it was withheld.
    source: Span,
}

struct Hit {
    output: usize,
    pattern: usize,
    span: Span,
}

fn shingle_hash(audience: &str, words: &str) -> u64 {
    let mut h = DefaultHasher::new();
    audience.hash(&mut h);
    words.hash(&mut h);
    h.finish()
}

fn leaks(
    paper: &Checked,
    view: &View,
    rules: &Rules,
    min_words: usize,
    options: &CheckOptions,
) -> Vec<Finding> {
    let input = paper.input;
    let Some(output) = input
        .outputs
        .iter()
        .find(|o| o.audience == view.audience.name)
    else {
        return Vec::new();
    };
    if view.withheld.is_empty() {
        return Vec::new();
    }
    let fail = |message: String| {
        vec![Finding::at(
            "leak/scan-failed",
            Level::Error,
            &paper.path,
            input.text,
            &paper.index,
            Span::empty(0),
            message,
        )]
    };
    let boilerplate = match boilerplate(input, view.audience, rules, options) {
        Ok(b) => b,
        Err(e) => {
            return fail(format!(
                "cannot render the probe copy to scan for leaks: {e}"
            ));
        }
    };

    // What an honest copy publishes: words and runs.
    let mut vocabulary: HashSet<String> = HashSet::new();
    let mut public_runs: HashSet<u64> = HashSet::new();
    let mut learn = |words: &Words| {
        for i in 0..words.len() {
            vocabulary.insert(words.word(i).to_string());
            if i + min_words <= words.len() {
                public_runs.insert(shingle_hash("", words.run(i, min_words)));
            }
        }
    };
    for stretch in &view.public {
        learn(&stretch.words);
        let mut stripped = Words::default();
        for piece in &stretch.pieces {
            stripped.push_chars(&normalise(input.text, *piece, Strip::Markdown));
        }
        learn(&stripped);
    }
    for (k, text) in boilerplate.iter().enumerate() {
        let strip = if k == 0 { Strip::Markdown } else { Strip::Html };
        for strip in [Strip::None, strip] {
            learn(&Words::from_chars(&normalise(
                text,
                Span::new(0, text.len()),
                strip,
            )));
        }
    }
    // Front matter values as parsed (a folded value spans lines the stretches do not hold).
    for (_, value) in input.paper.front_matter.entries() {
        learn(&Words::from_chars(&normalise(
            value,
            Span::new(0, value.len()),
            Strip::None,
        )));
    }
    for code in &rules.exemptions {
        vocabulary.extend(
            text::words_of(&view.audience.label(&code.code))
                .split(' ')
                .map(str::to_string),
        );
    }
    let footnotes = input.text.matches("[^").count();
    vocabulary.extend((1..=footnotes).map(|n| n.to_string()));

    // What the copy must not hold.
    let mut patterns: Vec<LeakPattern> = Vec::new();
    let mut strings: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (p, passage) in view.withheld.iter().enumerate() {
        let mut word_views = vec![passage.words.clone()];
        let mut stripped = Words::default();
        for piece in &passage.content {
            stripped.push_chars(&normalise(input.text, *piece, Strip::Markdown));
        }
        word_views.push(stripped);
        let mut attrs = Words::default();
        for piece in &passage.attrs {
            attrs.push_chars(&normalise(input.text, *piece, Strip::None));
        }
        word_views.push(attrs);
        for words in &word_views {
            for i in 0..words.len() {
                let word = words.word(i);
                if word.chars().count() < MIN_WORD_CHARS
                    || vocabulary.contains(word)
                    || ATTRIBUTE_KEYS.contains(&word)
                    || !seen.insert(word.to_string())
                {
                    continue;
                }
                patterns.push(LeakPattern {
                    kind: PatternKind::Word,
                    passage: p,
                    source: words.source(i, 1),
                });
                strings.push(word.to_string());
            }
        }
        let words = &passage.words;
        for i in 0..(words.len() + 1).saturating_sub(min_words) {
            let run = words.run(i, min_words);
            if public_runs.contains(&shingle_hash("", run)) || !seen.insert(run.to_string()) {
                continue;
            }
            patterns.push(LeakPattern {
                kind: PatternKind::Run(i),
                passage: p,
                source: words.source(i, min_words),
            });
            strings.push(run.to_string());
        }
    }
    if patterns.is_empty() {
        return Vec::new();
    }
    let automaton = match AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&strings)
    {
        Ok(a) => a,
        Err(e) => return fail(format!("cannot build the leak scanner: {e}")),
    };

    let files = [
        (output.markdown.as_str(), "md", Strip::Markdown),
        (output.html.as_str(), "html", Strip::Html),
    ];
    let mut hits: Vec<Hit> = Vec::new();
    for (o, (file, _, stripped)) in files.iter().enumerate() {
        for strip in [Strip::None, *stripped] {
            let words = Words::from_chars(&normalise(file, Span::new(0, file.len()), strip));
            for m in automaton.find_overlapping_iter(&words.stream) {
                let (Some(first), Some(last)) = (
                    words.word_starting_at(m.start()),
                    words.word_ending_at(m.end()),
                ) else {
                    continue;
                };
                hits.push(Hit {
                    output: o,
                    pattern: m.pattern().as_usize(),
                    span: Span::new(
                        words.tokens[first].source.start,
                        words.tokens[last].source.end,
                    ),
                });
            }
        }
    }
    hits.sort_by_key(|h| (h.output, h.span.start, h.pattern, h.span.end));
    hits.dedup_by_key(|h| (h.output, h.span.start, h.pattern));

    // Runs: consecutive shingles of one passage, overlapping in the copy, are one leak.
    struct RunHit {
        output: usize,
        passage: usize,
        first: usize,
        last: usize,
        span: Span,
    }
    let mut runs: Vec<RunHit> = Vec::new();
    for hit in hits.iter() {
        let pattern = &patterns[hit.pattern];
        let PatternKind::Run(i) = pattern.kind else {
            continue;
        };
        if let Some(run) = runs.iter_mut().rev().find(|r| {
            r.output == hit.output
                && r.passage == pattern.passage
                && r.last + 1 == i
                && hit.span.start < r.span.end
        }) {
            run.last = i;
            run.span.end = run.span.end.max(hit.span.end);
            continue;
        }
        runs.push(RunHit {
            output: hit.output,
            passage: pattern.passage,
            first: i,
            last: i,
            span: hit.span,
        });
    }

    let channels: Vec<Channels> = vec![
        Channels::markdown(&output.markdown),
        Channels::html(&output.html),
    ];
    let indexes = [
        LineIndex::new(&output.markdown),
        LineIndex::new(&output.html),
    ];
    let copy_path = |o: usize| format!("{}/{}.{}", view.audience.name, input.name, files[o].1);
    let copy_name = |o: usize| {
        format!(
            "the {} {} copy",
            view.audience.name,
            if o == 0 { "Markdown" } else { "HTML" }
        )
    };
    let help = "a copy must never hold withheld text: this copy was altered after it was built, \
                or redact has a bug (please report it); rebuild and check again";
    let mut findings = Vec::new();
    let mut reported: BTreeSet<(usize, String)> = BTreeSet::new();
    let emit = |o: usize, span: Span, source: Span, what: String, is_run: bool| {
        let channel = channels[o].at(span.start);
        let (rule, place) = if channel.is_hidden() {
            ("leak/hidden-channel", channel.describe())
        } else if is_run {
            ("leak/withheld-run", "the text".into())
        } else {
            ("leak/withheld-word", "the text".into())
        };
        let mut f = Finding::at(
            rule,
            Level::Error,
            &paper.path,
            input.text,
            &paper.index,
            source,
            format!("{what} is in {place} of {}", copy_name(o)),
        );
        f.related = Some(Related {
            location: Location::of(&copy_path(o), files[o].0, &indexes[o], span),
            message: format!("in {}", copy_name(o)),
        });
        f.help = Some(help.into());
        f
    };
    for run in &runs {
        let passage = &view.withheld[run.passage];
        let n = run.last - run.first + min_words;
        let source = passage.words.source(run.first, n);
        let preview = preview(&passage.words, run.first, n);
        findings.push(emit(
            run.output,
            run.span,
            source,
            format!("withheld run of {n} words `{preview}`"),
            true,
        ));
    }
    for hit in &hits {
        let pattern = &patterns[hit.pattern];
        if pattern.kind != PatternKind::Word {
            continue;
        }
        let inside_run = runs
            .iter()
            .any(|r| r.output == hit.output && r.span.encloses(hit.span));
        if inside_run || !reported.insert((hit.output, strings[hit.pattern].clone())) {
            continue;
        }
        findings.push(emit(
            hit.output,
            hit.span,
            pattern.source,
            format!("withheld word `{}`", strings[hit.pattern]),
            false,
        ));
    }
    findings
}

/// The first words of a run, for a message.
fn preview(words: &Words, first: usize, n: usize) -> String {
    const SHOWN: usize = 8;
    let run = words.run(first, n.min(SHOWN));
    if n > SHOWN {
        format!("{run} …")
    } else {
        run.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// References

/// Published footnote and link reference definitions that only withheld text refers to.
fn references(paper: &Checked, view: &View) -> Vec<(Finding, usize)> {
    let input = paper.input;
    let text = input.text;
    let p = input.paper;
    let withheld: Vec<Span> = view
        .withheld
        .iter()
        .map(|w| p.redactions[w.redaction].span)
        .collect();
    let inside = |at: usize| withheld.iter().any(|s| s.contains(at));
    // Fence lines read as thematic breaks, as parse.rs reads them, so paragraphs end there.
    let mut bytes = text.as_bytes().to_vec();
    for r in p.redactions.iter().filter(|r| r.form == Form::Div) {
        for fence in [r.open, r.close] {
            for (k, b) in bytes[fence.start..fence.end].iter_mut().enumerate() {
                *b = if k < 3 { b'*' } else { b' ' };
            }
        }
    }
    let Ok(masked) = String::from_utf8(bytes) else {
        return Vec::new();
    };
    let body = &masked[p.body_start..];
    let base = p.body_start;
    let label = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    // (is footnote, label) → definition span; → (public uses, withheld uses)
    let mut definitions: BTreeMap<(bool, String), Span> = BTreeMap::new();
    let mut uses: HashMap<(bool, String), (usize, usize)> = HashMap::new();
    let events = Parser::new_ext(body, markdown_options()).into_offset_iter();
    for (name, def) in events.reference_definitions().iter() {
        definitions.insert(
            (false, label(name)),
            Span::new(base + def.span.start, base + def.span.end),
        );
    }
    for (event, range) in events {
        let at = base + range.start;
        let key = match event {
            Event::Start(Tag::FootnoteDefinition(name)) => {
                definitions
                    .entry((true, label(&name)))
                    .or_insert(Span::new(at, base + range.end));
                continue;
            }
            Event::FootnoteReference(name) => (true, label(&name)),
            Event::Start(Tag::Link {
                link_type: LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut,
                id,
                ..
            })
            | Event::Start(Tag::Image {
                link_type: LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut,
                id,
                ..
            }) => (false, label(&id)),
            _ => continue,
        };
        let entry = uses.entry(key).or_default();
        if inside(at) {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    let mut out = Vec::new();
    for ((footnote, name), span) in definitions {
        if inside(span.start) {
            continue;
        }
        let Some(&(0, withheld_uses)) = uses.get(&(footnote, name.clone())) else {
            continue;
        };
        if withheld_uses == 0 {
            continue;
        }
        let what = if footnote {
            format!("footnote `[^{name}]`")
        } else {
            format!("link reference `[{name}]`")
        };
        let mut f = Finding::at(
            "reference/only-withheld",
            Level::Warning,
            &paper.path,
            text,
            &paper.index,
            Span::new(span.start, span.start + 1),
            format!(
                "{what} is published in the {} copy, but only withheld text refers to it",
                view.audience.name
            ),
        );
        f.help = Some(
            "move the definition into the withheld passage that uses it, so it is withheld with it"
                .into(),
        );
        out.push((f, view.input));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Consistency

/// Runs of words withheld in one place and published in another.
fn shared_runs(papers: &[Checked], views: &[View], min_words: usize) -> Vec<(Finding, usize)> {
    // The cross-paper index: shingle hash → (view, stretch, first word). Text stays with
    // its paper; the index only holds hashes.
    let mut index: HashMap<u64, Vec<(usize, usize, usize)>> = HashMap::new();
    for (v, view) in views.iter().enumerate() {
        for (s, stretch) in view.public.iter().enumerate() {
            let words = &stretch.words;
            for j in 0..(words.len() + 1).saturating_sub(min_words) {
                let hash = shingle_hash(&view.audience.name, words.run(j, min_words));
                index.entry(hash).or_default().push((v, s, j));
            }
        }
    }
    // (withheld view, passage, public view, stretch, diagonal) → matched shingle starts
    type Pairing = (usize, usize, usize, usize, isize);
    let mut matches: BTreeMap<Pairing, Vec<(usize, usize)>> = BTreeMap::new();
    for (w, view) in views.iter().enumerate() {
        for (p, passage) in view.withheld.iter().enumerate() {
            let words = &passage.words;
            for i in 0..(words.len() + 1).saturating_sub(min_words) {
                let run = words.run(i, min_words);
                let hash = shingle_hash(&view.audience.name, run);
                for &(v, s, j) in index.get(&hash).into_iter().flatten() {
                    if views[v].audience.name != view.audience.name
                        || views[v].public[s].words.run(j, min_words) != run
                    {
                        continue;
                    }
                    let diagonal = j as isize - i as isize;
                    matches
                        .entry((w, p, v, s, diagonal))
                        .or_default()
                        .push((i, j));
                }
            }
        }
    }
    let stop: HashSet<&str> = STOPWORDS.iter().copied().collect();
    let mut reported: HashSet<(usize, usize, usize)> = HashSet::new();
    let mut out = Vec::new();
    for ((w, p, v, s, _), starts) in matches {
        // Consecutive shingle starts on one diagonal are one run.
        let mut groups: Vec<(usize, usize, usize)> = Vec::new();
        for (i, j) in starts {
            match groups.last_mut() {
                Some((_, last_i, _)) if *last_i + 1 == i => *last_i = i,
                _ => groups.push((i, i, j)),
            }
        }
        for (first_i, last_i, first_j) in groups {
            let n = last_i - first_i + min_words;
            let withheld_words = &views[w].withheld[p].words;
            let content = (first_i..first_i + n)
                .filter(|&k| !stop.contains(withheld_words.word(k)))
                .count();
            if content < MIN_CONTENT_WORDS || !reported.insert((v, s, first_j)) {
                continue;
            }
            let public = &papers[views[v].input];
            let withheld_paper = &papers[views[w].input];
            let public_span = views[v].public[s].words.source(first_j, n);
            let withheld_span = withheld_words.source(first_i, n);
            let withheld_at = Location::of(
                &withheld_paper.path,
                withheld_paper.input.text,
                &withheld_paper.index,
                withheld_span,
            );
            let codes = withheld_paper.input.paper.redactions[views[w].withheld[p].redaction]
                .codes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" & ");
            let mut f = Finding::at(
                "consistency/shared-run",
                Level::Error,
                &public.path,
                public.input.text,
                &public.index,
                public_span,
                format!(
                    "these {n} words (`{}`) are published in the {} copy, but withheld under {codes} elsewhere",
                    preview(withheld_words, first_i, n),
                    views[v].audience.name,
                ),
            );
            f.related = Some(Related {
                location: withheld_at,
                message: format!("withheld under {codes}"),
            });
            f.help = Some(
                "the same words should get the same decision: withhold them here too, or publish them there"
                    .into(),
            );
            out.push((f, views[v].input));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Deny-list

struct DenyHit {
    rule: usize,
    span: Span,
    /// The matched text, normalised, to pair published and withheld uses of one term.
    key: String,
}

/// Deny-list matches in some pieces of a paper's source.
fn deny_matches(text: &str, pieces: &[Span], deny: &DenyList, terms: &Terms) -> Vec<DenyHit> {
    let mut out = Vec::new();
    if let Some((automaton, rules)) = terms {
        let mut words = Words::default();
        for piece in pieces {
            words.push_chars(&normalise(text, *piece, Strip::None));
        }
        for m in automaton.find_overlapping_iter(&words.stream) {
            let (Some(first), Some(last)) = (
                words.word_starting_at(m.start()),
                words.word_ending_at(m.end()),
            ) else {
                continue;
            };
            let rule = rules[m.pattern().as_usize()];
            out.push(DenyHit {
                rule,
                span: words.source(first, last - first + 1),
                key: words.run(first, last - first + 1).to_string(),
            });
        }
    }
    for piece in pieces {
        let chars: Vec<NChar> = decoded(text, *piece);
        let (string, offsets) = joined(&chars);
        for (r, rule) in deny.rules.iter().enumerate() {
            let Pattern::Regex(regex) = &rule.pattern else {
                continue;
            };
            for m in regex.find_iter(&string) {
                if m.is_empty() {
                    continue;
                }
                let first = offsets.partition_point(|&o| o < m.start());
                let last = offsets.partition_point(|&o| o < m.end()) - 1;
                let span = Span::new(chars[first].start, chars[last].end);
                out.push(DenyHit {
                    rule: r,
                    span,
                    key: text::words_of(m.as_str()),
                });
            }
        }
    }
    out
}

/// Normalised characters as one string, with the byte offset of each.
fn joined(chars: &[NChar]) -> (String, Vec<usize>) {
    let mut s = String::with_capacity(chars.len());
    let mut offsets = Vec::with_capacity(chars.len());
    for n in chars {
        offsets.push(s.len());
        s.push(n.c);
    }
    (s, offsets)
}

type Terms = Option<(AhoCorasick, Vec<usize>)>;

type Pending = (Finding, usize, Related);

/// Deny-list findings, and those that become consistency findings if an allowlist entry
/// suppresses them (a term allowed here but withheld elsewhere).
fn deny_hits(
    papers: &[Checked],
    views: &[View],
    deny: &DenyList,
) -> (Vec<(Finding, usize)>, Vec<Pending>) {
    let mut term_rules = Vec::new();
    let mut term_strings = Vec::new();
    for (r, rule) in deny.rules.iter().enumerate() {
        if let Pattern::Term(words) = &rule.pattern {
            term_rules.push(r);
            term_strings.push(words.clone());
        }
    }
    let terms: Terms = if term_strings.is_empty() {
        None
    } else {
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&term_strings)
            .ok()
            .map(|a| (a, term_rules))
    };
    // Where each (rule, term) is withheld, per audience: the first place in run order.
    let mut withheld_at: BTreeMap<(String, usize, String), Location> = BTreeMap::new();
    for view in views {
        let paper = &papers[view.input];
        for passage in &view.withheld {
            for hit in deny_matches(paper.input.text, &passage.content, deny, &terms) {
                withheld_at
                    .entry((view.audience.name.clone(), hit.rule, hit.key))
                    .or_insert_with(|| {
                        Location::of(&paper.path, paper.input.text, &paper.index, hit.span)
                    });
            }
        }
    }
    let mut seen: HashSet<(usize, usize, Span)> = HashSet::new();
    let mut findings = Vec::new();
    let mut pending = Vec::new();
    for view in views {
        let paper = &papers[view.input];
        let text = paper.input.text;
        for stretch in &view.public {
            for hit in deny_matches(text, &stretch.pieces, deny, &terms) {
                if !seen.insert((view.input, hit.rule, hit.span)) {
                    continue;
                }
                let rule = &deny.rules[hit.rule];
                let matched = &text[hit.span.start..hit.span.end];
                let about = rule
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                let mut f = Finding::at(
                    rule.finding_rule(),
                    Level::Error,
                    &paper.path,
                    text,
                    &paper.index,
                    hit.span,
                    format!(
                        "`{matched}` matches deny rule `{}`{about} and the {} copy publishes it",
                        rule.id, view.audience.name
                    ),
                );
                let fp = f.fingerprint.clone().unwrap_or_default();
                f.help = Some(format!(
                    "withhold it, or if it is meant to be public, allow it in {}:\n  - rule: {}\n    paper: {}\n    line: {fp}\n    reason: <why it may be published>",
                    display_path(&deny.path),
                    rule.finding_rule(),
                    paper.input.name
                ));
                let key = (view.audience.name.clone(), hit.rule, hit.key);
                if let Some(at) = withheld_at.get(&key) {
                    let related = Related {
                        location: at.clone(),
                        message: "withheld".into(),
                    };
                    f.related = Some(related.clone());
                    pending.push((f.clone(), view.input, related));
                }
                findings.push((f, view.input));
            }
        }
    }
    (findings, pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_paper;

    fn run(papers: &[(&str, &str)], deny: &DenyList) -> Vec<Finding> {
        let rules = Rules::embedded().expect("rules");
        let templates = Templates::embedded().expect("templates");
        let release = Release::default();
        let options = CheckOptions {
            templates: &templates,
            release: &release,
        };
        let parsed: Vec<Paper> = papers
            .iter()
            .map(|(_, text)| parse_paper(text, &rules).expect("parses"))
            .collect();
        let inputs: Vec<CheckInput> = papers
            .iter()
            .zip(&parsed)
            .map(|((name, text), paper)| CheckInput {
                path: Path::new(name),
                name,
                text,
                paper,
                outputs: public_outputs(paper, text, &rules, &options).expect("renders"),
            })
            .collect();
        check_papers(&inputs, &rules, deny, &options)
    }

    const HEAD: &str = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n";

    #[test]
    fn an_honest_paper_has_no_finding() {
        let paper = format!(
            "{HEAD}The board met.[^1]\n\n[the Kestrel meeting was held at Portisfield docks]{{.S31}}\n\n[^1]: Minutes.\n"
        );
        assert_eq!(run(&[("a.md", &paper)], &DenyList::empty()), vec![]);
    }

    #[test]
    fn footnote_used_only_by_withheld_text_is_a_finding() {
        let paper =
            format!("{HEAD}Public text.\n\n[Secret text.[^s]]{{.S31}}\n\n[^s]: Source note.\n");
        let findings = run(&[("a.md", &paper)], &DenyList::empty());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "reference/only-withheld");
        assert_eq!(findings[0].location.line, 9);
    }

    #[test]
    fn link_definition_used_only_by_withheld_text_is_a_finding() {
        let paper = format!(
            "{HEAD}See [the report][pub].\n\n::: S31\nSee [the site][r].\n:::\n\n[r]: https://example.org/site\n\n[pub]: https://example.org/report\n"
        );
        let findings = run(&[("a.md", &paper)], &DenyList::empty());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "reference/only-withheld");
        assert!(findings[0].message.starts_with("link reference `[r]`"));
        assert_eq!(findings[0].location.line, 11);
    }

    #[test]
    fn deny_term_is_found_however_encoded_and_allowlist_suppresses_it() {
        let paper = format!("{HEAD}Work on Operation &#75;estrel continues.\n");
        let deny_text = "deny:\n  - id: kestrel\n    term: operation kestrel\n";
        let deny = DenyList::parse(Path::new("deny.yaml"), deny_text).expect("deny");
        let findings = run(&[("a.md", &paper)], &deny);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "deny/kestrel");
        assert_eq!(
            (findings[0].location.line, findings[0].location.column),
            (5, 9)
        );
        let fp = findings[0].fingerprint.clone().expect("fingerprint");
        let allowed = format!(
            "{deny_text}allow:\n  - rule: deny/kestrel\n    paper: a.md\n    line: {fp}\n    reason: published\n  - rule: deny/kestrel\n    paper: a.md\n    line: {}\n    reason: stale\n",
            "0".repeat(64)
        );
        let deny = DenyList::parse(Path::new("deny.yaml"), &allowed).expect("deny");
        let findings = run(&[("a.md", &paper)], &deny);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "allowlist/unused");
        assert_eq!(findings[0].location.path, "deny.yaml");
        assert_eq!(findings[0].location.line, 9);
    }

    #[test]
    fn deny_regex_keeps_case_and_spans_the_match() {
        let paper = format!("{HEAD}Call PC 4021 now; pc 4021 is not a rank.\n");
        let deny_text = "deny:\n  - id: collar\n    regex: '\\bPC ?[0-9]{3,6}\\b'\n";
        let deny = DenyList::parse(Path::new("deny.yaml"), deny_text).expect("deny");
        let findings = run(&[("a.md", &paper)], &deny);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let l = &findings[0].location;
        assert_eq!((l.line, l.column, l.end_column), (5, 6, 13));
    }

    #[test]
    fn withheld_deny_term_is_not_a_deny_finding() {
        let paper = format!("{HEAD}Public.\n\n[Operation Kestrel]{{.S31}}\n");
        let deny_text = "deny:\n  - id: kestrel\n    term: operation kestrel\n";
        let deny = DenyList::parse(Path::new("deny.yaml"), deny_text).expect("deny");
        assert_eq!(run(&[("a.md", &paper)], &deny), vec![]);
    }

    #[test]
    fn allowed_deny_term_withheld_elsewhere_is_a_consistency_finding() {
        let a = format!("{HEAD}We thank Operation Kestrel.\n");
        let b = format!("{HEAD}Public.\n\n[Operation Kestrel is live]{{.S31}}\n");
        let deny_text = "deny:\n  - id: kestrel\n    term: operation kestrel\n";
        let deny = DenyList::parse(Path::new("deny.yaml"), deny_text).expect("deny");
        let findings = run(&[("a.md", &a), ("b.md", &b)], &deny);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let related = findings[0]
            .related
            .as_ref()
            .expect("names the withheld place");
        assert_eq!(related.location.path, "b.md");
        let fp = findings[0].fingerprint.clone().expect("fp");
        let allowed = format!(
            "{deny_text}allow:\n  - rule: deny/kestrel\n    paper: a\n    line: {fp}\n    reason: thanked publicly\n"
        );
        let deny = DenyList::parse(Path::new("deny.yaml"), &allowed).expect("deny");
        let a_input = [("a", a.as_str()), ("b", b.as_str())];
        let findings = run(&a_input, &deny);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "consistency/deny-term");
        assert_eq!(findings[0].location.path, "a");
    }

    #[test]
    fn shared_run_across_papers_names_both_places() {
        let a = format!(
            "{HEAD}Intro.\n\n[The surveillance team moved to the Tewkesbury Road depot in March.]{{.S31}}\n"
        );
        let b =
            format!("{HEAD}We note the surveillance team moved to the Tewkesbury Road depot.\n");
        let findings = run(&[("a.md", &a), ("b.md", &b)], &DenyList::empty());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.rule, "consistency/shared-run");
        assert_eq!(f.location.path, "b.md");
        assert_eq!(
            f.related.as_ref().map(|r| r.location.path.as_str()),
            Some("a.md")
        );
        assert!(f.message.contains("9 words"), "{}", f.message);
    }

    #[test]
    fn common_phrases_alone_are_not_shared_runs() {
        let a = format!(
            "{HEAD}Intro.\n\n[Staff from the Home Office and partners met in secret.]{{.S31}}\n"
        );
        let b = format!("{HEAD}Funding came from the Home Office and the forces.\n");
        assert_eq!(
            run(&[("a.md", &a), ("b.md", &b)], &DenyList::empty()),
            vec![]
        );
    }
}
