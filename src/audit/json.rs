//! The audit record written as JSON: the bytes `serde_json::to_writer_pretty` writes for
//! [`AuditRecord`], with the lists that grow with a paper (redactions, comments, the proof's
//! hunks) written here field by field. serde spent most of the record's time in its
//! per-field machinery and in tiny writes; the rest of the record is small and still goes
//! through serde. A test compares both writers over every fixture and generated paper, so a
//! field added to a record and not here fails it.
//!
//! The layout is serde_json's `PrettyFormatter`: two spaces a level, `"key": value`, `[]` and
//! `{}` when empty, strings escaped as serde_json escapes them (`"`, `\`, and control
//! characters; nothing else).

use std::io::Write;

use serde::Serialize;

use super::{
    AudienceRecord, AuditInput, AuditRecord, CodeRecord, CommentRecord, Redactions, Totals,
    code_records,
};
use crate::proof::{Cause, Hunk, Lines, Proof};
use crate::span::Span;

/// Bytes gathered before they go to the writer.
const CHUNK: usize = 1 << 16;

/// A pretty JSON writer that keeps serde_json's layout.
struct Json<'w> {
    buf: Vec<u8>,
    out: &'w mut dyn Write,
    /// Nesting depth: the indentation of the next key or element.
    depth: usize,
    /// Nothing has been written yet in the innermost open object or array.
    first: bool,
}

const INDENT: &[u8; 64] = b"\n                                                               ";

