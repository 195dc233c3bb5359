//! Run folders on disk: `runs/<timestamp>-<name>/` with `config.toml`, `metrics.csv`,
//! `summary.json` and the models' `.safetensors`. Every file is written to a temporary file and
//! renamed into place, so a crash never leaves half a file.

use std::path::{Path, PathBuf};

use crate::files::{write_atomic, FileError};

use crate::config::RunConfig;
use crate::events::{EpochMetrics, RunSummary};

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

/// The file a run that failed leaves in its folder: the one-line reason.
pub const ERROR_FILE: &str = "error.txt";

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

    /// Creates (or reopens) the run folder at exactly `path` and writes `config.toml` into it:
    /// for sweeps and cluster jobs, whose run folders sit at fixed, planned paths. Files of an
    /// earlier, unfinished attempt are overwritten as the new run writes them; a stale
    /// `summary.json` or `error.txt` is removed first, so the folder never describes two runs.
    pub fn create_at(path: &Path, config: &RunConfig) -> Result<Self, RunsError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        for stale in ["summary.json", ERROR_FILE] {
            let file = path.join(stale);
            if file.exists() {
                std::fs::remove_file(&file).map_err(io_error(&file))?;
            }
        }
        let dir = Self {
            path: path.to_owned(),
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

/// The CSV text of a list of epoch metrics.
pub fn metrics_csv(rows: &[EpochMetrics]) -> String {
    let mut out = format!("{METRICS_HEADER}\n");
    for m in rows {
        let per_class: Vec<String> = m.per_class_errors.iter().map(usize::to_string).collect();
        out.push_str(&format!(
            "{},{},{},{:.6},{:.6},{:.6},{:.6},{},{},{:.3},{}\n",
            m.phase.key(),
            m.member,
            m.epoch,
            m.loss,
            m.soft_loss,
            m.hard_loss,
            m.lr,
            m.test_errors,
            m.test_n,
            m.elapsed_secs,
            per_class.join(";")
        ));
    }
    out
}

/// Parses `metrics.csv` back into rows.
pub fn parse_metrics_csv(path: &Path, text: &str) -> Result<Vec<EpochMetrics>, RunsError> {
    use crate::events::Phase;
    let bad = |line: usize, what: &str| RunsError::Invalid {
        path: path.to_owned(),
        problem: format!("line {line}: {what}"),
    };
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 11 {
            return Err(bad(i + 1, "expected 11 fields"));
        }
        let phase = match f[0] {
            "teacher" => Phase::Teacher,
            "transfer" => Phase::Transfer,
            "baseline" => Phase::Baseline,
            "student" => Phase::Student,
            other => return Err(bad(i + 1, &format!("unknown phase {other}"))),
        };
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| bad(i + 1, &format!("not a number: {s}")))
        };
        let int = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| bad(i + 1, &format!("not an integer: {s}")))
        };
        rows.push(EpochMetrics {
            phase,
            member: int(f[1])?,
            epoch: int(f[2])?,
            loss: num(f[3])?,
            soft_loss: num(f[4])?,
            hard_loss: num(f[5])?,
            lr: num(f[6])?,
            test_errors: int(f[7])?,
            test_n: int(f[8])?,
            elapsed_secs: num(f[9])?,
            per_class_errors: f[10]
                .split(';')
                .filter(|s| !s.is_empty())
                .map(int)
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(rows)
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
    use crate::events::Phase;

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
