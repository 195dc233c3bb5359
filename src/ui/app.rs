//! The application: persisted state, runtime handles, event draining and action handling.
//!
//! Each frame, [`eframe::App::logic`] drains the worker's events within a small time budget,
//! then [`eframe::App::ui`] draws the panels. Panels never act directly: they return
//! [`Action`]s that the app applies after drawing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::RunConfig;
use crate::data::dataset::{bundled_mnist_dir, Dataset, Mnist};
use crate::events::{EpochMetrics, Event, Phase, RunId, RunSummary};
use crate::export::PlotSpec;
use crate::runs::{list_runs, StoredRun};
use crate::worker::protocol::Command;
use crate::worker::Worker;

use super::state::{State, Tab};
use super::tasks::{Dialogs, Tasks};

/// Time the UI thread may spend draining events per frame.
const EVENT_BUDGET: Duration = Duration::from_millis(4);

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

/// What kind of job the live run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Teacher → baseline → student.
    Run,
    /// One student per temperature.
    Sweep,
}

/// How the live run ended, or that it has not.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// Still training.
    Running,
    /// Finished with this summary.
    Finished(Box<RunSummary>),
    /// Failed with this message.
    Failed(String),
    /// Cancelled by the user.
    Cancelled,
}

/// The run the window is following, built from the worker's events.
#[derive(Clone, Debug)]
pub struct LiveRun {
    /// Its id.
    pub id: RunId,
    /// Run or sweep.
    pub kind: RunKind,
    /// The configuration it was started with.
    pub config: RunConfig,
    /// Its folder, once known.
    pub dir: Option<PathBuf>,
    /// Current phase.
    pub phase: Option<Phase>,
    /// Phase detail ("T = 8", "member 2 of 3").
    pub detail: String,
    /// Epochs in the current phase.
    pub epochs: usize,
    /// Batches per epoch in the current phase.
    pub batches: usize,
    /// Current epoch.
    pub epoch: usize,
    /// Current batch.
    pub batch: usize,
    /// Running loss.
    pub loss: f64,
    /// Every finished epoch.
    pub metrics: Vec<EpochMetrics>,
    /// Sweep results so far.
    pub sweep_points: Vec<(f64, usize)>,
    /// Running or how it ended.
    pub status: RunStatus,
    started: Instant,
    phase_started: Instant,
}

impl LiveRun {
    fn new(id: RunId, kind: RunKind, config: RunConfig) -> Self {
        Self {
            id,
            kind,
            config,
            dir: None,
            phase: None,
            detail: String::new(),
            epochs: 0,
            batches: 0,
            epoch: 0,
            batch: 0,
            loss: 0.0,
            metrics: Vec::new(),
            sweep_points: Vec::new(),
            status: RunStatus::Running,
            started: Instant::now(),
            phase_started: Instant::now(),
        }
    }

    /// Fraction of the current phase done, in [0, 1].
    pub fn phase_fraction(&self) -> f64 {
        let total = self.epochs * self.batches;
        if total == 0 {
            return 0.0;
        }
        let done = self.epoch.saturating_sub(1) * self.batches + self.batch;
        (done as f64 / total as f64).clamp(0.0, 1.0)
    }

    /// Estimated seconds left in the current phase.
    pub fn phase_secs_left(&self) -> Option<f64> {
        let f = self.phase_fraction();
        (f > 0.01).then(|| self.phase_started.elapsed().as_secs_f64() * (1.0 - f) / f)
    }

    /// Seconds since the run started.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Whether the run is still going.
    pub fn is_running(&self) -> bool {
        self.status == RunStatus::Running
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::RunStarted { dir, .. } => self.dir = Some(dir.clone()),
            Event::PhaseStarted {
                phase,
                epochs,
                batches,
                detail,
                ..
            } => {
                self.phase = Some(*phase);
                self.epochs = *epochs;
                self.batches = *batches;
                self.detail = detail.clone();
                self.epoch = 0;
                self.batch = 0;
                self.phase_started = Instant::now();
            }
            Event::Progress {
                epoch,
                batch,
                batches,
                loss,
                ..
            } => {
                self.epoch = *epoch;
                self.batch = *batch;
                self.batches = *batches;
                self.loss = *loss;
            }
            Event::EpochEnded { metrics, .. } => self.metrics.push(metrics.clone()),
            Event::SweepPoint {
                temperature,
                test_errors,
                ..
            } => {
                self.sweep_points.push((*temperature, *test_errors));
            }
            Event::RunFinished { summary, .. } => {
                self.status = RunStatus::Finished(summary.clone())
            }
            Event::RunFailed { message, .. } => self.status = RunStatus::Failed(message.clone()),
            Event::RunCancelled { .. } => self.status = RunStatus::Cancelled,
            Event::LogitsReady { .. }
            | Event::Error { .. }
            | Event::PlanePoints { .. }
            | Event::PlaneGrid { .. } => {}
        }
    }
}

