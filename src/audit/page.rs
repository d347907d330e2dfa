//! The audit page's values, flat and ready to print: templates/audit.html (or a custom
//! audit template) only prints them, and tera renders every byte of the page. What a loop of
//! the template would work out for each row (a heading with its codes joined, a location, the
//! schedule in one line, which hunk opens or closes a copy's table) is worked out here, once,
//! so tera builds few values per row and its loops only print. The parts of a row that were
//! loops of their own (an entry's codes, public interest lines, nested links, audiences rows,
//! context `<pre>`s and copies, a hunk's row) are written here as HTML, in fields named
//! `…_html` that the template prints `safe`: every value in them is escaped here exactly as
//! the template's autoescape escapes it, so the page is the bytes those loops wrote; they are
//! handed over as safe strings, so `safe` has nothing to do (a template that prints them
//! without it prints them as they are). Every other value is text, escaped by the template.
//! A row's values are written into one reused buffer and each copied once into its tera value.

use serde::Serialize;
use tera::Value;

use super::{AuditRecord, CodeRecord, percent};
use crate::model::{Form, Redaction};
use crate::proof::{Cause, Lines};
use crate::rules::Test;
use crate::span::Span;

/// tera's truthiness of an optional string: present and not empty.
fn given<'a>(value: &Option<&'a str>) -> Option<&'a str> {
    value.filter(|v| !v.is_empty())
}

/// A row of the exemptions table.
#[derive(Serialize)]
pub(super) struct CodeRow<'a> {
    code: &'a str,
    /// `section 31, Law enforcement`.
    exemption: String,
    test: &'static str,
    public_interest_test: &'static str,
    redactions: usize,
    /// The numbers of the redactions naming the code.
    numbers: Vec<usize>,
    words: usize,
    percent: String,
}

pub(super) fn code_rows<'a>(record: &'a AuditRecord) -> Vec<CodeRow<'a>> {
    let paper = record.redactions.input.paper;
    record
        .totals
        .codes
        .iter()
        .map(|t| CodeRow {
            code: &t.code,
            exemption: format!("section {}, {}", t.section, t.title),
            test: t.test.name(),
            public_interest_test: if t.test == Test::Qualified {
                "yes"
            } else {
                "no"
            },
            redactions: t.redactions,
            numbers: paper
                .redactions
                .iter()
                .filter(|r| r.codes.iter().any(|c| c.as_str() == t.code))
                .map(|r| r.number)
                .collect(),
            words: t.words,
            percent: percent(t.share),
        })
        .collect()
}

/// A row of the copies table.
#[derive(Serialize)]
pub(super) struct AudienceRow<'a> {
    audience: &'a str,
    marking: &'a str,
    redactions: usize,
    markers: usize,
    words: usize,
    percent: String,
    /// `S31: 3; S24: 1`, `nothing withheld`, or `none` (no schedule).
    schedule: String,
}

pub(super) fn audience_rows<'a>(record: &'a AuditRecord) -> Vec<AudienceRow<'a>> {
    record
        .totals
        .audiences
        .iter()
        .zip(&record.audiences)
        .map(|(t, a)| AudienceRow {
            audience: &t.audience,
            marking: &a.marking,
            redactions: t.redactions,
            markers: t.markers,
            words: t.words,
            percent: percent(t.share),
            schedule: match &t.schedule {
                None => "none".to_string(),
                Some(rows) if rows.is_empty() => "nothing withheld".to_string(),
                Some(rows) => rows
                    .iter()
                    .map(|row| format!("{}: {}", row.label, row.passages))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        })
        .collect()
}

/// The entity autoescape writes for each byte it escapes.
fn entity(byte: u8) -> &'static str {
    match byte {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        _ => "&#39;",
    }
}

/// Text up to this many bytes is escaped a byte at a time: most values escaped here are that
/// short (a code, an audience, a section number), and for them setting up the two searches
/// costs more than reading the bytes.
const SHORT: usize = 32;

