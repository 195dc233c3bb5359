//! The one error type of every export, naming the file or plot that failed.

use crate::files::FileError;

/// Why an export failed; every message names the file (or plot) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed, or its content could not be produced.
    #[error(transparent)]
    File(#[from] FileError),
    /// A plot could not be rendered (before any file is involved).
    #[error("plot \"{title}\": {problem}")]
    Plot {
        /// The plot's title.
        title: String,
        /// What is wrong.
        problem: String,
    },
}

impl ExportError {
    /// Attaches the file being written to an error that does not name one yet.
    pub(crate) fn at(self, path: &std::path::Path) -> Self {
        match self {
            ExportError::Plot { .. } => FileError::invalid(path, self.to_string()).into(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_error_gains_the_path() {
        let e = ExportError::Plot {
            title: "Loss".into(),
            problem: "log x axis needs x > 0".into(),
        };
        let msg = e.at(std::path::Path::new("/x/y.png")).to_string();
        assert_eq!(msg, "/x/y.png: plot \"Loss\": log x axis needs x > 0");
    }

    #[test]
    fn io_error_names_the_path() {
        let e = ExportError::from(FileError::Io {
            path: "/x/y.png".into(),
            error: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert!(e.to_string().starts_with("/x/y.png: permission denied"));
    }
}
