//! The read-only context every panel draws from, and the shared data it points to.

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::data::dataset::Dataset;
use crate::events::Slot;
use crate::runs::ListedRun;

use super::live_run::LiveRun;

/// Test-set logits of a model shown in the playground and the per-class view.
#[derive(Clone, Debug)]
pub struct ModelLogits {
    /// The weights file.
    pub path: PathBuf,
    /// Layer widths.
    pub layers: Vec<usize>,
    /// `[n, classes]`.
    pub logits: Vec<f32>,
    /// Number of classes.
    pub classes: usize,
}

impl ModelLogits {
    /// Logits of test image `i`.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.logits.get(i * self.classes..(i + 1) * self.classes)
    }
}

/// One run folder as the runs view shows it, read off the UI thread (so that drawing the
/// table touches no disk).
#[derive(Clone, Debug)]
pub struct RunRow {
    /// What was read from the folder, or why it could not be.
    pub entry: ListedRun,
    /// The distilled student's weights, if the run saved them.
    pub student: Option<PathBuf>,
}

/// The runs folder's listing, refreshed by a background job.
#[derive(Clone, Debug, Default)]
pub struct RunList {
    /// The runs, newest last.
    pub runs: Vec<RunRow>,
    /// A listing job is running.
    pub loading: bool,
}

/// What a panel may read while it draws. Panels never change shared state directly: they
/// return [`super::action::Action`]s, which the app applies after drawing.
pub struct ViewCtx<'a> {
    /// The launcher's configuration (the next run's).
    pub config: &'a RunConfig,
    /// The preset last loaded into the launcher.
    pub preset: &'a str,
    /// Where run folders go.
    pub runs_dir: &'a Path,
    /// The playground's test image.
    pub sample: usize,
    /// The test set, once loaded.
    pub test: Option<&'a Dataset>,
    /// Why the test set could not be loaded.
    pub test_error: Option<&'a str>,
    /// Which test set `test` is: bumped each time a data folder replaces it (so a cache of
    /// its images can tell image 5 of the old set from image 5 of the new one).
    pub data_version: u64,
    /// The teacher's test logits.
    pub teacher: Option<&'a ModelLogits>,
    /// The student's test logits.
    pub student: Option<&'a ModelLogits>,
    /// The run being followed.
    pub live: Option<&'a LiveRun>,
    /// Runs found on disk.
    pub runs: &'a RunList,
}

impl ViewCtx<'_> {
    /// The logits shown in `slot`.
    pub fn model(&self, slot: Slot) -> Option<&ModelLogits> {
        match slot {
            Slot::Teacher => self.teacher,
            Slot::Student => self.student,
        }
    }

    /// Whether a run or sweep is training.
    pub fn running(&self) -> bool {
        self.live.is_some_and(LiveRun::is_running)
    }

    /// Number of test images.
    pub fn test_len(&self) -> usize {
        self.test.map_or(0, Dataset::len)
    }
}
