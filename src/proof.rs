//! The audit's proof that a copy's Markdown differs from the source by exactly the declared
//! changes: the front matter re-marked, HTML comments removed, each maximal withheld range
//! replaced by its marker, the attribute block of each passage the audience sees cut down to its
//! codes (no `reason`, `pit`, id or class outside the council's copy), the schedule appended.
//!
//! Two checks, neither trusting render.rs or redact.rs:
//! 1. a linear splice of the source with those edits (written here, from the Paper and the
//!    rules) must equal the copy byte for byte;
//! 2. a line diff (similar) between the council Markdown, which is the source, and the copy
//!    must consist of hunks that each lie in a region the edits changed, and each withheld
//!    redaction's region must show its marker.
//!
//! Findings name positions and causes only, never text: the copy being checked may be the
//! very thing that leaked.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::model::Paper;
use crate::rules::{Audience, Marking};
use crate::schedule::Schedule;
use crate::span::{LineIndex, Span};

/// Why a part of the copy differs from the source. Numbers count from 1, as in the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    FrontMatter,
    Comment {
        comment: usize,
    },
    /// A footnote or link definition that only withheld text uses, named as cited.
    Reference {
        reference: String,
    },
    Marker {
        redaction: usize,
        marker: String,
    },
    /// A passage the audience sees: its tag keeps the codes alone.
    Tag {
        redaction: usize,
    },
    Schedule,
}

/// One declared change: source bytes `span` become `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
    pub cause: Cause,
}

/// An edit as applied: where it sits in the source and in the spliced copy.
#[derive(Debug, Clone)]
pub struct Applied {
    pub old: Span,
    pub new: Range<usize>,
    pub cause: Cause,
}

/// The source with the declared edits applied.
#[derive(Debug, Clone)]
pub struct Splice {
    pub text: String,
    pub applied: Vec<Applied>,
    /// Stretches copied verbatim: (source start, source end, copy start).
    verbatim: Vec<(usize, usize, usize)>,
}

/// Lines, 1-based, as `start` and `count` (count 0: the place between two lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lines {
    pub start: usize,
    pub count: usize,
}

impl Lines {
    fn of(range: &Range<usize>) -> Lines {
        Lines {
            start: range.start + 1,
            count: range.len(),
        }
    }
}

/// One hunk of the line diff between the council Markdown and a copy, and what explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    pub council: Lines,
    pub copy: Lines,
    pub explained_by: Vec<Cause>,
}

/// The proof for one audience's copy.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub audience: String,
    /// The copy equals the source with exactly the declared edits.
    pub matches: bool,
    pub edits: usize,
    pub hunks: Vec<Hunk>,
    #[serde(skip)]
    pub findings: Vec<String>,
    /// The source with the declared edits. When it `matches` the copy its `text` is dropped,
    /// so a large paper's copy is not held twice: [`Proof::spliced_text`] gives the copy then.
    #[serde(skip)]
    pub splice: Splice,
}

impl Proof {
    /// The splice's text, given `copy`, the Markdown this proof checked.
    pub fn spliced_text<'s>(&'s self, copy: &'s str) -> &'s str {
        if self.matches {
            copy
        } else {
            &self.splice.text
        }
    }
}

/// The declared changes from the source to `audience`'s Markdown, in source order.
pub fn declared_edits(
    paper: &Paper,
    text: &str,
    audience: &Audience,
    schedule: Option<&Schedule>,
) -> Vec<Edit> {
    declared_edits_with(paper, text, audience, schedule, None)
}

/// What the audit's record already worked out of an audience's copy, which the proof would
/// otherwise work out again from the paper, by the same functions: each redaction's outermost
/// withheld redaction ([`Paper::outermost_withheld`]), and the marker text of each one
/// withheld whole ([`Paper::marker_text`]; none for the others, and the list may be empty:
/// the proof works out each one it lacks).
#[derive(Clone, Copy)]
pub struct Known<'k> {
    pub within: &'k [Option<usize>],
    pub markers: &'k [Option<String>],
}

