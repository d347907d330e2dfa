//! What the last build wrote, so an unchanged paper is not rebuilt: for each paper, a key
//! hashing everything its copies depend on (source, rules, templates, redact's version, the
//! release and `--pdf`) and the files written. Pure: source.rs reads it, write.rs writes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::hex;
use crate::schedule::Release;

/// File name of the manifest inside `--out`.
pub const MANIFEST_FILE: &str = ".redact-manifest.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version of this file.
    pub manifest: u32,
    /// By output name.
    pub papers: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The paper as it was found.
    pub source: PathBuf,
    pub key: String,
    /// Files written, relative to `--out`.
    pub outputs: Vec<PathBuf>,
    /// The assets the paper's copies show, as they were: a changed one rebuilds the paper.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<AssetKey>,
}

/// An asset's source file and its SHA-256 when it was copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetKey {
    pub source: PathBuf,
    pub sha256: String,
}

/// Everything a paper's copies depend on besides its own text.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub rules_hash: &'a str,
    pub templates_hash: &'a str,
    pub release: &'a Release,
    pub pdf: bool,
}

/// The key of a paper's build: equal keys give byte-identical copies.
pub fn key(text: &str, inputs: &Inputs) -> String {
    let mut hasher = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION"),
        inputs.rules_hash,
        inputs.templates_hash,
        inputs.release.request.as_deref().unwrap_or("\u{0}"),
        inputs.release.date.as_deref().unwrap_or("\u{0}"),
        if inputs.pdf { "pdf" } else { "no-pdf" },
        text,
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex(&hasher.finalize())
}

impl Manifest {
    pub fn parse(text: &str) -> Option<Manifest> {
        serde_json::from_str(text)
            .ok()
            .filter(|m: &Manifest| m.manifest == 1)
    }

    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Papers built before from inside one of `folders` that this run no longer found: their
    /// copies are stale. Papers from elsewhere are left alone (building one file must not
    /// remove the rest).
    pub fn gone<'a>(&'a self, folders: &[PathBuf], found: &[String]) -> Vec<(&'a str, &'a Entry)> {
        self.papers
            .iter()
            .filter(|(name, entry)| {
                !found.iter().any(|f| f == *name)
                    && folders.iter().any(|d| entry.source.starts_with(d))
            })
            .map(|(name, entry)| (name.as_str(), entry))
            .collect()
    }
}

/// Whether every file an entry lists is still in `out`.
pub fn outputs_present(out: &Path, entry: &Entry) -> bool {
    entry.outputs.iter().all(|p| out.join(p).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_any_input() {
        let release = Release::default();
        let base = Inputs {
            rules_hash: "r",
            templates_hash: "t",
            release: &release,
            pdf: false,
        };
        let k = key("text", &base);
        assert_eq!(k, key("text", &base));
        assert_ne!(k, key("text2", &base));
        assert_ne!(
            k,
            key(
                "text",
                &Inputs {
                    rules_hash: "r2",
                    ..base
                }
            )
        );
        assert_ne!(k, key("text", &Inputs { pdf: true, ..base }));
    }
}
