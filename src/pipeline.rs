//! One paper, start to finish, in memory: parse, redact for each audience, render, audit. Pure:
//! the caller reads the text and writes the outputs.

use std::path::{Path, PathBuf};

use crate::audit::{AuditInput, CopyOutput, audit};
use crate::error::Error;
use crate::model::Paper;
use crate::parse::parse_paper;
use crate::redact::copy_for;
use crate::render::{Templates, html_page_with_schedule, markdown_with_schedule};
use crate::rules::Rules;
use crate::schedule::{Release, schedule_for};
use crate::source::source_error;
use crate::write::Output;

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

/// Parses `text`, renders every audience's copies and audits them.
pub fn build_paper(
    path: &Path,
    name: &str,
    text: &str,
    rules: &Rules,
    templates: &Templates,
    release: &Release,
) -> Result<Built, Error> {
    let paper = parse_paper(text, rules).map_err(|d| source_error(path, text, d))?;
    let render_error = |message| Error::Render {
        path: path.to_path_buf(),
        message,
    };
    let mut outputs = Vec::new();
    let mut copies = Vec::with_capacity(rules.audiences.len());
    for audience in &rules.audiences {
        let copy = copy_for(&paper, text, audience);
        let schedule = schedule_for(&paper, audience, rules, release);
        let md = markdown_with_schedule(&copy, schedule.as_ref());
        let html =
            html_page_with_schedule(&copy, templates, schedule.as_ref()).map_err(render_error)?;
        outputs.push(Output {
            relative: Path::new(&audience.name).join(format!("{name}.md")),
            bytes: md.clone().into_bytes(),
        });
        outputs.push(Output {
            relative: Path::new(&audience.name).join(format!("{name}.html")),
            bytes: html.into_bytes(),
        });
        copies.push(CopyOutput {
            audience,
            schedule,
            markdown: md,
        });
    }
    let audit = audit(&AuditInput {
        path,
        name,
        text,
        paper: &paper,
        rules,
        templates,
        release,
        copies: &copies,
    })
    .map_err(render_error)?;
    if !audit.findings.is_empty() {
        return Ok(Built {
            outputs: Vec::new(),
            paper,
            findings: audit.findings,
            warnings: audit.warnings,
        });
    }
    outputs.push(Output {
        relative: Path::new(AUDIT_FOLDER).join(format!("{name}.json")),
        bytes: audit.json.into_bytes(),
    });
    outputs.push(Output {
        relative: Path::new(AUDIT_FOLDER).join(format!("{name}.html")),
        bytes: audit.html.into_bytes(),
    });
    Ok(Built {
        outputs,
        paper,
        findings: Vec::new(),
        warnings: audit.warnings,
    })
}
