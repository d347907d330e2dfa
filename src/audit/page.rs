//! The loops of the default audit page, written in Rust: each `{% for %}` loop of
//! templates/audit.html that [`crate::render::AUDIT_LOOPS`] names, byte for byte. The loops
//! are most of the page and, rendered by tera, were most of the cost of a build (a tera value
//! for every field of every redaction and hunk, then an interpreted loop over them). render.rs
//! registers the cut-down template only when the audit template is, byte for byte, the one
//! this was written for (`render::AUDIT_LOOPS_WRITTEN_FOR`); any other audit template is
//! rendered by tera as written. A test renders papers both ways and compares the bytes.
//!
//! Every value is escaped as tera's autoescape escapes it (`&`, `<`, `>`, `"`, `'`).

use std::fmt::Write as _;

use super::{AuditRecord, EntryView, Segment, lines_label, percent};
use crate::model::Form;
use crate::proof::Cause;
use crate::rules::Test;

/// Appends `text` escaped as tera's HTML autoescape does.
fn escape(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let with = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[from..i]);
        out.push_str(with);
        from = i + 1;
    }
    out.push_str(&text[from..]);
}

fn number(out: &mut String, n: usize) {
    let _ = write!(out, "{n}");
}

/// tera's truthiness of an optional string: present and not empty.
fn given<'a>(value: &Option<&'a str>) -> Option<&'a str> {
    value.filter(|v| !v.is_empty())
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Span => "span",
        Form::Div => "div",
        Form::Heading => "heading",
    }
}

fn test_name(test: Test) -> &'static str {
    match test {
        Test::Absolute => "absolute",
        Test::Qualified => "qualified",
    }
}

fn segments(out: &mut String, segments: &[Segment], highlight: &str, open: &str, close: &str) {
    for s in segments {
        if s.kind == highlight {
            out.push_str(open);
            escape(out, &s.text);
            out.push_str(close);
        } else if s.kind == "note" {
            out.push_str("<em class=\"note\">");
            escape(out, &s.text);
            out.push_str("</em>");
        } else {
            escape(out, &s.text);
        }
    }
}

