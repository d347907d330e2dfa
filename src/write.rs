//! The only writer. A paper's copies are staged in a temporary folder inside `--out` and
//! renamed into place only once all of them rendered; a failed paper's stale copies are
//! removed. No path ever leaves the output folder.

use std::fs;
use std::path::{Component, Path, PathBuf};

use tempfile::TempDir;

use crate::error::Error;

/// One file to write, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub relative: PathBuf,
    pub bytes: Vec<u8>,
}

pub struct Writer {
    out: PathBuf,
    staging: TempDir,
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

    /// Writes all of one paper's outputs, or none of them.
    pub fn write_paper(&self, outputs: &[Output]) -> Result<(), Error> {
        let mut staged = Vec::with_capacity(outputs.len());
        for output in outputs {
            let temp = Self::inside(self.staging.path(), &output.relative)?;
            let target = Self::inside(&self.out, &output.relative)?;
            if let Some(parent) = temp.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::path(parent, format!("cannot create folder: {e}")))?;
            }
            fs::write(&temp, &output.bytes)
                .map_err(|e| Error::path(&temp, format!("cannot write: {e}")))?;
            staged.push((temp, target));
        }
        for (temp, target) in staged {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::path(parent, format!("cannot create folder: {e}")))?;
            }
            if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                return Err(Error::path(
                    &target,
                    "is a folder; cannot replace it with a copy",
                ));
            }
            fs::rename(&temp, &target)
                .map_err(|e| Error::path(&target, format!("cannot write: {e}")))?;
        }
        Ok(())
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
