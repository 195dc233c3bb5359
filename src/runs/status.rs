//! How a run ended, written into its folder as `status.json`
//! (`{"status": "diverged", "message": "…"}`), so that a cancelled, failed or diverged run says
//! so on disk and in the Runs view, and a folder without one is a run that is still going or
//! whose process died.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::files::write_atomic;
use crate::files::FileError as RunsError;

/// The status file's name inside a run folder.
pub const STATUS_FILE: &str = "status.json";

/// How a run ended, or [`RunStatus::Unfinished`] when it has not said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// No status was written: the run is still going, or its process died (crash, kill).
    Unfinished,
    /// The run completed and wrote its summary.
    Finished,
    /// The user cancelled it.
    Cancelled,
    /// It stopped with an error (bad data, a full disk, an internal error).
    Failed,
    /// Its training diverged: the loss exploded or the model sat at chance level.
    Diverged,
}

impl RunStatus {
    /// Lower-case name, as written in `status.json`.
    pub fn key(self) -> &'static str {
        match self {
            RunStatus::Unfinished => "unfinished",
            RunStatus::Finished => "finished",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
            RunStatus::Diverged => "diverged",
        }
    }
}

/// The content of `status.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusRecord {
    /// How the run ended.
    pub status: RunStatus,
    /// One line: the summary, or the reason it stopped.
    pub message: String,
}

/// Records in `dir` how its run ended (atomically, replacing any earlier status). The trainer
/// calls it when a run ends; the worker calls it too when a run's thread panics. A folder that
/// no longer exists (the run was deleted) is not recreated.
pub fn mark_run(dir: &Path, status: RunStatus, message: &str) -> Result<(), RunsError> {
    if !dir.is_dir() {
        return Err(RunsError::invalid(dir, "no such run folder"));
    }
    let record = StatusRecord {
        status,
        message: message.to_owned(),
    };
    let path = dir.join(STATUS_FILE);
    let json = serde_json::to_string_pretty(&record)
        .map_err(|e| RunsError::invalid(&path, e.to_string()))?;
    write_atomic(&path, json.as_bytes())
}

/// Reads `status.json` of `dir`: `None` when there is none, an error when it is unreadable.
pub fn read_status(dir: &Path) -> Result<Option<StatusRecord>, RunsError> {
    let path = dir.join(STATUS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RunsError::invalid(&path, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RunsError::io(&path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_round_trips_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_status(dir.path()).unwrap(), None);
        mark_run(dir.path(), RunStatus::Cancelled, "cancelled").unwrap();
        mark_run(dir.path(), RunStatus::Diverged, "loss became NaN").unwrap();
        let record = read_status(dir.path()).unwrap().unwrap();
        assert_eq!(record.status, RunStatus::Diverged, "the last status wins");
        assert_eq!(record.message, "loss became NaN");
        let text = std::fs::read_to_string(dir.path().join(STATUS_FILE)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["status"], "diverged");
        std::fs::write(dir.path().join(STATUS_FILE), "{").unwrap();
        let err = read_status(dir.path()).unwrap_err().to_string();
        assert!(err.contains(STATUS_FILE), "{err}");
        let deleted = dir.path().join("deleted-run");
        assert!(mark_run(&deleted, RunStatus::Failed, "panic").is_err());
        assert!(!deleted.exists(), "a deleted run folder is not recreated");
    }
}