/// One iteration of the template's entries loop.
pub(super) fn write_entry(out: &mut String, e: &EntryView) {
    let r = e.record;
    out.push_str("\n<section class=\"entry\" id=\"");
    escape(out, &e.anchor);
    out.push_str("\">\n<h3>Redaction ");
    number(out, r.number);
    if let Some(id) = given(&r.id) {
        out.push_str(" (#");
        escape(out, id);
        out.push(')');
    }
    for (n, c) in r.codes.iter().enumerate() {
        out.push_str(if n == 0 { ": " } else { " &amp; " });
        escape(out, c.code);
    }
    out.push_str("</h3>\n<dl class=\"details\">\n<dt>Form</dt><dd>");
    out.push_str(form_name(r.form));
    out.push_str("</dd>\n<dt>Location</dt><dd>");
    escape(out, &r.start);
    out.push_str(" to ");
    escape(out, &r.end);
    out.push_str(" (bytes ");
    number(out, r.bytes.start);
    out.push('–');
    number(out, r.bytes.end);
    out.push_str(")</dd>\n<dt>Exemptions</dt><dd>");
    for (n, c) in r.codes.iter().enumerate() {
        if n > 0 {
            out.push_str("<br>");
        }
        out.push_str("<a href=\"#code-");
        escape(out, c.code);
        out.push_str("\">");
        escape(out, c.code);
        out.push_str("</a>: section ");
        escape(out, c.section);
        out.push_str(", ");
        escape(out, c.title);
        out.push_str(" (");
        out.push_str(test_name(c.test));
        out.push(')');
    }
    if r.codes.is_empty() {
        out.push_str("none (presentational)");
    }
    out.push_str("</dd>\n<dt>Reason</dt><dd>");
    match given(&r.reason) {
        Some(reason) => escape(out, reason),
        None => out.push_str("none given"),
    }
    out.push_str("</dd>\n<dt>Public interest test</dt><dd>");
    if e.qualified {
        for (n, c) in r.codes.iter().enumerate() {
            if c.test != Test::Qualified {
                continue;
            }
            // `loop.first` counts every code, qualified or not.
            if n > 0 {
                out.push_str("<br>");
            }
            escape(out, c.code);
            out.push_str(": ");
            match given(&c.pit) {
                Some(pit) => {
                    escape(out, pit);
                    if c.pit_source == Some("rules") {
                        out.push_str(" (default from the rules)");
                    }
                }
                None => out.push_str("<strong>no summary given</strong>"),
            }
        }
    } else {
        out.push_str("does not apply: every exemption relied on is absolute");
    }
    out.push_str("</dd>\n<dt>Words withheld</dt><dd>");
    number(out, r.words);
    out.push_str("</dd>");
    if let Some(parent) = r.parent.filter(|&p| p != 0) {
        out.push_str("\n<dt>Inside</dt><dd><a href=\"#redaction-");
        number(out, parent);
        out.push_str("\">redaction ");
        number(out, parent);
        out.push_str("</a></dd>");
    }
    if !r.nested.is_empty() {
        out.push_str("\n<dt>Contains</dt><dd>");
        for (n, nested) in r.nested.iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str("<a href=\"#redaction-");
            number(out, *nested);
            out.push_str("\">redaction ");
            number(out, *nested);
            out.push_str("</a>");
        }
        out.push_str("</dd>");
    }
    out.push_str("\n</dl>\n<table>\n<thead><tr><th scope=\"col\">Audience</th><th scope=\"col\">Withheld</th><th scope=\"col\">Shown in its place</th></tr></thead>\n<tbody>");
    for a in &r.audiences {
        out.push_str("\n<tr><td>");
        escape(out, a.audience);
        out.push_str("</td><td>");
        if a.withheld {
            out.push_str("yes");
            if let Some(within) = a.within.filter(|&w| w != 0) {
                out.push_str(" (inside <a href=\"#redaction-");
                number(out, within);
                out.push_str("\">redaction ");
                number(out, within);
                out.push_str("</a>)");
            }
        } else {
            out.push_str("no");
        }
        out.push_str("</td><td>");
        match a.marker.as_deref().filter(|m| !m.is_empty()) {
            Some(marker) => {
                out.push_str("<span class=\"marker\">");
                escape(out, marker);
                out.push_str("</span>");
            }
            None => out.push_str("the passage"),
        }
        out.push_str("</td></tr>");
    }
    out.push_str("\n</tbody>\n</table>\n<div class=\"forms\">\n<div class=\"form\">\n<h4>Source (council Markdown)</h4>\n<pre>");
    segments(
        out,
        &e.council,
        "withheld",
        "<mark class=\"withheld\">",
        "</mark>",
    );
    out.push_str("</pre>\n</div>");
    for f in &e.forms {
        out.push_str("\n<div class=\"form\">\n<h4>");
        escape(out, f.audience);
        out.push_str(" Markdown</h4>\n<pre>");
        segments(
            out,
            &f.segments,
            "marker",
            "<span class=\"marker\">",
            "</span>",
        );
        out.push_str("</pre>\n</div>");
    }
    out.push_str("\n</div>\n</section>");
}

/// `{%- for c in codes %}`: one row per code relied on, linking its redactions.
pub(super) fn codes(out: &mut String, record: &AuditRecord) {
    for t in &record.totals.codes {
        out.push_str("\n<tr id=\"code-");
        escape(out, &t.code);
        out.push_str("\"><td>");
        escape(out, &t.code);
        out.push_str("</td><td>section ");
        escape(out, &t.section);
        out.push_str(", ");
        escape(out, &t.title);
        out.push_str("</td><td>");
        out.push_str(test_name(t.test));
        out.push_str("</td><td>");
        out.push_str(if t.test == Test::Qualified {
            "yes"
        } else {
            "no"
        });
        out.push_str("</td><td>");
        number(out, t.redactions);
        out.push(':');
        for r in &record.redactions.input.paper.redactions {
            if r.codes.iter().any(|c| c.as_str() == t.code) {
                out.push_str(" <a href=\"#redaction-");
                number(out, r.number);
                out.push_str("\">");
                number(out, r.number);
                out.push_str("</a>");
            }
        }
        out.push_str("</td><td class=\"number\">");
        number(out, t.words);
        out.push_str("</td><td class=\"number\">");
        escape(out, &percent(t.share));
        out.push_str("</td></tr>");
    }
}