/// Appends `text` escaped as tera's autoescape escapes a printed value (`&`, `<`, `>`, `"`
/// and `'`, the last as `&#39;`), so a fragment written here is the bytes the template's own
/// loop wrote. Most text has none of them: two memchr searches find the next of each set,
/// and the runs between are copied whole.
fn push_escaped(out: &mut String, text: &str) {
    use memchr::{memchr2, memchr3};
    let bytes = text.as_bytes();
    if bytes.len() <= SHORT {
        let mut done = 0;
        for (at, &b) in bytes.iter().enumerate() {
            if matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') {
                out.push_str(&text[done..at]);
                out.push_str(entity(b));
                done = at + 1;
            }
        }
        out.push_str(&text[done..]);
        return;
    }
    let after = |at: usize, found: Option<usize>| found.map(|n| at + n);
    let mut brackets = memchr3(b'&', b'<', b'>', bytes);
    let mut quotes = memchr2(b'"', b'\'', bytes);
    let mut done = 0;
    loop {
        let at = match (brackets, quotes) {
            (Some(b), Some(q)) => b.min(q),
            (Some(b), None) => b,
            (None, Some(q)) => q,
            (None, None) => break,
        };
        out.push_str(&text[done..at]);
        out.push_str(entity(bytes[at]));
        done = at + 1;
        // Only the search that found `at` moves on: the other's next hit is still ahead.
        if brackets == Some(at) {
            brackets = after(done, memchr3(b'&', b'<', b'>', &bytes[done..]));
        } else {
            quotes = after(done, memchr2(b'"', b'\'', &bytes[done..]));
        }
    }
    out.push_str(&text[done..]);
}

/// Appends a number as tera prints it (in decimal), without the formatting machinery.
fn push_number(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// One buffer, reused for every value of a chunk's rows that is made here: each value is
/// written into it and copied once into the tera value (short ones are stored inline), so a
/// row costs no string of its own that grows as it is written.
#[derive(Default)]
pub(super) struct Scratch {
    buf: String,
}

impl Scratch {
    /// Text `write` appends, a value the template escapes.
    pub(super) fn text(&mut self, write: impl FnOnce(&mut String)) -> Value {
        self.buf.clear();
        write(&mut self.buf);
        Value::normal_string(&self.buf)
    }

    /// HTML `write` appends, every value in it escaped by [`push_escaped`] or [`push_run`]: a
    /// safe value, which the template prints as it is.
    pub(super) fn html(&mut self, write: impl FnOnce(&mut String)) -> Value {
        self.buf.clear();
        write(&mut self.buf);
        Value::safe_string(&self.buf)
    }
}

/// What a run of a `<pre>` of context is.
#[derive(Clone, Copy)]
pub(super) enum Run {
    /// Text as it is.
    Plain,
    /// The passage, in the council form.
    Withheld,
    /// The marker a copy shows in its place.
    Marker,
    /// Text left out, said in a note.
    Note,
}

/// Appends a run of a `<pre>` of context: a withheld passage marked, a marker boxed, text
/// left out in a note, plain text as it is; escaped. An empty run writes nothing.
pub(super) fn push_run(out: &mut String, run: Run, text: &str) {
    if text.is_empty() {
        return;
    }
    let (open, close) = match run {
        Run::Withheld => ("<mark class=\"withheld\">", "</mark>"),
        Run::Marker => ("<span class=\"marker\">", "</span>"),
        Run::Note => ("<em class=\"note\">", "</em>"),
        Run::Plain => ("", ""),
    };
    out.push_str(open);
    push_escaped(out, text);
    out.push_str(close);
}

/// Appends a `<div class="form">` for a copy that withholds the passage: its audience, and
/// its `<pre>` of context, whose runs `runs` appends.
pub(super) fn push_form(out: &mut String, audience: &str, runs: impl FnOnce(&mut String)) {
    out.push_str("\n<div class=\"form\">\n<h4>");
    push_escaped(out, audience);
    out.push_str(" Markdown</h4>\n<pre>");
    runs(out);
    out.push_str("</pre>\n</div>");
}

/// One redaction's section of the page. The `_html` fields are HTML, every value in them
/// escaped here, and safe values; the others are text, escaped by the template.
#[derive(Serialize)]
pub(super) struct EntryRow<'a> {
    number: usize,
    /// `Redaction 3 (#id): S31 & S24`.
    heading: Value,
    form: &'static str,
    /// `4:7 to 4:30 (bytes 120–143)`.
    location: Value,
    /// Each code linked to its row of the exemptions table, with its exemption; one a line.
    codes_html: Value,
    reason: &'a str,
    /// One line per qualified code: its public interest summary.
    pits_html: Value,
    words: usize,
    parent: Option<usize>,
    /// Links to the redactions inside this one; empty when none.
    nested_html: Value,
    /// A row of the audiences table per audience.
    audiences_html: Value,
    /// The council Markdown around the passage, for its `<pre>`.
    council_html: Value,
    /// A `<div class="form">` per copy that withholds the passage.
    forms_html: Value,
}

