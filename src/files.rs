//! The one error type for files that cannot be read, written or used: data files, weights,
//! run folders. Every message starts with the file's path, so the CLI's `error:` line and the
//! GUI's status bar always say which file and what is wrong with it. Beside it, the helpers
//! every file goes through: atomic writes, and CSV text in and out (the `csv` crate).

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

/// The CSV text of `records` (the first one is the header), written by the `csv` crate: a field
/// holding a comma, a quote or a line break is quoted and its quotes doubled (RFC 4180); lines
/// end in `\n`. Callers format their numbers, so each file keeps its precision.
///
/// Writing into memory has nothing to fail on (no I/O; the writer accepts records of any
/// length), so this returns the text rather than a `Result`.
pub fn csv_text<R, F>(records: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut bytes = Vec::new();
    {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut bytes);
        for record in records {
            // Infallible in memory (see above); there is no error to hand on.
            let _ = writer.write_record(record);
        }
        let _ = writer.flush();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The rows of `text`, a CSV file with a header line, read by the `csv` crate into `T` (columns
/// matched by name, so their order may change). An error names `path` and the record's line.
pub fn read_csv<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<Vec<T>, FileError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| FileError::invalid(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Row {
        name: String,
        value: f64,
    }

    /// Fields with commas, quotes and line breaks survive a write and a read.
    #[test]
    fn csv_fields_round_trip_quotes_commas_and_line_breaks() {
        let names = ["plain", "a,b", "say \"hi\"", "two\nlines", ""];
        let text = csv_text(
            std::iter::once(["name".to_owned(), "value".to_owned()]).chain(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| [(*n).to_owned(), format!("{}", i as f64 / 3.0)]),
            ),
        );
        assert!(
            text.starts_with("name,value\nplain,0\n\"a,b\",0.333"),
            "{text}"
        );
        let rows: Vec<Row> = read_csv(Path::new("t.csv"), &text).unwrap();
        let expected: Vec<Row> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Row {
                name: (*n).to_owned(),
                value: i as f64 / 3.0,
            })
            .collect();
        assert_eq!(rows, expected);
    }

    /// A bad cell is reported with the file and the line it is on.
    #[test]
    fn csv_errors_name_the_file_and_line() {
        let text = "name,value\na,1\nb,x\n";
        let err = read_csv::<Row>(Path::new("/r/m.csv"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/r/m.csv: ") && err.contains("line: 3"),
            "{err}"
        );
    }
}
