//! The only writer. A paper's copies are staged in a temporary folder inside `--out` and
//! renamed into place only once all of them rendered; a failed paper's stale copies are
//! removed. No path ever leaves the output folder, and nothing is written, renamed or removed
//! through a symlink under it: every folder below `--out` is opened one name at a time without
//! following links (cap-std), and a link found where a folder or a copy goes is an error.
//!
//! Each folder is opened once a run and its handle kept, so a file costs its own creation and
//! rename and no more: files are made relative to the folder's handle, which names the folder
//! that was checked even if a link takes its name later.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use crate::error::Error;

/// One file to write, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub relative: PathBuf,
    pub bytes: Vec<u8>,
}

/// Where a paper's files go, each written as it is rendered.
pub trait Sink {
    /// A writer for `relative` (a path inside the output folder). The pipeline flushes it.
    fn open(&mut self, relative: &Path) -> Result<Box<dyn Write + '_>, Error>;

    /// Whether `relative` is wanted at all; the pipeline does not render a file that is not.
    fn wants(&self, relative: &Path) -> bool {
        let _ = relative;
        true
    }
}

/// Files kept in memory, in the order they were opened.
#[derive(Debug, Default)]
pub struct Memory {
    pub outputs: Vec<Output>,
    /// Only these files, when given (`check` scans the public copies and nothing else).
    pub only: Option<Vec<PathBuf>>,
}

impl Sink for Memory {
    fn wants(&self, relative: &Path) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|p| p == relative))
    }

    fn open(&mut self, relative: &Path) -> Result<Box<dyn Write + '_>, Error> {
        self.outputs.push(Output {
            relative: relative.to_path_buf(),
            bytes: Vec::new(),
        });
        let last = self.outputs.last_mut().expect("just pushed");
        Ok(Box::new(&mut last.bytes))
    }
}

/// One paper's files, written into the staging folder as they are rendered and moved into
/// place together by [`Staged::commit`]. Dropped uncommitted, they are removed.
pub struct Staged<'w> {
    writer: &'w Writer,
    /// Each file's path relative to the output folder, the staging shelf it is in, and its
    /// name there.
    files: Vec<(PathBuf, Arc<Dir>, String)>,
}

impl Sink for Staged<'_> {
    fn open(&mut self, relative: &Path) -> Result<Box<dyn Write + '_>, Error> {
        let (folders, _) = Writer::split(relative)?;
        let shelf = self.writer.shelf(&folders, relative)?;
        // Staged under a number: no name from a paper is ever a path in the staging folder.
        let temp = self.writer.next.fetch_add(1, Ordering::Relaxed).to_string();
        let file = shelf
            .open_with(&temp, OpenOptions::new().write(true).create_new(true))
            .map_err(|e| Error::path(self.writer.shown(relative), format!("cannot write: {e}")))?;
        self.files.push((relative.to_path_buf(), shelf, temp));
        Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
    }
}

impl Staged<'_> {
    /// The files staged so far, relative to the output folder.
    pub fn relatives(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(r, _, _)| r.as_path())
    }

    /// Reads back a staged file (to print it, or record it).
    pub fn read(&self, relative: &Path) -> Option<Vec<u8>> {
        let (_, shelf, temp) = self.files.iter().find(|(r, _, _)| r == relative)?;
        shelf.read(temp).ok()
    }

    /// Moves every staged file into place.
    pub fn commit(mut self) -> Result<(), Error> {
        let files = std::mem::take(&mut self.files);
        let mut moving = files.iter();
        let result = (|| {
            for (relative, shelf, temp) in moving.by_ref() {
                self.writer.place(shelf, temp, relative)?;
            }
            Ok(())
        })();
        // A failed move leaves the rest staged: remove them.
        for (_, shelf, temp) in moving {
            let _ = shelf.remove_file(temp);
        }
        result
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        for (_, shelf, temp) in &self.files {
            let _ = shelf.remove_file(temp);
        }
    }
}