impl<'w> Json<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Json {
            buf: Vec::with_capacity(CHUNK + 4096),
            out,
            depth: 0,
            first: true,
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    /// A new line at the current depth.
    fn newline(&mut self) {
        let width = 1 + 2 * self.depth;
        if width <= INDENT.len() {
            // A copy of fixed length, cut back: no call to copy a few bytes.
            let at = self.buf.len();
            self.buf.extend_from_slice(INDENT);
            self.buf.truncate(at + width);
        } else {
            self.buf.push(b'\n');
            self.buf.resize(self.buf.len() + 2 * self.depth, b' ');
        }
    }

    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
        self.first = true;
    }

    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.buf.push(bracket);
        self.first = false;
    }

    /// Before an element of an array.
    fn element(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.newline();
        self.first = false;
    }

    /// Before a value in an object: `"key": `. Keys are field names, which need no escape.
    fn key(&mut self, key: &str) {
        self.element();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\": ");
    }

    fn str(&mut self, value: &str) {
        escape_into(&mut self.buf, value);
    }

    fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.str(v),
            None => self.null(),
        }
    }

    fn uint(&mut self, value: usize) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn opt_uint(&mut self, value: Option<usize>) {
        match value {
            Some(v) => self.uint(v),
            None => self.null(),
        }
    }

    fn bool(&mut self, value: bool) {
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    fn field_str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.str(value);
    }

    fn field_uint(&mut self, key: &str, value: usize) {
        self.key(key);
        self.uint(value);
    }

    /// A value serde writes, at the current depth: serde_json escapes every line break inside
    /// a string, so each one in its output is layout, indented here to the depth.
    fn serde(&mut self, value: &impl Serialize) -> Result<(), serde_json::Error> {
        let mut scratch = Vec::new();
        serde_json::to_writer_pretty(&mut scratch, value)?;
        let mut lines = scratch.split(|&b| b == b'\n');
        if let Some(head) = lines.next() {
            self.buf.extend_from_slice(head);
        }
        for line in lines {
            self.newline();
            self.buf.extend_from_slice(line);
        }
        self.first = false;
        Ok(())
    }

    fn field_serde(&mut self, key: &str, value: &impl Serialize) -> Result<(), serde_json::Error> {
        self.key(key);
        self.serde(value)
    }

    fn span(&mut self, key: &str, span: Span) {
        self.key(key);
        self.open(b'{');
        self.field_uint("start", span.start);
        self.field_uint("end", span.end);
        self.close(b'}');
    }

    fn lines(&mut self, key: &str, lines: &Lines) {
        self.key(key);
        self.open(b'{');
        self.field_uint("start", lines.start);
        self.field_uint("count", lines.count);
        self.close(b'}');
    }

    fn code(&mut self, c: &CodeRecord) {
        self.element();
        self.open(b'{');
        self.field_str("code", c.code);
        self.field_str("section", c.section);
        self.field_str("title", c.title);
        self.field_str("test", c.test.name());
        self.key("pit");
        self.opt_str(c.pit);
        self.key("pit_source");
        self.opt_str(c.pit_source);
        self.close(b'}');
    }

    /// `"line:col"`.
    fn line_col(&mut self, key: &str, (line, col): (usize, usize)) {
        self.key(key);
        self.buf.push(b'"');
        self.uint(line);
        self.buf.push(b':');
        self.uint(col);
        self.buf.push(b'"');
    }

    /// Redaction `k`'s record, as [`Redactions::get`] makes it and serde writes it, written
    /// from the paper without making it.
    fn redaction(&mut self, rs: &Redactions, k: usize) {
        let AuditInput {
            text,
            paper,
            copies,
            ..
        } = *rs.input;
        let r = &paper.redactions[k];
        self.element();
        self.open(b'{');
        self.field_uint("number", r.number);
        self.key("id");
        self.opt_str(r.id.as_deref());
        self.field_str("form", r.form.name());
        self.key("codes");
        self.open(b'[');
        for c in code_records(r, &rs.exemptions) {
            self.code(&c);
        }
        self.close(b']');
        let place = rs.places[k];
        self.line_col("start", place.start);
        self.line_col("end", place.end);
        self.span("bytes", r.span);
        self.field_str("text", &text[r.span.start..r.span.end]);
        self.key("reason");
        self.opt_str(r.reason.as_deref());
        self.key("pit");
        self.opt_str(r.pit.as_deref());
        self.field_uint("words", place.words);
        self.key("parent");
        self.opt_uint(r.parent.map(|p| p + 1));
        self.key("nested");
        self.open(b'[');
        for d in paper.descendants(k) {
            self.element();
            self.uint(d.number);
        }
        self.close(b']');
        self.key("audiences");
        self.open(b'[');
        let per_audience = copies
            .iter()
            .zip(&rs.within)
            .zip(&rs.markers)
            .zip(&rs.references);
        for (((c, w), labels), references) in per_audience {
            let outer = w[k];
            self.element();
            self.open(b'{');
            self.field_str("audience", &c.audience.name);
            self.key("withheld");
            self.bool(outer.is_some());
            self.key("marker");
            self.opt_str(outer.and_then(|o| labels[o].as_deref()));
            self.key("within");
            self.opt_uint(outer.filter(|&o| o != k).map(|o| o + 1));
            if let Some(list) = references.get(&k).filter(|l| !l.is_empty()) {
                self.key("references");
                self.open(b'[');
                for name in list {
                    self.element();
                    self.str(name);
                }
                self.close(b']');
            }
            self.close(b'}');
        }
        self.close(b']');
        self.close(b'}');
    }

    fn comment(&mut self, c: &CommentRecord) {
        self.element();
        self.open(b'{');
        self.field_uint("number", c.number);
        self.field_str("start", &c.start);
        self.field_str("end", &c.end);
        self.span("bytes", c.bytes);
        self.field_str("text", c.text);
        self.close(b'}');
    }

    fn cause(&mut self, cause: &Cause) {
        self.element();
        self.open(b'{');
        match cause {
            Cause::FrontMatter => self.field_str("kind", "front_matter"),
            Cause::Comment { comment } => {
                self.field_str("kind", "comment");
                self.field_uint("comment", *comment);
            }
            Cause::Reference { reference } => {
                self.field_str("kind", "reference");
                self.field_str("reference", reference);
            }
            Cause::Marker { redaction, marker } => {
                self.field_str("kind", "marker");
                self.field_uint("redaction", *redaction);
                self.field_str("marker", marker);
            }
            Cause::Tag { redaction } => {
                self.field_str("kind", "tag");
                self.field_uint("redaction", *redaction);
            }
            Cause::Schedule => self.field_str("kind", "schedule"),
        }
        self.close(b'}');
    }

    fn hunk(&mut self, hunk: &Hunk) {
        self.element();
        self.open(b'{');
        self.lines("council", &hunk.council);
        self.lines("copy", &hunk.copy);
        self.key("explained_by");
        self.open(b'[');
        for cause in &hunk.explained_by {
            self.cause(cause);
        }
        self.close(b']');
        self.close(b'}');
    }

    /// A float as serde_json writes it (its own serializer, so the digits are its digits).
    fn float(&mut self, value: f64) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut self.buf, &value)
    }

    fn audience_records(&mut self, audiences: &[AudienceRecord]) {
        self.key("audiences");
        self.open(b'[');
        for a in audiences {
            self.element();
            self.open(b'{');
            self.field_str("name", &a.name);
            self.field_str("marking", &a.marking);
            self.key("withholds");
            self.open(b'[');
            for code in &a.withholds {
                self.element();
                self.str(code);
            }
            self.close(b']');
            self.key("combined");
            self.open(b'[');
            for c in &a.combined {
                self.element();
                self.open(b'{');
                self.field_str("code", &c.code);
                self.field_str("label", &c.label);
                self.close(b'}');
            }
            self.close(b']');
            self.key("schedule");
            self.bool(a.schedule);
            self.close(b'}');
        }
        self.close(b']');
    }

    fn totals(&mut self, totals: &Totals) -> Result<(), serde_json::Error> {
        self.key("totals");
        self.open(b'{');
        self.field_uint("body_words", totals.body_words);
        self.key("codes");
        self.open(b'[');
        for c in &totals.codes {
            self.element();
            self.open(b'{');
            self.field_str("code", &c.code);
            self.field_str("section", &c.section);
            self.field_str("title", &c.title);
            self.field_str("test", c.test.name());
            self.field_uint("redactions", c.redactions);
            self.field_uint("words", c.words);
            self.key("share");
            self.float(c.share)?;
            self.close(b'}');
        }
        self.close(b']');
        self.key("audiences");
        self.open(b'[');
        for a in &totals.audiences {
            self.element();
            self.open(b'{');
            self.field_str("audience", &a.audience);
            self.field_uint("redactions", a.redactions);
            self.field_uint("markers", a.markers);
            self.field_uint("words", a.words);
            self.key("share");
            self.float(a.share)?;
            self.key("codes");
            self.open(b'[');
            for c in &a.codes {
                self.element();
                self.open(b'{');
                self.field_str("code", &c.code);
                self.field_uint("redactions", c.redactions);
                self.field_uint("words", c.words);
                self.close(b'}');
            }
            self.close(b']');
            self.key("schedule");
            match &a.schedule {
                None => self.null(),
                Some(rows) => {
                    self.open(b'[');
                    for row in rows {
                        self.element();
                        self.open(b'{');
                        self.field_str("label", &row.label);
                        self.field_str("section", &row.section);
                        self.field_str("title", &row.title);
                        self.field_uint("passages", row.passages);
                        self.close(b'}');
                    }
                    self.close(b']');
                }
            }
            self.close(b'}');
        }
        self.close(b']');
        self.close(b'}');
        Ok(())
    }

    fn proof(&mut self, proof: &Proof) -> std::io::Result<()> {
        self.element();
        self.open(b'{');
        self.field_str("audience", &proof.audience);
        self.key("matches");
        self.bool(proof.matches);
        self.field_uint("edits", proof.edits);
        self.key("hunks");
        self.open(b'[');
        for hunk in &proof.hunks {
            self.hunk(hunk);
            self.spill()?;
        }
        self.close(b']');
        self.close(b'}');
        Ok(())
    }
}

