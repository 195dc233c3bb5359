//! An open run folder: `runs/<timestamp>-<name>/` with its `config.toml`, written atomically
//! file by file (a crash never leaves half a file). `metrics.csv` and `probes.csv` are
//! rewritten whole as rows arrive: both are small, and a reader never sees a partial row.

use std::path::{Path, PathBuf};

use super::metrics::metrics_csv;
use super::probes::probes_csv;
use super::status::STATUS_FILE;
use crate::config::RunConfig;
use crate::events::{EpochMetrics, ProbeSnapshot, RunSummary};
use crate::files::{write_atomic, FileError as RunsError};

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunsError + '_ {
    RunsError::io(path)
}

/// Keeps letters, digits, `-` and `_` of a run name for use in a folder name.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "run".into()
    } else {
        s
    }
}

/// An open run folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
    metrics: Vec<EpochMetrics>,
    probes: Vec<ProbeSnapshot>,
}

impl RunDir {
    /// Creates `runs_dir/<timestamp>-<name>/` (with a numeric suffix if it exists) and writes
    /// `config.toml` into it.
    pub fn create(runs_dir: &Path, config: &RunConfig) -> Result<Self, RunsError> {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let base = format!("{stamp}-{}", slug(&config.name));
        std::fs::create_dir_all(runs_dir).map_err(io_error(runs_dir))?;
        let mut path = runs_dir.join(&base);
        let mut n = 2;
        while path.exists() {
            path = runs_dir.join(format!("{base}-{n}"));
            n += 1;
        }
        std::fs::create_dir(&path).map_err(io_error(&path))?;
        let dir = Self {
            path,
            metrics: Vec::new(),
            probes: Vec::new(),
        };
        dir.write("config.toml", config.to_toml().as_bytes())?;
        Ok(dir)
    }

    /// Creates (or reopens) the run folder at exactly `path` and writes `config.toml` into it:
    /// for sweeps and cluster jobs, whose run folders sit at fixed, planned paths. Files of an
    /// earlier, unfinished attempt are overwritten as the new run writes them; a stale
    /// `summary.json` or `status.json` is removed first, so the folder never describes two runs.
    pub fn create_at(path: &Path, config: &RunConfig) -> Result<Self, RunsError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        for stale in ["summary.json", STATUS_FILE] {
            let file = path.join(stale);
            if file.exists() {
                std::fs::remove_file(&file).map_err(io_error(&file))?;
            }
        }
        let dir = Self {
            path: path.to_owned(),
            metrics: Vec::new(),
            probes: Vec::new(),
        };
        dir.write("config.toml", config.to_toml().as_bytes())?;
        Ok(dir)
    }

    /// Writes a file inside the run folder atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), RunsError> {
        write_atomic(&self.path.join(name), bytes)
    }

    /// Appends an epoch's metrics and rewrites `metrics.csv`.
    pub fn record(&mut self, metrics: &EpochMetrics) -> Result<(), RunsError> {
        self.metrics.push(metrics.clone());
        self.write("metrics.csv", metrics_csv(&self.metrics).as_bytes())
    }

    /// Appends an epoch-end probe snapshot and rewrites `probes.csv`.
    pub fn record_probes(&mut self, snapshot: &ProbeSnapshot) -> Result<(), RunsError> {
        self.probes.push(snapshot.clone());
        self.write("probes.csv", probes_csv(&self.probes).as_bytes())
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &RunSummary) -> Result<(), RunsError> {
        let json = serde_json::to_string_pretty(summary).map_err(|e| RunsError::Invalid {
            path: self.path.join("summary.json"),
            problem: e.to_string(),
        })?;
        self.write("summary.json", json.as_bytes())
    }
}