/// [`declared_edits`], given what the record knows, if it does.
fn declared_edits_with(
    paper: &Paper,
    text: &str,
    audience: &Audience,
    schedule: Option<&Schedule>,
    known: Option<Known>,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    // An audience that sees everything in the source's own marking reads the source itself.
    let reads_source = audience.withholds.is_empty() && audience.marking == Marking::Source;
    if !reads_source {
        let marking = match &audience.marking {
            Marking::Source => paper.front_matter.classification.as_str(),
            Marking::Fixed(m) => m.as_str(),
        };
        edits.push(Edit {
            span: Span::new(0, paper.body_start),
            replacement: paper.front_matter.for_audience(audience).to_yaml(marking),
            cause: Cause::FrontMatter,
        });
        let maximal: Vec<usize> = match known {
            Some(known) => (0..known.within.len())
                .filter(|&k| known.within[k] == Some(k))
                .collect(),
            None => paper.maximal_withheld(audience),
        };
        // The spans of the maximal ones: what `Paper::withheld_spans` gives, asked once.
        let withheld: Vec<Span> = maximal.iter().map(|&k| paper.redactions[k].span).collect();
        let mut body = Vec::with_capacity(maximal.len() + paper.comments.len());
        for &k in &maximal {
            let r = &paper.redactions[k];
            let marker = match known.and_then(|known| known.markers.get(k).cloned().flatten()) {
                Some(marker) => marker,
                None => paper.marker_text(k, audience),
            };
            let replacement = marker_replacement(&marker, r.placement.as_ref());
            body.push(Edit {
                span: r.span,
                replacement,
                cause: Cause::Marker {
                    redaction: r.number,
                    marker,
                },
            });
        }
        let mut references: Vec<Span> = Vec::new();
        for (n, _) in paper.withheld_references(&maximal) {
            let reference = &paper.references[n];
            references.push(reference.span);
            body.push(Edit {
                span: reference.span,
                replacement: String::new(),
                cause: Cause::Reference {
                    reference: reference.name(),
                },
            });
        }
        let inside_withheld = |span: Span| crate::model::within(&withheld, span);
        for r in &paper.redactions {
            // Only the codes may stay: a reason, pit, id or class makes the tag an edit.
            let extra =
                r.reason.is_some() || r.pit.is_some() || r.id.is_some() || !r.classes.is_empty();
            let braced = text[r.attrs.start..].starts_with('{');
            if !extra
                || !braced
                || r.codes.is_empty()
                || audience.withholds_any(&r.codes)
                || inside_withheld(r.attrs)
                || references.iter().any(|d| d.encloses(r.attrs))
            {
                continue;
            }
            body.push(Edit {
                span: r.attrs,
                replacement: tag_replacement(r.codes.iter().map(|c| c.as_str())),
                cause: Cause::Tag {
                    redaction: r.number,
                },
            });
        }
        for (n, (comment, cut)) in paper.comments.iter().zip(&paper.comment_cuts).enumerate() {
            // A comment inside a withheld passage goes with it.
            if inside_withheld(*comment) {
                continue;
            }
            if references.iter().any(|r| r.encloses(*comment)) {
                continue;
            }
            // The cut the parser declared: the comment, with the space or line it takes along
            // and what stands in their place, so that nothing else in the copy changes.
            body.push(Edit {
                span: cut.span,
                replacement: cut.replacement.to_string(),
                cause: Cause::Comment { comment: n + 1 },
            });
        }
        body.sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(b.span.end.cmp(&a.span.end))
        });
        edits.extend(body);
    }
    if let Some(schedule) = schedule {
        edits.push(Edit {
            span: Span::empty(text.len()),
            replacement: schedule.markdown(),
            cause: Cause::Schedule,
        });
    }
    edits
}

/// What a withheld passage becomes: `**marker**`, a block marker in its own paragraph of its
/// container. One string written in place, where formatting made one for the bold marker and
/// another around it.
fn marker_replacement(marker: &str, placement: Option<&crate::model::BlockPlacement>) -> String {
    let mut out = String::with_capacity(marker.len() + 4);
    if let Some(p) = placement.filter(|p| p.blank_before) {
        out.push_str(p.newline);
        out.push_str(&p.prefix);
    }
    out.push_str("**");
    out.push_str(marker);
    out.push_str("**");
    if let Some(p) = placement.filter(|p| p.blank_after) {
        out.push_str(p.newline);
        out.push_str(p.prefix.trim_end());
    }
    out
}

/// What the tag of a passage the audience sees becomes: its codes alone, `{.S31 .S24}`.
fn tag_replacement<'c>(codes: impl IntoIterator<Item = &'c str>) -> String {
    let mut out = String::from("{");
    for (n, code) in codes.into_iter().enumerate() {
        out.push_str(if n == 0 { "." } else { " ." });
        out.push_str(code);
    }
    out.push('}');
    out
}

/// Where the splice's bytes go: a string, or a comparison with the copy that never holds them.
trait SpliceOut {
    fn push(&mut self, piece: &str);
    fn len(&self) -> usize;
    /// The last byte pushed ends a line.
    fn ends_line(&self) -> bool;
}

impl SpliceOut for String {
    fn push(&mut self, piece: &str) {
        self.push_str(piece);
    }

    fn len(&self) -> usize {
        self.as_str().len()
    }

    fn ends_line(&self) -> bool {
        self.ends_with(['\n', '\r'])
    }
}

/// Compares the splice with `copy` piece by piece as it is made: the same answer as making
/// the splice and comparing it whole, without writing a copy of the paper first.
struct Compare<'c> {
    copy: &'c [u8],
    len: usize,
    equal: bool,
    last: Option<u8>,
}

impl<'c> Compare<'c> {
    fn new(copy: &'c str) -> Self {
        Compare {
            copy: copy.as_bytes(),
            len: 0,
            equal: true,
            last: None,
        }
    }

    /// The splice, whole, equals the copy.
    fn equal(&self) -> bool {
        self.equal && self.len == self.copy.len()
    }
}