/// What serde_json writes for a byte inside a string: 0 for the byte itself, `u` for
/// `\u00XX`, or the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of 8 bytes needs an escape: is below 0x20, a `"` or a `\\` (the classic
/// tests for a zero or smaller byte in a word, exact about whether there is one).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    below_space | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
        != 0
}

/// `value` as a JSON string, quotes included, escaped as serde_json escapes it.
fn escape_into(buf: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    // Eight bytes at a time up to the first that may need an escape; then byte by byte.
    let mut clean = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        clean += 8;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let escape = ESCAPE[b as usize];
        if escape == 0 {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            buf.extend_from_slice(&[b'\\', escape]);
        }
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Writes `record` as `serde_json::to_writer_pretty` would, and a final line break.
pub(super) fn write_record(record: &AuditRecord, out: &mut dyn Write) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot write the audit record: {e}");
    let mut w = Json::new(out);
    w.open(b'{');
    w.field_uint("schema", record.schema as usize);
    w.field_str("marking", &record.marking);
    w.field_serde("paper", &record.paper)
        .map_err(|e| fail(&e))?;
    w.field_serde("rules", &record.rules)
        .map_err(|e| fail(&e))?;
    w.field_serde("templates", &record.templates)
        .map_err(|e| fail(&e))?;
    w.field_serde("release", &record.release)
        .map_err(|e| fail(&e))?;
    w.audience_records(&record.audiences);
    w.key("redactions");
    w.open(b'[');
    for k in 0..record.redactions.len() {
        w.redaction(&record.redactions, k);
        w.spill().map_err(|e| fail(&e))?;
    }
    w.close(b']');
    w.key("comments");
    w.open(b'[');
    for c in &record.comments {
        w.comment(c);
        w.spill().map_err(|e| fail(&e))?;
    }
    w.close(b']');
    w.totals(&record.totals).map_err(|e| fail(&e))?;
    w.key("proof");
    w.open(b'[');
    for proof in &record.proof {
        w.proof(proof).map_err(|e| fail(&e))?;
    }
    w.close(b']');
    w.field_serde("warnings", &record.warnings)
        .map_err(|e| fail(&e))?;
    w.close(b'}');
    w.finish().map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::audit::{AuditInput, CopyOutput, prepare};
    use crate::parse::parse_paper;
    use crate::redact::copy_for;
    use crate::render::{Templates, copy_markdown};
    use crate::rules::{Origin, Rules};
    use crate::schedule::{Release, schedule_for};

    /// Every paper under `fixtures/` and `tests/` that builds, and papers made to reach each
    /// branch: escapes of every kind, ids, reasons, references, floats, nesting, CRLF.
    fn papers() -> Vec<String> {
        let mut papers: Vec<String> = ["fixtures", "tests"]
            .iter()
            .flat_map(|dir| walkdir::WalkDir::new(dir).sort_by_file_name())
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        let controls: String = (0u8..0x20)
            .filter(|&b| b != b'\n' && b != b'\r')
            .map(char::from)
            .collect();
        papers.push(format!(
            "---\ntitle: \"Esc \\\" \\\\ \\t {}\"\nclassification: SECRET\n---\n\n\
             <!-- note \" \\ \u{7f} é -->\n\n\
             One [two \" \\ {controls} \u{2028} é]{{.S23 .S31 #id-1 reason=\"a \\\\ \" pit=\"b\\\" c\"}} three.\n\n\
             Uses [^n] and [x][lbl] in [withheld [^n] [x][lbl]]{{.S24}}.\n\n\
             [^n]: Note.\n\n[lbl]: https://example.org\n\n\
             ::: {{.S40 pit=\"p\"}}\nNested [five]{{.S31}} and [six]{{.S43 pit=\"q\"}}.\n:::\n\n\
             ## Heading {{.S31 #h}}\n\nSection [seven]{{.S23}}.\r\n\n## Next\n\nEnd.\n",
            "\\u0001"
        ));
        papers.push(
            "---\ntitle: Nothing\nclassification: OFFICIAL\n---\n\nNo redactions.\n".to_string(),
        );
        papers.push("---\ntitle: Empty\nclassification: OFFICIAL\n---\n".to_string());
        let many: String = (0..300)
            .map(|i| format!("Para {i} [w{i}]{{.S31 pit=\"p\"}} end <!-- c{i} -->.\n\n"))
            .collect();
        papers.push(format!(
            "---\ntitle: Many\nclassification: OFFICIAL\n---\n\n{many}"
        ));
        papers
    }

    /// Strings are escaped as serde_json escapes them, wherever the byte to escape falls.
    #[test]
    fn strings_are_escaped_as_serde_escapes_them() {
        let mut rng = crate::test_rng::Lcg::new(3);
        let mut next = |n: usize| rng.below(n);
        for _ in 0..20_000 {
            let text: String = (0..next(40))
                .map(|_| match next(10) {
                    0 => char::from(next(0x20) as u8),
                    1 => '"',
                    2 => '\\',
                    3 => '\u{7f}',
                    4 => 'é',
                    5 => '\u{2028}',
                    6 => '/',
                    _ => char::from(b'a' + next(26) as u8),
                })
                .collect();
            let mut ours = Vec::new();
            super::escape_into(&mut ours, &text);
            let serde = serde_json::to_vec(&text).expect("serialized");
            assert_eq!(ours, serde, "{text:?}");
        }
    }

    /// The record written field by field is byte for byte what serde_json writes for it.
    #[test]
    fn record_written_by_hand_is_what_serde_writes() {
        let templates = Templates::embedded().expect("embedded templates");
        let mut rule_files = crate::rules::DEFAULT_RULES.map(|(n, t)| (n, t.to_string()));
        rule_files[2].1 = rule_files[2]
            .1
            .replace("combine: []", "combine: [[S23, S24]]");
        let rule_sets = [
            Rules::embedded().expect("embedded rules"),
            Rules::from_files(&rule_files, Origin::Embedded).expect("edited rules"),
        ];
        let releases = [
            Release::default(),
            Release {
                request: Some("FOI \"1\" \\ 2".to_string()),
                date: Some("2024-01-02".to_string()),
            },
        ];
        let papers = papers();
        // The papers made for this test must build, or their branches go untested.
        for text in &papers[papers.len() - 4..] {
            parse_paper(text, &rule_sets[0]).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        }
        let mut compared = 0;
        for text in papers {
            for rules in &rule_sets {
                let Ok(paper) = parse_paper(&text, rules) else {
                    continue;
                };
                for release in &releases {
                    let copies: Vec<CopyOutput> = rules
                        .audiences
                        .iter()
                        .filter(|a| !paper.front_matter.withheld_from(a))
                        .map(|audience| {
                            let copy = copy_for(&paper, &text, audience);
                            let schedule = schedule_for(&paper, audience, rules, release);
                            let markdown = copy_markdown(&copy, schedule.as_ref()).into_owned();
                            CopyOutput {
                                audience,
                                schedule,
                                markdown: markdown.into(),
                            }
                        })
                        .collect();
                    let input = AuditInput {
                        path: Path::new("dir/a \"b\".md"),
                        name: "a \"b\"",
                        text: &text,
                        paper: &paper,
                        rules,
                        templates: &templates,
                        release,
                        copies: &copies,
                    };
                    let prepared = prepare(&input);
                    let mut by_hand = Vec::new();
                    prepared.write_json(&mut by_hand).expect("written");
                    let mut by_serde =
                        serde_json::to_vec_pretty(&prepared.record).expect("serialized");
                    by_serde.push(b'\n');
                    if by_hand != by_serde {
                        let at = by_hand
                            .iter()
                            .zip(&by_serde)
                            .position(|(a, b)| a != b)
                            .unwrap_or(by_hand.len().min(by_serde.len()));
                        let show = |v: &[u8]| {
                            String::from_utf8_lossy(
                                &v[at.saturating_sub(200)..(at + 100).min(v.len())],
                            )
                            .into_owned()
                        };
                        panic!(
                            "differs at byte {at}:\nHAND  {}\nSERDE {}\n{text}",
                            show(&by_hand),
                            show(&by_serde)
                        );
                    }
                    compared += 1;
                }
            }
        }
        assert!(compared > 300, "only {compared} records compared");
    }
}
