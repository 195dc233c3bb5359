//! Applying the actions the panels returned, after drawing: starting runs, sweeps and plane
//! runs, file work, switching views, replays and the bias search.

use crate::config::RunConfig;
use crate::sweep::plan::SweepPlan;
use crate::worker::protocol::Command;

use super::DistilleryApp;
use crate::ui::action::Action;
use crate::ui::live_run::{LiveRun, RunKind};
use crate::ui::tab::Tab;
use crate::ui::theme;

impl DistilleryApp {
    /// Applies one action from a panel.
    pub fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::StartRun => {
                self.start_run();
                self.state.tab = Tab::Live;
            }
            Action::StartSweep { plan, jobs } => self.start_sweep(*plan, jobs),
            Action::Cancel => {
                if let Some(live) = self.live.as_ref().filter(|l| l.is_running()) {
                    self.worker.send(Command::Cancel { run: live.id });
                }
            }
            Action::SetConfig(config) => self.state.config = *config,
            Action::LoadPreset(name) => match crate::presets::find(&name) {
                Some(preset) => {
                    self.state.config = preset.config();
                    self.state.preset = name;
                }
                None => self.notify(true, format!("unknown preset `{name}`")),
            },
            Action::OpenConfig(config) => {
                self.state.config = *config;
                self.notify(false, "configuration loaded into the launcher");
            }
            Action::ShowSample(sample) => self.state.sample = sample,
            Action::LoadWeights { slot, path } => self.request_logits(slot, &path),
            Action::File(pending) => {
                if self.tasks.dialogs_available() {
                    if let Err(e) = self.tasks.request(pending) {
                        self.notify(true, e);
                    }
                } else {
                    self.prompt_for_path(pending);
                }
            }
            Action::FileAt(pending, path) => {
                self.prompt = None;
                if let Err(e) = self.tasks.complete_at(pending, path) {
                    self.notify(true, e);
                }
            }
            Action::DismissPrompt => self.prompt = None,
            Action::RefreshRuns => self.refresh_runs(),
            Action::DeleteRun(dir) => {
                if let Err(e) = self.jobs.delete_run(dir) {
                    self.notify(true, e);
                }
            }
            Action::FindBestShift(classes) => self.find_best_shift(classes),
            Action::ShowTab(tab) => self.state.tab = tab,
            Action::ReplayRun(dir) => self.replay(&dir),
            Action::SetDark(dark) => {
                self.state.dark = dark;
                ctx.set_visuals(theme::visuals(dark));
            }
            Action::StartPlane(config) => self.start_plane(*config),
        }
    }

    /// The id and configuration of a new run, or `None` (with a message) when one is running
    /// or the configuration is invalid.
    fn next_start(&mut self, config: &RunConfig) -> Option<(crate::events::RunId, RunConfig)> {
        if self.live.as_ref().is_some_and(LiveRun::is_running) {
            self.notify(true, "a run is already in progress");
            return None;
        }
        if let Err(e) = config.validate() {
            self.notify(true, format!("cannot start: {e}"));
            return None;
        }
        let id = self.next_run;
        self.next_run += 1;
        let mut config = config.clone();
        // The MNIST folder and the playground's image only mean something for MNIST runs.
        if config.data.source == crate::config::DataSource::Mnist {
            if self.data_dir.is_some() {
                config.data.dir = self.data_dir.clone();
            }
            add_playground_probe(&mut config, self.state.sample);
        }
        Some((id, config))
    }

    fn start_plane(&mut self, config: RunConfig) {
        let Some((id, config)) = self.next_start(&config) else {
            return;
        };
        self.live = Some(LiveRun::new(id, RunKind::Plane, config.clone()));
        self.worker.send(Command::StartPlane {
            run: id,
            config: Box::new(config),
            runs_dir: self.state.runs_dir.clone(),
        });
    }

    fn start_run(&mut self) {
        let base = self.state.config.clone();
        let Some((id, config)) = self.next_start(&base) else {
            return;
        };
        self.live = Some(LiveRun::new(id, RunKind::Run, config.clone()));
        self.worker.send(Command::StartRun {
            run: id,
            config: Box::new(config),
            runs_dir: self.state.runs_dir.clone(),
        });
    }

    /// Starts a sweep into `<runs folder>/<timestamp>-<name>-sweep/`.
    fn start_sweep(&mut self, mut plan: SweepPlan, jobs: usize) {
        let Some((id, config)) = self.next_start(&plan.base) else {
            return;
        };
        plan.base = config.clone();
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let dir = self
            .state
            .runs_dir
            .join(format!("{stamp}-{}-sweep", plan.base.name));
        self.state.views.sweep.opened = None;
        self.live = Some(LiveRun::new(id, RunKind::Sweep, config));
        self.worker.send(Command::StartSweep {
            run: id,
            plan: Box::new(plan),
            dir,
            jobs,
        });
    }

    /// Shows a listed run in the Live view (unless a run is training).
    fn replay(&mut self, dir: &std::path::Path) {
        if self.live.as_ref().is_some_and(LiveRun::is_running) {
            self.notify(true, "a run is in progress: replay it when it has finished");
            return;
        }
        let stored = self.runs.runs.iter().find_map(|r| match &r.entry {
            crate::runs::ListedRun::Run(run) if run.dir == dir => Some(run),
            _ => None,
        });
        let Some(stored) = stored else {
            self.notify(true, format!("{}: not in the runs list", dir.display()));
            return;
        };
        let id = self.next_run;
        self.next_run += 1;
        self.live = Some(LiveRun::from_stored(id, stored));
        self.state.tab = Tab::Live;
    }

    fn find_best_shift(&mut self, classes: Vec<u8>) {
        let (Some(student), Some(test)) = (self.student.clone(), self.test.clone()) else {
            self.notify(
                true,
                "best shift needs the student's logits and the test set",
            );
            return;
        };
        let labels = std::sync::Arc::new(test.labels.clone());
        match self.jobs.best_shift(student, labels, classes) {
            Ok(()) => self.state.views.per_class.searching = true,
            Err(e) => self.notify(true, e),
        }
    }
}

/// Puts the playground's test image first among the run's probes (if there is room and the
/// test set has it), so the Live view opens on the digit the user was looking at.
fn add_playground_probe(config: &mut RunConfig, sample: usize) {
    let probes = &mut config.probes.samples;
    let fits = config.data.test_limit.is_none_or(|n| sample < n);
    if fits && !probes.contains(&sample) && probes.len() < crate::config::MAX_PROBES {
        probes.insert(0, sample);
    }
}
