//! Release records: what was actually sent out. `build --record DIR` keeps each released
//! public Markdown copy (it is public, so it may sit beside the papers) with a JSON sidecar:
//!
//! ```json
//! {
//!   "schema": 1,
//!   "audience": "public",
//!   "name": "03-covert-surveillance-collaboration",
//!   "file": "03-covert-surveillance-collaboration.md",
//!   "sha256": "…",
//!   "request": "FOI-2024-0193",
//!   "date": "2024-03-01"
//! }
//! ```
//!
//! under `DIR/<audience>/<name>.md` and `.json`. `check --released DIR` rebuilds each copy
//! with the recorded request and date (they are printed in its schedule) and reports a copy
//! that would now differ as `release/changed`, with a unified diff, so a re-issue is a
//! deliberate act (`build --record` again). A record whose Markdown no longer matches its
//! SHA-256 is bad input: the record itself was altered.
//!
//! Writing goes through write.rs (staged, renamed into place); reading is here, because
//! only these two commands touch the records folder.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::{Finding, Level, Location};
use crate::error::Error;
use crate::rules::hex;
use crate::schedule::Release;
use crate::write::{Output, Writer};

pub const RECORD_SCHEMA: u32 = 1;

/// The sidecar of one released copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub schema: u32,
    pub audience: String,
    pub name: String,
    /// The released Markdown, beside the sidecar.
    pub file: String,
    pub sha256: String,
    pub request: Option<String>,
    pub date: Option<String>,
}

impl Record {
    /// The release to rebuild with, so the schedule matches what was sent.
    pub fn release(&self) -> Release {
        Release {
            request: self.request.clone(),
            date: self.date.clone(),
        }
    }
}

/// A copy that would now differ from its release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub record: Record,
    /// Unified diff from the released copy to the current one.
    pub diff: String,
}

fn relative(audience: &str, name: &str, ext: &str) -> PathBuf {
    Path::new(audience).join(format!("{name}.{ext}"))
}

fn file_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("{base}.md")
}

/// The two files a release record consists of, relative to the records folder. Pure.
pub fn record_outputs(
    audience: &str,
    name: &str,
    public_markdown: &str,
    release: &Release,
) -> (Record, Vec<Output>) {
    let record = Record {
        schema: RECORD_SCHEMA,
        audience: audience.to_string(),
        name: name.to_string(),
        file: file_name(name),
        sha256: hex(&Sha256::digest(public_markdown.as_bytes())),
        request: release.request.clone(),
        date: release.date.clone(),
    };
    let mut json = serde_json::to_string_pretty(&record).unwrap_or_default();
    json.push('\n');
    let outputs = vec![
        Output {
            relative: relative(audience, name, "md"),
            bytes: public_markdown.as_bytes().to_vec(),
        },
        Output {
            relative: relative(audience, name, "json"),
            bytes: json.into_bytes(),
        },
    ];
    (record, outputs)
}

/// Records `public_markdown` as released to `audience` under `dir`, replacing any earlier
/// record of it.
pub fn record(
    dir: &Path,
    audience: &str,
    name: &str,
    public_markdown: &str,
    release: &Release,
) -> Result<Record, Error> {
    let (record, outputs) = record_outputs(audience, name, public_markdown, release);
    Writer::new(dir)?.write_paper(&outputs)?;
    Ok(record)
}

/// The record of a copy and its released Markdown, or None if it was never recorded.
pub fn load(dir: &Path, audience: &str, name: &str) -> Result<Option<(Record, String)>, Error> {
    let sidecar = dir.join(relative(audience, name, "json"));
    let json = match fs::read_to_string(&sidecar) {
        Ok(json) => json,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::path(&sidecar, format!("cannot read: {e}"))),
    };
    let record: Record = serde_json::from_str(&json)
        .map_err(|e| Error::path(&sidecar, format!("not a release record: {e}")))?;
    if record.schema != RECORD_SCHEMA {
        return Err(Error::path(
            &sidecar,
            format!(
                "release record schema {} is not {RECORD_SCHEMA}",
                record.schema
            ),
        ));
    }
    if record.file != file_name(name) || record.name != name || record.audience != audience {
        return Err(Error::path(
            &sidecar,
            "release record names another copy than the one it sits beside",
        ));
    }
    let markdown_path = dir.join(relative(audience, name, "md"));
    let markdown = fs::read_to_string(&markdown_path)
        .map_err(|e| Error::path(&markdown_path, format!("cannot read: {e}")))?;
    let actual = hex(&Sha256::digest(markdown.as_bytes()));
    if actual != record.sha256 {
        return Err(Error::path(
            &markdown_path,
            format!(
                "released copy does not match its recorded SHA-256 ({}); the record was altered",
                record.sha256
            ),
        ));
    }
    Ok(Some((record, markdown)))
}