pub struct Writer {
    /// The output folder as given, for messages.
    out_path: PathBuf,
    out: Arc<Dir>,
    /// Folders under the output folder opened so far, by path relative to it: each is opened
    /// (without following a link) once a run, however many files go into it.
    folders: RwLock<HashMap<PathBuf, Arc<Dir>>>,
    staging_name: String,
    staging: Dir,
    /// A folder in the staging folder for each output folder written to, by path relative
    /// to the output folder, made and opened once a run. Files bound for different folders
    /// are staged apart, so papers written at once on several threads do not all wait on
    /// one folder's lock (each create and each rename out of it takes that lock).
    shelves: RwLock<HashMap<PathBuf, Arc<Dir>>>,
    /// The next staged file's name.
    next: AtomicUsize,
    /// Folders made for `--out` by this run, deepest first: removed again if left empty.
    created: Vec<PathBuf>,
}

impl Writer {
    pub fn new(out: &Path) -> Result<Writer, Error> {
        Writer::checked(out, std::iter::empty())
    }

    /// Opens (or makes) the output folder and refuses a symlink on the way to any of
    /// `planned` (paths relative to it that the run will write or remove) before anything
    /// is written: a linked audience or audit folder, or a link where a copy goes.
    pub fn checked<'p>(
        out: &Path,
        planned: impl IntoIterator<Item = &'p Path>,
    ) -> Result<Writer, Error> {
        let mut created = Vec::new();
        let mut missing = Some(out);
        while let Some(folder) = missing.filter(|f| {
            !f.as_os_str().is_empty() && fs::symlink_metadata(f).is_err_and(|e| not_found(&e))
        }) {
            created.push(folder.to_path_buf());
            missing = folder.parent();
        }
        fs::create_dir_all(out)
            .map_err(|e| Error::path(out, format!("cannot create output folder: {e}")))?;
        let dir = Dir::open_ambient_dir(out, ambient_authority())
            .map_err(|e| Error::path(out, format!("cannot open output folder: {e}")));
        let dir = match dir {
            Ok(dir) => dir,
            Err(e) => {
                remove_empty(&created);
                return Err(e);
            }
        };
        let (staging_name, staging) = match staging_in(&dir, out) {
            Ok(staging) => staging,
            Err(e) => {
                remove_empty(&created);
                return Err(e);
            }
        };
        let writer = Writer {
            out_path: out.to_path_buf(),
            out: Arc::new(dir),
            folders: RwLock::default(),
            staging_name,
            staging,
            shelves: RwLock::default(),
            next: AtomicUsize::new(0),
            created,
        };
        // Dropped on failure: the staging folder and the folders made for it go.
        writer.refuse_links(planned)?;
        Ok(writer)
    }

    /// `relative`'s folders and file name, refusing anything that could leave the output
    /// folder.
    fn split(relative: &Path) -> Result<(Vec<&OsStr>, &OsStr), Error> {
        let mut parts = Vec::new();
        for c in relative.components() {
            match c {
                Component::Normal(part) => parts.push(part),
                _ => {
                    return Err(Error::path(
                        relative,
                        "output path would leave the output folder",
                    ));
                }
            }
        }
        let Some(name) = parts.pop() else {
            return Err(Error::path(
                relative,
                "output path would leave the output folder",
            ));
        };
        Ok((parts, name))
    }

    /// A path under the output folder, as the user would name it in a message.
    fn shown(&self, relative: &Path) -> PathBuf {
        self.out_path.join(relative)
    }

    /// The folder `folders` names under the output folder, each opened without following a
    /// link, once a run; missing ones are made if `make`, else `None`.
    fn folder(&self, folders: &[&OsStr], make: bool) -> Result<Option<Arc<Dir>>, Error> {
        let Some((name, parents)) = folders.split_last() else {
            return Ok(Some(Arc::clone(&self.out)));
        };
        let at: PathBuf = folders.iter().collect();
        if let Some(dir) = self.cached(&at) {
            return Ok(Some(dir));
        }
        let Some(parent) = self.folder(parents, make)? else {
            return Ok(None);
        };
        let opened = match parent.open_dir_nofollow(name) {
            Err(e) if not_found(&e) && make => match parent.create_dir(name) {
                Ok(()) => parent.open_dir_nofollow(name),
                // Another paper made it meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    parent.open_dir_nofollow(name)
                }
                Err(e) => Err(e),
            },
            other => other,
        };
        match opened {
            Ok(dir) => {
                let mut folders = self.folders.write().unwrap_or_else(|e| e.into_inner());
                // Two papers may open it at once: both keep the first handle.
                Ok(Some(Arc::clone(folders.entry(at).or_insert(Arc::new(dir)))))
            }
            Err(e) if not_found(&e) && !make => Ok(None),
            Err(e) => {
                if parent
                    .symlink_metadata(name)
                    .is_ok_and(|m| m.file_type().is_symlink())
                {
                    return Err(link_error(&self.shown(&at)));
                }
                Err(Error::path(
                    self.shown(&at),
                    format!("cannot open folder: {e}"),
                ))
            }
        }
    }

    /// The folder at `at` if this run opened it already.
    fn cached(&self, at: &Path) -> Option<Arc<Dir>> {
        let folders = self.folders.read().unwrap_or_else(|e| e.into_inner());
        folders.get(at).cloned()
    }

    /// Refuses a symlink at any folder or file on the way to each of `planned`, before
    /// anything is written. Each folder is opened once and read once, however many of the
    /// planned files it holds; nothing below a missing one is looked at.
    fn refuse_links<'p>(&self, planned: impl IntoIterator<Item = &'p Path>) -> Result<(), Error> {
        let mut by_folder: BTreeMap<Vec<&OsStr>, Vec<&OsStr>> = BTreeMap::new();
        for relative in planned {
            let (folders, name) = Writer::split(relative)?;
            by_folder.entry(folders).or_default().push(name);
        }
        for (folders, names) in by_folder {
            // A folder that is a link is an error here; one missing, or a file where a folder
            // would go, holds nothing yet (writing there fails later, on its own).
            let dir = match self.folder(&folders, false) {
                Ok(Some(dir)) => dir,
                Ok(None) => continue,
                Err(e) if self.is_link(&folders) => return Err(e),
                Err(_) => continue,
            };
            let links = symlinks_in(&dir);
            if let Some(name) = names.iter().find(|n| links.contains(**n)) {
                let at: PathBuf = folders.iter().chain([name]).collect();
                return Err(link_error(&self.shown(&at)));
            }
        }
        Ok(())
    }

    /// Whether some folder on the way to `folders` is a symlink.
    fn is_link(&self, folders: &[&OsStr]) -> bool {
        let at: PathBuf = folders.iter().collect();
        let mut prefix = PathBuf::new();
        at.components().any(|part| {
            prefix.push(part);
            self.out
                .symlink_metadata(&prefix)
                .is_ok_and(|m| m.file_type().is_symlink())
        })
    }

    /// A new, empty set of staged files for one paper.
    pub fn stage(&self) -> Staged<'_> {
        Staged {
            writer: self,
            files: Vec::new(),
        }
    }

    /// Writes all of one paper's outputs, or none of them.
    pub fn write_paper(&self, outputs: &[Output]) -> Result<(), Error> {
        let mut staged = self.stage();
        for output in outputs {
            let mut file = staged.open(&output.relative)?;
            let fail =
                |e: std::io::Error| Error::path(&output.relative, format!("cannot write: {e}"));
            file.write_all(&output.bytes).map_err(fail)?;
            file.flush().map_err(fail)?;
        }
        staged.commit()
    }

    /// The staging shelf for files bound for `folders` (of `relative`): a folder of the
    /// staging folder named by a number, made and opened without following a link on first
    /// use and kept open, so a link put in its place later is never written through.
    fn shelf(&self, folders: &[&OsStr], relative: &Path) -> Result<Arc<Dir>, Error> {
        let at: PathBuf = folders.iter().collect();
        if let Some(shelf) = self
            .shelves
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&at)
        {
            return Ok(Arc::clone(shelf));
        }
        let mut shelves = self.shelves.write().unwrap_or_else(|e| e.into_inner());
        if let Some(shelf) = shelves.get(&at) {
            return Ok(Arc::clone(shelf));
        }
        let name = shelves.len().to_string();
        let fail = |e: std::io::Error| {
            Error::path(
                self.shown(relative),
                format!("cannot create a staging folder: {e}"),
            )
        };
        self.staging.create_dir(&name).map_err(fail)?;
        let shelf = Arc::new(self.staging.open_dir_nofollow(&name).map_err(fail)?);
        shelves.insert(at, Arc::clone(&shelf));
        Ok(shelf)
    }

    /// Moves a staged file (`temp` on `shelf`) to `relative` in the output folder.
    fn place(&self, shelf: &Dir, temp: &str, relative: &Path) -> Result<(), Error> {
        let (folders, name) = Self::split(relative)?;
        let target = self.shown(relative);
        let Some(dir) = self.folder(&folders, true)? else {
            return Err(Error::path(&target, "cannot create its folder"));
        };
        match dir.symlink_metadata(name) {
            Ok(m) if m.file_type().is_symlink() => return Err(link_error(&target)),
            Ok(m) if m.is_dir() => {
                return Err(Error::path(
                    &target,
                    "is a folder; cannot replace it with a copy",
                ));
            }
            _ => {}
        }
        shelf
            .rename(temp, &dir, name)
            .map_err(|e| Error::path(&target, format!("cannot write: {e}")))
    }

    /// Whether `relative` is a file in the output folder, reached without following a link.
    pub fn holds(&self, relative: &Path) -> bool {
        let Ok((folders, name)) = Self::split(relative) else {
            return false;
        };
        matches!(self.folder(&folders, false), Ok(Some(dir))
            if dir.symlink_metadata(name).is_ok_and(|m| m.is_file()))
    }

    /// Removes copies left by an earlier build of a paper that now fails or has gone.
    pub fn remove_stale(&self, relatives: &[PathBuf]) -> Result<(), Error> {
        for relative in relatives {
            let (folders, name) = Self::split(relative)?;
            let target = self.shown(relative);
            let Some(dir) = self.folder(&folders, false)? else {
                continue;
            };
            match dir.symlink_metadata(name) {
                Err(e) if not_found(&e) => continue,
                Ok(m) if m.file_type().is_symlink() => return Err(link_error(&target)),
                _ => {}
            }
            match dir.remove_file(name) {
                Ok(()) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => {
                    return Err(Error::path(
                        &target,
                        format!("cannot remove stale copy: {e}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.out.remove_dir_all(&self.staging_name);
        // A run that wrote nothing leaves no output folder it made.
        remove_empty(&self.created);
    }
}

fn not_found(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

fn link_error(path: &Path) -> Error {
    Error::path(
        path,
        "is a symlink; redact never writes, renames or removes through a symlink under the output folder: replace it with a folder or remove it",
    )
}

/// Removes each of `folders` (deepest first) that is empty; stops at the first that is not.
fn remove_empty(folders: &[PathBuf]) {
    for folder in folders {
        if fs::remove_dir(folder).is_err() {
            break;
        }
    }
}

/// The names of the symlinks directly in `dir`, read once.
fn symlinks_in(dir: &Dir) -> HashSet<OsString> {
    let Ok(entries) = dir.entries() else {
        return HashSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| e.file_name())
        .collect()
}

/// Makes a staging folder with a name no earlier run could have left a link under.
fn staging_in(out: &Dir, shown: &Path) -> Result<(String, Dir), Error> {
    use std::hash::{BuildHasher, Hasher};
    let fail =
        |e: std::io::Error| Error::path(shown, format!("cannot create a staging folder: {e}"));
    for _ in 0..16 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let name = format!(".redact-staging-{:016x}", hasher.finish());
        match out.create_dir(&name) {
            Ok(()) => return Ok((name.clone(), out.open_dir_nofollow(&name).map_err(fail)?)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(fail(e)),
        }
    }
    Err(Error::path(shown, "cannot create a staging folder"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A paper that fails after its copies were staged (its proof, say) leaves no byte of them
    /// anywhere under the output folder, staging included.
    #[test]
    fn staged_files_dropped_uncommitted_are_gone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = Writer::new(dir.path()).expect("writer");
        {
            let mut staged = writer.stage();
            let mut file = staged.open(Path::new("public/p.md")).expect("open");
            file.write_all(b"stagedcanary").expect("write");
            file.flush().expect("flush");
            drop(file);
            assert!(staged.read(Path::new("public/p.md")).is_some());
        }
        let left: Vec<PathBuf> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().to_path_buf())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // Committed, the same file is in place and the staging folder holds nothing.
        let mut staged = writer.stage();
        let mut file = staged.open(Path::new("public/p.md")).expect("open");
        file.write_all(b"kept").expect("write");
        file.flush().expect("flush");
        drop(file);
        staged.commit().expect("commit");
        assert_eq!(
            fs::read(dir.path().join("public/p.md")).expect("read"),
            b"kept"
        );
    }

    /// A staging shelf moved away and a link put in its place is never written through: the
    /// writer keeps the folder it made open, so the next paper lands in place and nothing
    /// reaches where the link points.
    #[cfg(unix)]
    #[test]
    fn a_staging_shelf_replaced_by_a_link_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).expect("mkdir");
        let writer = Writer::new(&out).expect("writer");
        let paper = |text: &[u8]| {
            [
                Output {
                    relative: PathBuf::from("public/p.md"),
                    bytes: text.to_vec(),
                },
                Output {
                    relative: PathBuf::from("audit/p.json"),
                    bytes: text.to_vec(),
                },
            ]
        };
        writer.write_paper(&paper(b"first")).expect("write");
        let staging = out.join(&writer.staging_name);
        let shelves: Vec<PathBuf> = fs::read_dir(&staging)
            .expect("staging")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(shelves.len(), 2, "one shelf per output folder: {shelves:?}");
        for (k, shelf) in shelves.iter().enumerate() {
            fs::rename(shelf, dir.path().join(format!("moved-{k}"))).expect("move");
            std::os::unix::fs::symlink(&elsewhere, shelf).expect("link");
        }
        writer.write_paper(&paper(b"shelfcanary")).expect("write");
        assert_eq!(fs::read_dir(&elsewhere).expect("read").count(), 0);
        for file in ["public/p.md", "audit/p.json"] {
            assert_eq!(fs::read(out.join(file)).expect("read"), b"shelfcanary");
        }
    }

    /// Written through the writer, a folder or a file that is a link stops the write, however
    /// it got there (after the check at the start of the run, say), even a link to a folder
    /// inside the output folder, which cap-std's own sandbox would let through.
    #[cfg(unix)]
    #[test]
    fn a_link_made_after_the_check_is_still_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let writer = Writer::new(&out).expect("writer");
        let elsewhere = out.join("elsewhere");
        fs::create_dir_all(&elsewhere).expect("mkdir");
        std::os::unix::fs::symlink("elsewhere", out.join("public")).expect("link");
        let outputs = [Output {
            relative: PathBuf::from("public/p.md"),
            bytes: b"linkcanary".to_vec(),
        }];
        assert!(writer.write_paper(&outputs).is_err());
        assert!(
            writer
                .remove_stale(&[PathBuf::from("public/p.md")])
                .is_err()
        );
        assert_eq!(fs::read_dir(&elsewhere).expect("read").count(), 0);
        fs::remove_file(out.join("public")).expect("unlink");
        fs::create_dir(out.join("audit")).expect("mkdir");
        std::os::unix::fs::symlink("../elsewhere/p.json", out.join("audit/p.json")).expect("link");
        let outputs = [Output {
            relative: PathBuf::from("audit/p.json"),
            bytes: b"linkcanary".to_vec(),
        }];
        assert!(writer.write_paper(&outputs).is_err());
        assert_eq!(fs::read_dir(&elsewhere).expect("read").count(), 0);
    }
}