impl SpliceOut for Compare<'_> {
    fn push(&mut self, piece: &str) {
        let end = self.len + piece.len();
        self.equal = self.equal && self.copy.get(self.len..end) == Some(piece.as_bytes());
        self.len = end;
        if let Some(&b) = piece.as_bytes().last() {
            self.last = Some(b);
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn ends_line(&self) -> bool {
        matches!(self.last, Some(b'\n' | b'\r'))
    }
}

/// Applies edits given in source order. Overlaps are resolved towards withholding: bytes
/// covered by any edit never survive.
pub fn splice(text: &str, edits: &[Edit]) -> Splice {
    let mut out = String::with_capacity(text.len());
    let (placed, verbatim) = splice_into(text, edits, &mut out);
    Splice {
        text: out,
        applied: placed
            .into_iter()
            .map(|p| Applied {
                old: p.old,
                new: p.new,
                cause: edits[p.edit].cause.clone(),
            })
            .collect(),
        verbatim,
    }
}

/// An edit as [`splice_into`] applied it: [`Applied`] with the edit's index for its cause.
struct Placed {
    old: Span,
    new: Range<usize>,
    edit: usize,
}

/// The applied edits, each with its edit's cause, moved out of `edits` (an edit is applied
/// at most once, and in order).
fn applied_of(placed: Vec<Placed>, edits: Vec<Edit>) -> Vec<Applied> {
    let mut edits = edits.into_iter().enumerate();
    placed
        .into_iter()
        .filter_map(|p| {
            let (_, edit) = edits.find(|(k, _)| *k == p.edit)?;
            Some(Applied {
                old: p.old,
                new: p.new,
                cause: edit.cause,
            })
        })
        .collect()
}

/// What [`splice`] does, into `out`: the edits as placed and the stretches copied verbatim.
#[allow(clippy::type_complexity)]
fn splice_into(
    text: &str,
    edits: &[Edit],
    out: &mut impl SpliceOut,
) -> (Vec<Placed>, Vec<(usize, usize, usize)>) {
    // The schedule follows the paper's own line ending, as every inserted line does.
    let nl = crate::parse::newline_of(text);
    let mut applied = Vec::with_capacity(edits.len());
    let mut verbatim = Vec::with_capacity(edits.len() + 1);
    let mut cursor = 0;
    for (k, edit) in edits.iter().enumerate() {
        let (start, end) = if edit.cause == Cause::Schedule {
            (text.len(), text.len())
        } else {
            (edit.span.start.max(cursor), edit.span.end.max(cursor))
        };
        if end <= cursor && edit.span.start < cursor && !matches!(edit.cause, Cause::Marker { .. })
        {
            continue;
        }
        if cursor < start {
            verbatim.push((cursor, start, out.len()));
            out.push(&text[cursor..start]);
        }
        let new_start = out.len();
        if edit.cause == Cause::Schedule {
            // One blank line before the schedule's thematic break.
            if out.ends_line() {
                out.push(nl);
            } else if out.len() > 0 {
                out.push(nl);
                out.push(nl);
            }
        }
        out.push(&edit.replacement);
        applied.push(Placed {
            old: Span::new(start, end),
            new: new_start..out.len(),
            edit: k,
        });
        cursor = cursor.max(end);
    }
    if cursor < text.len() {
        verbatim.push((cursor, text.len(), out.len()));
        out.push(&text[cursor..]);
    }
    (applied, verbatim)
}

/// Start offsets of each line: a line ends after LF, CRLF or a lone CR.
fn line_starts(text: &str) -> Vec<usize> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut starts = vec![0];
    // A line ending at the very end starts no line.
    starts.extend(crate::span::line_ends(text).filter(|&end| end < text.len()));
    starts
}

fn lines_of<'a, 's>(text: &'a str, starts: &'s [usize]) -> impl Iterator<Item = &'a str> + 's
where
    'a: 's,
{
    (0..starts.len()).map(|i| &text[starts[i]..starts.get(i + 1).copied().unwrap_or(text.len())])
}

fn line_start(starts: &[usize], line: usize, len: usize) -> usize {
    starts.get(line).copied().unwrap_or(len)
}

/// A stretch of lines the declared edits changed, and which edits did.
#[derive(Debug, Clone)]
struct Region {
    old: Range<usize>,
    new: Range<usize>,
    causes: Vec<usize>,
}

/// How the edits leave the lines: for each source line, the splice line it lands on if the
/// edits leave it whole (a line of a verbatim stretch that lands on a whole line); for each
/// splice line, the source line that landed on it; and the regions of lines between those,
/// which the edits changed.
struct Alignment {
    kept: Vec<Option<usize>>,
    landed: Vec<Option<usize>>,
    regions: Vec<Region>,
}

fn alignment(
    source: &str,
    old_starts: &[usize],
    splice: &Splice,
    new_starts: &[usize],
    new_len: usize,
) -> Alignment {
    let mut kept: Vec<(usize, usize)> = Vec::with_capacity(old_starts.len() + 1);
    // Line starts rise on both sides, and so do the stretches, and a line's place in the
    // splice rises with its place in the source: the stretch holding a line and its place
    // among the splice's line starts are found by cursors that only move forward, where a
    // binary search for each line jumped about a large paper's memory.
    let (mut n, mut j) = (0, 0);
    for i in 0..old_starts.len() {
        let ls = old_starts[i];
        let le = line_start(old_starts, i + 1, source.len());
        // The stretches starting at or before the line.
        while n < splice.verbatim.len() && splice.verbatim[n].0 <= ls {
            n += 1;
        }
        let Some(&(a, b, na)) = n.checked_sub(1).map(|k| &splice.verbatim[k]) else {
            continue;
        };
        if le > b {
            continue;
        }
        let ns = na + (ls - a);
        while j < new_starts.len() && new_starts[j] < ns {
            j += 1;
        }
        if new_starts.get(j) != Some(&ns) {
            continue;
        }
        if line_start(new_starts, j + 1, new_len) == ns + (le - ls) {
            kept.push((i, j));
        }
    }
    let mut map = vec![None; old_starts.len()];
    let mut landed = vec![None; new_starts.len()];
    for &(i, j) in &kept {
        map[i] = Some(j);
        landed[j] = Some(i);
    }
    kept.push((old_starts.len(), new_starts.len()));
    let mut out = Vec::new();
    let (mut po, mut pn) = (0, 0);
    for (i, j) in kept {
        if i > po || j > pn {
            let old = po..i;
            let new = pn..j;
            let ob = line_start(old_starts, old.start, source.len())
                ..line_start(old_starts, old.end, source.len());
            let nb = line_start(new_starts, new.start, new_len)
                ..line_start(new_starts, new.end, new_len);
            // Applied edits run in order on both sides: look only where one could touch.
            let applied = &splice.applied;
            let lo = applied
                .partition_point(|a| a.old.end < ob.start)
                .min(applied.partition_point(|a| a.new.end < nb.start));
            let hi = applied
                .partition_point(|a| a.old.start <= ob.end)
                .max(applied.partition_point(|a| a.new.start <= nb.end))
                .max(lo);
            let causes = (lo..hi)
                .filter(|&k| {
                    let a = &applied[k];
                    touches(&(a.old.start..a.old.end), &ob) || touches(&a.new, &nb)
                })
                .collect();
            out.push(Region { old, new, causes });
        }
        po = i + 1;
        pn = j + 1;
    }
    Alignment {
        kept: map,
        landed,
        regions: out,
    }
}