/// A unified diff from `released` to `current`, or None if they are the same. Pure.
pub fn diff(audience: &str, name: &str, released: &str, current: &str) -> Option<String> {
    if released == current {
        return None;
    }
    let path = format!("{audience}/{name}.md");
    Some(
        similar::TextDiff::from_lines(released, current)
            .unified_diff()
            .context_radius(3)
            .header(&format!("released/{path}"), &format!("current/{path}"))
            .to_string(),
    )
}

/// Compares the current public Markdown of a copy with its release, if it was released.
/// Rebuild `public_markdown` with [`Record::release`] of the loaded record first: the schedule
/// prints the request and date.
pub fn compare(
    dir: &Path,
    audience: &str,
    name: &str,
    public_markdown: &str,
) -> Result<Option<Change>, Error> {
    let Some((record, released)) = load(dir, audience, name)? else {
        return Ok(None);
    };
    Ok(diff(audience, name, &released, public_markdown).map(|diff| Change { record, diff }))
}

/// The `release/changed` finding for a paper whose copy differs from its release.
pub fn changed_finding(paper: &Path, change: &Change) -> Finding {
    let record = &change.record;
    let when = match (&record.request, &record.date) {
        (Some(r), Some(d)) => format!(" for {r} on {d}"),
        (Some(r), None) => format!(" for {r}"),
        (None, Some(d)) => format!(" on {d}"),
        (None, None) => String::new(),
    };
    Finding {
        rule: "release/changed".into(),
        level: Level::Error,
        location: Location {
            path: paper.to_string_lossy().replace('\\', "/"),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        },
        message: format!(
            "the {} copy would differ from the one released{when}",
            record.audience
        ),
        related: None,
        help: Some(
            "a re-issue must be deliberate: if it is, record it with `redact build --record`"
                .into(),
        ),
        snippet: None,
        fingerprint: None,
        diff: Some(change.diff.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_copy_compares_equal_then_reports_a_diff() {
        let dir = tempfile::tempdir().expect("temp dir");
        let release = Release {
            request: Some("FOI-1".into()),
            date: Some("2024-03-01".into()),
        };
        let md = "---\ntitle: \"T\"\n---\nOne.\n\nTwo.\n";
        let record = record(dir.path(), "public", "sub/x", md, &release).expect("records");
        assert_eq!(record.file, "x.md");
        assert_eq!(
            record.sha256,
            hex(&Sha256::digest(md.as_bytes())),
            "sidecar holds the SHA-256 of the released bytes"
        );
        assert!(dir.path().join("public/sub/x.json").is_file());
        let (loaded, _) = load(dir.path(), "public", "sub/x")
            .expect("loads")
            .expect("recorded");
        assert_eq!(loaded.release(), release);
        assert_eq!(
            compare(dir.path(), "public", "sub/x", md).expect("compares"),
            None
        );
        let change = compare(dir.path(), "public", "sub/x", &md.replace("Two", "Three"))
            .expect("compares")
            .expect("changed");
        assert!(change.diff.contains("-Two.\n+Three.\n"), "{}", change.diff);
        assert!(
            change
                .diff
                .starts_with("--- released/public/sub/x.md\n+++ current/public/sub/x.md\n")
        );
        assert_eq!(
            compare(dir.path(), "public", "other", md).expect("compares"),
            None
        );
    }

    #[test]
    fn altered_record_is_bad_input() {
        let dir = tempfile::tempdir().expect("temp dir");
        record(dir.path(), "public", "x", "a\n", &Release::default()).expect("records");
        fs::write(dir.path().join("public/x.md"), "b\n").expect("alters");
        let err = compare(dir.path(), "public", "x", "a\n").expect_err("refused");
        assert!(err.render().contains("does not match its recorded SHA-256"));
    }
}
