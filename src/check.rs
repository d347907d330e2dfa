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
//!   zero-width characters and inline markup. Each word of a copy (and each run of words
//!   ending at it) is looked up in a table of the passages' words and runs; a copy is read as
//!   it is and with its markup stripped in one pass. Copies are built leak-free, so a hit proves a bug or tampering; a hit in a
//!   link target, image alt or source, heading id, footnote or reference definition, HTML
//!   comment, attribute, front matter or page head is reported as a hidden channel, named.
//! - **Deny-list** (`deny/<id>`): a term or regex of `rules/deny.yaml` in text the copy
//!   publishes, as a reader sees it (visible.rs: `CH<!-- x -->IS 1234`, `C**HIS** 1234` and
//!   `PC<span>4321</span>` read as they display), located in the source.
//! - **Consistency** (`consistency/shared-run`, `consistency/deny-term`, `consistency/asset`):
//!   a run of `min_words` or more words withheld in one place and published in another, in the
//!   same paper or another paper of the run, both read as a reader sees them; runs made mostly of
//!   common words are ignored. A withheld passage too short for a run (fewer than `min_words`
//!   words, one of them distinctive: a surname, a code word) whose words are published
//!   together elsewhere is one too.
//!   The cross-paper index holds hashes of word shingles, not text. A deny-listed term
//!   withheld in one place and published (by allowlist) in another is a finding too, and so
//!   is an image or annex one paper withholds from an audience and another shows it.
//!
//! Allowlist entries then suppress matching findings, and an entry for a checked paper that
//! suppresses nothing is an `allowlist/unused` finding. Release records (records.rs) add
//! `release/changed`.

pub(crate) mod channel;
pub(crate) mod hash;
pub(crate) mod text;
pub(crate) mod visible;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;
use serde::Serialize;

use crate::deny::{DenyList, Pattern, fingerprint};
use crate::model::{BlockPlacement, Form, Paper};
use crate::redact::{Passage as OpenPassage, Piece, copy_for, copy_with};
use crate::render::{Templates, html_page_with_schedule, markdown_with_schedule};
use crate::reread::all_non_ascii;
use crate::rules::{Audience, Rules};
use crate::schedule::{Release, schedule_for};
use crate::span::{LineIndex, Span, subtract};
use crate::write::Output;
use channel::Channels;
use hash::{HashFilter, WordFilter, WordMap, WordSet, run_hash};
use text::{Reading, Strip, Words};
use visible::Visible;

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
    pub outputs: &'a [PublicOutput],
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

/// The files of a paper's public copies (what [`public_outputs_from`] picks).
pub fn public_paths(name: &str, rules: &Rules) -> Vec<std::path::PathBuf> {
    public_audiences(rules)
        .flat_map(|a| ["md", "html"].map(|ext| Path::new(&a.name).join(format!("{name}.{ext}"))))
        .collect()
}

/// Takes a paper's public copies out of what `build_paper` produced.
pub fn public_outputs_from(
    name: &str,
    mut outputs: Vec<Output>,
    rules: &Rules,
) -> Vec<PublicOutput> {
    let mut find = |audience: &str, ext: &str| {
        let relative = Path::new(audience).join(format!("{name}.{ext}"));
        let o = outputs.iter_mut().find(|o| o.relative == relative)?;
        let bytes = std::mem::take(&mut o.bytes);
        Some(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
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
    /// The words only other readings of the passage have: those of `content` with inline
    /// markup stripped that its words as written lack, then those of `attrs`, in order.
    extra_words: Words,
    /// Words of `content` as a reader of a copy that shows it sees it, in order, as one
    /// stream: what the deny-list and the consistency scans compare.
    visible_words: Words,
}

/// Per-input facts every scan needs.
struct Checked<'a> {
    input: &'a CheckInput<'a>,
    path: String,
    /// Made on first use: only a paper with a finding needs it.
    index: std::sync::OnceLock<LineIndex>,
}

impl Checked<'_> {
    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::new(self.input.text))
    }
}

/// What the scans of one paper for one public audience leave for the passes across papers:
/// findings, deny-list hits and hashes of word runs, never the words themselves.
struct ViewScan<'a> {
    input: usize,
    audience: &'a Audience,
    /// Deny-list hits in published text, each with the key that pairs it with a withheld use.
    deny_published: Vec<(Finding, DenyKey)>,
    /// Deny-list hits in withheld text, in document order.
    deny_withheld: Vec<(DenyKey, Span)>,
    /// [`run_hashes`] of the runs of `min_words` published words, per stretch.
    published_runs: Vec<Vec<u64>>,
    /// [`run_hashes`] of the runs of `min_words` withheld words, per passage.
    withheld_runs: Vec<Vec<u64>>,
    /// Where a short withheld passage of any paper may be published: (stretch, first word,
    /// words, [`run_hash`]).
    short_published: Vec<(usize, usize, usize, u64)>,
    /// This paper's short withheld passages: (passage, [`run_hash`] of its words).
    short_withheld: Vec<(usize, u64)>,
}

/// A public audience, with what the scans of every paper need of it.
struct PublicAudience<'a> {
    audience: &'a Audience,
    /// The words of the markers it shows for every exemption, normalised: an honest copy
    /// may hold any of them.
    label_words: Vec<String>,
}