/// A request from a panel, applied by the app after drawing.
#[must_use]
#[derive(Clone, Debug)]
pub enum Action {
    /// Start a run with the launcher's configuration.
    StartRun,
    /// Start a T-sweep at these temperatures.
    StartSweep(Vec<f64>),
    /// Cancel the live run.
    Cancel,
    /// Show these weights in the playground slot ("teacher" or "student").
    LoadWeights {
        /// "teacher" or "student".
        slot: String,
        /// The file.
        path: PathBuf,
    },
    /// Pick a weights file with a dialog, then load it into a slot.
    PickWeights {
        /// "teacher" or "student".
        slot: String,
    },
    /// Export a plot (PNG of the screen region, SVG, CSV) under a chosen name.
    ExportPlot {
        /// The plot's data.
        spec: Box<PlotSpec>,
        /// Where it is on screen, in points.
        rect: [f32; 4],
        /// Suggested file name, without extension.
        name: String,
    },
    /// Save a copy of a weights file under a chosen name.
    ExportWeights {
        /// The file to copy.
        source: PathBuf,
    },
    /// Re-read the runs folder.
    RefreshRuns,
    /// Put a stored configuration into the launcher.
    OpenConfig(Box<RunConfig>),
    /// Switch the central view.
    ShowTab(Tab),
}

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

/// Per-frame CPU time of the UI thread, measured around `logic` + `ui`.
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    /// Exponential moving average, ms.
    pub mean_ms: f64,
    /// Largest frame in the last window, ms.
    pub max_ms: f64,
    /// Frames measured.
    pub frames: u64,
}

impl FrameStats {
    fn record(&mut self, ms: f64) {
        self.frames += 1;
        self.mean_ms = if self.frames == 1 {
            ms
        } else {
            0.95 * self.mean_ms + 0.05 * ms
        };
        self.max_ms = if self.frames % 300 == 1 {
            ms
        } else {
            self.max_ms.max(ms)
        };
    }
}

/// The Distillery window.
pub struct DistilleryApp {
    /// Persisted state.
    pub state: State,
    pub(crate) worker: Worker,
    pub(crate) data_dir: Option<PathBuf>,
    /// The test set (for the playground's images and the per-class view's labels).
    pub test: Option<Arc<Dataset>>,
    /// Why the test set could not be loaded.
    pub test_error: Option<String>,
    /// Teacher logits for the playground.
    pub teacher: Option<ModelLogits>,
    /// Student logits for the playground.
    pub student: Option<ModelLogits>,
    /// The run being followed.
    pub live: Option<LiveRun>,
    next_run: RunId,
    /// Runs found on disk.
    pub runs: Vec<StoredRun>,
    /// Runs selected for overlay.
    pub selected_runs: BTreeSet<PathBuf>,
    /// Messages shown in the status bar (newest last).
    pub messages: Vec<(bool, String)>,
    pub(crate) tasks: Tasks,
    pub(crate) launcher: super::launcher::LauncherText,
    pub(crate) image_texture: Option<(usize, egui::TextureHandle)>,
    /// UI thread cost per frame.
    pub frame_stats: FrameStats,
    frame_started: Option<Instant>,
    last_persist: Instant,
    persisted: String,
}

