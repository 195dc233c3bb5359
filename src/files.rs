//! The one error type for files that cannot be read, written or used: data files, weights,
//! run folders. Every message starts with the file's path, so the CLI's `error:` line and the
//! GUI's status bar always say which file and what is wrong with it.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file problem, naming the file.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file could not be opened, read or written.
    ///
    /// The OS error is part of the message, and deliberately not an error `source`: printed
    /// with its chain (`{:#}`, as the CLI does) it would otherwise appear twice.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file's content cannot be used.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

impl FileError {
    /// An [`FileError::Invalid`] for `path`.
    pub fn invalid(path: &Path, problem: impl ToString) -> Self {
        FileError::Invalid {
            path: path.to_owned(),
            problem: problem.to_string(),
        }
    }

    /// A function turning an OS error on `path` into a [`FileError::Io`] (for `map_err`).
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |error| FileError::Io {
            path: path.to_owned(),
            error,
        }
    }
}

/// Writes `bytes` to `path` atomically: a sibling temporary file, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    // Every error names `path`, the file the caller asked for, not the temporary sibling or
    // the parent folder that the failing step touched.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(FileError::io(path))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(FileError::io(path))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FileError::io(path)(e)
    })
}