/// Checks `actual`, the Markdown written for `audience`, against the source and the Paper.
pub fn prove(
    paper: &Paper,
    text: &str,
    audience: &Audience,
    schedule: Option<&Schedule>,
    actual: &str,
) -> Proof {
    Prover::new(paper, text).prove(audience, schedule, actual)
}

/// What the proofs of one paper's copies share: the source's lines, and a number for each
/// distinct line text, so the diff compares and hashes numbers rather than strings (the
/// diff itself is the same: it depends only on which lines are equal).
pub struct Prover<'a> {
    paper: &'a Paper,
    text: &'a str,
    starts: Vec<usize>,
    line_ids: Vec<u32>,
    ids: Interner<'a>,
    /// Number a copy line a source line landed on as that line (off only in tests, which
    /// compare with every line numbered).
    landed_shortcut: bool,
}

/// A number for each distinct line text, in order of first sight.
type Interner<'a> = HashMap<&'a str, u32, foldhash::fast::RandomState>;

impl<'a> Prover<'a> {
    pub fn new(paper: &'a Paper, text: &'a str) -> Self {
        let starts = line_starts(text);
        let mut ids = Interner::with_capacity_and_hasher(starts.len(), Default::default());
        let line_ids = lines_of(text, &starts)
            .map(|line| intern(&mut ids, line))
            .collect();
        Prover {
            paper,
            text,
            starts,
            line_ids,
            ids,
            landed_shortcut: true,
        }
    }

    /// Checks `actual`, the Markdown written for `audience`, against the source and the Paper.
    pub fn prove(
        &mut self,
        audience: &Audience,
        schedule: Option<&Schedule>,
        actual: &'a str,
    ) -> Proof {
        self.prove_with(audience, schedule, actual, None)
    }