/// What a redaction's row shows of one copy.
pub(super) struct Seen<'a> {
    pub(super) audience: &'a str,
    pub(super) withheld: bool,
    /// The number of the enclosing redaction withheld whole, if not this one.
    pub(super) within: Option<usize>,
    /// The marker shown in the passage's place, where withheld.
    pub(super) marker: Option<&'a str>,
}

/// What a redaction's row shows, read from the paper and the audit's record as they are:
/// the values of its [`RedactionRecord`](super::RedactionRecord), borrowed.
pub(super) struct Entry<'a, 'r> {
    pub(super) number: usize,
    pub(super) id: Option<&'a str>,
    pub(super) form: Form,
    pub(super) codes: &'r [CodeRecord<'a>],
    /// Line and column of its start and end.
    pub(super) start: (usize, usize),
    pub(super) end: (usize, usize),
    pub(super) bytes: Span,
    pub(super) reason: Option<&'a str>,
    pub(super) words: usize,
    pub(super) parent: Option<usize>,
    /// The redactions inside it.
    pub(super) nested: &'r [Redaction],
    pub(super) seen: &'r [Seen<'r>],
}

/// Redaction `r`'s row, given its `council_html` and `forms_html` (made with [`push_run`] and
/// [`push_form`] in `scratch`).
pub(super) fn entry_row<'a>(
    scratch: &mut Scratch,
    r: &Entry<'a, '_>,
    council_html: Value,
    forms_html: Value,
) -> EntryRow<'a> {
    let heading = scratch.text(|out| {
        out.push_str("Redaction ");
        push_number(out, r.number);
        if let Some(id) = given(&r.id) {
            out.push_str(" (#");
            out.push_str(id);
            out.push(')');
        }
        for (n, c) in r.codes.iter().enumerate() {
            out.push_str(if n == 0 { ": " } else { " & " });
            out.push_str(c.code);
        }
    });
    let codes_html = scratch.html(|out| {
        for (n, c) in r.codes.iter().enumerate() {
            if n > 0 {
                out.push_str("<br>");
            }
            out.push_str("<a href=\"#code-");
            push_escaped(out, c.code);
            out.push_str("\">");
            push_escaped(out, c.code);
            out.push_str("</a>: section ");
            push_escaped(out, c.section);
            out.push_str(", ");
            push_escaped(out, c.title);
            out.push_str(" (");
            out.push_str(c.test.name());
            out.push(')');
        }
        if r.codes.is_empty() {
            out.push_str("none (presentational)");
        }
    });
    let pits_html = scratch.html(|out| {
        for (n, c) in r.codes.iter().enumerate() {
            if c.test != Test::Qualified {
                continue;
            }
            // A line break before every code but the redaction's first, qualified or not.
            if n > 0 {
                out.push_str("<br>");
            }
            push_escaped(out, c.code);
            out.push_str(": ");
            match given(&c.pit) {
                Some(pit) => {
                    push_escaped(out, pit);
                    if c.pit_source == Some("rules") {
                        out.push_str(" (default from the rules)");
                    }
                }
                None => out.push_str("<strong>no summary given</strong>"),
            }
        }
        if out.is_empty() {
            out.push_str("does not apply: every exemption relied on is absolute");
        }
    });
    let nested_html = scratch.html(|out| {
        for (n, nested) in r.nested.iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            push_redaction_link(out, nested.number);
        }
    });
    let audiences_html = scratch.html(|out| {
        for a in r.seen {
            out.push_str("\n<tr><td>");
            push_escaped(out, a.audience);
            out.push_str("</td><td>");
            if a.withheld {
                out.push_str("yes");
                if let Some(within) = a.within.filter(|&w| w != 0) {
                    out.push_str(" (inside ");
                    push_redaction_link(out, within);
                    out.push(')');
                }
            } else {
                out.push_str("no");
            }
            out.push_str("</td><td>");
            match a.marker.filter(|m| !m.is_empty()) {
                Some(marker) => {
                    out.push_str("<span class=\"marker\">");
                    push_escaped(out, marker);
                    out.push_str("</span>");
                }
                None => out.push_str("the passage"),
            }
            out.push_str("</td></tr>");
        }
    });
    let location = scratch.text(|out| {
        for (n, (line, col)) in [r.start, r.end].into_iter().enumerate() {
            if n > 0 {
                out.push_str(" to ");
            }
            push_number(out, line);
            out.push(':');
            push_number(out, col);
        }
        out.push_str(" (bytes ");
        push_number(out, r.bytes.start);
        out.push('–');
        push_number(out, r.bytes.end);
        out.push(')');
    });
    EntryRow {
        number: r.number,
        heading,
        form: r.form.name(),
        location,
        codes_html,
        reason: given(&r.reason).unwrap_or("none given"),
        pits_html,
        words: r.words,
        parent: r.parent.filter(|&p| p != 0),
        nested_html,
        audiences_html,
        council_html,
        forms_html,
    }
}

