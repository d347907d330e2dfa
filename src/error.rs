//! The one error type. The pure core reports a [`Diagnostic`] (a span, a message and a hint);
//! the edges attach the path and draw the `file:line:col` header, the source line and carets.
//! Nothing here decides policy: it only says what went wrong and where.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::span::{LineIndex, Span};

/// How a run ended, as the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    BadInput = 2,
}

/// A problem found in a paper or rules file, located by byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    pub note: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
            hint: None,
            note: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Malformed input and the text it was found in, so the snippet can be drawn.
#[derive(Debug)]
pub struct SourceError {
    pub path: PathBuf,
    pub text: String,
    pub diagnostic: Diagnostic,
}

/// Everything that can stop a paper or a run.
#[derive(Debug)]
pub enum Error {
    /// Malformed input, with the text it was found in so the snippet can be drawn.
    Source(Box<SourceError>),
    /// A file or folder problem: missing, unreadable, not UTF-8, a symlink, a name clash.
    Path { path: PathBuf, message: String },
    /// Rendering failed (a template error); the paper's copies are not written.
    Render { path: PathBuf, message: String },
    /// Bad usage not tied to one file.
    Usage(String),
}

impl Error {
    pub fn path(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Path {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    pub fn source(path: impl AsRef<Path>, text: &str, diagnostic: Diagnostic) -> Self {
        Error::Source(Box::new(SourceError {
            path: path.as_ref().to_path_buf(),
            text: text.to_string(),
            diagnostic,
        }))
    }

    pub fn exit(&self) -> Exit {
        Exit::BadInput
    }

    /// The message as printed on stderr: a header line, then for source errors the line and
    /// carets and any hint.
    pub fn render(&self) -> String {
        match self {
            Error::Source(e) => render_diagnostic(&e.path, &e.text, &e.diagnostic),
            Error::Path { path, message } => format!("{}: error: {message}\n", path.display()),
            Error::Render { path, message } => {
                format!("{}: error: cannot render: {message}\n", path.display())
            }
            Error::Usage(message) => format!("error: {message}\n"),
        }
    }
}

/// Columns of source shown around an error on a long line.
const SNIPPET_WIDTH: usize = 100;

/// Draws a diagnostic the way cargo and just do: header, numbered source line, carets, help.
pub fn render_diagnostic(path: &Path, text: &str, diagnostic: &Diagnostic) -> String {
    let index = LineIndex::new(text);
    let (line, col) = index.line_col(text, diagnostic.span.start);
    let mut out = format!(
        "{}:{line}:{col}: error: {}\n",
        path.display(),
        diagnostic.message
    );
    let source_line = index.line_text(text, line);
    let gutter = line.to_string().len();
    let line_end = index.line_start(line + 1).min(text.len());
    let span_end = diagnostic.span.end.min(line_end).max(diagnostic.span.start);
    let width = text
        .get(diagnostic.span.start..span_end)
        .map(|s| s.trim_end_matches(['\n', '\r']).chars().count())
        .unwrap_or(1)
        .clamp(1, SNIPPET_WIDTH / 2);
    // Very long lines are shown as a window around the column, so a minified or generated
    // paper cannot flood the terminal.
    let chars: Vec<char> = source_line.chars().collect();
    let first = (col - 1).saturating_sub(SNIPPET_WIDTH / 2);
    let last = (first + SNIPPET_WIDTH).min(chars.len());
    let lead = if first > 0 { "…" } else { "" };
    let tail = if last < chars.len() { "…" } else { "" };
    let shown: String = chars[first.min(chars.len())..last]
        .iter()
        .map(|&c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    let _ = writeln!(out, "{line} | {lead}{shown}{tail}");
    let before: String = chars[first.min(chars.len())..(col - 1).min(chars.len())]
        .iter()
        .map(|&c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let lead_pad = if first > 0 { " " } else { "" };
    let _ = writeln!(
        out,
        "{:gutter$} | {lead_pad}{before}{}",
        "",
        "^".repeat(width)
    );
    if let Some(note) = &diagnostic.note {
        let _ = writeln!(out, "{:gutter$} = note: {note}", "");
    }
    if let Some(hint) = &diagnostic.hint {
        let _ = writeln!(out, "{:gutter$} = help: {hint}", "");
    }
    out
}

/// Formats `line:col` of an offset, for notes that point at a second place.
pub fn line_col_label(text: &str, offset: usize) -> String {
    let (line, col) = LineIndex::new(text).line_col(text, offset);
    format!("{line}:{col}")
}