    /// [`Prover::prove`], given what the audit's record already worked out of the copy (the
    /// same values the proof works out without it).
    pub fn prove_with(
        &mut self,
        audience: &Audience,
        schedule: Option<&Schedule>,
        actual: &'a str,
        known: Option<Known>,
    ) -> Proof {
        let (paper, text) = (self.paper, self.text);
        let edits = declared_edits_with(paper, text, audience, schedule, known);
        let mut findings = Vec::new();
        let name = &audience.name;
        let cause_label = |cause: &Cause| match cause {
            Cause::FrontMatter => "the front matter".to_string(),
            Cause::Comment { comment } => format!("HTML comment {comment}"),
            Cause::Reference { reference } => format!("definition {reference}"),
            // Numbers only: an id may itself be withheld, and findings go to stderr.
            Cause::Marker { redaction, .. } => format!("redaction {redaction}"),
            Cause::Tag { redaction } => format!("the tag of redaction {redaction}"),
            Cause::Schedule => "the schedule of exemptions".to_string(),
        };
        // 1. Linear check. The splice is compared with the copy as it is made, and written out
        // only when they differ: `matches` is the splice, whole, equal to the copy.
        let mut compare = Compare::new(actual);
        let (placed, verbatim) = splice_into(text, &edits, &mut compare);
        let matches = compare.equal();
        let mut spliced_text = String::new();
        if !matches {
            spliced_text.reserve(text.len());
            splice_into(text, &edits, &mut spliced_text);
        }
        let edit_count = edits.len();
        let spliced = Splice {
            text: spliced_text,
            applied: applied_of(placed, edits),
            verbatim,
        };
        if !matches {
            let at = spliced
                .text
                .bytes()
                .zip(actual.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(spliced.text.len().min(actual.len()));
            let index = LineIndex::new(actual);
            let (line, col) = index.line_col(actual, floor_char(actual, at));
            let near = spliced
                .applied
                .iter()
                .rev()
                .find(|a| a.new.start <= at)
                .map(|a| format!(", after {}", cause_label(&a.cause)))
                .unwrap_or_default();
            findings.push(format!(
                "the {name} Markdown is not the source with exactly its declared redactions: first difference at {line}:{col} of the copy{near}"
            ));
        }
        // The splice's text: the copy itself when they match.
        let spliced_text: &str = if matches { actual } else { &spliced.text };

        // 2. Line diff between the council Markdown (the source) and the copy. A diff may pair
        // equal lines (blank ones above all) differently from the edits, so hunks are judged in
        // segments: stretches between lines the diff pairs exactly as the edits leave them. In
        // each, what the diff removes less what it adds must be, line for line, what the edits
        // there remove less what they add.
        // An audience that reads the source has the source's lines.
        let source = actual == text;
        let new_starts = if source {
            Cow::Borrowed(&self.starts)
        } else {
            Cow::Owned(line_starts(actual))
        };
        // The copy is the splice (checked above): its lines are the splice's lines.
        let spliced_starts = if matches {
            None
        } else {
            Some(line_starts(&spliced.text))
        };
        let spliced_starts = spliced_starts.as_deref().unwrap_or(&new_starts);
        let Alignment {
            kept,
            landed,
            regions,
        } = alignment(
            text,
            &self.starts,
            &spliced,
            spliced_starts,
            spliced_text.len(),
        );
        let new_ids: Cow<[u32]> = if source {
            Cow::Borrowed(&self.line_ids)
        } else if matches && self.landed_shortcut {
            // A copy line that a source line landed on whole is that line's bytes (the copy is
            // the splice), so its number is the source line's: interning it would find that
            // number and add nothing. Only the lines the edits made are looked up, in order, so
            // every number is the one interning every line gives.
            Cow::Owned(
                lines_of(actual, &new_starts)
                    .zip(&landed)
                    .map(|(line, from)| match from {
                        Some(i) => self.line_ids[*i],
                        None => intern(&mut self.ids, line),
                    })
                    .collect(),
            )
        } else {
            Cow::Owned(
                lines_of(actual, &new_starts)
                    .map(|line| intern(&mut self.ids, line))
                    .collect(),
            )
        };
        // The lines the edits leave, as numbers: the copy's when it is the splice.
        let expected_ids: Cow<[u32]> = if matches {
            Cow::Borrowed(&new_ids)
        } else {
            // The splice lives only here: number its lines in a copy of the numbering.
            let mut ids: Interner = self.ids.clone();
            Cow::Owned(
                lines_of(&spliced.text, spliced_starts)
                    .map(|line| intern(&mut ids, line))
                    .collect(),
            )
        };
        let old_ids = &self.line_ids;
        let ops = capture_diff_slices(Algorithm::Patience, old_ids, &new_ids);
        let segments = segments(&ops, &kept, old_ids, &new_ids);
        let mut verdicts: Vec<Option<Vec<usize>>> = Vec::with_capacity(segments.len());
        // Lines counted on each side of a segment's balance, reused from one to the next.
        let (mut plus, mut minus): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        for segment in &segments {
            // Regions run in source order: look only where this segment is.
            let lo = regions.partition_point(|r| r.old.start < segment.old.start);
            let hi = regions
                .partition_point(|r| r.old.start <= segment.old.end)
                .max(lo);
            let inside: Vec<usize> = (lo..hi)
                .filter(|&k| regions[k].old.end <= segment.old.end)
                .collect();
            if segment.removed.is_empty() && segment.added.is_empty() && inside.is_empty() {
                verdicts.push(Some(Vec::new()));
                continue;
            }
            // For every line text: removed by the diff, less added by it, less removed by the
            // edits, plus added by them, is zero; that is, the lines the diff removes with
            // those the edits add are, as a multiset, those the diff adds with those the edits
            // remove. Numbers stand for texts, equal exactly when the texts are.
            plus.clear();
            minus.clear();
            plus.extend_from_slice(&segment.removed);
            minus.extend_from_slice(&segment.added);
            for r in inside.iter().map(|&k| &regions[k]) {
                minus.extend_from_slice(&old_ids[r.old.clone()]);
                let new = r.new.start.min(expected_ids.len())..r.new.end.min(expected_ids.len());
                plus.extend_from_slice(&expected_ids[new]);
            }
            plus.sort_unstable();
            minus.sort_unstable();
            if plus == minus {
                verdicts.push(Some(inside));
                continue;
            }
            findings.push(format!(
                "the {name} Markdown differs from the council Markdown at source lines {} (copy lines {}) {}",
                span_label(&segment.old),
                span_label(&segment.new),
                if inside.is_empty() {
                    "where nothing was declared: no redaction, comment, front matter or schedule explains it"
                } else {
                    "by more or less than the redactions, comments, front matter or schedule declared there"
                }
            ));
            verdicts.push(None);
        }
        let mut hunks = Vec::new();
        let mut k = 0;
        for (old, new) in hunk_ranges(&ops) {
            // Hunks and segments both run in order, and each hunk lies in one segment.
            while k < segments.len() && !segments[k].contains(&old, &new) {
                k += 1;
            }
            // Name the changes the hunk itself touches; the diff may have paired lines so that
            // it touches none of them, and then every change of its segment explains it.
            let inside: &[usize] = verdicts.get(k).and_then(|v| v.as_deref()).unwrap_or(&[]);
            let touched = touching(inside, &regions, &old, &new);
            let chosen = if touched.is_empty() { inside } else { &touched };
            let mut causes: Vec<usize> = chosen
                .iter()
                .flat_map(|&r| regions[r].causes.iter().copied())
                .collect();
            causes.sort_unstable();
            causes.dedup();
            hunks.push(Hunk {
                council: Lines::of(&old),
                copy: Lines::of(&new),
                explained_by: causes
                    .into_iter()
                    .map(|k| spliced.applied[k].cause.clone())
                    .collect(),
            });
        }

        // Every withheld redaction shows its marker: the copy holds each marker text at least as
        // often as the declared changes put it there. (A copy that is the splice shows each
        // exactly as often, so there is nothing to count.)
        let mut markers: Vec<(String, Vec<usize>)> = Vec::new();
        let mut marker_index: HashMap<String, usize> = HashMap::new();
        for applied in spliced.applied.iter().filter(|_| !matches) {
            if let Cause::Marker { redaction, marker } = &applied.cause {
                let bold = format!("**{marker}**");
                match marker_index.get(&bold) {
                    Some(&k) => markers[k].1.push(*redaction),
                    None => {
                        marker_index.insert(bold.clone(), markers.len());
                        markers.push((bold, vec![*redaction]));
                    }
                }
            }
        }
        for (bold, redactions) in markers {
            let expected = spliced.text.matches(&bold).count();
            let found = actual.matches(&bold).count();
            if found < expected {
                let list: Vec<String> = redactions
                    .iter()
                    .map(|n| format!("redaction {n}"))
                    .collect();
                findings.push(format!(
                    "{} withheld from {name}, but the {name} Markdown shows its marker `{bold}` {found} time{} where {expected} are due",
                    list.join(", "),
                    if found == 1 { "" } else { "s" }
                ));
            }
        }

        Proof {
            audience: name.clone(),
            matches,
            edits: edit_count,
            hunks,
            findings,
            splice: spliced,
        }
    }
}

/// The number standing for `line` in the diff, the same for equal lines.
fn intern<'a>(ids: &mut Interner<'a>, line: &'a str) -> u32 {
    let next = ids.len() as u32;
    *ids.entry(line).or_insert(next)
}

