//! Run folders on disk: `runs/<timestamp>-<name>/` with `config.toml`, `metrics.csv`,
//! `summary.json`, `status.json` (how the run ended), `probes.csv` and the models'
//! `.safetensors`. Every file is written to a temporary file and renamed into place, so a crash
//! never leaves half a file. [`folders`] lists, measures and deletes run folders; [`status`]
//! records how a run ended; [`probes`] reads and writes the probe images' logits.

pub mod folders;
pub mod status;

pub mod probes;

use std::path::{Path, PathBuf};

pub use folders::{delete_run, list_runs, ListedRun};
pub use status::{mark_run, RunStatus};

use crate::files::{csv_text, read_csv, write_atomic, FileError};

use crate::config::RunConfig;
use crate::events::{DistillationGap, EpochMetrics, Phase, ProbeSnapshot, RunSummary};
use probes::{parse_probes_csv, probes_csv};

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
    probes: Vec<ProbeSnapshot>,
}

/// Header of `metrics.csv`. The last three columns, the distillation gap, are empty for the
/// teacher (and absent from files written before they existed).
pub const METRICS_HEADER: &str =
    "phase,member,epoch,loss,soft_loss,hard_loss,lr,test_errors,test_n,elapsed_secs,per_class_errors,kl_t,kl_1,agreement";

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
        for stale in ["summary.json", status::STATUS_FILE] {
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
            gap(m.gap.map(|g| g.kl_t)),
            gap(m.gap.map(|g| g.kl_1)),
            gap(m.gap.map(|g| g.agreement)),
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
    /// The distillation gap (students only; absent in files from before it existed).
    #[serde(default)]
    kl_t: Option<f64>,
    #[serde(default)]
    kl_1: Option<f64>,
    #[serde(default)]
    agreement: Option<f64>,
}

/// A gap value as written: six decimals, or empty for a model without a teacher to compare.
fn gap(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.6}"))
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
                gap: match (row.kl_t, row.kl_1, row.agreement) {
                    (Some(kl_t), Some(kl_1), Some(agreement)) => Some(DistillationGap {
                        kl_t,
                        kl_1,
                        agreement,
                    }),
                    _ => None,
                },
            })
        })
        .collect()
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
    let teacher_weights = folders::teacher_weights(dir, &config);
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
        size_bytes: folders::size_on_disk(dir),
        probes,
    })
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

    #[test]
    fn probes_csv_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let mut dir = RunDir::create(root.path(), &RunConfig::default()).unwrap();
        let snapshot = |phase, member, epoch, batch, logits: Vec<f32>| ProbeSnapshot {
            phase,
            member,
            epoch,
            batch,
            epoch_end: true,
            samples: vec![7, 3],
            logits,
        };
        let written = vec![
            snapshot(
                Phase::Teacher,
                0,
                0,
                0,
                vec![0.1, -2.5, 3.0e-7, 1e9, 0.0, -0.0],
            ),
            snapshot(Phase::Teacher, 1, 1, 40, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            snapshot(
                Phase::Student,
                2,
                3,
                40,
                vec![f32::MIN_POSITIVE, 1.0 / 3.0, 7.0, 8.0, 9.0, 1.5],
            ),
        ];
        for s in &written {
            dir.record_probes(s).unwrap();
        }
        let text = std::fs::read_to_string(dir.path.join("probes.csv")).unwrap();
        assert!(text.starts_with("phase,epoch,batch,sample,model,class,logit\n"));
        assert!(text.contains("\nteacher,1,40,7,teacher-2,0,1\n"), "{text}");
        assert!(
            text.contains("\nstudent,3,40,3,student-3,2,1.5\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + 3 * 2 * 3);
        assert_eq!(load_run(&dir.path).unwrap().probes, written);

        // A row out of order, or a sample with a class missing, is an error naming its line.
        let swapped = text.replacen("teacher,0,0,7,teacher,1,", "teacher,0,0,7,teacher,2,", 1);
        let e = parse_probes_csv(Path::new("p.csv"), &swapped).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3: class 2 of sample 7 is out of order"),
            "{e}"
        );
        let short: String = text
            .lines()
            .filter(|l| *l != "teacher,0,0,3,teacher,2,-0")
            .map(|l| format!("{l}\n"))
            .collect();
        let e = parse_probes_csv(Path::new("p.csv"), &short).unwrap_err();
        assert!(
            e.to_string()
                .contains("a sample has 2 classes, the first 3"),
            "{e}"
        );
    }
}
