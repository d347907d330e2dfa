//! The only reader: walks the paths given in sorted order, reads papers, and loads rules and
//! templates from a folder or the embedded defaults. Symlinks are never followed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Diagnostic, Error};
use crate::render::{DEFAULT_TEMPLATES, TEMPLATE_FILES, Templates};
use crate::rules::{Origin, RULE_FILES, Rules, RulesError};
use crate::span::Span;

/// A paper found on disk and the name its copies are written under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperPath {
    pub path: PathBuf,
    /// Relative path without `.md`, `/`-separated: `sub/x` for `DIR/sub/x.md`.
    pub name: String,
    /// The file with every link and `.` resolved: the same paper however its folder was
    /// spelled (`papers`, `./papers`, an absolute path, a linked parent).
    pub real: PathBuf,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub papers: Vec<PaperPath>,
    /// Each folder given, resolved as [`PaperPath::real`] is: a paper built from one before
    /// and not found in it now has gone.
    pub folders: Vec<PathBuf>,
    /// Problems with single paths; those paths are skipped, the rest are built.
    pub errors: Vec<Error>,
    /// Folders given that hold no paper (empty, or holding no `*.md`).
    pub empty: Vec<PathBuf>,
}

/// Finds every paper under `inputs`. A name clash, or `out` inside an input folder, stops the
/// whole run before anything is written: the fatal error comes back as `Err`.
pub fn walk(inputs: &[PathBuf], out: Option<&Path>) -> Result<Walk, Error> {
    let mut walk = Walk::default();
    let mut seen_files = BTreeSet::new();
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    let out_real = out.and_then(real_path);
    for input in inputs {
        let meta = match fs::symlink_metadata(input) {
            Ok(meta) => meta,
            Err(e) => {
                walk.errors.push(Error::path(input, io_message(&e)));
                continue;
            }
        };
        if meta.file_type().is_symlink() {
            walk.errors.push(Error::path(
                input,
                "is a symlink; redact never follows symlinks, name the file itself",
            ));
            continue;
        }
        let mut found = Vec::new();
        if meta.is_file() {
            if input.extension().and_then(|e| e.to_str()) != Some("md") {
                walk.errors
                    .push(Error::path(input, "is not a Markdown paper (`*.md`)"));
                continue;
            }
            let Some(stem) = input.file_stem().and_then(|s| s.to_str()) else {
                walk.errors
                    .push(Error::path(input, "file name is not valid UTF-8"));
                continue;
            };
            found.push(PaperPath {
                path: input.clone(),
                name: stem.to_string(),
                real: PathBuf::new(),
            });
        } else if meta.is_dir() {
            let in_real = real_path(input);
            if let (Some(out_real), Some(in_real)) = (&out_real, &in_real)
                && out_real.starts_with(in_real)
            {
                return Err(Error::path(
                    input,
                    "the output folder is inside this input folder; choose an --out outside it",
                ));
            }
            walk.folders.extend(in_real);
            let walker = WalkDir::new(input)
                .follow_links(false)
                .sort_by_file_name()
                .max_depth(crate::parse::MAX_DEPTH);
            for entry in walker {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        let path = e.path().unwrap_or(input).to_path_buf();
                        walk.errors.push(Error::path(path, e.to_string()));
                        continue;
                    }
                };
                let path = entry.path();
                if entry.path_is_symlink() {
                    if path.extension().and_then(|e| e.to_str()) == Some("md")
                        || fs::metadata(path).map(|m| m.is_dir()).unwrap_or(true)
                    {
                        walk.errors.push(Error::path(
                            path,
                            "is a symlink; redact never follows symlinks",
                        ));
                    }
                    continue;
                }
                if !entry.file_type().is_file()
                    || path.extension().and_then(|e| e.to_str()) != Some("md")
                {
                    continue;
                }
                match relative_name(input, path) {
                    Ok(name) => found.push(PaperPath {
                        path: path.to_path_buf(),
                        name,
                        real: PathBuf::new(),
                    }),
                    Err(message) => walk.errors.push(Error::path(path, message)),
                }
            }
            if found.is_empty() {
                walk.empty.push(input.clone());
            }
        } else {
            walk.errors
                .push(Error::path(input, "is neither a file nor a folder"));
            continue;
        }
        for mut paper in found {
            paper.real = real_path(&paper.path).unwrap_or_else(|| paper.path.clone());
            if !seen_files.insert(paper.real.clone()) {
                continue;
            }
            if let Some(first) = names.get(&paper.name) {
                return Err(Error::path(
                    &paper.path,
                    format!(
                        "would write the same output name `{}` as {}; build them separately",
                        paper.name,
                        first.display()
                    ),
                ));
            }
            names.insert(paper.name.clone(), paper.path.clone());
            walk.papers.push(paper);
        }
    }
    Ok(walk)
}

