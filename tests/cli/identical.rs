//! Every paper in `tests/` and `fixtures/`, built alone with the project's rules and templates,
//! gives the same bytes as the hash list `tests/outputs.sha256` records. Work on speed must not
//! change a byte of any copy, audit or manifest; a change that means to alters the list in the
//! same commit, so the difference is reviewed. `REDACT_BLESS_OUTPUTS=1 cargo test --test cli
//! identical` rewrites the list.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{project_root, redact, tree};

const LIST: &str = "tests/outputs.sha256";

/// Every Markdown file under `tests/` and `fixtures/`, relative to the project, sorted.
fn papers() -> Vec<String> {
    let root = project_root();
    let mut out = Vec::new();
    for top in ["fixtures", "tests"] {
        for entry in walkdir::WalkDir::new(root.join(top)).sort_by_file_name() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "md") {
                let rel = path.strip_prefix(&root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

/// One line for a paper: the hash of what its build wrote (or, when it is refused, of what it
/// printed), its exit status, and how many files it wrote.
fn line_for(paper: &str, out: &Path) -> String {
    let output = redact()
        .args(["build", paper, "--out"])
        .arg(out)
        .output()
        .unwrap();
    let status = output.status.code().unwrap_or(-1);
    let (mut hex, files) = hash_tree(out);
    if status != 0 {
        // A refusal's message is output too: it must not change unless meant to.
        hex = hash_bytes(&output.stderr);
    }
    format!("{hex} {status} {files:>3} {paper}")
}

/// A hash over every file under `out` (each file's path, length and bytes, in path order), and
/// how many there are.
fn hash_tree(out: &Path) -> (String, usize) {
    let mut hash = Sha256::new();
    let files = if out.exists() { tree(out) } else { Vec::new() };
    for (name, bytes) in &files {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    (hex(&hash.finalize()), files.len())
}

fn hash_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    let mut hex = String::new();
    for b in digest {
        write!(hex, "{b:02x}").unwrap();
    }
    hex
}

/// The whole of `fixtures/` as the README builds it, with a request: indexes and the notice.
fn fixtures_release_line(out: &Path) -> String {
    let status = redact()
        .args([
            "build",
            "fixtures",
            "--request",
            "FOI/2024/117",
            "--date",
            "2024-10-14",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
        .status
        .code()
        .unwrap_or(-1);
    let (hex, files) = hash_tree(out);
    format!("{hex} {status} {files:>3} fixtures --request")
}

#[test]
fn every_paper_builds_to_the_recorded_bytes() {
    let papers = papers();
    assert!(papers.len() > 400, "found only {} papers", papers.len());
    // Inside the project, so the manifest's path from each output folder back to its paper
    // (`../../fixtures/…`) is the same wherever the project is checked out.
    let dir = tempfile::Builder::new()
        .prefix(".identical-")
        .tempdir_in(project_root())
        .unwrap();
    let outs: Vec<PathBuf> = (0..2).map(|i| dir.path().join(format!("t{i}"))).collect();
    // Two threads: the builds are separate processes, each with its own output folder.
    let halves: Vec<Vec<(usize, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = outs
            .iter()
            .enumerate()
            .map(|(t, base)| {
                let papers = &papers;
                scope.spawn(move || {
                    let mut lines = Vec::new();
                    for (i, paper) in papers.iter().enumerate().filter(|(i, _)| i % 2 == t) {
                        let out = base.join(i.to_string());
                        lines.push((i, line_for(paper, &out)));
                    }
                    lines
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut lines: Vec<(usize, String)> = halves.into_iter().flatten().collect();
    lines.sort();
    let mut actual: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
    actual.push_str(&fixtures_release_line(&dir.path().join("release")));
    actual.push('\n');

    let list = project_root().join(LIST);
    if std::env::var_os("REDACT_BLESS_OUTPUTS").is_some() {
        std::fs::write(&list, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&list).unwrap_or_default();
    if expected != actual {
        let diff: Vec<String> = similar::TextDiff::from_lines(&expected, &actual)
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
            .take(40)
            .collect();
        panic!(
            "outputs differ from {LIST} (hash, exit status, files, paper; - recorded, + now):\n{}",
            diff.join("\n")
        );
    }
}
