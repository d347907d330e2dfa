//! The only writer. A paper's copies are staged in a temporary folder inside `--out` and
//! renamed into place only once all of them rendered; a failed paper's stale copies are
//! removed. No path ever leaves the output folder.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use tempfile::TempDir;

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
    /// Each file's path relative to the output folder, and where it is staged.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Sink for Staged<'_> {
    fn open(&mut self, relative: &Path) -> Result<Box<dyn Write + '_>, Error> {
        let temp = Writer::inside(self.writer.staging.path(), relative)?;
        Writer::inside(&self.writer.out, relative)?;
        if let Some(parent) = temp.parent() {
            self.writer.make_folder(parent)?;
        }
        let file = fs::File::create(&temp)
            .map_err(|e| Error::path(&temp, format!("cannot write: {e}")))?;
        self.files.push((relative.to_path_buf(), temp));
        Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
    }
}

impl Staged<'_> {
    /// The files staged so far, relative to the output folder.
    pub fn relatives(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(r, _)| r.as_path())
    }

    /// Reads back a staged file (to print it, or record it).
    pub fn read(&self, relative: &Path) -> Option<Vec<u8>> {
        let (_, temp) = self.files.iter().find(|(r, _)| r == relative)?;
        fs::read(temp).ok()
    }

    /// Moves every staged file into place.
    pub fn commit(mut self) -> Result<(), Error> {
        let files = std::mem::take(&mut self.files);
        let mut moving = files.iter();
        let result = (|| {
            for (relative, temp) in moving.by_ref() {
                self.writer.place(temp, relative)?;
            }
            Ok(())
        })();
        // A failed move leaves the rest staged: remove them.
        for (_, temp) in moving {
            let _ = fs::remove_file(temp);
        }
        result
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        for (_, temp) in &self.files {
            let _ = fs::remove_file(temp);
        }
    }
}

pub struct Writer {
    out: PathBuf,
    staging: TempDir,
    /// Folders already made, so thousands of papers do not each ask for the same few.
    made: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
}

impl Writer {
    pub fn new(out: &Path) -> Result<Writer, Error> {
        fs::create_dir_all(out)
            .map_err(|e| Error::path(out, format!("cannot create output folder: {e}")))?;
        let staging = tempfile::Builder::new()
            .prefix(".redact-staging-")
            .tempdir_in(out)
            .map_err(|e| Error::path(out, format!("cannot create a staging folder: {e}")))?;
        Ok(Writer {
            out: out.to_path_buf(),
            staging,
            made: Default::default(),
        })
    }

    /// `relative` joined to `root`, refusing anything that could leave it.
    fn inside(root: &Path, relative: &Path) -> Result<PathBuf, Error> {
        let safe = !relative.as_os_str().is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(Error::path(
                relative,
                "output path would leave the output folder",
            ));
        }
        Ok(root.join(relative))
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

    /// Makes `folder` and its parents, once per run.
    fn make_folder(&self, folder: &Path) -> Result<(), Error> {
        let made = |m: &std::sync::Mutex<std::collections::HashSet<PathBuf>>| {
            m.lock().map(|set| set.contains(folder)).unwrap_or(false)
        };
        if made(&self.made) {
            return Ok(());
        }
        fs::create_dir_all(folder)
            .map_err(|e| Error::path(folder, format!("cannot create folder: {e}")))?;
        if let Ok(mut set) = self.made.lock() {
            set.insert(folder.to_path_buf());
        }
        Ok(())
    }

    /// Moves a staged file to `relative` in the output folder.
    fn place(&self, temp: &Path, relative: &Path) -> Result<(), Error> {
        let target = Self::inside(&self.out, relative)?;
        if let Some(parent) = target.parent() {
            self.make_folder(parent)?;
        }
        if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(Error::path(
                &target,
                "is a folder; cannot replace it with a copy",
            ));
        }
        fs::rename(temp, &target).map_err(|e| Error::path(&target, format!("cannot write: {e}")))
    }

    /// Removes copies left by an earlier build of a paper that now fails.
    pub fn remove_stale(&self, relatives: &[PathBuf]) -> Result<(), Error> {
        for relative in relatives {
            let target = Self::inside(&self.out, relative)?;
            match fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
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
}