/// `<a href="#redaction-3">redaction 3</a>`.
fn push_redaction_link(out: &mut String, number: usize) {
    out.push_str("<a href=\"#redaction-");
    push_number(out, number);
    out.push_str("\">redaction ");
    push_number(out, number);
    out.push_str("</a>");
}

/// A row of the comments table.
#[derive(Serialize)]
pub(super) struct CommentRow<'a> {
    number: usize,
    /// `3:1 to 3:25`.
    location: Value,
    text: &'a str,
}

pub(super) fn comment_rows<'a>(
    scratch: &mut Scratch,
    record: &'a AuditRecord,
    range: std::ops::Range<usize>,
) -> Vec<CommentRow<'a>> {
    record.comments[range]
        .iter()
        .map(|c| CommentRow {
            number: c.number,
            location: scratch.text(|out| {
                out.push_str(&c.start);
                out.push_str(" to ");
                out.push_str(&c.end);
            }),
            text: c.text,
        })
        .collect()
}

/// A row of the proof's summary table.
#[derive(Serialize)]
pub(super) struct ProofRow<'a> {
    audience: &'a str,
    matches: &'static str,
    edits: usize,
    hunk_count: usize,
    explained: usize,
}

pub(super) fn proof_rows<'a>(record: &'a AuditRecord) -> Vec<ProofRow<'a>> {
    record
        .proof
        .iter()
        .map(|p| ProofRow {
            audience: &p.audience,
            matches: if p.matches { "yes" } else { "NO" },
            edits: p.edits,
            hunk_count: p.hunks.len(),
            explained: p
                .hunks
                .iter()
                .filter(|h| !h.explained_by.is_empty())
                .count(),
        })
        .collect()
}

/// A row of a copy's line diff; the first of a copy opens its table, the last closes it.
#[derive(Serialize)]
pub(super) struct HunkRow<'a> {
    /// The copy's audience, on the copy's first hunk.
    table: Option<&'a str>,
    /// The row's `<tr>`: its lines and what explains it, every value escaped here.
    row_html: Value,
    last: bool,
}

