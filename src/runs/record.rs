//! The run folder's recorder, and the entry points that train a run into a folder.
//!
//! The trainer emits events and hands over files ([`RunRecorder`]); [`FolderRecorder`] turns
//! them into the folder's files: `metrics.csv` from every `EpochEnded`, `probes.csv` from every
//! epoch-end `Probes` snapshot, the models' `.safetensors`, `summary.json`, and, whatever the
//! outcome, `status.json` ([`record_outcome`]). [`run`] and [`run_at`] are what the CLI, the
//! worker, sweeps and `reproduce` call.

use std::path::Path;

use super::dir::RunDir;
use super::status::{mark_run, RunStatus};
use crate::config::RunConfig;
use crate::events::{Event, EventSink, RunId, RunSummary};
use crate::files::FileError;
use crate::train::pipeline::{run_stages, NoHooks};
use crate::train::session::{OpenRecorder, Session};
use crate::train::store::RunRecorder;
use crate::train::{CancelToken, TrainError};

/// Records a run into its [`RunDir`].
pub struct FolderRecorder {
    dir: RunDir,
}

impl FolderRecorder {
    /// A recorder writing into `dir`.
    pub fn new(dir: RunDir) -> Self {
        Self { dir }
    }
}

impl RunRecorder for FolderRecorder {
    fn dir(&self) -> &Path {
        &self.dir.path
    }

    fn record(&mut self, event: &Event) -> Result<(), FileError> {
        match event {
            Event::EpochEnded { metrics, .. } => self.dir.record(metrics),
            Event::Probes { snapshot, .. } if snapshot.epoch_end => {
                self.dir.record_probes(snapshot)
            }
            _ => Ok(()),
        }
    }

    fn store(&mut self, name: &str, bytes: &[u8]) -> Result<(), FileError> {
        self.dir.write(name, bytes)
    }

    fn reference_teacher(&mut self, source: &Path) -> Result<(), FileError> {
        self.dir.reference_teacher(source).map(|_| ())
    }

    fn summary(&mut self, summary: &RunSummary) -> Result<(), FileError> {
        self.dir.write_summary(summary)
    }
}

/// Opens a recorder on a new, timestamped folder under `runs_dir`.
pub fn new_folder(runs_dir: &Path) -> OpenRecorder<'_> {
    Box::new(move |config: &RunConfig| {
        let dir = RunDir::create(runs_dir, config)?;
        Ok(Box::new(FolderRecorder::new(dir)) as Box<dyn RunRecorder>)
    })
}

/// Opens a recorder on the folder at exactly `dir` (sweeps, cluster jobs).
pub fn folder_at(dir: &Path) -> OpenRecorder<'_> {
    Box::new(move |config: &RunConfig| {
        let dir = RunDir::create_at(dir, config)?;
        Ok(Box::new(FolderRecorder::new(dir)) as Box<dyn RunRecorder>)
    })
}

/// The status a run folder records when a run stops with `error`.
pub fn status_of(error: &TrainError) -> RunStatus {
    match error {
        TrainError::Cancelled => RunStatus::Cancelled,
        TrainError::Diverged { .. } => RunStatus::Diverged,
        _ => RunStatus::Failed,
    }
}

/// Trains teacher → baseline → distilled student (→ bias) into a new folder under `runs_dir`.
pub fn run(
    config: &RunConfig,
    runs_dir: &Path,
    run: RunId,
    sink: &dyn EventSink,
    cancel: CancelToken,
) -> Result<RunSummary, TrainError> {
    run_into(config, new_folder(runs_dir), run, sink, cancel)
}

/// Like [`run`], with the run folder at exactly `dir` (created if needed; an unfinished
/// attempt's files are replaced). Its `status.json` says how it ended, so a sweep tells a failed
/// point from a missing one.
pub fn run_at(
    config: &RunConfig,
    dir: &Path,
    run: RunId,
    sink: &dyn EventSink,
    cancel: CancelToken,
) -> Result<RunSummary, TrainError> {
    run_into(config, folder_at(dir), run, sink, cancel)
}

/// The body of [`run`] and [`run_at`]: the pipeline into the folder `open` makes, whose
/// `status.json` then says how the run ended.
fn run_into<'a>(
    config: &RunConfig,
    open: OpenRecorder<'a>,
    run: RunId,
    sink: &'a dyn EventSink,
    cancel: CancelToken,
) -> Result<RunSummary, TrainError> {
    let mut session = Session::start(config, run, sink, cancel, open)?;
    let dir = session.recorder_dir();
    let outcome = run_stages(&mut session, &mut NoHooks).map(|stages| stages.summary);
    record_outcome(&dir, outcome, RunSummary::describe)
}

/// Writes the run folder's `status.json` for `outcome` and passes the outcome on. A run that
/// finished but cannot say so fails; a run that already failed keeps its own error.
pub fn record_outcome<T>(
    dir: &Path,
    outcome: Result<T, TrainError>,
    describe: impl FnOnce(&T) -> String,
) -> Result<T, TrainError> {
    match outcome {
        Ok(value) => {
            mark_run(dir, RunStatus::Finished, &describe(&value))?;
            Ok(value)
        }
        Err(error) => {
            // Best effort: the error being reported matters more than the status file.
            let _ = mark_run(dir, status_of(&error), &error.to_string());
            Err(error)
        }
    }
}
