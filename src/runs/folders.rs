//! The runs folder as a whole: listing every run folder (the unreadable ones too, with the
//! reason) and deleting a run folder (and nothing else).

use std::path::{Path, PathBuf};

use super::status::STATUS_FILE;
use super::stored::{load_run, size_on_disk, StoredRun};
use super::teacher::TEACHER_SOURCE_FILE;
use crate::files::{FileError, FileError as RunsError};

/// The files that mark a folder as a run folder: a run writes `config.toml` first, the
/// others as it goes.
const MARKERS: [&str; 4] = ["config.toml", "metrics.csv", "summary.json", STATUS_FILE];

/// Other files a run writes (besides `*.safetensors` and the temporary files of
/// [`crate::files::write_atomic`]).
const OTHER_RUN_FILES: [&str; 6] = [
    "sweep.csv",
    "probes.csv",
    "grid.csv",
    "points.csv",
    "plane.json",
    TEACHER_SOURCE_FILE,
];

/// One entry of [`list_runs`]: a run folder that was read, or one that could not be.
#[derive(Clone, Debug)]
pub enum ListedRun {
    /// A run folder that was read.
    Run(Box<StoredRun>),
    /// A folder that looks like a run folder but could not be read.
    Unreadable {
        /// The folder.
        dir: PathBuf,
        /// Why, naming the file (e.g. `…/config.toml: line 3, column 1: …`).
        reason: String,
        /// Bytes that deleting it would free.
        size_bytes: u64,
    },
}

impl ListedRun {
    /// The folder.
    pub fn dir(&self) -> &Path {
        match self {
            ListedRun::Run(run) => &run.dir,
            ListedRun::Unreadable { dir, .. } => dir,
        }
    }

    /// Bytes that deleting the folder would free.
    pub fn size_bytes(&self) -> u64 {
        match self {
            ListedRun::Run(run) => run.size_bytes,
            ListedRun::Unreadable { size_bytes, .. } => *size_bytes,
        }
    }

    /// The run, if it was readable.
    pub fn into_run(self) -> Option<StoredRun> {
        match self {
            ListedRun::Run(run) => Some(*run),
            ListedRun::Unreadable { .. } => None,
        }
    }
}

/// Whether `name` is that of a folder [`RunDir::create`] makes: `YYYYMMDD-HHMMSS-…`.
fn has_run_folder_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 16
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'-'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'-'
}

/// Whether `dir` looks like a run folder: it holds a run's file, or has a run folder's name
/// (a run folder whose files cannot even be looked at is still listed, with the reason).
fn looks_like_run_folder(dir: &Path) -> bool {
    let named = dir
        .file_name()
        .is_some_and(|n| has_run_folder_name(&n.to_string_lossy()));
    named || MARKERS.iter().any(|m| dir.join(m).is_file())
}

/// Every run folder under `runs_dir`, newest first, with the folders that look like run
/// folders but cannot be read (a damaged `config.toml`, no permission) listed with the reason
/// instead of silently left out. Other folders are not runs and are not listed. No runs folder
/// yet means no runs.
pub fn list_runs(runs_dir: &Path) -> Vec<ListedRun> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && looks_like_run_folder(p))
        .collect();
    dirs.sort();
    dirs.reverse();
    dirs.into_iter()
        .map(|dir| match load_run(&dir) {
            Ok(run) => ListedRun::Run(Box::new(run)),
            Err(e) => ListedRun::Unreadable {
                size_bytes: size_on_disk(&dir),
                reason: e.to_string(),
                dir,
            },
        })
        .collect()
}

/// Whether `name` is a file a run writes.
fn is_run_file(name: &str) -> bool {
    MARKERS.contains(&name)
        || OTHER_RUN_FILES.contains(&name)
        || name.ends_with(".safetensors")
        || (name.starts_with('.') && name.ends_with(".tmp"))
}

