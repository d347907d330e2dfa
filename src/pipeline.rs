//! One paper, start to finish: parse, hold its raw HTML to the allowlist, redact for each
//! audience, render, read each copy again (reread.rs), audit. The caller reads the text and
//! gives a [`Sink`] for the files: memory, or the writer's staging folder, where each file goes
//! as it is rendered so a large paper's outputs are never held at once.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::audit::{AuditInput, CopyOutput, Verdict, prepare, verify};
use crate::error::{Diagnostic, Error};
use crate::front_matter::key_span;
use crate::html_policy;
use crate::model::Paper;
use crate::parse::parse_paper;
use crate::redact::copy_for;
use crate::render::{PageSource, Templates, copy_markdown};
use crate::reread::{Code, Layout, Reader, Reading, stray_error};
use crate::rules::Rules;
use crate::schedule::{Release, schedule_for, whole_paper_schedule};
use crate::source::source_error;
use crate::write::{Memory, Output, Sink};

/// The folder audits are written to. rules.rs refuses an audience of this name, so an audit,
/// which holds withheld text, never lands in an audience's folder.
pub const AUDIT_FOLDER: &str = "audit";

/// What building one paper produced.
#[derive(Debug)]
pub struct Built {
    /// Every file to write; empty when there are findings (the paper is all or nothing).
    pub outputs: Vec<Output>,
    pub paper: Paper,
    /// The audit's proof failed: report each, exit 1, write no copy of this paper.
    pub findings: Vec<String>,
    /// Reported on stderr; never a failure.
    pub warnings: Vec<String>,
}

/// Every file a paper's build writes, whether or not it succeeds (to remove stale copies).
pub fn output_paths(name: &str, rules: &Rules) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for audience in &rules.audiences {
        for ext in ["md", "html"] {
            out.push(Path::new(&audience.name).join(format!("{name}.{ext}")));
        }
    }
    for ext in ["json", "html"] {
        out.push(Path::new(AUDIT_FOLDER).join(format!("{name}.{ext}")));
    }
    out
}

/// What building one paper into a [`Sink`] produced; its files are in the sink.
#[derive(Debug)]
pub struct Streamed {
    pub paper: Paper,
    /// The audit's proof failed: report each, exit 1, and discard what the sink holds (the
    /// copies were written before the proof; the audit was not).
    pub findings: Vec<String>,
    /// Reported on stderr; never a failure.
    pub warnings: Vec<String>,
}

/// Parses `text`, renders every audience's copies and audits them, in memory.
pub fn build_paper(
    path: &Path,
    name: &str,
    text: &str,
    rules: &Rules,
    templates: &Templates,
    release: &Release,
) -> Result<Built, Error> {
    build_paper_only(path, name, text, rules, templates, release, None)
}

/// As [`build_paper`], rendering only the files in `only` when given (the proof still runs on
/// every audience's copy): `check` asks for the public copies alone.
pub fn build_paper_only(
    path: &Path,
    name: &str,
    text: &str,
    rules: &Rules,
    templates: &Templates,
    release: &Release,
    only: Option<Vec<PathBuf>>,
) -> Result<Built, Error> {
    let mut memory = Memory {
        outputs: Vec::new(),
        only,
    };
    let streamed = build_paper_into(path, name, text, rules, templates, release, &mut memory)?;
    let mut outputs = memory.outputs;
    if !streamed.findings.is_empty() {
        outputs.clear();
    }
    Ok(Built {
        outputs,
        paper: streamed.paper,
        findings: streamed.findings,
        warnings: streamed.warnings,
    })
}