impl DistilleryApp {
    /// Creates the app, starts the worker and asks for the playground's logits.
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
        let mut messages = Vec::new();
        let worker = Worker::spawn(Arc::new(move || waker_ctx.request_repaint()))?;
        let dir = options.data_dir.clone().unwrap_or_else(bundled_mnist_dir);
        let (test, test_error) = match Mnist::load_test(&dir) {
            Ok(test) => (Some(Arc::new(test)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(e) = &test_error {
            messages.push((true, e.clone()));
        }
        let launcher = super::launcher::LauncherText::from_config(&state.config);
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
            runs: Vec::new(),
            selected_runs: BTreeSet::new(),
            messages,
            tasks: Tasks::new(options.dialogs, ctx.clone()),
            launcher,
            image_texture: None,
            frame_stats: FrameStats::default(),
            frame_started: None,
            last_persist: Instant::now(),
            persisted: String::new(),
        };
        for slot in ["teacher", "student"] {
            let path = app.slot_path(slot).to_owned();
            app.request_logits(slot, &path);
        }
        app.runs = list_runs(&app.state.runs_dir);
        Ok(app)
    }

    fn slot_path(&self, slot: &str) -> &Path {
        if slot == "teacher" {
            &self.state.teacher_weights
        } else {
            &self.state.student_weights
        }
    }

    fn request_logits(&self, slot: &str, path: &Path) {
        self.worker.send(Command::ComputeLogits {
            slot: slot.to_owned(),
            weights: path.to_owned(),
            data_dir: self.data_dir.clone(),
        });
    }

    /// Adds a status-bar message.
    pub fn notify(&mut self, is_error: bool, text: impl Into<String>) {
        self.messages.push((is_error, text.into()));
        if self.messages.len() > 50 {
            self.messages.remove(0);
        }
    }

    /// Handles one worker event.
    pub fn handle_event(&mut self, event: Event) {
        match &event {
            Event::LogitsReady {
                slot,
                weights,
                layers,
                logits,
                classes,
            } => {
                let model = ModelLogits {
                    path: weights.clone(),
                    layers: layers.clone(),
                    logits: logits.clone(),
                    classes: *classes,
                };
                if slot == "teacher" {
                    self.state.teacher_weights = weights.clone();
                    self.teacher = Some(model);
                } else {
                    self.state.student_weights = weights.clone();
                    self.student = Some(model);
                }
                return;
            }
            Event::Error { message } => {
                self.notify(true, message.clone());
                return;
            }
            _ => {}
        }
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let run = match &event {
            Event::RunStarted { run, .. }
            | Event::PhaseStarted { run, .. }
            | Event::Progress { run, .. }
            | Event::EpochEnded { run, .. }
            | Event::SweepPoint { run, .. }
            | Event::RunFinished { run, .. }
            | Event::RunFailed { run, .. }
            | Event::RunCancelled { run } => *run,
            _ => return,
        };
        if run != live.id {
            if let Event::RunFailed { message, .. } = &event {
                self.notify(true, message.clone());
            }
            return;
        }
        live.apply(&event);
        match event {
            Event::RunFinished { summary, .. } => {
                let text = format!("run finished: {}", summary.describe());
                self.notify(false, text);
                self.runs = list_runs(&self.state.runs_dir);
                let student = summary.dir.join("student.safetensors");
                if student.is_file() {
                    self.request_logits("student", &student);
                }
            }
            Event::RunFailed { message, .. } => self.notify(true, format!("run failed: {message}")),
            Event::RunCancelled { .. } => {
                self.notify(false, "run cancelled");
                self.runs = list_runs(&self.state.runs_dir);
            }
            _ => {}
        }
    }

    /// Drains waiting events for at most the frame budget.
    pub fn drain_events(&mut self, ctx: &egui::Context) {
        let deadline = Instant::now() + EVENT_BUDGET;
        while Instant::now() < deadline {
            match self.worker.try_recv() {
                Some(event) => self.handle_event(event),
                None => return,
            }
        }
        // Budget spent with events left: come back next frame.
        ctx.request_repaint();
    }

    fn start(&mut self, kind: RunKind, temperatures: Vec<f64>) {
        if self.live.as_ref().is_some_and(LiveRun::is_running) {
            self.notify(true, "a run is already in progress");
            return;
        }
        if let Err(e) = self.state.config.validate() {
            self.notify(true, format!("cannot start: {e}"));
            return;
        }
        let id = self.next_run;
        self.next_run += 1;
        let mut config = self.state.config.clone();
        if self.data_dir.is_some() {
            config.data.dir = self.data_dir.clone();
        }
        let runs_dir = self.state.runs_dir.clone();
        self.live = Some(LiveRun::new(id, kind, config.clone()));
        self.worker.send(match kind {
            RunKind::Run => Command::StartRun {
                run: id,
                config: Box::new(config),
                runs_dir,
            },
            RunKind::Sweep => Command::StartSweep {
                run: id,
                config: Box::new(config),
                temperatures,
                runs_dir,
            },
        });
    }

    /// Applies one action from a panel.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::StartRun => {
                self.start(RunKind::Run, Vec::new());
                self.state.tab = Tab::Live;
            }
            Action::StartSweep(temperatures) => self.start(RunKind::Sweep, temperatures),
            Action::Cancel => {
                if let Some(live) = self.live.as_ref().filter(|l| l.is_running()) {
                    self.worker.send(Command::Cancel { run: live.id });
                }
            }
            Action::LoadWeights { slot, path } => self.request_logits(&slot, &path),
            Action::PickWeights { slot } => {
                if let Err(e) = self.tasks.pick_weights(slot) {
                    self.notify(true, e);
                }
            }
            Action::ExportPlot { spec, rect, name } => {
                if let Err(e) = self.tasks.export_plot(*spec, rect, name) {
                    self.notify(true, e);
                }
            }
            Action::ExportWeights { source } => {
                if let Err(e) = self.tasks.export_weights(source) {
                    self.notify(true, e);
                }
            }
            Action::RefreshRuns => self.runs = list_runs(&self.state.runs_dir),
            Action::OpenConfig(config) => {
                self.launcher = super::launcher::LauncherText::from_config(&config);
                self.state.config = *config;
                self.notify(false, "configuration loaded into the launcher");
            }
            Action::ShowTab(tab) => self.state.tab = tab,
        }
    }

    fn drain_tasks(&mut self) {
        while let Some(outcome) = self.tasks.try_recv() {
            match outcome {
                super::tasks::Outcome::Message { is_error, text } => self.notify(is_error, text),
                super::tasks::Outcome::Picked { slot, path } => self.request_logits(&slot, &path),
            }
        }
    }

    /// Draws the whole window and applies the panels' actions.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let mut actions = Vec::new();
        egui::Panel::top("top").show(ui, |ui| super::top_bar_ui(self, ui, &mut actions));
        egui::Panel::bottom("status").show(ui, |ui| super::status_bar_ui(self, ui));
        egui::Panel::left("launcher")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| {
                super::launcher::launcher_ui(self, ui, &mut actions)
            });
        egui::CentralPanel::default_margins().show(ui, |ui| match self.state.tab {
            Tab::Playground => super::playground::playground_ui(self, ui, &mut actions),
            Tab::Live => super::live::live_ui(self, ui, &mut actions),
            Tab::Sweep => super::sweep::sweep_ui(self, ui, &mut actions),
            Tab::PerClass => super::per_class::per_class_ui(self, ui, &mut actions),
            Tab::Runs => super::runs_view::runs_ui(self, ui, &mut actions),
        });
        for action in actions {
            self.apply(action);
        }
    }
}

