//! A run folder read back: its config, summary, metrics, status, probes and size.

use std::path::{Path, PathBuf};

use super::metrics::parse_metrics_csv;
use super::probes::parse_probes_csv;
use super::status::{self, RunStatus};
use super::teacher::teacher_weights;
use crate::config::RunConfig;
use crate::events::{EpochMetrics, ProbeSnapshot, RunSummary};
use crate::files::FileError as RunsError;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunsError + '_ {
    RunsError::io(path)
}

/// A run found on disk, finished or not.
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
    /// How it ended: `status.json`, or `Finished` for a run from before status files that
    /// wrote its summary, or `Unfinished`.
    pub status: RunStatus,
    /// The status's message (the summary line, or why it stopped), if it wrote one.
    pub status_message: Option<String>,
    /// The teacher's weights: the run's own `teacher.safetensors` (trained, or hard-linked to
    /// the file it was loaded from), else the file it referenced; `None` when neither exists.
    pub teacher_weights: Option<PathBuf>,
    /// Bytes that deleting the folder would free (files hard-linked elsewhere not counted).
    pub size_bytes: u64,
    /// `probes.csv` snapshots (empty if the run had no probes).
    pub probes: Vec<ProbeSnapshot>,
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
    let (status, status_message) = match status::read_status(dir)? {
        Some(record) => (record.status, Some(record.message)),
        None if summary.is_some() => (RunStatus::Finished, None),
        None => (RunStatus::Unfinished, None),
    };
    let teacher_weights = teacher_weights(dir, &config);
    let probes_path = dir.join("probes.csv");
    let probes = match std::fs::read_to_string(&probes_path) {
        Ok(text) => parse_probes_csv(&probes_path, &text)?,
        Err(_) => Vec::new(),
    };
    Ok(StoredRun {
        dir: dir.to_owned(),
        config,
        summary,
        metrics,
        status,
        status_message,
        teacher_weights,
        size_bytes: size_on_disk(dir),
        probes,
    })
}

/// Bytes of the regular files directly in `dir` that deleting it would free: a file also
/// linked from elsewhere (a hard-linked teacher) is not counted. Unreadable entries count 0.
pub fn size_on_disk(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file() && !is_shared(m))
        .map(|m| m.len())
        .sum()
}

#[cfg(unix)]
fn is_shared(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    metadata.nlink() > 1
}

#[cfg(not(unix))]
fn is_shared(_metadata: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{DistillationGap, Phase};
    use crate::runs::dir::RunDir;
    use crate::runs::folders::list_runs;

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
            gap: None,
        };
        dir.record(&row).unwrap();
        let distilled = EpochMetrics {
            gap: Some(DistillationGap {
                kl_t: 0.012_5,
                kl_1: 0.25,
                agreement: 0.987_6,
            }),
            epoch: 2,
            ..row.clone()
        };
        dir.record(&distilled).unwrap();
        let second = RunDir::create(root.path(), &config).unwrap();
        assert_ne!(second.path, dir.path, "same second, distinct folders");
        let stored = load_run(&dir.path).unwrap();
        assert_eq!(stored.config, config);
        assert_eq!(stored.metrics, vec![row, distilled]);
        assert!(stored.summary.is_none());
        let leftovers: Vec<_> = std::fs::read_dir(&dir.path)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        assert_eq!(stored.status, RunStatus::Unfinished);
        assert!(stored.size_bytes > 0);
        assert_eq!(list_runs(root.path()).len(), 2);
    }
}