fn floor_char(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Consecutive non-equal diff ops as (source lines, copy lines).
fn hunk_ranges(ops: &[DiffOp]) -> Vec<(Range<usize>, Range<usize>)> {
    let mut out: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut open: Option<(Range<usize>, Range<usize>)> = None;
    for op in ops {
        if matches!(op, DiffOp::Equal { .. }) {
            out.extend(open.take());
            continue;
        }
        let (old, new) = (op.old_range(), op.new_range());
        open = Some(match open.take() {
            Some((o, n)) => (o.start..old.end, n.start..new.end),
            None => (old, new),
        });
    }
    out.extend(open);
    out
}

/// A stretch of the diff between two lines it pairs as the edits leave them (or the ends),
/// with the lines it removes and adds, as their numbers.
struct Segment {
    old: Range<usize>,
    new: Range<usize>,
    removed: Vec<u32>,
    added: Vec<u32>,
}

impl Segment {
    fn contains(&self, old: &Range<usize>, new: &Range<usize>) -> bool {
        self.old.start <= old.start
            && old.end <= self.old.end
            && self.new.start <= new.start
            && new.end <= self.new.end
    }
}

/// Cuts the diff at each equal pair (source line i, copy line j) where the edits leave line i
/// whole as copy line j; a pair anywhere else is the diff's own choice and stays inside. Empty
/// stretches are left out.
fn segments(ops: &[DiffOp], kept: &[Option<usize>], old: &[u32], new: &[u32]) -> Vec<Segment> {
    let fresh = |i: usize, j: usize| Segment {
        old: i..i,
        new: j..j,
        removed: Vec::new(),
        added: Vec::new(),
    };
    let mut out = Vec::new();
    let mut current = fresh(0, 0);
    let push = |out: &mut Vec<Segment>, mut segment: Segment, i: usize, j: usize| {
        segment.old.end = i;
        segment.new.end = j;
        if !(segment.old.is_empty() && segment.new.is_empty()) {
            out.push(segment);
        }
    };
    for op in ops {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = *op
        {
            for k in 0..len {
                let (i, j) = (old_index + k, new_index + k);
                if kept.get(i).copied().flatten() == Some(j) {
                    let done = std::mem::replace(&mut current, fresh(i + 1, j + 1));
                    push(&mut out, done, i, j);
                }
            }
        } else {
            current.removed.extend_from_slice(&old[op.old_range()]);
            current.added.extend_from_slice(&new[op.new_range()]);
        }
    }
    push(&mut out, current, old.len(), new.len());
    out
}

/// The regions of `inside` (indices into `regions`, in order) that touch the hunk's source
/// lines or its copy lines. Regions are disjoint and in order on both sides, so those touching
/// a range on one side are a run of `inside`, found by binary search: scanning every region
/// of a segment for every hunk in it was quadratic when a diff paired lines so that one
/// segment held most of a paper.
fn touching(
    inside: &[usize],
    regions: &[Region],
    old: &Range<usize>,
    new: &Range<usize>,
) -> Vec<usize> {
    let run = |side: fn(&Region) -> &Range<usize>, lines: &Range<usize>| {
        // `touches` is "the region does not end before the lines start" (true for a suffix
        // of `inside`) and "does not start after they end" (true for a prefix).
        let strict = |range: &Range<usize>| !range.is_empty() && !lines.is_empty();
        let first = inside.partition_point(|&r| {
            let range = side(&regions[r]);
            if strict(range) {
                range.end <= lines.start
            } else {
                range.end < lines.start
            }
        });
        let mut last = first;
        while last < inside.len() && touches(side(&regions[inside[last]]), lines) {
            last += 1;
        }
        first..last
    };
    let by_old = run(|r| &r.old, old);
    let by_new = run(|r| &r.new, new);
    let mut out: Vec<usize> = by_old.clone().chain(by_new.clone()).collect();
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|k| inside[k]).collect()
}

/// Two line ranges share a line, or an empty one sits inside or at the edge of the other.
fn touches(a: &Range<usize>, b: &Range<usize>) -> bool {
    if a.is_empty() || b.is_empty() {
        a.start <= b.end && b.start <= a.end
    } else {
        a.start < b.end && b.start < a.end
    }
}