/// `{%- for a in audiences %}`: one row per copy.
pub(super) fn audiences(out: &mut String, record: &AuditRecord) {
    for (t, a) in record.totals.audiences.iter().zip(&record.audiences) {
        out.push_str("\n<tr><td>");
        escape(out, &t.audience);
        out.push_str("</td><td>");
        escape(out, &a.marking);
        out.push_str("</td><td class=\"number\">");
        number(out, t.redactions);
        out.push_str("</td><td class=\"number\">");
        number(out, t.markers);
        out.push_str("</td><td class=\"number\">");
        number(out, t.words);
        out.push_str("</td><td class=\"number\">");
        escape(out, &percent(t.share));
        out.push_str("</td><td>");
        match &t.schedule {
            None => out.push_str("none"),
            Some(rows) if rows.is_empty() => out.push_str("nothing withheld"),
            Some(rows) => {
                for (n, row) in rows.iter().enumerate() {
                    if n > 0 {
                        out.push_str("; ");
                    }
                    escape(out, &row.label);
                    out.push_str(": ");
                    number(out, row.passages);
                }
            }
        }
        out.push_str("</td></tr>");
    }
}

/// `{%- for c in comments %}`: one row per comment removed.
pub(super) fn comments(out: &mut String, record: &AuditRecord) {
    for c in &record.comments {
        out.push_str("\n<tr><td>");
        number(out, c.number);
        out.push_str("</td><td>");
        escape(out, &c.start);
        out.push_str(" to ");
        escape(out, &c.end);
        out.push_str("</td><td><code>");
        escape(out, c.text);
        out.push_str("</code></td></tr>");
    }
}

/// The first `{%- for p in proofs %}`: one summary row per copy.
pub(super) fn proofs(out: &mut String, record: &AuditRecord) {
    for p in &record.proof {
        out.push_str("\n<tr><td>");
        escape(out, &p.audience);
        out.push_str("</td><td class=\"ok\">");
        out.push_str(if p.matches { "yes" } else { "NO" });
        out.push_str("</td><td class=\"number\">");
        number(out, p.edits);
        out.push_str("</td><td class=\"number\">");
        number(out, p.hunks.len());
        out.push_str("</td><td class=\"number\">");
        number(
            out,
            p.hunks
                .iter()
                .filter(|h| !h.explained_by.is_empty())
                .count(),
        );
        out.push_str("</td></tr>");
    }
}

/// The second `{%- for p in proofs %}`: each copy's hunks and what explains them.
pub(super) fn hunks(out: &mut String, record: &AuditRecord) {
    for p in record.proof.iter().filter(|p| !p.hunks.is_empty()) {
        out.push_str("\n<h3>Line diff, council to ");
        escape(out, &p.audience);
        out.push_str("</h3>\n<p>Each hunk lists the declared changes it overlaps (a diff may pair blank lines either side of a change).</p>\n<table>\n<thead><tr><th scope=\"col\">Council lines</th><th scope=\"col\">Copy lines</th><th scope=\"col\">Explained by</th></tr></thead>\n<tbody>");
        for h in &p.hunks {
            out.push_str("\n<tr><td>");
            escape(out, &lines_label(&h.council));
            out.push_str("</td><td>");
            escape(out, &lines_label(&h.copy));
            out.push_str("</td><td>");
            for (n, cause) in h.explained_by.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                match cause {
                    Cause::Marker { redaction, .. } => {
                        out.push_str("<a href=\"#redaction-");
                        number(out, *redaction);
                        out.push_str("\">redaction ");
                        number(out, *redaction);
                        out.push_str("</a>");
                    }
                    Cause::Comment { comment } => {
                        out.push_str("comment ");
                        number(out, *comment);
                    }
                    Cause::Tag { redaction } => {
                        out.push_str("tag of <a href=\"#redaction-");
                        number(out, *redaction);
                        out.push_str("\">redaction ");
                        number(out, *redaction);
                        out.push_str("</a>");
                    }
                    Cause::Reference { reference } => {
                        out.push_str("definition ");
                        escape(out, reference);
                    }
                    Cause::FrontMatter => out.push_str("front matter"),
                    Cause::Schedule => out.push_str("schedule"),
                }
            }
            out.push_str("</td></tr>");
        }
        out.push_str("\n</tbody>\n</table>");
    }
}

/// `{%- for w in warnings %}`.
pub(super) fn warnings(out: &mut String, record: &AuditRecord) {
    for w in &record.warnings {
        out.push_str("\n<li>");
        escape(out, w);
        out.push_str("</li>");
    }
}
