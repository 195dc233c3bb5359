//! The application shell: shared data and runtime handles. Its impl is split by concern, as
//! rerun's viewer splits its app: draining what arrived and saving the state (`logic.rs`), the
//! frame's layout, where each panel draws from a read-only context and returns its actions
//! (`ui.rs`), and applying those actions (`apply.rs`).

mod apply;
mod logic;
mod ui;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::dataset::{bundled_mnist_dir, Dataset, Mnist};
use crate::events::{RunId, Slot};
use crate::worker::protocol::Command;
use crate::worker::Worker;

use crate::ui::chrome::PathPrompt;
use crate::ui::ctx::{ModelLogits, RunList};
use crate::ui::jobs::Jobs;
use crate::ui::live_run::LiveRun;
use crate::ui::pending::PendingFile;
use crate::ui::persist::{FrameStats, Persistence};
use crate::ui::state::State;
use crate::ui::tasks::{Dialogs, Tasks};
use crate::ui::theme;

/// Kept so that `ui::app::{RunKind, RunStatus}` still name them.
pub use crate::ui::live_run::{RunKind, RunStatus};

/// How the app is set up (tests inject dialogs and folders).
pub struct AppOptions {
    /// Persisted state to start from (`None`: defaults).
    pub state: Option<State>,
    /// Where run folders go (overrides the persisted one).
    pub runs_dir: Option<PathBuf>,
    /// Folder of IDX files (`None`: bundled MNIST).
    pub data_dir: Option<PathBuf>,
    /// File dialogs.
    pub dialogs: Arc<dyn Dialogs>,
}

/// The Distillery window.
pub struct DistilleryApp {
    /// Persisted state: shared settings and each view's own state.
    pub state: State,
    pub(crate) worker: Worker,
    pub(crate) data_dir: Option<PathBuf>,
    /// The test set (for the playground's images and the per-class view's labels).
    pub test: Option<Arc<Dataset>>,
    /// Why the test set could not be loaded.
    pub test_error: Option<String>,
    /// Bumped each time another data folder replaces the test set, so that what a view cached
    /// from the old set (the playground's digit) is known to be stale.
    pub data_version: u64,
    /// Teacher logits for the playground.
    pub teacher: Option<Arc<ModelLogits>>,
    /// Student logits for the playground.
    pub student: Option<Arc<ModelLogits>>,
    /// The run being followed.
    pub live: Option<LiveRun>,
    pub(crate) next_run: RunId,
    /// Runs found on disk (listed in the background).
    pub runs: RunList,
    /// Messages shown in the status bar (newest last).
    pub messages: Vec<(bool, String)>,
    pub(crate) tasks: Tasks,
    pub(crate) jobs: Jobs,
    /// The window's own path field, shown when no system file dialog is available.
    pub prompt: Option<PathPrompt>,
    /// UI thread cost per frame.
    pub frame_stats: FrameStats,
    pub(crate) persistence: Persistence,
}

impl DistilleryApp {
    /// Creates the app, starts the worker and asks for the playground's logits and the runs.
    pub fn new(ctx: &egui::Context, options: AppOptions) -> std::io::Result<Self> {
        let mut state = options.state.unwrap_or_default();
        if let Some(dir) = options.runs_dir {
            state.runs_dir = dir;
        }
        ctx.set_visuals(theme::visuals(state.dark));
        let waker_ctx = ctx.clone();
        let waker: Arc<dyn Fn() + Send + Sync> = Arc::new(move || waker_ctx.request_repaint());
        let worker = Worker::spawn(waker.clone())?;
        let dir = options.data_dir.clone().unwrap_or_else(bundled_mnist_dir);
        let mut messages = Vec::new();
        let (test, test_error) = match Mnist::load_test(&dir) {
            Ok(test) => (Some(Arc::new(test)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(e) = &test_error {
            messages.push((true, e.clone()));
        }
        let mut app = Self {
            state,
            worker,
            data_dir: options.data_dir,
            test,
            test_error,
            data_version: 0,
            teacher: None,
            student: None,
            live: None,
            next_run: 1,
            runs: RunList::default(),
            messages,
            tasks: Tasks::new(options.dialogs, ctx.clone()),
            jobs: Jobs::new(waker),
            prompt: None,
            frame_stats: FrameStats::default(),
            persistence: Persistence::default(),
        };
        for slot in Slot::ALL {
            let path = app.slot_path(slot).to_owned();
            app.request_logits(slot, &path);
        }
        app.refresh_runs();
        Ok(app)
    }

    /// Number of test images loaded.
    pub(crate) fn test_len(&self) -> usize {
        self.test.as_ref().map_or(0, |t| t.len())
    }

    /// The weights file shown in `slot`.
    pub(crate) fn slot_path(&self, slot: Slot) -> &Path {
        match slot {
            Slot::Teacher => &self.state.teacher_weights,
            Slot::Student => &self.state.student_weights,
        }
    }

    pub(crate) fn request_logits(&self, slot: Slot, path: &Path) {
        self.worker.send(Command::ComputeLogits {
            slot,
            weights: path.to_owned(),
            data_dir: self.data_dir.clone(),
        });
    }

    /// Re-reads the runs folder in the background.
    pub(crate) fn refresh_runs(&mut self) {
        match self.jobs.list_runs(&self.state.runs_dir) {
            Ok(()) => self.runs.loading = true,
            Err(e) => self.notify(true, e),
        }
    }

    /// Opens the window's own path field for file work, suggesting the `exports/` folder
    /// beside the runs folder.
    pub(crate) fn prompt_for_path(&mut self, pending: PendingFile) {
        let folder = match pending {
            PendingFile::OpenWeights { .. } | PendingFile::OpenSweep | PendingFile::OpenDataDir => {
                self.state.runs_dir.clone()
            }
            _ => exports_dir(&self.state.runs_dir),
        };
        self.prompt = Some(PathPrompt::new(pending, &folder));
    }

    /// Adds a status-bar message.
    pub fn notify(&mut self, is_error: bool, text: impl Into<String>) {
        self.messages.push((is_error, text.into()));
        if self.messages.len() > 50 {
            self.messages.remove(0);
        }
    }
}

/// Where exports go when no file dialog can ask: `exports/` beside the runs folder.
pub fn exports_dir(runs_dir: &Path) -> PathBuf {
    runs_dir
        .parent()
        .map_or_else(|| PathBuf::from("exports"), |p| p.join("exports"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_go_beside_the_runs_folder() {
        assert_eq!(
            exports_dir(Path::new("/data/runs")),
            Path::new("/data/exports")
        );
        assert_eq!(exports_dir(Path::new("runs")), Path::new("exports"));
    }
}