/// Minimum time between two saves of the state.
const PERSIST_INTERVAL: Duration = Duration::from_secs(2);

impl DistilleryApp {
    /// Saves the state soon after it changes (at most every two seconds), so that a window
    /// killed rather than closed still remembers it; eframe itself only saves on exit and on a
    /// timer that needs a repaint to fire.
    fn persist_if_changed(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        let Ok(text) = serde_json::to_string(&self.state) else {
            return;
        };
        if text == self.persisted {
            return;
        }
        let wait = PERSIST_INTERVAL.saturating_sub(self.last_persist.elapsed());
        if !wait.is_zero() {
            // Changed too recently (e.g. mid-drag): come back when the interval is over.
            ctx.request_repaint_after(wait);
            return;
        }
        if let Some(storage) = frame.storage_mut() {
            eframe::set_value(storage, eframe::APP_KEY, &self.state);
            storage.flush();
            self.persisted = text;
            self.last_persist = Instant::now();
        }
    }
}

impl eframe::App for DistilleryApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.frame_started = Some(Instant::now());
        self.drain_events(ctx);
        self.drain_tasks();
        self.persist_if_changed(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = self.frame_started.take().unwrap_or_else(Instant::now);
        self.draw(ui);
        self.frame_stats
            .record(started.elapsed().as_secs_f64() * 1000.0);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
