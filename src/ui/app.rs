//! The application shell: shared data, runtime handles, and the frame: drain what arrived
//! (`logic`), let each panel draw from a read-only [`ViewCtx`] and return its actions, then
//! apply them (`ui`). Event folding is in `fold.rs`, action handling in `actions.rs`,
//! persistence in `persist.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::dataset::{bundled_mnist_dir, Dataset, Mnist};
use crate::events::{RunId, Slot};
use crate::worker::protocol::Command;
use crate::worker::Worker;

use super::actions::Action;
use super::chrome::{self, PathPrompt};
use super::ctx::{ModelLogits, RunList, ViewCtx};
use super::jobs::Jobs;
use super::live_run::LiveRun;
use super::persist::{FrameStats, Persistence};
use super::state::{State, Tab};
use super::tasks::{Dialogs, PendingFile, Tasks};

pub use super::live_run::{RunKind, RunStatus};

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
        ctx.set_visuals(if state.dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        });
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

    /// Draws the whole window, then applies the panels' actions.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let mut actions: Vec<Action> = Vec::new();
        let dataset = chrome::dataset_name(self.data_dir.as_deref());
        let Self {
            state,
            test,
            test_error,
            teacher,
            student,
            live,
            runs,
            messages,
            frame_stats,
            prompt,
            ..
        } = self;
        let State {
            tab,
            dark,
            runs_dir,
            config,
            preset,
            sample,
            views,
            ..
        } = state;
        let ctx = ViewCtx {
            config,
            preset,
            runs_dir,
            sample: *sample,
            test: test.as_deref(),
            test_error: test_error.as_deref(),
            teacher: teacher.as_deref(),
            student: student.as_deref(),
            live: live.as_ref(),
            runs,
        };
        egui::Panel::top("top").show(ui, |ui| {
            actions.extend(chrome::top_bar_ui(ui, *tab, *dark, &dataset));
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            chrome::status_bar_ui(ui, messages.last(), frame_stats);
        });
        // The plane view has its own settings; the MNIST launcher would only take its room.
        if *tab != Tab::Plane {
            egui::Panel::left("launcher")
                .resizable(true)
                .default_size(330.0)
                .show(ui, |ui| actions.extend(views.launcher.ui(ui, &ctx)));
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            actions.extend(match tab {
                Tab::Playground => views.playground.ui(ui, &ctx),
                Tab::Live => views.live.ui(ui, &ctx),
                Tab::Sweep => views.sweep.ui(ui, &ctx),
                Tab::PerClass => views.per_class.ui(ui, &ctx),
                Tab::Runs => views.runs.ui(ui, &ctx),
                Tab::Plane => views.plane.ui(ui, &ctx),
            });
        });
        if let Some(prompt) = prompt {
            actions.extend(prompt.ui(ui.ctx()));
        }
        let egui_ctx = ui.ctx().clone();
        for action in actions {
            self.apply(action, &egui_ctx);
        }
    }
}

/// Where exports go when no file dialog can ask: `exports/` beside the runs folder.
pub fn exports_dir(runs_dir: &Path) -> PathBuf {
    runs_dir
        .parent()
        .map_or_else(|| PathBuf::from("exports"), |p| p.join("exports"))
}

impl eframe::App for DistilleryApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.frame_stats.start();
        self.drain(ctx);
        self.persist_if_changed(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
        self.frame_stats.finish();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
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
