//! One paper, start to finish, in memory: parse, redact for each audience, render. Pure: the
//! caller reads the text and writes the outputs.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::model::Paper;
use crate::parse::parse_paper;
use crate::redact::copy_for;
use crate::render::{Templates, html_page, markdown};
use crate::rules::Rules;
use crate::source::source_error;
use crate::write::Output;

/// What building one paper produced.
#[derive(Debug)]
pub struct Built {
    pub outputs: Vec<Output>,
    pub paper: Paper,
}

/// Every file a paper's build writes, whether or not it succeeds (to remove stale copies).
pub fn output_paths(name: &str, rules: &Rules) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for audience in &rules.audiences {
        for ext in ["md", "html"] {
            out.push(Path::new(&audience.name).join(format!("{name}.{ext}")));
        }
    }
    out
}

/// Parses `text` and renders every audience's copies.
pub fn build_paper(
    path: &Path,
    name: &str,
    text: &str,
    rules: &Rules,
    templates: &Templates,
) -> Result<Built, Error> {
    let paper = parse_paper(text, rules).map_err(|d| source_error(path, text, d))?;
    let mut outputs = Vec::new();
    for audience in &rules.audiences {
        let copy = copy_for(&paper, text, audience);
        let md = markdown(&copy);
        let html = html_page(&copy, templates).map_err(|message| Error::Render {
            path: path.to_path_buf(),
            message,
        })?;
        outputs.push(Output {
            relative: Path::new(&audience.name).join(format!("{name}.md")),
            bytes: md.into_bytes(),
        });
        outputs.push(Output {
            relative: Path::new(&audience.name).join(format!("{name}.html")),
            bytes: html.into_bytes(),
        });
    }
    Ok(Built { outputs, paper })
}