/// Every copy's hunks in order, as (proof, hunk) index pairs.
pub(super) fn hunk_index(record: &AuditRecord) -> Vec<(usize, usize)> {
    record
        .proof
        .iter()
        .enumerate()
        .flat_map(|(p, proof)| (0..proof.hunks.len()).map(move |h| (p, h)))
        .collect()
}

/// `12`, `12–14`, or `after 11` for a place between lines.
fn push_lines(out: &mut String, lines: &Lines) {
    match lines.count {
        0 => {
            out.push_str("after ");
            push_number(out, lines.start - 1);
        }
        1 => push_number(out, lines.start),
        n => {
            push_number(out, lines.start);
            out.push('–');
            push_number(out, lines.start + n - 1);
        }
    }
}

pub(super) fn hunk_rows<'a>(
    scratch: &mut Scratch,
    record: &'a AuditRecord,
    index: &[(usize, usize)],
) -> Vec<HunkRow<'a>> {
    index
        .iter()
        .map(|&(p, h)| {
            let proof = &record.proof[p];
            let hunk = &proof.hunks[h];
            // Line labels and numbers need no escaping; a definition's label, as cited, does.
            let row_html = scratch.html(|out| {
                out.push_str("<tr><td>");
                push_lines(out, &hunk.council);
                out.push_str("</td><td>");
                push_lines(out, &hunk.copy);
                out.push_str("</td><td>");
                for (n, cause) in hunk.explained_by.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    let redaction = match cause {
                        Cause::Marker { redaction, .. } => Some(*redaction),
                        Cause::Tag { redaction } => {
                            out.push_str("tag of ");
                            Some(*redaction)
                        }
                        Cause::Comment { comment } => {
                            out.push_str("comment ");
                            push_number(out, *comment);
                            None
                        }
                        Cause::Reference { reference } => {
                            out.push_str("definition ");
                            push_escaped(out, reference);
                            None
                        }
                        Cause::FrontMatter => {
                            out.push_str("front matter");
                            None
                        }
                        Cause::Schedule => {
                            out.push_str("schedule");
                            None
                        }
                    };
                    if let Some(redaction) = redaction.filter(|&r| r != 0) {
                        push_redaction_link(out, redaction);
                    }
                }
                out.push_str("</td></tr>");
            });
            HunkRow {
                table: (h == 0).then_some(proof.audience.as_str()),
                row_html,
                last: h + 1 == proof.hunks.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::push_escaped;
    use proptest::prelude::*;

    /// The page's HTML values are escaped here, not by the template: each must be the bytes
    /// tera's autoescape writes for the same text, whichever of the five bytes it holds, in
    /// whatever order and next to each other (the two searches must never skip one).
    fn autoescaped(text: &str) -> String {
        let mut tera = tera::Tera::new();
        tera.autoescape_on([".html"]);
        tera.add_raw_template("t.html", "{{ x }}")
            .expect("template");
        let mut context = tera::Context::new();
        context.insert("x", text);
        tera.render("t.html", &context).expect("renders")
    }

    #[test]
    fn escaped_text_is_what_autoescape_writes() {
        for text in [
            "",
            "plain",
            "&",
            "'\"<>&",
            "a&&b<<c>>d\"\"e''f",
            "<a href='x'>Q&A \"z\"</a>",
            "é&ü'€\"",
        ] {
            let mut out = String::new();
            push_escaped(&mut out, text);
            assert_eq!(out, autoescaped(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_escaped_as_autoescape_escapes_it(text in "[&<>\"'a é\\n]{0,40}") {
            let mut out = String::from("kept ");
            push_escaped(&mut out, &text);
            prop_assert_eq!(out, format!("kept {}", autoescaped(&text)));
        }

        /// Short text is escaped a byte at a time, longer text by searches: both as
        /// autoescape, on either side of the length where one gives way to the other, with
        /// few bytes to escape or many.
        #[test]
        fn short_and_long_text_are_escaped_alike(
            text in "([a-zé ]{0,9}[&<>\"']?){0,8}",
        ) {
            let mut out = String::new();
            push_escaped(&mut out, &text);
            prop_assert_eq!(out, autoescaped(&text));
        }
    }
}