impl<'a> PublicAudience<'a> {
    fn new(audience: &'a Audience, rules: &Rules) -> Self {
        let label_words = rules
            .exemptions
            .iter()
            .flat_map(|code| {
                text::words_of(audience.label(&code.code))
                    .split(' ')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        PublicAudience {
            audience,
            label_words,
        }
    }
}

/// (audience, deny rule, matched text normalised).
type DenyKey = (String, usize, String);

/// Runs every scan over every paper. See the module documentation.
///
/// Each paper is scanned on its own first (in parallel): leaks, references, deny-list hits,
/// and hashes of its word runs. Only those hashes meet across papers; the words of a paper are
/// worked out again only if one of its runs may be shared.
pub fn check_papers(
    inputs: &[CheckInput],
    rules: &Rules,
    deny: &DenyList,
    options: &CheckOptions,
) -> Vec<Finding> {
    let scanned = inputs
        .par_iter()
        .map(|input| scan_copies(input, rules, deny, options))
        .collect();
    check_scanned(inputs, scanned, rules, deny)
}

/// One paper's copies scanned for leaks (see [`scan_copies`]), and its withheld passages for
/// each public audience, which the scans across papers read again.
pub struct CopiesScanned {
    /// One for each of [`public_audiences`], in order.
    views: Vec<WithheldView>,
    leaks: Vec<Finding>,
}

/// Scans one paper's copies (`input.outputs`) for leaks: the only scan that reads the copies,
/// so a caller can do it as each paper is built and let the copies go before the next, rather
/// than hold every paper's copies for [`check_scanned`].
pub fn scan_copies(
    input: &CheckInput,
    rules: &Rules,
    deny: &DenyList,
    options: &CheckOptions,
) -> CopiesScanned {
    let paper = Checked {
        input,
        path: display_path(input.path),
        index: std::sync::OnceLock::new(),
    };
    let mut leaks = Vec::new();
    let views = public_audiences(rules)
        .map(|audience| {
            let public = PublicAudience::new(audience, rules);
            let maximal = input.paper.maximal_withheld(audience);
            let (mut withheld, visible) = withheld_passages(input, &maximal);
            leaks.extend(leak_scan(
                &paper, &public, &maximal, &withheld, rules, deny, options,
            ));
            // The scans across papers read each passage only as a reader sees it; the rest
            // is worked out again for the few papers that need it (see `view`).
            for passage in &mut withheld {
                passage.words = Words::default();
                passage.extra_words = Words::default();
                passage.content = Vec::new();
                passage.attrs = Vec::new();
            }
            (maximal, withheld, visible)
        })
        .collect();
    CopiesScanned { views, leaks }
}

/// Every scan but the leak scan, over papers whose copies [`scan_copies`] read (`scanned`,
/// one for each of `inputs`, in order); the copies in `inputs` are not read again.
pub fn check_scanned(
    inputs: &[CheckInput],
    scanned: Vec<CopiesScanned>,
    rules: &Rules,
    deny: &DenyList,
) -> Vec<Finding> {
    let papers: Vec<Checked> = inputs
        .par_iter()
        .map(|input| Checked {
            input,
            path: display_path(input.path),
            index: std::sync::OnceLock::new(),
        })
        .collect();
    let terms = deny_terms(deny);
    let audiences: Vec<PublicAudience> = public_audiences(rules)
        .map(|audience| PublicAudience::new(audience, rules))
        .collect();
    // Each paper's withheld passages were read first, so the short ones of every paper are
    // known when each paper's published text is read.
    let mut findings = Vec::new();
    let withheld: Vec<Vec<WithheldView>> = scanned
        .into_iter()
        .map(|scanned| {
            findings.extend(scanned.leaks);
            scanned.views
        })
        .collect();
    let short = ShortPassages::new(&audiences, &withheld, deny.min_words);
    let across = Across {
        deny,
        terms: &terms,
        short: &short,
    };
    let scans: Vec<ViewScan> = papers
        .par_iter()
        .zip(withheld)
        .enumerate()
        .flat_map_iter(|(i, (paper, views))| {
            let mut seen = HashSet::new();
            audiences
                .iter()
                .zip(views)
                .map(|(audience, view)| scan_view(i, paper, audience, view, &across, &mut seen))
                .collect::<Vec<_>>()
        })
        .collect();

    let mut candidates = Vec::new();
    candidates.extend(shared_runs(&papers, &scans, deny.min_words));
    candidates.extend(shared_short_passages(&papers, &scans));
    let (deny_findings, pending) = deny_hits(&papers, &scans);
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
    findings.extend(asset_consistency(&papers, &audiences));
    sort_findings(&mut findings);
    // A few small pieces per stretch of every paper: let them go in parallel too.
    scans.into_par_iter().for_each(drop);
    findings
}

/// `consistency/asset`: a file (image or annex) one paper of the run withholds from an
/// audience and another shows it, so the copy of the one gives away what the other withholds.
fn asset_consistency(papers: &[Checked], audiences: &[PublicAudience]) -> Vec<Finding> {
    // Each file: the papers that show it and those that only withhold it (paper, link).
    type Places = (Vec<(usize, usize)>, Vec<(usize, usize)>);
    let mut out = Vec::new();
    for audience in audiences.iter().map(|a| a.audience) {
        let mut files: BTreeMap<std::path::PathBuf, Places> = BTreeMap::new();
        for (i, checked) in papers.iter().enumerate() {
            let (input, paper) = (checked.input, checked.input.paper);
            let whole = paper.front_matter.withheld_from(audience);
            let spans: Vec<Span> = paper.withheld_spans(audience);
            let root = crate::assets::input_root(input.path, input.name);
            let mut mine: BTreeMap<std::path::PathBuf, (Option<usize>, Option<usize>)> =
                BTreeMap::new();
            for (l, link) in paper.links.iter().enumerate() {
                let Some(relative) = crate::assets::linked_file(link, input.name) else {
                    continue;
                };
                let file = root.join(relative);
                let key = std::fs::canonicalize(&file).unwrap_or(file);
                let entry = mine.entry(key).or_default();
                if !whole && crate::assets::link_shown(paper, &spans, link) {
                    entry.0.get_or_insert(l);
                } else {
                    entry.1.get_or_insert(l);
                }
            }
            for (key, place) in mine {
                let (shown, withheld) = files.entry(key).or_default();
                match place {
                    (Some(l), _) => shown.push((i, l)),
                    (None, Some(l)) => withheld.push((i, l)),
                    (None, None) => {}
                }
            }
        }
        for (shown, withheld) in files.values() {
            let Some(&(wi, wl)) = withheld.first() else {
                continue;
            };
            let there = &papers[wi];
            let link = &there.input.paper.links[wl];
            let withheld_at = Location::of(&there.path, there.input.text, there.index(), link.span);
            for &(si, sl) in shown {
                let here = &papers[si];
                let link = &here.input.paper.links[sl];
                let mut f = Finding::at(
                    "consistency/asset",
                    Level::Error,
                    &here.path,
                    here.input.text,
                    here.index(),
                    link.span,
                    format!(
                        "`{}` is shown in the {} copy, but withheld from it by {}",
                        link.dest.trim(),
                        audience.name,
                        there.path,
                    ),
                );
                f.related = Some(Related {
                    location: withheld_at.clone(),
                    message: format!("withheld from the {} copy here", audience.name),
                });
                f.help = Some(
                    "the same file should get the same decision: withhold it here too, or show it there"
                        .into(),
                );
                out.push(f);
            }
        }
    }
    out
}

pub(crate) fn display_path(path: &Path) -> String {
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

/// The span of each front matter value in the source (YAML comments left out: they never
/// travel to a copy).
pub(crate) fn front_matter_values(text: &str, paper: &Paper) -> Vec<Span> {
    let block = paper.front_matter_span;
    let mut out = Vec::new();
    let mut offset = block.start;
    let Some(body) = text.get(block.start..block.end) else {
        return out;
    };
    for line in body.split_inclusive(['\n', '\r']) {
        let content = line.trim_end_matches(['\n', '\r']);
        if let Some(colon) = content.find(':') {
            let key = content[..colon].trim();
            if paper.front_matter.entries().iter().any(|(k, _)| *k == key) {
                let value = &content[colon + 1..];
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

/// The items of `items` (each with a span, in document order) whose span `span` encloses,
/// in that order. `sorted` says the spans are sorted by start, so only those starting
/// within `span` need a look.
fn enclosed<T>(
    items: &[T],
    sorted: bool,
    span: Span,
    of: impl Fn(&T) -> Span,
) -> impl Iterator<Item = &T> {
    let range = if sorted {
        let first = items.partition_point(|t| of(t).start < span.start);
        let last = items.partition_point(|t| of(t).start <= span.end);
        first..last.max(first)
    } else {
        0..items.len()
    };
    items[range].iter().filter(move |t| span.encloses(of(t)))
}

/// A paper's withheld passages for an audience: the maximal withheld redactions, and all of
/// them as a reader of a copy that shows them sees them.
fn withheld_passages(input: &CheckInput, maximal: &[usize]) -> (Vec<Withheld>, Visible) {
    let paper = input.paper;
    let text = input.text;
    let redactions_sorted = paper.redactions.is_sorted_by_key(|r| r.span.start);
    let headings_sorted = paper.heading_attrs.is_sorted_by_key(|h| h.span.start);
    let mut withheld = Vec::with_capacity(maximal.len());
    for &k in maximal {
        let span = paper.redactions[k].span;
        let mut tags = Vec::new();
        let mut attrs = Vec::new();
        for r in enclosed(&paper.redactions, redactions_sorted, span, |r| r.span) {
            tags.extend([r.open, r.close, r.attrs]);
            attrs.push(r.attrs);
        }
        for h in enclosed(&paper.heading_attrs, headings_sorted, span, |h| h.span) {
            tags.push(h.span);
            attrs.push(h.span);
        }
        let content = subtract(span, &tags);
        // The content read as written and with inline markup stripped in one pass: most
        // words are the same in both.
        let bytes = |pieces: &[Span]| -> usize {
            pieces.iter().map(|p| p.end.saturating_sub(p.start)).sum()
        };
        let mut words = Words::with_capacity(bytes(&content));
        // Mostly the words of the attributes: room for them at once, not grown word by word.
        let mut extra_words = Words::with_capacity(bytes(&attrs));
        for piece in &content {
            text::for_each_word_two_ways(text, *piece, Strip::Markdown, |reading, w, s| {
                match reading {
                    Reading::Stripped => extra_words.push_word(w, s),
                    Reading::Raw | Reading::Both => words.push_word(w, s),
                }
            });
        }
        for piece in &attrs {
            extra_words.push_text(text, *piece, Strip::None);
        }
        withheld.push(Withheld {
            redaction: k,
            content,
            attrs,
            words,
            extra_words,
            visible_words: Words::default(),
        });
    }
    let contents: Vec<&[Span]> = withheld.iter().map(|w| w.content.as_slice()).collect();
    let (visible, words) = visible::passages(text, &contents);
    for (passage, words) in withheld.iter_mut().zip(words) {
        passage.visible_words = words;
    }
    (withheld, visible)
}

/// What a paper publishes for an audience, as stretches of source: between two withheld
/// passages (comments left out), then each front matter value.
fn public_stretches(input: &CheckInput, maximal: &[usize]) -> Vec<Vec<Span>> {
    let paper = input.paper;
    let text = input.text;
    let comments = &paper.comments;
    // Comments never overlap and come in order, so those inside a stretch are found by a
    // binary search; otherwise every comment is looked at.
    let ordered = comments.windows(2).all(|w| w[0].end <= w[1].start);
    let holes = |stretch: Span| -> &[Span] {
        if !ordered {
            return comments;
        }
        let first = comments.partition_point(|c| c.end <= stretch.start);
        let last = comments.partition_point(|c| c.start < stretch.end);
        &comments[first..last.max(first)]
    };
    let mut public = Vec::new();
    let mut from = paper.body_start;
    let mut cuts: Vec<Span> = maximal.iter().map(|&k| paper.redactions[k].span).collect();
    cuts.push(Span::empty(text.len()));
    for cut in cuts {
        if cut.start >= from {
            let stretch = Span::new(from, cut.start);
            public.push(subtract(stretch, holes(stretch)));
        }
        from = from.max(cut.end);
    }
    for span in front_matter_values(text, paper) {
        public.push(vec![span]);
    }
    public
}

/// The words of some pieces of `text`, as one stream.
fn words_of_pieces(text: &str, pieces: &[Span], strip: Strip) -> Words {
    let bytes: usize = pieces.iter().map(|p| p.end.saturating_sub(p.start)).sum();
    let mut words = Words::with_capacity(bytes);
    for piece in pieces {
        words.push_text(text, *piece, strip);
    }
    words
}

/// What a paper publishes for an audience, as a reader sees it: the body's visible text, and
/// the words of each published stretch (the body between withheld passages, then each of its
/// link targets, titles and attribute values, then each front matter value).
fn published(input: &CheckInput, maximal: &[usize]) -> (Visible, Vec<Words>) {
    let body = visible::public_body(input.text, input.paper, maximal);
    let mut stretches = body.stretches();
    for span in front_matter_values(input.text, input.paper) {
        stretches.push(words_of_pieces(input.text, &[span], Strip::None));
    }
    (body, stretches)
}

/// A paper's words as one audience sees them, worked out again for the few papers whose runs
/// may be shared with another.
struct View {
    /// Words of each published stretch, as [`published`] lists them.
    public: Vec<Words>,
    withheld: Vec<Withheld>,
}

fn view(input: &CheckInput, audience: &Audience) -> View {
    let maximal = input.paper.maximal_withheld(audience);
    let (body, public) = published(input, &maximal);
    body.recycle();
    View {
        public,
        withheld: withheld_passages(input, &maximal).0,
    }
}

/// A paper's withheld passages for one audience: the redactions, the passages, and how a
/// reader of a copy that shows them sees them.
type WithheldView = (Vec<usize>, Vec<Withheld>, Visible);

/// What the scans across papers know before any paper is scanned: the short withheld
/// passages of every paper, to look for in what every paper publishes.
struct Across<'a> {
    deny: &'a DenyList,
    terms: &'a Terms,
    short: &'a ShortPassages,
}

/// Scans one paper for one public audience, whose withheld passages are `withheld` (the
/// redactions `maximal`): everything that needs only this paper, and the short passages of
/// any paper it publishes. `seen` holds the deny-list hits already reported for this paper
/// (under another audience).
fn scan_view<'a>(
    input_index: usize,
    paper: &Checked,
    public: &PublicAudience<'a>,
    (maximal, withheld, withheld_visible): WithheldView,
    across: &Across,
    seen: &mut HashSet<(usize, Span)>,
) -> ViewScan<'a> {
    let Across { deny, terms, short } = *across;
    let audience = public.audience;
    let input = paper.input;
    let text = input.text;
    let min_words = deny.min_words;
    // What the copy shows, as a reader sees it: its run hashes and deny-list hits, and the
    // short withheld passages it publishes.
    let (body, stretches) = published(input, &maximal);
    let published_runs: Vec<Vec<u64>> = stretches
        .iter()
        .map(|words| run_hashes(&audience.name, words, min_words))
        .collect();
    let short_published = short.published(&audience.name, &stretches);
    let mut deny_published = Vec::new();
    let fm_values = front_matter_values(text, input.paper);
    for hit in deny_matches(text, &body, &fm_values, &stretches, deny, terms) {
        if seen.insert((hit.rule, hit.span)) {
            deny_published.push(published_deny_finding(paper, audience, deny, hit));
        }
    }
    body.recycle();
    let mut deny_withheld = Vec::new();
    let words = withheld.iter().map(|p| &p.visible_words);
    for hit in deny_matches(text, &withheld_visible, &[], words, deny, terms) {
        deny_withheld.push(((audience.name.clone(), hit.rule, hit.key), hit.span));
    }
    let withheld_runs = withheld
        .iter()
        .map(|passage| run_hashes(&audience.name, &passage.visible_words, min_words))
        .collect();
    let short_withheld = withheld
        .iter()
        .enumerate()
        .filter_map(|(p, passage)| {
            let run = short_run(&passage.visible_words, min_words)?;
            Some((p, run_hash(&audience.name, run)))
        })
        .collect();
    ViewScan {
        input: input_index,
        audience,
        deny_published,
        deny_withheld,
        published_runs,
        withheld_runs,
        short_published,
        short_withheld,
    }
}

/// The leak scan of one paper's copy for one public audience, whose withheld passages are
/// `withheld` (the redactions `maximal`); nothing when the paper has no such copy.
fn leak_scan(
    paper: &Checked,
    public: &PublicAudience,
    maximal: &[usize],
    withheld: &[Withheld],
    rules: &Rules,
    deny: &DenyList,
    options: &CheckOptions,
) -> Vec<Finding> {
    let input = paper.input;
    let text = input.text;
    let Some(output) = (input.outputs.iter())
        .find(|o| o.audience == public.audience.name)
        .filter(|_| !withheld.is_empty())
    else {
        return Vec::new();
    };
    let known = Known::new(withheld, deny.min_words);
    // The withheld words and runs the source's published stretches hold, as written and
    // with markup stripped (in parallel in a large paper): an honest copy holds them too.
    let stretches = public_stretches(input, maximal);
    let mark = |pieces: &Vec<Span>| known.mark_published(text, pieces, Strip::Markdown);
    if text.len() > PARALLEL_BYTES {
        stretches.par_iter().for_each(mark);
    } else {
        stretches.iter().for_each(mark);
    }
    leaks(paper, public, output, withheld, known, rules, options)
}

/// [`hash::run_hashes`] of each run of `min_words` words: rolled from word to word, as only
/// these hashes (published and withheld) meet each other.
fn run_hashes(audience: &str, words: &Words, min_words: usize) -> Vec<u64> {
    hash::run_hashes(audience, (0..words.len()).map(|i| words.word(i)), min_words)
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
        markdown: "".into(),
    };
    static DIV_PLACEMENT: BlockPlacement = BlockPlacement {
        prefix: String::new(),
        blank_before: true,
        blank_after: true,
        html_blank_after: true,
        newline: "\n",
    };
    let pieces = vec![
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
    // Framed as the paper's own copy is: only its body is the probe's.
    let probe = copy_with(input.paper, input.text, audience, pieces, 0);
    let schedule = schedule_for(input.paper, audience, rules, options.release);
    Ok([
        markdown_with_schedule(&probe, schedule.as_ref()),
        html_page_with_schedule(&probe, options.templates, schedule.as_ref())?,
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    /// A word of the passage as written: `index` is the word's.
    Word,
    /// A word only another reading of the passage has (inline markup stripped, its
    /// attributes): `index` is into [`Known::extra`].
    Extra,
    /// A run of words: `index` is its first word's.
    Run,
}

/// What the copy must not hold, as a place in the withheld passages: millions of these for a
/// large paper, so kept small.
#[derive(Debug, Clone, Copy)]
struct LeakPattern {
    kind: PatternKind,
    passage: u32,
    index: u32,
}

struct Hit {
    output: usize,
    pattern: usize,
    span: Span,
}

/// A paper or copy larger than this is also scanned in parallel within itself, so that one
/// large paper does not hold up a run on several cores.
const PARALLEL_BYTES: usize = 1 << 20;

/// No pattern (yet).
const NO_PATTERN: u32 = u32::MAX;

/// What is known of a withheld word.
#[derive(Debug)]
struct WordFacts {
    /// An honest copy holds it too.
    published: AtomicBool,
    /// It is a word of a passage as written, so it may be part of a withheld run.
    in_runs: bool,
    /// The leak pattern it became, or [`NO_PATTERN`].
    pattern: u32,
}

/// What is known of a withheld run of words.
#[derive(Debug)]
struct RunFacts {
    published: AtomicBool,
    pattern: u32,
}

impl Default for RunFacts {
    fn default() -> Self {
        RunFacts {
            published: AtomicBool::new(false),
            pattern: NO_PATTERN,
        }
    }
}

/// A word that only another reading of a passage has (inline markup stripped, or its
/// attributes), the first time the passages name it.
struct ExtraWord<'w> {
    passage: usize,
    word: &'w str,
    source: Span,
    /// Its place in [`Known::word_facts`].
    id: usize,
}

/// A map only looked up, never walked (so its order cannot reach a finding), from the words
/// and runs of a paper's withheld passages: foldhash reads a short key in a few loads.
type KnownMap<'w, V> = HashMap<&'w str, V, foldhash::fast::FixedState>;

/// Every word and run of `min_words` words of a paper's withheld passages (for one audience),
/// marked where an honest copy publishes it: what the leak scan may look for is what is left.
/// It grows with what is withheld, not with what is published: each word once, each run as a
/// reference to the passage that holds it.
struct Known<'w> {
    min_words: usize,
    /// Each word's place in `word_facts`, keyed by words of the passages' streams, which
    /// outlive it.
    words: KnownMap<'w, usize>,
    word_facts: Vec<WordFacts>,
    /// Every key of `words`.
    filter: WordFilter,
    /// Each run's place in `run_facts`.
    runs: KnownMap<'w, usize>,
    run_facts: Vec<RunFacts>,
    /// For each passage, the place of each of its words in `word_facts` and of each of its
    /// runs in `run_facts`: the leak scan goes through them in order, without a look-up.
    passage_words: Vec<Vec<usize>>,
    passage_runs: Vec<Vec<usize>>,
    /// In the order the passages name them.
    extra: Vec<ExtraWord<'w>>,
}

impl<'w> Known<'w> {
    fn new(withheld: &'w [Withheld], min_words: usize) -> Self {
        // Nearly every run is distinct: sized once rather than grown (and rehashed) run by run.
        let runs: usize = withheld
            .iter()
            .map(|p| (p.words.len() + 1).saturating_sub(min_words))
            .sum();
        let mut known = Known {
            min_words,
            words: KnownMap::default(),
            word_facts: Vec::new(),
            filter: WordFilter::default(),
            runs: KnownMap::with_capacity_and_hasher(runs, Default::default()),
            run_facts: Vec::with_capacity(runs),
            passage_words: Vec::with_capacity(withheld.len()),
            passage_runs: Vec::with_capacity(withheld.len()),
            extra: Vec::new(),
        };
        for (p, passage) in withheld.iter().enumerate() {
            let words = &passage.words;
            let mut ids = Vec::with_capacity(words.len());
            for i in 0..words.len() {
                let word = words.word(i);
                let id = match known.words.get(word) {
                    Some(&id) => {
                        known.word_facts[id].in_runs = true;
                        id
                    }
                    None => {
                        known.filter.insert(word);
                        known.add_word(word, true)
                    }
                };
                ids.push(id);
            }
            known.passage_words.push(ids);
            // Only a word not named before can become a pattern here, so only those are kept.
            // A word both readings of the content share is one of its words as written, so
            // the other reading's words that are not are all in `extra_words`.
            let extra = &passage.extra_words;
            for i in 0..extra.len() {
                let word = extra.word(i);
                if !known.words.contains_key(word) {
                    known.filter.insert(word);
                    let id = known.add_word(word, false);
                    known.extra.push(ExtraWord {
                        passage: p,
                        word,
                        source: extra.source(i, 1),
                        id,
                    });
                }
            }
            let run_facts = &mut known.run_facts;
            let ids = (0..(words.len() + 1).saturating_sub(min_words))
                .map(|i| {
                    *known
                        .runs
                        .entry(words.run(i, min_words))
                        .or_insert_with(|| {
                            run_facts.push(RunFacts::default());
                            run_facts.len() - 1
                        })
                })
                .collect();
            known.passage_runs.push(ids);
        }
        known
    }

    fn add_word(&mut self, word: &'w str, in_runs: bool) -> usize {
        self.word_facts.push(WordFacts::new(in_runs));
        self.words.insert(word, self.word_facts.len() - 1);
        self.word_facts.len() - 1
    }

    /// What is known of `word`, if it is withheld.
    // Always in line, as `step`: called for every word the scans read, where a call cost
    // about as much as the work it does, and a mere hint was not always taken.
    #[inline(always)]
    fn facts(&self, word: &str) -> Option<&WordFacts> {
        if self.filter.may_contain(word) {
            self.words.get(word).map(|&id| &self.word_facts[id])
        } else {
            None
        }
    }

    /// Looks up one word of a text read in order, and the run of `min_words` words that
    /// ends with it, and calls `found` with each that is withheld: its source bytes, whether
    /// it is a run, its published mark and its pattern. A run is looked up only if each of
    /// its words is a passage's word, so `window` only ever holds such words.
    fn look_up(
        &self,
        word: &str,
        source: Span,
        window: &mut Window,
        mut found: impl FnMut(Span, bool, &AtomicBool, u32),
    ) {
        self.step(self.facts(word), word, source, window, &mut found);
    }

    /// [`Known::look_up`] with the word's facts already looked up.
    #[inline(always)]
    fn step(
        &self,
        facts: Option<&WordFacts>,
        word: &str,
        source: Span,
        window: &mut Window,
        found: &mut impl FnMut(Span, bool, &AtomicBool, u32),
    ) {
        match facts {
            Some(facts) => {
                found(source, false, &facts.published, facts.pattern);
                if facts.in_runs {
                    window.push(word, source, self.min_words);
                } else {
                    window.clear();
                }
            }
            None => window.clear(),
        }
        if window.len() == self.min_words
            && let Some(&id) = self.runs.get(window.run())
            && let facts = &self.run_facts[id]
        {
            found(window.source(), true, &facts.published, facts.pattern);
        }
    }

    /// Looks up every word of some pieces of `text` read both as they are and with `strip`
    /// (each reading one stream of words, with its own runs), and calls `found` as
    /// [`Known::look_up`] does, and `raw` with each word of the first reading. A word both
    /// readings share is looked up once.
    fn look_up_two_ways(
        &self,
        text: &str,
        pieces: &[Span],
        strip: Strip,
        mut raw: impl FnMut(&str, Span),
        mut found: impl FnMut(Span, bool, &AtomicBool, u32),
    ) {
        let mut raw_window = Window::default();
        let mut stripped_window = Window::default();
        for piece in pieces {
            let each = |reading, word: &str, source| {
                let facts = self.facts(word);
                if reading != Reading::Stripped {
                    raw(word, source);
                    self.step(facts, word, source, &mut raw_window, &mut found);
                }
                if reading != Reading::Raw {
                    self.step(facts, word, source, &mut stripped_window, &mut found);
                }
            };
            text::for_each_word_two_ways(text, *piece, strip, each);
        }
    }

    fn publish(published: &AtomicBool) {
        published.store(true, Ordering::Relaxed);
    }

    /// Marks the withheld words and runs that some pieces of published text hold, read as
    /// they are and with `strip` (each reading one stream of words).
    fn mark_published(&self, text: &str, pieces: &[Span], strip: Strip) {
        self.look_up_two_ways(
            text,
            pieces,
            strip,
            |_, _| {},
            |_, _, p, _| Known::publish(p),
        );
    }

    /// Marks the withheld words and runs that `text` holds, read as it is and with `strip`.
    fn mark_published_text(&self, text: &str, strip: Strip) {
        self.look_up_two_ways(
            text,
            &[Span::new(0, text.len())],
            strip,
            |_, _| {},
            |_, _, p, _| Known::publish(p),
        );
    }

    fn mark_published_word(&self, word: &str) {
        if let Some(&id) = self.words.get(word) {
            Known::publish(&self.word_facts[id].published);
        }
    }

    fn is_published(published: &AtomicBool) -> bool {
        published.load(Ordering::Relaxed)
    }

    /// Looks up every word and every run of `min_words` words of `file` (read as it is, and
    /// with `strip` unless that is [`Strip::None`]) among the leak patterns, and calls `hit` with each match: the pattern and the
    /// bytes of `file` it matched. The same matches as searching the file's word stream for
    /// every pattern, since each is a whole word or a whole run.
    fn find_patterns(&self, file: &str, strip: Strip, mut hit: impl FnMut(usize, Span)) {
        let mut window = Window::default();
        let mut found = |span, _, _: &AtomicBool, pattern| {
            if pattern != NO_PATTERN {
                hit(pattern as usize, span);
            }
        };
        let whole = Span::new(0, file.len());
        if strip == Strip::None {
            text::for_each_word(file, whole, strip, |word, source| {
                self.look_up(word, source, &mut window, &mut found);
            });
        } else {
            self.look_up_two_ways(file, &[whole], strip, |_, _| {}, found);
        }
    }

    /// The word or run a pattern stands for, normalised, and where it is withheld.
    fn pattern<'a>(&'a self, withheld: &'a [Withheld], pattern: &LeakPattern) -> (&'a str, Span) {
        let passage = &withheld[pattern.passage as usize];
        let index = pattern.index as usize;
        match pattern.kind {
            PatternKind::Word => (passage.words.word(index), passage.words.source(index, 1)),
            PatternKind::Extra => {
                let extra = &self.extra[index];
                (extra.word, extra.source)
            }
            PatternKind::Run => (
                passage.words.run(index, self.min_words),
                passage.words.source(index, self.min_words),
            ),
        }
    }
}

impl WordFacts {
    fn new(in_runs: bool) -> Self {
        WordFacts {
            published: AtomicBool::new(false),
            in_runs,
            pattern: NO_PATTERN,
        }
    }
}

/// The last few words read, joined by single spaces, with their source bytes: the run that
/// ends at the word just read.
#[derive(Default)]
struct Window {
    text: String,
    /// Where each word starts in `text`, and its source bytes.
    words: VecDeque<(usize, Span)>,
}

impl Window {
    fn push(&mut self, word: &str, source: Span, size: usize) {
        if self.words.len() == size
            && let Some(_) = self.words.pop_front()
        {
            let shift = self.words.front().map_or(self.text.len(), |w| w.0);
            self.text.drain(..shift);
            for w in &mut self.words {
                w.0 -= shift;
            }
        }
        if !self.words.is_empty() {
            self.text.push(' ');
        }
        self.words.push_back((self.text.len(), source));
        self.text.push_str(word);
    }

    fn clear(&mut self) {
        self.text.clear();
        self.words.clear();
    }

    fn len(&self) -> usize {
        self.words.len()
    }

    fn run(&self) -> &str {
        &self.text
    }

    fn source(&self) -> Span {
        match (self.words.front(), self.words.back()) {
            (Some(first), Some(last)) => Span::new(first.1.start, last.1.end),
            _ => Span::empty(0),
        }
    }
}

fn leaks(
    paper: &Checked,
    public: &PublicAudience,
    output: &PublicOutput,
    withheld: &[Withheld],
    mut known: Known,
    rules: &Rules,
    options: &CheckOptions,
) -> Vec<Finding> {
    let audience = public.audience;
    let input = paper.input;
    let min_words = known.min_words;
    let fail = |message: String| {
        vec![Finding::at(
            "leak/scan-failed",
            Level::Error,
            &paper.path,
            input.text,
            paper.index(),
            Span::empty(0),
            message,
        )]
    };
    let boilerplate = match boilerplate(input, audience, rules, options) {
        Ok(b) => b,
        Err(e) => {
            return fail(format!(
                "cannot render the probe copy to scan for leaks: {e}"
            ));
        }
    };

    // What an honest copy publishes besides the source's published stretches (marked by
    // the caller): the template, markers and schedule, front matter, labels, footnote
    // numbers.
    for (k, text) in boilerplate.iter().enumerate() {
        let strip = if k == 0 { Strip::Markdown } else { Strip::Html };
        known.mark_published_text(text, strip);
    }
    // Front matter values as parsed (a folded value spans lines the stretches do not hold).
    for (_, value) in input.paper.front_matter.entries() {
        let whole = Span::new(0, value.len());
        let mut window = Window::default();
        text::for_each_word(value, whole, Strip::None, |word, source| {
            known.look_up(word, source, &mut window, |_, _, p, _| Known::publish(p));
        });
    }
    for word in &public.label_words {
        known.mark_published_word(word);
    }
    let footnotes = footnote_marks(input.text);
    for n in 1..=footnotes {
        known.mark_published_word(&n.to_string());
    }

    // What the copy must not hold: each distinctive word of a passage (as written, with
    // inline markup stripped, and of its attributes) and each run of its words not
    // published elsewhere, each string once, in the order the passages name them.
    let fits = |n: usize| u32::try_from(n).is_ok();
    if !fits(withheld.len())
        || !fits(known.extra.len())
        || withheld.iter().any(|p| !fits(p.words.len()))
    {
        return fail("too many withheld words to scan for leaks".into());
    }
    let mut patterns: Vec<LeakPattern> = Vec::new();
    let mut extra = 0;
    for (p, passage) in withheld.iter().enumerate() {
        let mut new_pattern = |facts: &mut WordFacts, word: &str, kind, index: usize| {
            if word.chars().count() < MIN_WORD_CHARS
                || Known::is_published(&facts.published)
                || ATTRIBUTE_KEYS.contains(&word)
                || facts.pattern != NO_PATTERN
            {
                return;
            }
            facts.pattern = patterns.len() as u32;
            patterns.push(LeakPattern {
                kind,
                passage: p as u32,
                index: index as u32,
            });
        };
        let words = &passage.words;
        for (i, &id) in known.passage_words[p].iter().enumerate() {
            new_pattern(
                &mut known.word_facts[id],
                words.word(i),
                PatternKind::Word,
                i,
            );
        }
        while let Some(e) = known.extra.get(extra).filter(|e| e.passage == p) {
            new_pattern(
                &mut known.word_facts[e.id],
                e.word,
                PatternKind::Extra,
                extra,
            );
            extra += 1;
        }
        for (i, &id) in known.passage_runs[p].iter().enumerate() {
            let facts = &mut known.run_facts[id];
            if Known::is_published(&facts.published) || facts.pattern != NO_PATTERN {
                continue;
            }
            facts.pattern = patterns.len() as u32;
            patterns.push(LeakPattern {
                kind: PatternKind::Run,
                passage: p as u32,
                index: i as u32,
            });
        }
    }
    if patterns.is_empty() {
        return Vec::new();
    }

    // Every word and run of the copy, looked up: the same matches as searching the copy's
    // word stream for every pattern, since patterns are whole words or whole runs.
    let files = [
        (output.markdown.as_str(), "md", Strip::Markdown),
        (output.html.as_str(), "html", Strip::Html),
    ];
    // Each file read both ways in one scan; the two files in parallel for a large paper
    // (hits are sorted below, so their order here does not matter).
    let scans: Vec<(usize, &str, Strip)> = files
        .iter()
        .enumerate()
        .map(|(o, (file, _, stripped))| (o, *file, *stripped))
        .collect();
    let known = &known;
    let scan = |&(o, file, strip): &(usize, &str, Strip)| {
        let mut hits = Vec::new();
        known.find_patterns(file, strip, |pattern, span| {
            hits.push(Hit {
                output: o,
                pattern,
                span,
            });
        });
        hits
    };
    let mut hits: Vec<Hit> = if output.markdown.len() + output.html.len() > PARALLEL_BYTES {
        scans.par_iter().flat_map_iter(scan).collect()
    } else {
        scans.iter().flat_map(scan).collect()
    };
    if hits.is_empty() {
        return Vec::new();
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
        if pattern.kind != PatternKind::Run {
            continue;
        }
        let i = pattern.index as usize;
        let passage = pattern.passage as usize;
        if let Some(run) = runs.iter_mut().rev().find(|r| {
            r.output == hit.output
                && r.passage == passage
                && r.last + 1 == i
                && hit.span.start < r.span.end
        }) {
            run.last = i;
            run.span.end = run.span.end.max(hit.span.end);
            continue;
        }
        runs.push(RunHit {
            output: hit.output,
            passage,
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
    let copy_path = |o: usize| format!("{}/{}.{}", audience.name, input.name, files[o].1);
    let copy_name = |o: usize| {
        format!(
            "the {} {} copy",
            audience.name,
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
            paper.index(),
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
        let passage = &withheld[run.passage];
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
        if pattern.kind == PatternKind::Run {
            continue;
        }
        let (word, source) = known.pattern(withheld, pattern);
        let inside_run = runs
            .iter()
            .any(|r| r.output == hit.output && r.span.encloses(hit.span));
        if inside_run || !reported.insert((hit.output, word.to_string())) {
            continue;
        }
        findings.push(emit(
            hit.output,
            hit.span,
            source,
            format!("withheld word `{word}`"),
            false,
        ));
    }
    findings
}

/// How many times `[^` occurs in `text` (no two occurrences overlap): each `[` found by a
/// fast search, then the byte after it looked at, rather than a substring search through the
/// whole paper.
fn footnote_marks(text: &str) -> usize {
    let bytes = text.as_bytes();
    (text.match_indices('['))
        .filter(|&(i, _)| bytes.get(i + 1) == Some(&b'^'))
        .count()
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
// Consistency

/// Runs of words withheld in one place and published in another.
fn shared_runs(papers: &[Checked], scans: &[ViewScan], min_words: usize) -> Vec<(Finding, usize)> {
    // Hashes of every withheld run, then the published runs with one of those hashes: the
    // only places a run may be shared. Hashes name the audience, as runs are only compared
    // within one audience's copies.
    // Hundreds of thousands of them when much is withheld: sorted in parallel rather than
    // put in a set one by one, and a bit table answers most lookups before a search.
    let mut withheld_hashes: Vec<u64> = scans
        .par_iter()
        .flat_map_iter(|scan| scan.withheld_runs.iter().flatten().copied())
        .collect();
    if withheld_hashes.is_empty() {
        return Vec::new();
    }
    withheld_hashes.par_sort_unstable();
    withheld_hashes.dedup();
    let filter = HashFilter::new(withheld_hashes.iter().copied());
    let withheld = |h: &u64| filter.may_contain(*h) && withheld_hashes.binary_search(h).is_ok();
    // (view, stretch, first word, hash)
    let candidates: Vec<(usize, usize, usize, u64)> = scans
        .par_iter()
        .enumerate()
        .flat_map_iter(|(v, scan)| {
            let withheld = &withheld;
            scan.published_runs
                .iter()
                .enumerate()
                .flat_map(move |(s, hashes)| {
                    hashes
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| withheld(h))
                        .map(move |(j, &h)| (v, s, j, h))
                })
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let wanted: WordSet<u64> = candidates.iter().map(|c| c.3).collect();
    // hash → (view, passage, first word) of each withheld run with it.
    let mut occurrences: WordMap<u64, Vec<(usize, usize, usize)>> = WordMap::default();
    for (w, scan) in scans.iter().enumerate() {
        for (p, hashes) in scan.withheld_runs.iter().enumerate() {
            for (i, h) in hashes.iter().enumerate() {
                if wanted.contains(h) {
                    occurrences.entry(*h).or_default().push((w, p, i));
                }
            }
        }
    }
    // The words of the views involved, to compare the runs themselves and report them.
    let mut involved: Vec<usize> = candidates
        .iter()
        .map(|c| c.0)
        .chain(occurrences.values().flatten().map(|o| o.0))
        .collect();
    involved.sort_unstable();
    involved.dedup();
    let views: HashMap<usize, View> = involved
        .into_par_iter()
        .map(|v| (v, view(papers[scans[v].input].input, scans[v].audience)))
        .collect();

    // (withheld view, passage, public view, stretch, diagonal) → matched shingle starts
    type Pairing = (usize, usize, usize, usize, isize);
    let mut matches: BTreeMap<Pairing, Vec<(usize, usize)>> = BTreeMap::new();
    for &(v, s, j, h) in &candidates {
        let run = views[&v].public[s].run(j, min_words);
        for &(w, p, i) in occurrences.get(&h).into_iter().flatten() {
            if scans[w].audience.name != scans[v].audience.name
                || views[&w].withheld[p].visible_words.run(i, min_words) != run
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
    for starts in matches.values_mut() {
        starts.sort_unstable();
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
            let withheld_words = &views[&w].withheld[p].visible_words;
            let content = (first_i..first_i + n)
                .filter(|&k| !stop.contains(withheld_words.word(k)))
                .count();
            if content < MIN_CONTENT_WORDS || !reported.insert((v, s, first_j)) {
                continue;
            }
            let public = &papers[scans[v].input];
            let withheld_paper = &papers[scans[w].input];
            let public_span = views[&v].public[s].source(first_j, n);
            let withheld_span = withheld_words.source(first_i, n);
            let withheld_at = Location::of(
                &withheld_paper.path,
                withheld_paper.input.text,
                withheld_paper.index(),
                withheld_span,
            );
            let codes = withheld_paper.input.paper.redactions[views[&w].withheld[p].redaction]
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
                public.index(),
                public_span,
                format!(
                    "these {n} words (`{}`) are published in the {} copy, but withheld under {codes} elsewhere",
                    preview(withheld_words, first_i, n),
                    scans[v].audience.name,
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
            out.push((f, scans[v].input));
        }
    }
    out
}

/// The words of a short withheld passage (a surname, a code word), if it is one: fewer words
/// than a shared run needs, so no run of it is looked for, and at least one of them
/// distinctive (not a common word, with a letter, [`SHORT_DISTINCTIVE_CHARS`] long), so a
/// withheld figure or "the report" is not one. Every length below `min_words` counts: a
/// passage one word too short for a run is compared whole, or it would be compared not at all.
fn short_run(words: &Words, min_words: usize) -> Option<&str> {
    let n = words.len();
    if n == 0 || n >= min_words {
        return None;
    }
    (0..n)
        .map(|i| words.word(i))
        .any(|w| {
            w.chars().count() >= SHORT_DISTINCTIVE_CHARS
                && w.chars().any(char::is_alphabetic)
                && !STOPWORDS.contains(&w)
        })
        .then(|| words.run(0, n))
}

/// The shortest distinctive word of a short withheld passage.
const SHORT_DISTINCTIVE_CHARS: usize = 3;

/// The short withheld passages of every paper ([`short_run`]), by the hash of their words
/// in an audience's copies, to find where any paper publishes one.
struct ShortPassages {
    hashes: WordSet<u64>,
    /// Every first word of one: most published words are not, and are passed over here.
    first_words: WordFilter,
    /// The most words one has.
    longest: usize,
}

impl ShortPassages {
    fn new(audiences: &[PublicAudience], withheld: &[Vec<WithheldView>], min_words: usize) -> Self {
        let mut short = ShortPassages {
            hashes: WordSet::default(),
            first_words: WordFilter::default(),
            longest: 0,
        };
        for views in withheld {
            for (audience, (_, passages, _)) in audiences.iter().zip(views) {
                for passage in passages {
                    if let Some(run) = short_run(&passage.visible_words, min_words) {
                        short.hashes.insert(run_hash(&audience.audience.name, run));
                        short.first_words.insert(passage.visible_words.word(0));
                        short.longest = short.longest.max(passage.visible_words.len());
                    }
                }
            }
        }
        short
    }

    /// Where `stretches` (an audience's published words) may hold a short withheld passage:
    /// (stretch, first word, words, hash).
    fn published(&self, audience: &str, stretches: &[Words]) -> Vec<(usize, usize, usize, u64)> {
        let mut out = Vec::new();
        if self.hashes.is_empty() {
            return out;
        }
        for (s, words) in stretches.iter().enumerate() {
            for j in 0..words.len() {
                if !self.first_words.may_contain(words.word(j)) {
                    continue;
                }
                for n in 1..=self.longest.min(words.len() - j) {
                    let h = run_hash(audience, words.run(j, n));
                    if self.hashes.contains(&h) {
                        out.push((s, j, n, h));
                    }
                }
            }
        }
        out
    }
}

/// Short withheld passages published elsewhere, in the same paper or another.
fn shared_short_passages(papers: &[Checked], scans: &[ViewScan]) -> Vec<(Finding, usize)> {
    // hash → (view, passage) of each short withheld passage with it, in run order.
    let mut withheld: WordMap<u64, Vec<(usize, usize)>> = WordMap::default();
    for (w, scan) in scans.iter().enumerate() {
        for &(p, h) in &scan.short_withheld {
            withheld.entry(h).or_default().push((w, p));
        }
    }
    let candidates: Vec<(usize, usize, usize, usize, u64)> = scans
        .iter()
        .enumerate()
        .flat_map(|(v, scan)| {
            scan.short_published
                .iter()
                .map(move |&(s, j, n, h)| (v, s, j, n, h))
        })
        .filter(|c| withheld.contains_key(&c.4))
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut involved: Vec<usize> = candidates
        .iter()
        .map(|c| c.0)
        .chain(withheld.values().flatten().map(|o| o.0))
        .collect();
    involved.sort_unstable();
    involved.dedup();
    let views: HashMap<usize, View> = involved
        .into_par_iter()
        .map(|v| (v, view(papers[scans[v].input].input, scans[v].audience)))
        .collect();
    let mut out = Vec::new();
    for (v, s, j, n, h) in candidates {
        let published_words = &views[&v].public[s];
        let run = published_words.run(j, n);
        let Some(&(w, p)) = withheld[&h].iter().find(|&&(w, p)| {
            scans[w].audience.name == scans[v].audience.name
                && views[&w].withheld[p].visible_words.stream == run
        }) else {
            continue;
        };
        let public = &papers[scans[v].input];
        let withheld_paper = &papers[scans[w].input];
        let passage = &views[&w].withheld[p];
        let redaction = &withheld_paper.input.paper.redactions[passage.redaction];
        let codes = redaction
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
            public.index(),
            published_words.source(j, n),
            format!(
                "`{run}` is published in the {} copy, but withheld under {codes} elsewhere",
                scans[v].audience.name,
            ),
        );
        f.related = Some(Related {
            location: Location::of(
                &withheld_paper.path,
                withheld_paper.input.text,
                withheld_paper.index(),
                passage.visible_words.source(0, passage.visible_words.len()),
            ),
            message: format!("withheld under {codes}"),
        });
        f.help = Some(
            "the same words should get the same decision: withhold them here too, or publish them there"
                .into(),
        );
        out.push((f, scans[v].input));
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

/// Deny-list matches in what a reader sees: `visible` text (regexes, stretch by stretch
/// between its breaks), some `pieces` of the source read as they are (regexes), and `words`
/// (terms, each stream on its own), all located in the source `text`.
fn deny_matches<'w>(
    text: &str,
    visible: &Visible,
    pieces: &[Span],
    words: impl IntoIterator<Item = &'w Words>,
    deny: &DenyList,
    terms: &Terms,
) -> Vec<DenyHit> {
    let mut out = Vec::new();
    if let Some((automaton, rules)) = terms {
        for words in words {
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
    }
    if !deny
        .rules
        .iter()
        .any(|r| matches!(r.pattern, Pattern::Regex(_)))
    {
        return out;
    }
    let mut at = 0;
    for stretch in visible.text.split(visible::BREAK) {
        let span = Span::new(at, at + stretch.len());
        at = span.end + visible::BREAK.len_utf8();
        regex_hits(&visible.text, span, |m| visible.source(m), deny, &mut out);
    }
    for &piece in pieces {
        regex_hits(text, piece, |m| m, deny, &mut out);
    }
    out
}

/// Each match of each deny-list regex in `text[span]`, decoded, located by `source`.
fn regex_hits(
    text: &str,
    span: Span,
    source: impl Fn(Span) -> Span,
    deny: &DenyList,
    out: &mut Vec<DenyHit>,
) {
    let raw = &text[span.start..span.end.min(text.len())];
    // Text that decodes to itself, each character from its own bytes, the regexes can read
    // as it is.
    if decodes_as_is(raw) {
        for (r, m) in regex_matches(deny, raw) {
            out.push(DenyHit {
                rule: r,
                span: source(Span::new(span.start + m.start(), span.start + m.end())),
                key: text::words_of(m.as_str()),
            });
        }
        return;
    }
    let decoded = DecodedPieces::new(text, span);
    for (r, m) in regex_matches(deny, &decoded.string) {
        out.push(DenyHit {
            rule: r,
            span: source(decoded.source(m.range())),
            key: text::words_of(m.as_str()),
        });
    }
}

/// A byte that decoding leaves as it is, wherever it stands: ASCII, and no escape.
fn decodes_to_itself(b: u8) -> bool {
    b.is_ascii() && b != b'&' && b != b'%'
}

/// Whether [`text::decoded_string`] gives `raw` back as it is, each character traced to its
/// own bytes: ASCII with no `&` or `%` does (ignorables, compatibility forms and look-alikes
/// are all non-ASCII), and so does text whose other characters each decode alone to
/// themselves and attach to nothing before them (combining class 0). Decoding reads each
/// starter with the combining marks after it as one cluster, so with no mark in the text
/// each character is read on its own: a `£` in a stretch no longer costs a decoding of the
/// words around it.
fn decodes_as_is(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if memchr::memchr2(b'&', b'%', bytes).is_some() {
        return false;
    }
    // Word-at-a-time searches: this reads every byte of what a copy publishes.
    all_non_ascii(raw, char_decodes_as_is)
}

thread_local! {
    /// [`char_decodes_as_is`] of the characters this thread has asked about: a paper uses few.
    static CHARS_AS_IS: std::cell::RefCell<Vec<(char, bool)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `c`, between two characters that are no combining marks, decodes to itself.
fn char_decodes_as_is(c: char) -> bool {
    const KEEP: usize = 256;
    if let Some(known) = CHARS_AS_IS.with(|known| {
        known
            .borrow()
            .iter()
            .find(|(k, _)| *k == c)
            .map(|&(_, as_is)| as_is)
    }) {
        return known;
    }
    let mut buf = [0; 4];
    let alone: &str = c.encode_utf8(&mut buf);
    let as_is = unicode_normalization::char::canonical_combining_class(c) == 0
        && text::decoded_string(alone, Span::new(0, alone.len())).string == alone;
    CHARS_AS_IS.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() < KEEP {
            known.push((c, as_is));
        }
    });
    as_is
}

/// `text[span]` as [`text::decoded_string`] gives it (the same string, each character traced
/// to the same source bytes), with only the pieces around bytes decoding may change read
/// through it: a stretch of visible text with one `£` in it is otherwise held as a character
/// list ten times its size.
///
/// The pieces are cut only after ASCII whitespace and before an ASCII byte that is no escape,
/// where decoding cuts its own chunks ([`text::decoded_string`] reads a span in chunks cut
/// there, which join to what reading it whole gives): no escape, combining sequence or
/// compatibility form spans such a cut, so the pieces decoded apart join to the whole.
struct DecodedPieces {
    string: String,
    /// Each piece, in order: where it starts in `string`, and how it maps back.
    pieces: Vec<(usize, DecodedPiece)>,
}

enum DecodedPiece {
    /// Bytes that decode to themselves, the first from this source offset.
    Plain(usize),
    Decoded(text::DecodedString),
}

impl DecodedPieces {
    /// Plain bytes between two pieces that need decoding, up to this many, are decoded with
    /// them rather than kept apart: a piece costs a call and three small vectors.
    const JOIN_BYTES: usize = 64;

    fn new(text: &str, span: Span) -> Self {
        let bytes = text.as_bytes();
        let end = span.end.min(text.len());
        let is_cut = |p: usize| {
            matches!(bytes[p - 1], b' ' | b'\n' | b'\r' | b'\t') && decodes_to_itself(bytes[p])
        };
        let next_escape = |from: usize| {
            bytes[from..end]
                .iter()
                .position(|&b| !decodes_to_itself(b))
                .map(|i| from + i)
        };
        let mut out = DecodedPieces {
            string: String::with_capacity(end.saturating_sub(span.start)),
            pieces: Vec::new(),
        };
        let mut at = span.start;
        // The first byte at or after `at` that decoding may change.
        let mut next = next_escape(at);
        while at < end {
            let Some(first) = next else {
                out.push_plain(text, Span::new(at, end));
                break;
            };
            // The piece to decode: from the last cut before its first such byte...
            let mut from = first;
            while from > at && !is_cut(from) {
                from -= 1;
            }
            // ...to the first cut after its last, taking in those close behind.
            let mut to = first + 1;
            loop {
                while to < end && !is_cut(to) {
                    to += 1;
                }
                next = next_escape(to);
                match next {
                    Some(close) if close - to <= Self::JOIN_BYTES => to = close + 1,
                    _ => break,
                }
            }
            out.push_plain(text, Span::new(at, from));
            let decoded = text::decoded_string(text, Span::new(from, to));
            out.string.push_str(&decoded.string);
            out.pieces.push((
                out.string.len() - decoded.string.len(),
                DecodedPiece::Decoded(decoded),
            ));
            at = to;
        }
        out
    }

    fn push_plain(&mut self, text: &str, span: Span) {
        if span.start < span.end {
            self.pieces
                .push((self.string.len(), DecodedPiece::Plain(span.start)));
            self.string.push_str(&text[span.start..span.end]);
        }
    }

    /// Where the piece at `k` ends in `string`.
    fn piece_end(&self, k: usize) -> usize {
        self.pieces.get(k + 1).map_or(self.string.len(), |p| p.0)
    }

    /// The source bytes of the characters that `string[range]` holds (not empty), as
    /// [`text::DecodedString::source`] gives them.
    fn source(&self, range: std::ops::Range<usize>) -> Span {
        // The first character at or after `range.start`, and the last before `range.end`:
        // in the first piece ending after the one, and the last starting before the other
        // that is not empty (a piece of ignorable characters alone decodes to nothing).
        let first = (0..self.pieces.len())
            .find(|&k| self.piece_end(k) > range.start)
            .unwrap_or(self.pieces.len() - 1);
        let last = (0..self.pieces.len())
            .rev()
            .find(|&k| self.pieces[k].0 < range.end && self.piece_end(k) > self.pieces[k].0)
            .unwrap_or(0);
        // The part of `range` in piece `k`, in the piece's own string.
        let local = |k: usize| {
            let at = self.pieces[k].0;
            range.start.max(at) - at..range.end.min(self.piece_end(k)) - at
        };
        let start = match &self.pieces[first] {
            (_, DecodedPiece::Plain(source)) => source + local(first).start,
            (_, DecodedPiece::Decoded(d)) => d.source(local(first)).start,
        };
        let end = match &self.pieces[last] {
            (_, DecodedPiece::Plain(source)) => source + local(last).end,
            (_, DecodedPiece::Decoded(d)) => d.source(local(last)).end,
        };
        Span::new(start, end)
    }
}

/// Each non-empty match of each deny-list regex in `text`, with its rule, rule by rule.
fn regex_matches<'t>(
    deny: &DenyList,
    text: &'t str,
) -> impl Iterator<Item = (usize, regex::Match<'t>)> {
    deny.rules
        .iter()
        .enumerate()
        .filter_map(|(r, rule)| match &rule.pattern {
            Pattern::Regex(regex) => Some((r, regex)),
            Pattern::Term(_) => None,
        })
        .flat_map(move |(r, regex)| {
            regex
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .map(move |m| (r, m))
        })
}

type Terms = Option<(AhoCorasick, Vec<usize>)>;

type Pending = (Finding, usize, Related);

/// The deny-list's terms as one automaton, and the rule of each.
fn deny_terms(deny: &DenyList) -> Terms {
    let mut term_rules = Vec::new();
    let mut term_strings = Vec::new();
    for (r, rule) in deny.rules.iter().enumerate() {
        if let Pattern::Term(words) = &rule.pattern {
            term_rules.push(r);
            term_strings.push(words.clone());
        }
    }
    if term_strings.is_empty() {
        return None;
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&term_strings)
        .ok()
        .map(|a| (a, term_rules))
}

/// A deny-list hit in text the copy for `audience` publishes, and the key that pairs it with
/// a withheld use of the same term.
fn published_deny_finding(
    paper: &Checked,
    audience: &Audience,
    deny: &DenyList,
    hit: DenyHit,
) -> (Finding, DenyKey) {
    let text = paper.input.text;
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
        paper.index(),
        hit.span,
        format!(
            "`{matched}` matches deny rule `{}`{about} and the {} copy publishes it",
            rule.id, audience.name
        ),
    );
    let fp = f.fingerprint.clone().unwrap_or_default();
    f.help = Some(format!(
        "withhold it, or if it is meant to be public, allow it in {}:\n  - rule: {}\n    paper: {}\n    line: {fp}\n    reason: <why it may be published>",
        display_path(&deny.path),
        rule.finding_rule(),
        paper.input.name
    ));
    (f, (audience.name.clone(), hit.rule, hit.key))
}

/// Deny-list findings, and those that become consistency findings if an allowlist entry
/// suppresses them (a term allowed here but withheld elsewhere).
fn deny_hits(papers: &[Checked], scans: &[ViewScan]) -> (Vec<(Finding, usize)>, Vec<Pending>) {
    // Where each (audience, rule, term) is withheld: the first place in run order.
    let mut withheld_at: HashMap<&DenyKey, (usize, Span)> = HashMap::new();
    for scan in scans {
        for (key, span) in &scan.deny_withheld {
            withheld_at.entry(key).or_insert((scan.input, *span));
        }
    }
    let mut findings = Vec::new();
    let mut pending = Vec::new();
    for scan in scans {
        for (finding, key) in &scan.deny_published {
            let mut f = finding.clone();
            if let Some(&(input, span)) = withheld_at.get(key) {
                let paper = &papers[input];
                let related = Related {
                    location: Location::of(&paper.path, paper.input.text, paper.index(), span),
                    message: "withheld".into(),
                };
                f.related = Some(related.clone());
                pending.push((f.clone(), scan.input, related));
            }
            findings.push((f, scan.input));
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
        let outputs: Vec<Vec<PublicOutput>> = papers
            .iter()
            .zip(&parsed)
            .map(|((_, text), paper)| {
                public_outputs(paper, text, &rules, &options).expect("renders")
            })
            .collect();
        let inputs: Vec<CheckInput> = papers
            .iter()
            .zip(parsed.iter().zip(&outputs))
            .map(|((name, text), (paper, outputs))| CheckInput {
                path: Path::new(name),
                name,
                text,
                paper,
                outputs,
            })
            .collect();
        check_papers(&inputs, &rules, deny, &options)
    }

    const HEAD: &str = "---\ntitle: T\nclassification: OFFICIAL-SENSITIVE\n---\n";

    /// The words a passage's stripped reading and attributes add, as `Known` names them
    /// from one two-way reading, against reading each passage's content again with inline
    /// markup stripped, and its attributes, word by word.
    #[test]
    fn known_names_the_words_a_second_reading_of_each_passage_adds() {
        let rules = Rules::embedded().expect("rules");
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut texts: Vec<String> = std::fs::read_dir(&fixtures)
            .expect("fixtures")
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .map(|p| std::fs::read_to_string(p).expect("fixture"))
            .collect();
        texts.sort();
        for body in [
            "Call [Kes**trel** at `Ops`_room_ ~~now~~ &amp; K<b>ES</b>trel]{.S31 #a reason=\"why not\"}.\n",
            "[x *y* z]{.S31} and [caf\u{e9} kes\u{200b}trel **Kes**trel]{.S24 pit=\"p q\"}\n",
            "::: S31\nA **bold**face and `co`de\\*s and <span>in</span>line.\n:::\n",
        ] {
            texts.push(format!("{HEAD}{body}"));
        }
        let mut extras = 0;
        for text in &texts {
            let paper = parse_paper(text, &rules).expect("parses");
            let outputs = Vec::new();
            let input = CheckInput {
                path: Path::new("p.md"),
                name: "p",
                text,
                paper: &paper,
                outputs: &outputs,
            };
            for audience in public_audiences(&rules) {
                let maximal = paper.maximal_withheld(audience);
                let (withheld, _) = withheld_passages(&input, &maximal);
                let mut named: HashSet<String> = HashSet::new();
                let mut expected = Vec::new();
                for (p, passage) in withheld.iter().enumerate() {
                    let words = words_of_pieces(text, &passage.content, Strip::None);
                    assert_eq!(passage.words.stream, words.stream);
                    assert_eq!(passage.words.tokens, words.tokens);
                    for i in 0..words.len() {
                        named.insert(words.word(i).to_string());
                    }
                    for (pieces, strip) in [
                        (&passage.content, Strip::Markdown),
                        (&passage.attrs, Strip::None),
                    ] {
                        for piece in pieces {
                            text::for_each_word(text, *piece, strip, |w, s| {
                                if named.insert(w.to_string()) {
                                    expected.push((p, w.to_string(), s));
                                }
                            });
                        }
                    }
                }
                let known = Known::new(&withheld, 5);
                let extra: Vec<(usize, String, Span)> = (known.extra.iter())
                    .map(|e| (e.passage, e.word.to_string(), e.source))
                    .collect();
                assert_eq!(extra, expected, "{text}");
                assert_eq!(known.words.len(), named.len());
                extras += extra.len();
                // The places kept for each passage's words and runs, which the leak scan
                // walks, are where the maps lead.
                for (p, passage) in withheld.iter().enumerate() {
                    let words = &passage.words;
                    let ids: Vec<usize> = (0..words.len())
                        .map(|i| known.words[words.word(i)])
                        .collect();
                    assert_eq!(known.passage_words[p], ids);
                    let runs = (words.len() + 1).saturating_sub(known.min_words);
                    let ids: Vec<usize> = (0..runs)
                        .map(|i| known.runs[words.run(i, known.min_words)])
                        .collect();
                    assert_eq!(known.passage_runs[p], ids);
                }
                for e in &known.extra {
                    assert_eq!(known.words[e.word], e.id);
                }
                // Each word and run has facts of its own.
                let mut ids: Vec<usize> = known.words.values().copied().collect();
                ids.sort_unstable();
                assert!(ids.iter().copied().eq(0..known.word_facts.len()));
                let mut ids: Vec<usize> = known.runs.values().copied().collect();
                ids.sort_unstable();
                assert!(ids.iter().copied().eq(0..known.run_facts.len()));
            }
        }
        assert!(extras > 10, "{extras}");
    }

    #[test]
    fn footnote_marks_are_counted_as_a_substring_search_counts_them() {
        for text in [
            "",
            "[",
            "[^",
            "^[",
            "[[^^[^",
            "x[^1] y[^2]\n[^1]: z",
            "[^[^[^",
            "é[^ü[",
            "]^",
        ] {
            assert_eq!(footnote_marks(text), text.matches("[^").count(), "{text:?}");
        }
    }

    #[test]
    fn an_honest_paper_has_no_finding() {
        let paper = format!(
            "{HEAD}The board met.[^1]\n\n[the Kestrel meeting was held at Portisfield docks]{{.S31}}\n\n[^1]: Minutes.\n"
        );
        assert_eq!(run(&[("a.md", &paper)], &DenyList::empty()), vec![]);
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
    fn deny_regex_reads_encoded_text_decoded() {
        // An entity for the space, fullwidth digits, and a dash that is not ASCII: the regex
        // reads the decoded text and the finding spans the source bytes.
        let paper =
            format!("{HEAD}Call PC&#32;4021 \u{2014} or PC \u{ff14}\u{ff10}\u{ff12}\u{ff11}.\n");
        let deny_text = "deny:\n  - id: collar\n    regex: '\\bPC ?[0-9]{3,6}\\b'\n";
        let deny = DenyList::parse(Path::new("deny.yaml"), deny_text).expect("deny");
        let findings = run(&[("a.md", &paper)], &deny);
        let places: Vec<(usize, usize, usize)> = findings
            .iter()
            .map(|f| {
                let l = &f.location;
                (l.line, l.column, l.end_column)
            })
            .collect();
        assert_eq!(places, vec![(5, 6, 17), (5, 23, 30)], "{findings:#?}");
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
    fn a_run_broken_by_a_withheld_passage_is_not_shared() {
        // The copy reads "the Larkhill source S31 handling desk": the five words never
        // stand together in it.
        let a = format!("{HEAD}Intro.\n\n[The Larkhill source handling desk moved.]{{.S31}}\n");
        let b = format!("{HEAD}The Larkhill source [Ravenscar]{{.S31}} handling desk moved.\n");
        assert_eq!(
            run(&[("a.md", &a), ("b.md", &b)], &DenyList::empty()),
            vec![]
        );
    }

    #[test]
    fn short_withheld_passage_published_elsewhere_is_a_finding() {
        let a = format!("{HEAD}Led by [Ravenscar]{{.S40}}.\n\nMr Ravenscar spoke.\n");
        let findings = run(&[("a.md", &a)], &DenyList::empty());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "consistency/shared-run");
        assert_eq!(findings[0].location.line, 7);
        let related = findings[0]
            .related
            .as_ref()
            .expect("names the withheld place");
        assert_eq!((related.location.line, related.location.column), (5, 9));
    }

    /// A passage one word short of a shared run (4 words, runs of 5) is compared whole: no
    /// run of it exists to be found (a limit of three words let it through).
    #[test]
    fn withheld_passage_one_word_short_of_a_run_published_elsewhere_is_a_finding() {
        let a = format!(
            "{HEAD}The lead is [Operation Kestrel Blue Nine]{{.S31}}.\n\n\
             Nothing more.\n"
        );
        let b = format!("{HEAD}We know of Operation Kestrel Blue Nine now.\n");
        let findings = run(&[("a.md", &a), ("b.md", &b)], &DenyList::empty());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, "consistency/shared-run");
        assert_eq!(findings[0].location.path, "b.md");
        assert!(
            findings[0]
                .message
                .contains("`operation kestrel blue nine`"),
            "{findings:#?}"
        );
        let related = findings[0]
            .related
            .as_ref()
            .expect("names the withheld place");
        assert_eq!(related.location.path, "a.md");
        // Published in a longer stretch but cut short: not the passage, not a finding.
        let c = format!("{HEAD}We know of Operation Kestrel Blue only.\n");
        let findings = run(&[("a.md", &a), ("c.md", &c)], &DenyList::empty());
        assert!(findings.is_empty(), "{findings:#?}");
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

    /// Pieces of text that decoding changes or joins to a neighbour, and plain ones.
    const DECODING_PARTS: [&str; 24] = [
        "a",
        "Kes",
        "trel",
        " ",
        "  ",
        "\n",
        "\t",
        "&",
        "amp;",
        "&amp;",
        "#107;",
        "&#x20;",
        "%",
        "%4B",
        "%20",
        "%E2%80",
        "\u{a3}",
        "e\u{301}",
        "\u{301}",
        "\u{200b}",
        "\u{ff4b}",
        "\u{421}",
        "\u{fb01}",
        "CHIS 1234",
    ];

    proptest::proptest! {
        /// [`DecodedPieces`] gives what [`text::decoded_string`] gives of any span of any
        /// text: the same string, and every character range traced to the same source.
        #[test]
        fn decoded_pieces_read_as_one_decoded_string(
            parts in proptest::collection::vec(
                (0..DECODING_PARTS.len(), proptest::bool::ANY), 0..40),
            skip in 0usize..4,
        ) {
            let text: String = parts
                .iter()
                .map(|&(k, long)| {
                    if long {
                        format!("{} a long plain stretch of words no escape is in ", DECODING_PARTS[k])
                    } else {
                        DECODING_PARTS[k].to_string()
                    }
                })
                .collect();
            let start = (0..=skip.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let span = Span::new(start, text.len());
            let whole = text::decoded_string(&text, span);
            let pieces = DecodedPieces::new(&text, span);
            proptest::prop_assert_eq!(&pieces.string, &whole.string);
            let bounds: Vec<usize> = whole.offsets.iter().copied().chain([whole.string.len()]).collect();
            // Every range of up to 24 characters, and every range to the end.
            for (i, &a) in bounds.iter().enumerate() {
                let near = bounds[i + 1..].iter().take(24);
                for &b in near.chain(bounds.last().filter(|_| i + 1 < bounds.len())) {
                    proptest::prop_assert_eq!(pieces.source(a..b), whole.source(a..b), "{:?}", a..b);
                }
            }
        }
    }

    /// Characters [`decodes_as_is`] must judge on their own and among others: marks,
    /// jamo that compose, forms NFKC changes, look-alikes and ignorables.
    const AS_IS_PARTS: [&str; 8] = [
        "\u{e9}", "\u{2014}", "\u{1100}", "\u{1161}", "\u{903}", "\u{2126}", "\u{3000}", "\u{a0}",
    ];

    proptest::proptest! {
        /// [`decodes_as_is`] says so only of text that [`text::decoded_string`] gives back
        /// as it is, each character traced to its own bytes.
        #[test]
        fn text_said_to_decode_as_is_does(
            parts in proptest::collection::vec(0..DECODING_PARTS.len() + AS_IS_PARTS.len(), 0..12),
        ) {
            let part = |k: usize| DECODING_PARTS.get(k).copied().unwrap_or_else(|| AS_IS_PARTS[k - DECODING_PARTS.len()]);
            let text: String = parts.iter().map(|&k| part(k)).collect();
            if decodes_as_is(&text) {
                let whole = text::decoded_string(&text, Span::new(0, text.len()));
                proptest::prop_assert_eq!(&whole.string, &text);
                let own: Vec<Span> = text
                    .char_indices()
                    .map(|(i, c)| Span::new(i, i + c.len_utf8()))
                    .collect();
                proptest::prop_assert_eq!(&whole.sources, &own);
            }
        }
    }

    #[test]
    fn decodes_as_is_passes_plain_non_ascii_and_nothing_decoding_changes() {
        for raw in ["costs \u{a3}2m", "caf\u{e9} au lait", "plain", ""] {
            assert!(decodes_as_is(raw), "{raw:?}");
        }
        for raw in [
            "caf\u{301}e",
            "e\u{301}",
            "\u{fb01}le",
            "\u{421}HIS",
            "a\u{200b}b",
            "\u{ff4b}",
            "\u{a3}&amp;",
            "\u{a3}%4B",
            "&amp;",
        ] {
            assert!(!decodes_as_is(raw), "{raw:?}");
        }
    }

    #[test]
    fn deny_regex_reads_a_long_stretch_with_one_escape_in_it() {
        let filler = "words and more words ".repeat(20);
        let a = format!("{HEAD}{filler}costs \u{a3}2m; {filler}CHIS 1234 met PC&#32;4321 here.\n");
        let findings = run(&[("a.md", &a)], &DenyList::embedded().expect("deny-list"));
        let at: Vec<(&str, usize, usize)> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.location.column, f.location.end_column))
            .collect();
        let column = |s: &str| {
            let line = a.lines().nth(4).unwrap_or_default();
            line[..line.find(s).unwrap_or_default()].chars().count() + 1
        };
        assert_eq!(
            at,
            vec![
                ("deny/chis-reference", column("CHIS"), column("CHIS") + 9),
                ("deny/collar-number", column("PC&"), column("PC&") + 11),
            ]
        );
    }

    /// What [`published`] gives of a paper for the public audience: the body's text with
    /// each character's source, and each stretch's words with theirs.
    fn published_read(text: &str) -> (String, Vec<(String, Vec<Span>)>) {
        let rules = Rules::embedded().expect("rules");
        let paper = parse_paper(text, &rules).expect("parses");
        let audience = public_audiences(&rules).next().expect("a public audience");
        let input = CheckInput {
            path: Path::new("a.md"),
            name: "a",
            text,
            paper: &paper,
            outputs: &[],
        };
        let (body, stretches) = published(&input, &paper.maximal_withheld(audience));
        let sources: Vec<String> = (0..body.text.len())
            .filter(|&i| body.text.is_char_boundary(i))
            .map(|i| format!("{:?}", body.source(Span::new(i, i + 1))))
            .collect();
        let words = stretches
            .iter()
            .map(|w| {
                (
                    w.stream.clone(),
                    (0..w.len()).map(|i| w.source(i, 1)).collect(),
                )
            })
            .collect();
        let read = format!("{}|{}", body.text, sources.join(","));
        body.recycle();
        (read, words)
    }

    #[test]
    fn a_recycled_body_reads_as_a_fresh_one() {
        let long = format!(
            "{HEAD}{}",
            "A *long* paragraph [with a secret]{.S31} and [a link](https://example.org).\n\n"
                .repeat(40)
        );
        let short = format!("{HEAD}Two <b>short</b> [words]{{.S40}}\n\nlines &amp; more\n");
        let (l, s) = (long.clone(), short.clone());
        let fresh_short = std::thread::spawn(move || published_read(&s))
            .join()
            .expect("reads");
        let fresh_long = std::thread::spawn(move || published_read(&l))
            .join()
            .expect("reads");
        published_read(&long);
        assert_eq!(published_read(&short), fresh_short);
        assert_eq!(published_read(&long), fresh_long);
    }
}