/// Deletes the run folder `dir` and its files. Refuses, deleting nothing, anything that is not
/// a run folder: a symbolic link, a folder without a run's files, or one that holds a
/// sub-folder or a file no run writes (the user's notes stay where they are).
pub fn delete_run(dir: &Path) -> Result<(), RunsError> {
    let refuse = |why: String| FileError::invalid(dir, format!("not deleted: {why}"));
    let metadata = std::fs::symlink_metadata(dir).map_err(FileError::io(dir))?;
    if !metadata.is_dir() {
        return Err(refuse("not a run folder (not a folder)".into()));
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(FileError::io(dir))? {
        let entry = entry.map_err(FileError::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !is_run_file(&name) {
            return Err(refuse(format!(
                "not a run folder: it holds `{name}`, which no run writes"
            )));
        }
        files.push((name, entry.path()));
    }
    if !files
        .iter()
        .any(|(name, _)| MARKERS.contains(&name.as_str()))
    {
        return Err(refuse(format!(
            "not a run folder: it has none of {}",
            MARKERS.join(", ")
        )));
    }
    for (_, path) in &files {
        std::fs::remove_file(path).map_err(FileError::io(path))?;
    }
    // Fails, keeping the folder, if something was added since it was checked.
    std::fs::remove_dir(dir).map_err(FileError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;
    use crate::runs::dir::RunDir;
    use crate::runs::teacher::{teacher_weights, TEACHER_FILE};
    use crate::runs::{mark_run, RunStatus};

    fn run_folder(root: &Path) -> RunDir {
        RunDir::create(root, &RunConfig::default()).unwrap()
    }

    #[test]
    fn unreadable_run_folders_are_listed_with_the_reason() {
        let root = tempfile::tempdir().unwrap();
        let good = run_folder(root.path());
        mark_run(&good.path, RunStatus::Cancelled, "cancelled").unwrap();
        let broken = root.path().join("20261130-120000-broken");
        std::fs::create_dir(&broken).unwrap();
        let bad_config = "[student]\nepochs = \"ten\"\n";
        std::fs::write(broken.join("config.toml"), bad_config).unwrap();
        let no_config = root.path().join("20261130-120001-empty");
        std::fs::create_dir(&no_config).unwrap();
        // Not runs: a stray folder and a file.
        std::fs::create_dir(root.path().join("exports")).unwrap();
        std::fs::write(root.path().join("notes.txt"), "hi").unwrap();

        let listed = list_runs(root.path());
        assert_eq!(listed.len(), 3, "{listed:?}");
        let find = |dir: &Path| listed.iter().find(|l| l.dir() == dir).unwrap();
        match find(&broken) {
            ListedRun::Unreadable {
                reason, size_bytes, ..
            } => {
                assert!(reason.contains("config.toml"), "{reason}");
                assert!(
                    reason.contains("line 2, column 10: student.epochs"),
                    "{reason}"
                );
                assert_eq!(*size_bytes, bad_config.len() as u64);
            }
            other => panic!("expected unreadable, got {other:?}"),
        }
        assert!(matches!(find(&no_config), ListedRun::Unreadable { .. }));
        match find(&good.path) {
            ListedRun::Run(run) => {
                assert_eq!(run.status, RunStatus::Cancelled);
                assert_eq!(run.status_message.as_deref(), Some("cancelled"));
                assert_eq!(run.size_bytes, size_on_disk(&good.path));
            }
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn delete_removes_run_folders_and_refuses_anything_else() {
        let root = tempfile::tempdir().unwrap();
        let run = run_folder(root.path());
        run.write("student.safetensors", b"weights").unwrap();
        delete_run(&run.path).unwrap();
        assert!(!run.path.exists());

        // A folder with the user's own file in it is left alone.
        let kept = run_folder(root.path());
        std::fs::write(kept.path.join("notes.txt"), "mine").unwrap();
        let err = delete_run(&kept.path).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not deleted"),
            "{err}"
        );
        assert!(
            kept.path.join("config.toml").is_file(),
            "nothing was deleted"
        );

        // Not run folders: a plain folder, one with a sub-folder, a file, nothing at all.
        let plain = root.path().join("photos");
        std::fs::create_dir(&plain).unwrap();
        std::fs::write(plain.join("student.safetensors"), b"x").unwrap();
        let err = delete_run(&plain).unwrap_err().to_string();
        assert!(err.contains("none of config.toml"), "{err}");
        let nested = run_folder(root.path());
        std::fs::create_dir(nested.path.join("sub")).unwrap();
        assert!(delete_run(&nested.path).is_err());
        assert!(delete_run(&kept.path.join("config.toml")).is_err());
        assert!(delete_run(&root.path().join("missing")).is_err());
        assert!(plain.exists() && nested.path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_to_a_run_is_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let run = run_folder(root.path());
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&run.path, &link).unwrap();
        let err = delete_run(&link).unwrap_err().to_string();
        assert!(err.contains("not a folder"), "{err}");
        assert!(run.path.join("config.toml").is_file());
    }

    #[test]
    fn a_referenced_teacher_is_found_and_not_counted_in_the_size() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("teacher-file.safetensors");
        std::fs::write(&source, vec![7u8; 10_000]).unwrap();
        let run = run_folder(root.path());
        let before = size_on_disk(&run.path);
        let record = run.reference_teacher(&source).unwrap();
        assert_eq!(record.path, std::fs::canonicalize(&source).unwrap());
        let config = RunConfig::default();
        let found = teacher_weights(&run.path, &config).unwrap();
        assert_eq!(std::fs::read(&found).unwrap().len(), 10_000);
        if record.hard_linked {
            assert_eq!(found, run.path.join(TEACHER_FILE));
        }
        let grown = size_on_disk(&run.path) - before;
        assert!(
            grown < 1_000,
            "the teacher's 10 kB are not counted: {grown}"
        );
        // Without the link, the recorded path is used.
        let _ = std::fs::remove_file(run.path.join(TEACHER_FILE));
        assert_eq!(
            teacher_weights(&run.path, &config),
            Some(record.path.clone())
        );
        std::fs::remove_file(&source).unwrap();
        assert_eq!(teacher_weights(&run.path, &config), None);
    }

    #[test]
    fn run_folder_names_are_recognised() {
        assert!(has_run_folder_name("20261130-065911-quick"));
        assert!(!has_run_folder_name("exports"));
        assert!(!has_run_folder_name("20261130-065911"));
        assert!(!has_run_folder_name("2026113x-065911-quick"));
    }
}
