//! Integration tests: drive the `redact` binary as a user would, in temporary folders.
// Helpers in tests/ are missed by clippy's allow-unwrap-in-tests (rust-clippy #11119).
#![allow(clippy::unwrap_used)]

mod accessibility;
mod adversarial;
mod assets;
mod audit;
mod build;
mod check;
mod check_visible;
mod commands;
mod docs;
mod errors;
mod identical;
mod leaks;
mod one_reading;
mod paths;
mod pdf;
mod properties;
mod raw_html;
mod release;
mod reread;
mod serve;
mod streaming;
mod suggest;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The binary under test, run from the project root so `./rules` and `./templates` are the
/// project's own (as they are for a user following the README).
pub fn redact() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redact"));
    cmd.current_dir(project_root());
    cmd
}

/// The binary run from an empty folder, so only the embedded defaults apply.
pub fn redact_in(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redact"));
    cmd.current_dir(dir);
    cmd
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    project_root().join("fixtures")
}

/// Every file under `dir`, as (relative path with `/`, bytes), sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap();
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, std::fs::read(entry.path()).unwrap()));
        }
    }
    out
}