/// The canonical path, or for a path that does not exist yet, its nearest existing
/// ancestor's canonical path with the rest appended.
pub fn real_path(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = fs::canonicalize(path) {
        return Some(real);
    }
    let parent = path.parent()?;
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    Some(real_path(parent)?.join(path.file_name()?))
}

fn relative_name(root: &Path, path: &Path) -> Result<String, String> {
    let relative = path
        .strip_prefix(root)
        .map_err(|_| "is outside the folder it was found under".to_string())?;
    let mut parts = Vec::new();
    for component in relative.with_extension("").components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .ok_or_else(|| "path is not valid UTF-8".to_string())?
                    .to_string(),
            ),
            _ => return Err("path has a `..` or root component".to_string()),
        }
    }
    if parts.is_empty() {
        return Err("has no file name".to_string());
    }
    Ok(parts.join("/"))
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// The manifest of the last build into `out`; none (so everything is built) if it is missing,
/// unreadable or a symlink (which the writer then refuses).
pub fn read_manifest(out: &Path) -> Option<crate::manifest::Manifest> {
    let path = out.join(crate::manifest::MANIFEST_FILE);
    if !fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    crate::manifest::Manifest::parse(&text)
}

/// Reads a paper as UTF-8 text. Empty files and invalid UTF-8 are errors naming the path.
pub fn read_paper(path: &Path) -> Result<String, Error> {
    let bytes = fs::read(path)
        .map_err(|e| Error::path(path, format!("cannot read: {}", io_message(&e))))?;
    if bytes.is_empty() {
        return Err(Error::source(
            path,
            "",
            Diagnostic::new(Span::empty(0), "paper is empty").hint(
                "a paper starts with front matter: `---`, `title:`, `classification:`, `---`",
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        // Bytes before `at` are valid, so offsets there are the same in the lossy text.
        let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
        Error::source(
            path,
            &shown,
            Diagnostic::new(
                Span::new(at, at + 1),
                format!("paper is not valid UTF-8 (byte {at})"),
            )
            .hint("save the paper as UTF-8"),
        )
    })
}

fn rules_error(folder: Option<&Path>, text: &str, e: RulesError) -> Error {
    let path = match folder {
        Some(dir) => dir.join(e.file),
        None => Path::new("<embedded rules>").join(e.file),
    };
    Error::source(path, text, e.diagnostic)
}

/// Rules from `--rules DIR`, else `./rules` if present, else the embedded defaults.
pub fn load_rules(dir: Option<&Path>) -> Result<Rules, Error> {
    let folder = match dir {
        Some(d) => Some(d.to_path_buf()),
        None => Some(PathBuf::from("rules")).filter(|d| d.is_dir()),
    };
    let Some(folder) = folder else {
        return Rules::embedded().map_err(|e| {
            let text = crate::rules::DEFAULT_RULES
                .iter()
                .find(|(n, _)| *n == e.file)
                .map(|(_, t)| *t)
                .unwrap_or("");
            rules_error(None, text, e)
        });
    };
    let files = read_folder(&folder, &RULE_FILES, "rules")?;
    let files: [(&'static str, String); 3] = [
        (RULE_FILES[0], files[0].1.clone()),
        (RULE_FILES[1], files[1].1.clone()),
        (RULE_FILES[2], files[2].1.clone()),
    ];
    let mut rules = Rules::from_files(&files, Origin::Folder(folder.clone())).map_err(|e| {
        let text = files
            .iter()
            .find(|(n, _)| *n == e.file)
            .map(|(_, t)| t.as_str())
            .unwrap_or("");
        rules_error(Some(&folder), text, e)
    })?;
    // The notice's wording is optional in a folder: the embedded default stands in.
    let notice = folder.join(crate::rules::NOTICE_FILE);
    if fs::symlink_metadata(&notice).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::path(
            &notice,
            "is a symlink; redact never follows symlinks",
        ));
    }
    match fs::read_to_string(&notice) {
        Ok(text) => {
            rules.notice = crate::rules::NoticeWording::parse(&text, &rules.exemptions)
                .map_err(|d| Error::source(&notice, &text, d))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::path(
                &notice,
                format!("cannot read: {}", io_message(&e)),
            ));
        }
    }
    let assets = folder.join(crate::rules::ASSETS_FILE);
    match fs::read_to_string(&assets) {
        Ok(text) => {
            rules.asset_extensions = crate::rules::parse_asset_extensions(&text)
                .map_err(|d| Error::source(&assets, &text, d))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::path(
                &assets,
                format!("cannot read: {}", io_message(&e)),
            ));
        }
    }
    Ok(rules)
}

