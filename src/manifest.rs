//! What the last build wrote, so an unchanged paper is not rebuilt: for each paper, a key
//! hashing everything its copies depend on (source, rules, templates, redact's version, the
//! release and `--pdf`) and the files written. Pure: source.rs reads it, write.rs writes it.
//!
//! A paper is known by where its file is once every link is resolved ([`Entry::origin`]), not
//! by how its folder was spelled, so a paper that has gone, or that is now built under another
//! name, has its earlier copies removed whichever way the input was named.

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

/// Format version of the manifest this build writes; another is ignored (all is rebuilt).
pub const MANIFEST_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The paper as it was named, for messages.
    pub source: PathBuf,
    /// The paper's resolved path, relative to the resolved output folder (see [`origin`]):
    /// what identifies it across builds. Relative, so the manifest holds no absolute path.
    /// Empty in a manifest of version 1, which named papers as they were spelled.
    #[serde(default)]
    pub origin: PathBuf,
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
            .filter(|m: &Manifest| m.manifest == 1 || m.manifest == MANIFEST_VERSION)
    }

    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Papers built before whose copies are stale now, and why. `found` is this run's papers
    /// (name and origin), `folders` the origins of the folders it walked. A paper's name that
    /// this run writes is never stale. Otherwise an entry is stale if its source is now built
    /// under another name, or lay inside a walked folder and was not found there. Papers from
    /// elsewhere are left alone (building one file must not remove the rest).
    pub fn stale<'a>(&'a self, folders: &[PathBuf], found: &[(&str, &Path)]) -> Vec<Stale<'a>> {
        let names: std::collections::HashSet<&str> = found.iter().map(|(n, _)| *n).collect();
        let origins: BTreeMap<&Path, &str> = found.iter().map(|(n, o)| (*o, *n)).collect();
        self.papers
            .iter()
            .filter(|(name, _)| !names.contains(name.as_str()))
            .filter_map(|(name, entry)| {
                let why = match origins.get(entry.origin.as_path()) {
                    Some(now) => Why::Renamed((*now).to_string()),
                    None if folders.iter().any(|d| entry.origin.starts_with(d)) => Why::Gone,
                    None => return None,
                };
                Some(Stale {
                    name: name.as_str(),
                    entry,
                    why,
                })
            })
            .collect()
    }
}

impl Manifest {
    /// Gives each entry of a version 1 manifest its origin, from the path it was spelled
    /// with, read from the folder redact runs in now (where that build most likely ran).
    pub fn with_origins(mut self, resolve: impl Fn(&Path) -> Option<PathBuf>) -> Manifest {
        for entry in self.papers.values_mut() {
            if entry.origin.as_os_str().is_empty()
                && let Some(origin) = resolve(&entry.source)
            {
                entry.origin = origin;
            }
        }
        self
    }
}

/// An earlier build's paper whose copies are to be removed.
#[derive(Debug, PartialEq, Eq)]
pub struct Stale<'a> {
    pub name: &'a str,
    pub entry: &'a Entry,
    pub why: Why,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Why {
    /// No longer in the folder it was found in.
    Gone,
    /// The same file is now built under this name.
    Renamed(String),
}

/// `real` (a resolved path) relative to `out_real` (the resolved output folder), `..` where
/// it climbs: one spelling for every way of naming the same file.
pub fn origin(real: &Path, out_real: &Path) -> PathBuf {
    let common = real
        .components()
        .zip(out_real.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in out_real.components().skip(common) {
        out.push("..");
    }
    for part in real.components().skip(common) {
        out.push(part);
    }
    out
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

#[cfg(test)]
mod stale_tests {
    use super::*;

    fn entry(origin: &str) -> Entry {
        Entry {
            source: PathBuf::from("as/named.md"),
            origin: PathBuf::from(origin),
            key: String::new(),
            outputs: Vec::new(),
            assets: Vec::new(),
        }
    }

    #[test]
    fn origins_climb_out_of_the_output_folder() {
        assert_eq!(
            origin(Path::new("/w/papers/sub/x.md"), Path::new("/w/site/out")),
            PathBuf::from("../../papers/sub/x.md")
        );
    }

    /// `x` built as a single file, then `sub/x` within its folder; `y` gone from the folder;
    /// `z` from elsewhere, untouched; `w`'s name is written by this run, never stale.
    #[test]
    fn renamed_and_gone_papers_are_stale_and_others_are_not() {
        let mut manifest = Manifest {
            manifest: MANIFEST_VERSION,
            papers: BTreeMap::new(),
        };
        for (name, origin) in [
            ("x", "../papers/sub/x.md"),
            ("y", "../papers/y.md"),
            ("z", "../other/z.md"),
            ("w", "../papers/old-w.md"),
        ] {
            manifest.papers.insert(name.to_string(), entry(origin));
        }
        let found = [
            ("sub/x", Path::new("../papers/sub/x.md")),
            ("w", Path::new("../papers/w.md")),
        ];
        let stale = manifest.stale(&[PathBuf::from("../papers")], &found);
        let got: Vec<(&str, &Why)> = stale.iter().map(|s| (s.name, &s.why)).collect();
        assert_eq!(
            got,
            [("x", &Why::Renamed("sub/x".into())), ("y", &Why::Gone)]
        );
    }
}
