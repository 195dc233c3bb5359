//! Run folders on disk: `runs/<timestamp>-<name>/` with `config.toml`, `metrics.csv`,
//! `summary.json` and the models' `.safetensors`. Every file is written to a temporary file and
//! renamed into place, so a crash never leaves half a file.

use std::path::{Path, PathBuf};

use crate::files::{csv_text, read_csv, write_atomic, FileError};

use crate::config::RunConfig;
use crate::events::{EpochMetrics, Phase, RunSummary};

/// A run folder that cannot be written or read.
pub type RunsError = FileError;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunsError + '_ {
    FileError::io(path)
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
}

/// Header of `metrics.csv`.
pub const METRICS_HEADER: &str =
    "phase,member,epoch,loss,soft_loss,hard_loss,lr,test_errors,test_n,elapsed_secs,per_class_errors";

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

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &RunSummary) -> Result<(), RunsError> {
        let json = serde_json::to_string_pretty(summary).map_err(|e| RunsError::Invalid {
            path: self.path.join("summary.json"),
            problem: e.to_string(),
        })?;
        self.write("summary.json", json.as_bytes())
    }
}

/// The CSV text of a list of epoch metrics (through [`csv_text`]).
pub fn metrics_csv(rows: &[EpochMetrics]) -> String {
    let header: Vec<String> = METRICS_HEADER.split(',').map(str::to_owned).collect();
    csv_text(std::iter::once(header).chain(rows.iter().map(|m| {
        let per_class: Vec<String> = m.per_class_errors.iter().map(usize::to_string).collect();
        vec![
            m.phase.key().to_owned(),
            m.member.to_string(),
            m.epoch.to_string(),
            format!("{:.6}", m.loss),
            format!("{:.6}", m.soft_loss),
            format!("{:.6}", m.hard_loss),
            format!("{:.6}", m.lr),
            m.test_errors.to_string(),
            m.test_n.to_string(),
            format!("{:.3}", m.elapsed_secs),
            per_class.join(";"),
        ]
    })))
}

/// One line of `metrics.csv` as read: the columns of [`METRICS_HEADER`], the per-class errors
/// still `;`-separated.
#[derive(serde::Deserialize)]
struct MetricsRow {
    phase: Phase,
    member: usize,
    epoch: usize,
    loss: f64,
    soft_loss: f64,
    hard_loss: f64,
    lr: f64,
    test_errors: usize,
    test_n: usize,
    elapsed_secs: f64,
    per_class_errors: String,
}

/// Parses `metrics.csv` back into rows (through [`read_csv`]).
pub fn parse_metrics_csv(path: &Path, text: &str) -> Result<Vec<EpochMetrics>, RunsError> {
    read_csv::<MetricsRow>(path, text)?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let per_class_errors = row
                .per_class_errors
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    RunsError::invalid(
                        path,
                        format!(
                            "row {}: per_class_errors is not a ;-separated list of counts: {}",
                            i + 1,
                            row.per_class_errors
                        ),
                    )
                })?;
            Ok(EpochMetrics {
                phase: row.phase,
                member: row.member,
                epoch: row.epoch,
                loss: row.loss,
                soft_loss: row.soft_loss,
                hard_loss: row.hard_loss,
                lr: row.lr,
                test_errors: row.test_errors,
                test_n: row.test_n,
                elapsed_secs: row.elapsed_secs,
                per_class_errors,
            })
        })
        .collect()
}

/// A finished run found on disk.
#[derive(Clone, Debug)]
pub struct StoredRun {
    /// Its folder.
    pub dir: PathBuf,
    /// `config.toml`.
    pub config: RunConfig,
    /// `summary.json`, if the run finished.
    pub summary: Option<RunSummary>,
    /// `metrics.csv` rows.
    pub metrics: Vec<EpochMetrics>,
}

/// Reads one run folder.
pub fn load_run(dir: &Path) -> Result<StoredRun, RunsError> {
    let config_path = dir.join("config.toml");
    let text = std::fs::read_to_string(&config_path).map_err(io_error(&config_path))?;
    let config = RunConfig::from_toml(&text).map_err(|e| RunsError::Invalid {
        path: config_path.clone(),
        problem: e.to_string(),
    })?;
    let summary_path = dir.join("summary.json");
    let summary = match std::fs::read_to_string(&summary_path) {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| RunsError::Invalid {
            path: summary_path.clone(),
            problem: e.to_string(),
        })?),
        Err(_) => None,
    };
    let metrics_path = dir.join("metrics.csv");
    let metrics = match std::fs::read_to_string(&metrics_path) {
        Ok(text) => parse_metrics_csv(&metrics_path, &text)?,
        Err(_) => Vec::new(),
    };
    Ok(StoredRun {
        dir: dir.to_owned(),
        config,
        summary,
        metrics,
    })
}

/// Every readable run folder under `runs_dir`, newest first. Unreadable folders are skipped
/// (a sweep folder or a stray directory is not an error).
pub fn list_runs(runs_dir: &Path) -> Vec<StoredRun> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("config.toml").is_file())
        .collect();
    dirs.sort();
    dirs.reverse();
    dirs.iter().filter_map(|d| load_run(d).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_round_trips_config_and_metrics() {
        let root = tempfile::tempdir().unwrap();
        let config = RunConfig {
            name: "my run/1".into(),
            ..RunConfig::default()
        };
        let mut dir = RunDir::create(root.path(), &config).unwrap();
        assert!(dir
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("my-run-1"));
        let row = EpochMetrics {
            phase: Phase::Student,
            member: 0,
            epoch: 1,
            loss: 0.5,
            soft_loss: 0.25,
            hard_loss: 0.125,
            lr: 0.1,
            test_errors: 123,
            per_class_errors: vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 78],
            test_n: 10_000,
            elapsed_secs: 1.5,
        };
        dir.record(&row).unwrap();
        let second = RunDir::create(root.path(), &config).unwrap();
        assert_ne!(second.path, dir.path, "same second, distinct folders");
        let stored = load_run(&dir.path).unwrap();
        assert_eq!(stored.config, config);
        assert_eq!(stored.metrics, vec![row]);
        assert!(stored.summary.is_none());
        let leftovers: Vec<_> = std::fs::read_dir(&dir.path)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        assert_eq!(list_runs(root.path()).len(), 2);
    }
}