/// Parses `text`, renders every audience's copies and audits them, writing each file into
/// `sink` as it is rendered, so no paper's outputs are ever held whole at once.
pub fn build_paper_into(
    path: &Path,
    name: &str,
    text: &str,
    rules: &Rules,
    templates: &Templates,
    release: &Release,
    sink: &mut dyn Sink,
) -> Result<Streamed, Error> {
    if let Some(message) = crate::index::reserved(name) {
        return Err(Error::path(path, message));
    }
    let paper = parse_paper(text, rules).map_err(|d| source_error(path, text, d))?;
    // Raw HTML that could load or run something is refused before any copy is made.
    html_policy::check(&paper, text).map_err(|d| source_error(path, text, d))?;
    let reader = Reader::of(rules);
    if let Some(word) = paper.front_matter.withheld_title_word_in(name) {
        return Err(source_error(
            path,
            text,
            Diagnostic::new(
                key_span(text, "title"),
                format!("the paper's name `{name}` repeats `{word}`, a word of its withheld title"),
            )
            .hint("file names are public in every audience's folder: rename the paper"),
        ));
    }
    let mut copies = Vec::with_capacity(rules.audiences.len());
    // Tags the second reader excused as code amid other text in a code span or an indented
    // code block, by source offset.
    let mut in_code = std::collections::BTreeMap::new();
    for audience in &rules.audiences {
        if paper.front_matter.withheld_from(audience) {
            // Neither confirm nor deny: no file at all. Otherwise a notice in its place.
            if !paper.front_matter.denied_to(audience) {
                emit_withheld_notice(
                    sink, path, name, &paper, audience, rules, templates, release,
                )?;
            }
            continue;
        }
        let copy = copy_for(&paper, text, audience);
        let schedule = schedule_for(&paper, audience, rules, release);
        let md = copy_markdown(&copy, schedule.as_ref());
        let html = Path::new(&audience.name).join(format!("{name}.html"));
        // The second reader, before any of this copy is kept: the council Markdown is the
        // source and is not read; the rest of this audience's copies are.
        let mut layout = Layout::default();
        let reading = if copy.source.is_none() || sink.wants(&html) {
            layout = Layout::of(&copy, text, &md);
            let reading = reader.markdown(&md, &layout.visible);
            if copy.source.is_none() {
                for (stray, code) in &reading.amid_code {
                    if let Some(at) = layout.source_offset(stray.at.start) {
                        in_code
                            .entry(at)
                            .or_insert_with(|| (stray.describe(), *code));
                    }
                }
            }
            if copy.source.is_none()
                && let Some(stray) = reading.strays.first()
            {
                let at = layout.source_offset(stray.at.start);
                let copy_name = format!("{} Markdown", audience.name);
                return Err(source_error(
                    path,
                    text,
                    stray_error(stray, &copy_name, at, text),
                ));
            }
            reading
        } else {
            Reading::default()
        };
        emit(
            sink,
            path,
            Path::new(&audience.name).join(format!("{name}.md")),
            &mut |w| {
                w.write_all(md.as_bytes())
                    .map_err(|e| format!("cannot write: {e}"))
            },
        )?;
        // The copy's pieces go before its page is rendered: on a large paper both are big.
        let page = sink.wants(&html).then(|| PageSource::new(&copy));
        drop(copy);
        if let Some(page) = page {
            let mut strays = Vec::new();
            emit(sink, path, html, &mut |w| {
                let mut read = reader.html(w, &reading);
                page.write(templates, schedule.as_ref(), &mut read)?;
                strays = read.finish();
                Ok(())
            })?;
            if let Some(stray) = strays.first() {
                // Located where the Markdown it was rendered from holds the same text, if it
                // does (the council Markdown is the source, and is read but not refused).
                let found = reading
                    .same_as(stray)
                    .and_then(|s| layout.source_offset(s.at.start).map(|at| (s, at)));
                let copy_name = format!("{} HTML", audience.name);
                let diagnostic = match found {
                    Some((s, at)) => stray_error(s, &copy_name, Some(at), text),
                    None => stray_error(stray, &copy_name, None, text),
                };
                return Err(source_error(path, text, diagnostic));
            }
        }
        copies.push(CopyOutput {
            audience,
            schedule,
            markdown: md,
        });
    }
    let input = AuditInput {
        path,
        name,
        text,
        paper: &paper,
        rules,
        templates,
        release,
        copies: &copies,
    };
    let json = Path::new(AUDIT_FOLDER).join(format!("{name}.json"));
    let html = Path::new(AUDIT_FOLDER).join(format!("{name}.html"));
    // Without an audit to write, only the proof's verdict is needed, not the record.
    let Verdict { findings, warnings } = if sink.wants(&json) || sink.wants(&html) {
        let audit = prepare(&input);
        if audit.findings.is_empty() {
            emit(sink, path, json, &mut |w| audit.write_json(w))?;
            emit(sink, path, html, &mut |w| audit.write_html(w))?;
        }
        Verdict {
            findings: audit.findings,
            warnings: audit.warnings,
        }
    } else {
        verify(&input)
    };
    // After the audit, so its files do not carry them: they are about how the paper is
    // written, not about what differs between its copies.
    let mut warnings = warnings;
    // One line index for them all: a large paper may hold many.
    let lines = (!in_code.is_empty()).then(|| crate::span::LineIndex::new(text));
    warnings.extend(in_code.into_iter().map(|(at, (described, code))| {
        let (inside, remedy) = match code {
            Code::Span => (
                "a code span beside other text",
                "end the code span before the passage and its tag",
            ),
            Code::Indented => (
                "an indented code block (a line indented four spaces after a blank line is code)",
                "take out the indent",
            ),
        };
        let (line, col) = lines.as_ref().map_or((1, 1), |l| l.line_col(text, at));
        format!(
            "{}:{line}:{col}: warning: {described} is inside {inside}, so every copy shows it as \
             written and it withholds nothing (to withhold a passage, {remedy})",
            path.display(),
        )
    }));
    Ok(Streamed {
        findings,
        warnings,
        paper,
    })
}

/// Writes `audience`'s notice that the whole paper is withheld, in place of its copies.
#[allow(clippy::too_many_arguments)]
fn emit_withheld_notice(
    sink: &mut dyn Sink,
    path: &Path,
    name: &str,
    paper: &Paper,
    audience: &crate::rules::Audience,
    rules: &Rules,
    templates: &Templates,
    release: &Release,
) -> Result<(), Error> {
    let body = crate::withheld::notice_body(paper, audience);
    let copy = crate::withheld::notice_copy(paper, audience, &body);
    let schedule = whole_paper_schedule(paper, audience, rules, release);
    let md = copy_markdown(&copy, schedule.as_ref());
    emit(
        sink,
        path,
        Path::new(&audience.name).join(format!("{name}.md")),
        &mut |w| {
            w.write_all(md.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))
        },
    )?;
    let html = Path::new(&audience.name).join(format!("{name}.html"));
    if sink.wants(&html) {
        let page = PageSource::new(&copy);
        emit(sink, path, html, &mut |w| {
            page.write(templates, schedule.as_ref(), w)
        })?;
    }
    Ok(())
}

/// Renders one file into `sink` with `write`, unless the sink does not want it.
fn emit(
    sink: &mut dyn Sink,
    path: &Path,
    relative: PathBuf,
    write: &mut dyn FnMut(&mut dyn Write) -> Result<(), String>,
) -> Result<(), Error> {
    if !sink.wants(&relative) {
        return Ok(());
    }
    let fail = |message: String| Error::Render {
        path: path.to_path_buf(),
        message: format!("{}: {message}", relative.display()),
    };
    let mut file = sink.open(&relative)?;
    write(&mut file).map_err(fail)?;
    file.flush().map_err(|e| fail(format!("cannot write: {e}")))
}