/// Templates from `--templates DIR`, else `./templates` if present, else embedded.
pub fn load_templates(dir: Option<&Path>) -> Result<Templates, Error> {
    let folder = match dir {
        Some(d) => Some(d.to_path_buf()),
        None => Some(PathBuf::from("templates")).filter(|d| d.is_dir()),
    };
    let Some(folder) = folder else {
        let files: Vec<(&str, String)> = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, t)| (*n, t.to_string()))
            .collect();
        return Templates::from_files(&files, None).map_err(Error::Usage);
    };
    let files = read_folder(&folder, &TEMPLATE_FILES, "templates")?;
    Templates::from_files(&files, Some(folder.clone())).map_err(|message| Error::Path {
        path: folder,
        message,
    })
}

/// The index page template: `index.html` in the templates folder in use if it has one, else
/// the embedded default (a folder made before indexes existed stays complete).
pub fn load_index_template(templates: &Templates) -> Result<String, Error> {
    use crate::index::{DEFAULT_INDEX_TEMPLATE, INDEX_TEMPLATE};
    let Some(folder) = &templates.origin else {
        return Ok(DEFAULT_INDEX_TEMPLATE.to_string());
    };
    let path = folder.join(INDEX_TEMPLATE);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(DEFAULT_INDEX_TEMPLATE.to_string())
        }
        Ok(m) if m.file_type().is_symlink() => Err(Error::path(
            &path,
            "is a symlink; redact never follows symlinks",
        )),
        _ => fs::read_to_string(&path)
            .map_err(|e| Error::path(&path, format!("cannot read: {}", io_message(&e)))),
    }
}

/// Reads every named file of a rules or templates folder; a missing one is an error.
fn read_folder<'n>(
    folder: &Path,
    names: &[&'n str],
    what: &str,
) -> Result<Vec<(&'n str, String)>, Error> {
    if !folder.is_dir() {
        return Err(Error::path(folder, format!("{what} folder not found")));
    }
    names
        .iter()
        .map(|name| {
            let path = folder.join(name);
            if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(Error::path(
                    &path,
                    "is a symlink; redact never follows symlinks",
                ));
            }
            let text = fs::read_to_string(&path).map_err(|e| {
                Error::path(
                    &path,
                    format!(
                        "{what} folder is incomplete: cannot read {name}: {}",
                        io_message(&e)
                    ),
                )
            })?;
            Ok((*name, text))
        })
        .collect()
}

/// A problem in a paper's text, ready to print.
pub fn source_error(path: &Path, text: &str, diagnostic: Diagnostic) -> Error {
    Error::source(path, text, diagnostic)
}
