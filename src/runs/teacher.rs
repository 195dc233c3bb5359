//! A teacher loaded from a file: a run references it (a hard link where the file system
//! allows, and `teacher-source.json`) instead of copying it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dir::RunDir;
use crate::config::RunConfig;
use crate::files::{FileError, FileError as RunsError};

/// Records where a teacher loaded from a file came from.
pub const TEACHER_SOURCE_FILE: &str = "teacher-source.json";

/// The run's own teacher file: trained by it, or hard-linked to the file it was loaded from.
pub const TEACHER_FILE: &str = "teacher.safetensors";

/// Where a teacher loaded from a file came from (`teacher-source.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherSource {
    /// The weights file, as an absolute path.
    pub path: PathBuf,
    /// Whether the run's `teacher.safetensors` is a hard link to it.
    pub hard_linked: bool,
}

impl RunDir {
    /// Records that this run's teacher was loaded from `source` instead of copying it: a hard
    /// link `teacher.safetensors` where the file system allows one (no bytes copied, and the
    /// run keeps its teacher if the file is later replaced or deleted), and in any case
    /// `teacher-source.json` with the file's absolute path.
    pub fn reference_teacher(&self, source: &Path) -> Result<TeacherSource, RunsError> {
        let path = std::fs::canonicalize(source).map_err(FileError::io(source))?;
        let hard_linked = std::fs::hard_link(&path, self.path.join(TEACHER_FILE)).is_ok();
        let record = TeacherSource { path, hard_linked };
        let file = self.path.join(TEACHER_SOURCE_FILE);
        let json = serde_json::to_string_pretty(&record)
            .map_err(|e| FileError::invalid(&file, e.to_string()))?;
        self.write(TEACHER_SOURCE_FILE, json.as_bytes())?;
        Ok(record)
    }
}

/// The teacher weights of the run in `dir`: its own `teacher.safetensors`, else the file
/// recorded in `teacher-source.json`, else the configured `teacher.weights`, whichever exists.
pub fn teacher_weights(dir: &Path, config: &RunConfig) -> Option<PathBuf> {
    let own = dir.join(TEACHER_FILE);
    if own.is_file() {
        return Some(own);
    }
    let recorded = std::fs::read_to_string(dir.join(TEACHER_SOURCE_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<TeacherSource>(&text).ok())
        .map(|source| source.path);
    recorded
        .into_iter()
        .chain(
            config
                .teacher
                .weights
                .as_deref()
                .map(|p| crate::assets::resolve(p, None)),
        )
        .find(|path| path.is_file())
}