/// `12`, `12-14`, or `after 11` (1-based), for messages.
fn span_label(lines: &Range<usize>) -> String {
    match lines.len() {
        0 => format!("after {}", lines.start),
        1 => (lines.start + 1).to_string(),
        _ => format!("{}-{}", lines.start + 1, lines.end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_paper;
    use crate::redact::copy_for;
    use crate::render::markdown_with_schedule;
    use crate::rules::Rules;
    use crate::schedule::{Release, schedule_for};

    proptest::proptest! {
        /// The replacements written in place are the strings formatting made.
        #[test]
        fn replacements_are_those_formatting_made(
            marker in "[A-Za-z0-9 ;/]{0,20}",
            codes in proptest::collection::vec("[A-Z0-9]{1,4}", 0..4),
            prefix in "[> ]{0,4}",
            placed in proptest::option::of((proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY)),
        ) {
            let placement = placed.map(|(blank_before, blank_after, crlf)| crate::model::BlockPlacement {
                prefix: prefix.clone(),
                blank_before,
                blank_after,
                html_blank_after: false,
                newline: if crlf { "\r\n" } else { "\n" },
            });
            let bold = format!("**{marker}**");
            let formatted = match &placement {
                Some(p) => {
                    let mut out = String::new();
                    if p.blank_before {
                        out.push_str(p.newline);
                        out.push_str(&p.prefix);
                    }
                    out.push_str(&bold);
                    if p.blank_after {
                        out.push_str(p.newline);
                        out.push_str(p.prefix.trim_end());
                    }
                    out
                }
                None => bold,
            };
            proptest::prop_assert_eq!(marker_replacement(&marker, placement.as_ref()), formatted);
            let dotted: Vec<String> = codes.iter().map(|c| format!(".{c}")).collect();
            proptest::prop_assert_eq!(
                tag_replacement(codes.iter().map(String::as_str)),
                format!("{{{}}}", dotted.join(" "))
            );
        }
    }

    const PAPER: &str = "---\ntitle: Proof\nclassification: OFFICIAL-SENSITIVE\n---\n\
        <!-- note to authors -->\n\n\
        Work led to [the arrest of twelve people]{.S31 .S24} last year.\n\n\
        - Public bullet\n- [Secret bullet]{.S23}\n\n\
        ::: {.S40 reason=\"personal\"}\nA named officer, [nested]{.S31}.\n:::\n\n\
        ## Future operations {.S31}\n\nPlans for Kestrelmoor.\n\n## Next\n\nText.\n\nClosing remarks.\n";

    fn rules() -> Rules {
        Rules::embedded().expect("embedded rules")
    }

    fn proof_of(actual: impl Fn(&str) -> String) -> Proof {
        let rules = rules();
        let paper = parse_paper(PAPER, &rules).expect("parses");
        let public = rules
            .audiences
            .iter()
            .find(|a| a.name == "public")
            .expect("public audience");
        let schedule = schedule_for(&paper, public, &rules, &Release::default());
        let copy = copy_for(&paper, PAPER, public);
        let md = markdown_with_schedule(&copy, schedule.as_ref());
        prove(&paper, PAPER, public, schedule.as_ref(), &actual(&md))
    }

    /// Every paper of the project's fixtures and tests that parses, with the default rules.
    fn project_papers(rules: &Rules) -> Vec<(String, Paper)> {
        ["fixtures", "tests"]
            .iter()
            .flat_map(|dir| walkdir::WalkDir::new(dir).sort_by_file_name())
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|text| {
                let paper = parse_paper(&text, rules).ok()?;
                Some((text, paper))
            })
            .collect()
    }

    /// Copies that differ from the rendered one in small ways a faulty renderer could make:
    /// at either end, in the middle, by a marker, a line ending or a line.
    fn variants(md: &str) -> Vec<String> {
        let mut out = vec![md.to_string()];
        out.push(format!("{md}x"));
        out.push(format!("{md}\n"));
        out.push(format!("x{md}"));
        if let Some((cut, _)) = md.char_indices().last() {
            out.push(md[..cut].to_string());
        }
        out.push(String::new());
        for at in [md.len() / 3, md.len() / 2, md.len() * 4 / 5] {
            let at = floor_char(md, at);
            out.push(format!("{}**S31**{}", &md[..at], &md[at..]));
            out.push(format!("{}\n{}", &md[..at], &md[at..]));
            if let Some(c) = md[at..].chars().next() {
                let next = at + c.len_utf8();
                out.push(format!(
                    "{}{}{}",
                    &md[..at],
                    if c == 'Z' { 'Y' } else { 'Z' },
                    &md[next..]
                ));
                out.push(format!("{}{}", &md[..at], &md[next..]));
            }
        }
        if let Some(line) = md.lines().nth(md.lines().count() / 2) {
            out.push(md.replacen(line, "", 1));
            out.push(md.replacen(line, &format!("{line}\n{line}"), 1));
        }
        out
    }

    /// The edits declared from what the audit's record knows of a copy (each redaction's
    /// outermost withheld one, each marker's text, or the first alone) are the edits declared
    /// from the paper alone, for every paper and audience.
    #[test]
    fn edits_declared_from_the_record_are_those_declared_from_the_paper() {
        let rules = rules();
        let mut compared = 0;
        for (text, paper) in project_papers(&rules) {
            for audience in &rules.audiences {
                let schedule = schedule_for(&paper, audience, &rules, &Release::default());
                let alone = declared_edits(&paper, &text, audience, schedule.as_ref());
                let within = paper.outermost_withheld(audience);
                let markers: Vec<Option<String>> = (0..within.len())
                    .map(|k| (within[k] == Some(k)).then(|| paper.marker_text(k, audience)))
                    .collect();
                for markers in [&markers[..], &[]] {
                    let known = Known {
                        within: &within,
                        markers,
                    };
                    let from_record = declared_edits_with(
                        &paper,
                        &text,
                        audience,
                        schedule.as_ref(),
                        Some(known),
                    );
                    assert_eq!(from_record, alone, "{text}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "{compared}");
    }

    /// The splice compared piece by piece says what making it whole and comparing says, for
    /// every paper and audience and for copies that differ from the splice anywhere.
    #[test]
    fn splice_compared_as_made_is_the_whole_splice_compared() {
        let rules = rules();
        let mut compared = 0;
        for (text, paper) in project_papers(&rules) {
            for audience in &rules.audiences {
                if paper.front_matter.withheld_from(audience) {
                    continue;
                }
                let schedule = schedule_for(&paper, audience, &rules, &Release::default());
                let edits = declared_edits(&paper, &text, audience, schedule.as_ref());
                let whole = splice(&text, &edits);
                let md =
                    markdown_with_schedule(&copy_for(&paper, &text, audience), schedule.as_ref());
                for actual in variants(&md).iter().chain([&whole.text]) {
                    let mut compare = Compare::new(actual);
                    let (applied, verbatim) = splice_into(&text, &edits, &mut compare);
                    assert_eq!(compare.equal(), whole.text == *actual, "{text}");
                    assert_eq!(verbatim, whole.verbatim);
                    assert_eq!(applied.len(), whole.applied.len());
                    compared += 1;
                }
            }
        }
        assert!(compared > 3000, "{compared}");
    }

    /// A proof that numbers the copy's kept lines from the source's gives what numbering every
    /// line gives: the same hunks, causes, verdict and findings.
    #[test]
    fn kept_lines_numbered_from_the_source_prove_what_numbering_every_line_proves() {
        let rules = rules();
        let mut proved = 0;
        for (text, paper) in project_papers(&rules) {
            let copies: Vec<(&Audience, Option<Schedule>, String)> = rules
                .audiences
                .iter()
                .filter(|a| !paper.front_matter.withheld_from(a))
                .map(|audience| {
                    let schedule = schedule_for(&paper, audience, &rules, &Release::default());
                    let copy = copy_for(&paper, &text, audience);
                    let md = markdown_with_schedule(&copy, schedule.as_ref()).to_string();
                    (audience, schedule, md)
                })
                .collect();
            let mut fast = Prover::new(&paper, &text);
            let mut slow = Prover::new(&paper, &text);
            slow.landed_shortcut = false;
            for (audience, schedule, md) in &copies {
                let (a, b) = (
                    fast.prove(audience, schedule.as_ref(), md),
                    slow.prove(audience, schedule.as_ref(), md),
                );
                assert!(
                    a.matches && a.findings.is_empty(),
                    "{:?}\n{text}",
                    a.findings
                );
                assert_eq!(a.hunks, b.hunks, "{text}");
                assert_eq!(a.findings, b.findings);
                assert_eq!(fast.ids, slow.ids);
                proved += 1;
            }
        }
        assert!(proved > 300, "{proved}");
    }

    /// Start offsets found from memchr's line ends are those a scan of every byte finds.
    #[test]
    fn proof_line_starts_are_those_a_byte_scan_finds() {
        let scan = |text: &str| {
            if text.is_empty() {
                return Vec::new();
            }
            let bytes = text.as_bytes();
            let mut starts = vec![0];
            for (i, b) in bytes.iter().enumerate() {
                let ends = *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
                if ends && i + 1 < bytes.len() {
                    starts.push(i + 1);
                }
            }
            starts
        };
        let pieces = ["a", "\n", "\r", "\r\n", "é", "\n\r", "bc"];
        let mut rng = crate::test_rng::Lcg::new(5);
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..rng.below(10) {
                text.push_str(pieces[rng.below(pieces.len())]);
            }
            assert_eq!(line_starts(&text), scan(&text), "{text:?}");
        }
    }

    /// The regions a hunk touches, found by binary search, are those a scan finds.
    #[test]
    fn touching_regions_by_search_are_those_a_scan_finds() {
        let mut rng = crate::test_rng::Lcg::new(7);
        let mut next = |n: usize| rng.below(n);
        for _ in 0..2000 {
            let (mut o, mut n) = (0, 0);
            let mut regions = Vec::new();
            for _ in 0..next(8) {
                o += next(3);
                n += next(3);
                let (lo, ln) = (next(3), next(3));
                regions.push(Region {
                    old: o..o + lo,
                    new: n..n + ln,
                    causes: Vec::new(),
                });
                o += lo;
                n += ln;
            }
            let inside: Vec<usize> = (0..regions.len()).filter(|_| next(4) > 0).collect();
            let (hs, hn) = (next(o + 2), next(n + 2));
            let old = hs..hs + next(4);
            let new = hn..hn + next(4);
            let scanned: Vec<usize> = inside
                .iter()
                .copied()
                .filter(|&r| touches(&regions[r].old, &old) || touches(&regions[r].new, &new))
                .collect();
            assert_eq!(touching(&inside, &regions, &old, &new), scanned);
        }
    }

    #[test]
    fn rendered_copy_is_proved() {
        let proof = proof_of(|md| md.to_string());
        assert!(proof.findings.is_empty(), "{:?}", proof.findings);
        assert!(proof.matches);
        assert!(!proof.hunks.is_empty());
        assert!(proof.hunks.iter().all(|h| !h.explained_by.is_empty()));
    }

    #[test]
    fn council_copy_is_the_source_with_no_hunks() {
        let rules = rules();
        let paper = parse_paper(PAPER, &rules).expect("parses");
        let council = &rules.audiences[0];
        let proof = prove(&paper, PAPER, council, None, PAPER);
        assert!(proof.findings.is_empty(), "{:?}", proof.findings);
        assert!(proof.hunks.is_empty());
    }

    #[test]
    fn changed_marker_is_a_finding() {
        let proof = proof_of(|md| md.replacen("**S23**", "**S30**", 1));
        assert!(!proof.matches);
        assert!(
            proof
                .findings
                .iter()
                .any(|f| f.contains("redaction 2 withheld from public")
                    && f.contains("marker `**S23**` 0 times")),
            "{:?}",
            proof.findings
        );
        assert!(
            proof
                .findings
                .iter()
                .any(|f| f.contains("by more or less than")),
            "{:?}",
            proof.findings
        );
    }

    #[test]
    fn withheld_word_left_in_is_a_finding() {
        let proof = proof_of(|md| {
            md.replacen(
                "**S31 & S24**",
                "**S31 & S24** the arrest of twelve people",
                1,
            )
        });
        assert!(!proof.matches);
        assert!(
            proof
                .findings
                .iter()
                .any(|f| f.contains("by more or less than")),
            "{:?}",
            proof.findings
        );
    }

    #[test]
    fn missing_marker_is_a_finding() {
        // The renderer forgot the section marker and left the section out entirely.
        let proof = proof_of(|md| md.replacen("**S31**\n\n", "", 1));
        assert!(
            proof
                .findings
                .iter()
                .any(|f| f.contains("redaction 5 withheld from public")
                    && f.contains("`**S31**` 0 times where 1 are due")),
            "{:?}",
            proof.findings
        );
    }

    #[test]
    fn change_far_from_any_redaction_is_an_unexplained_hunk() {
        let proof = proof_of(|md| md.replacen("Text.", "Texts.", 1));
        assert!(
            proof
                .findings
                .iter()
                .any(|f| f.contains("where nothing was declared")),
            "{:?}",
            proof.findings
        );
        assert!(proof.hunks.iter().any(|h| h.explained_by.is_empty()));
    }

    #[test]
    fn comment_left_in_is_a_finding() {
        let proof = proof_of(|md| {
            let at = md.find("\n---\n").map(|n| n + 5).unwrap_or(0);
            format!("{}<!-- note to authors -->{}", &md[..at], &md[at..])
        });
        assert!(!proof.matches);
        assert!(!proof.findings.is_empty());
    }
}
