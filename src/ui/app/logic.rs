//! The app's non-UI work, done before each frame is drawn: folding what arrived (worker
//! events, finished file tasks and background jobs) into its state within a small time budget,
//! and saving the state soon after it changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::events::{Event, Slot};

use super::DistilleryApp;
use crate::ui::ctx::ModelLogits;
use crate::ui::jobs::JobDone;
use crate::ui::live_run::RunKind;
use crate::ui::tab::Tab;
use crate::ui::tasks::Outcome;

/// Time the UI thread may spend draining events per frame.
const EVENT_BUDGET: Duration = Duration::from_millis(4);

impl DistilleryApp {
    /// Handles one worker event.
    pub fn handle_event(&mut self, event: Event) {
        match event {
            Event::LogitsReady {
                slot,
                weights,
                layers,
                logits,
                classes,
            } => {
                let model = Arc::new(ModelLogits {
                    path: weights.clone(),
                    layers,
                    logits,
                    classes,
                });
                match slot {
                    Slot::Teacher => {
                        self.state.teacher_weights = weights;
                        self.teacher = Some(model);
                    }
                    Slot::Student => {
                        self.state.student_weights = weights;
                        self.student = Some(model);
                    }
                }
            }
            Event::Error { message } => self.notify(true, message),
            event => self.handle_run_event(event),
        }
    }

    fn handle_run_event(&mut self, event: Event) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let Some(run) = event.run() else {
            return;
        };
        if run != live.id {
            if let Event::RunFailed { message, .. } = &event {
                self.notify(true, message.clone());
            }
            return;
        }
        live.apply(&event);
        // A plane run's models have two inputs: they are not for the MNIST playground.
        let plane = live.kind == RunKind::Plane;
        match event {
            Event::RunFinished { summary, .. } => {
                self.notify(false, format!("run finished: {}", summary.describe()));
                self.refresh_runs();
                let student = summary.dir.join("student.safetensors");
                if student.is_file() && !plane {
                    self.request_logits(Slot::Student, &student);
                }
            }
            Event::RunFailed { message, .. } => {
                self.notify(true, format!("run failed: {message}"));
                self.refresh_runs();
            }
            Event::RunCancelled { .. } => {
                self.notify(false, "run cancelled");
                self.refresh_runs();
            }
            _ => {}
        }
    }

    fn handle_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Message { is_error, text } => self.notify(is_error, text),
            Outcome::Picked { slot, path } => self.request_logits(slot, &path),
            Outcome::SweepOpened(Ok(table)) => {
                self.notify(
                    false,
                    format!(
                        "sweep opened: {} of {} points done",
                        table.done(),
                        table.planned_points()
                    ),
                );
                self.state.views.sweep.opened = Some(*table);
                self.state.tab = Tab::Sweep;
            }
            Outcome::SweepOpened(Err(e)) => self.notify(true, format!("cannot open sweep: {e}")),
            Outcome::DataOpened {
                dir,
                test: Ok(test),
            } => {
                // Runs and the playground use the new set from now on; the models shown are
                // evaluated on it again.
                self.notify(
                    false,
                    format!("data: {} ({} test images)", dir.display(), test.len()),
                );
                self.data_dir = Some(dir);
                self.test = Some(test);
                self.data_version += 1;
                self.test_error = None;
                self.state.sample = self.state.sample.min(self.test_len().saturating_sub(1));
                for slot in Slot::ALL {
                    let path = self.slot_path(slot).to_owned();
                    self.request_logits(slot, &path);
                }
            }
            Outcome::DataOpened { dir, test: Err(e) } => {
                self.notify(true, format!("cannot use {}: {e}", dir.display()))
            }
            Outcome::NoDialog(pending) => {
                self.notify(
                    false,
                    "no system file dialog (install xdg-desktop-portal or zenity): type the path",
                );
                self.prompt_for_path(pending);
            }
        }
    }

    fn handle_job(&mut self, done: JobDone) {
        match done {
            JobDone::RunsListed { generation, runs } => {
                if self.jobs.is_current(generation) {
                    self.runs.runs = runs;
                    self.runs.loading = false;
                }
            }
            JobDone::RunDeleted { dir, result } => {
                match result {
                    Ok(()) => self.notify(false, format!("deleted {}", dir.display())),
                    Err(e) => self.notify(true, format!("could not delete: {e}")),
                }
                self.refresh_runs();
            }
            JobDone::BestShift { shift, errors } => {
                let view = &mut self.state.views.per_class;
                view.searching = false;
                view.bias_shift = shift;
                self.notify(
                    false,
                    format!("best shift {shift:+.1}: {errors} test errors"),
                );
            }
        }
    }

    /// Drains worker events (for at most the frame budget), file tasks and background jobs.
    pub fn drain(&mut self, ctx: &egui::Context) {
        let deadline = Instant::now() + EVENT_BUDGET;
        while let Some(outcome) = self.tasks.try_recv() {
            self.handle_outcome(outcome);
        }
        while let Some(done) = self.jobs.try_recv() {
            self.handle_job(done);
        }
        while Instant::now() < deadline {
            match self.worker.try_recv() {
                Some(event) => self.handle_event(event),
                None => return,
            }
        }
        // Budget spent with events left: come back next frame.
        ctx.request_repaint();
    }

    /// Saves the state soon after it changes (see [`crate::ui::persist::Persistence::save_if_changed`]).
    pub(crate) fn persist_if_changed(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.persistence.save_if_changed(&self.state, ctx, frame);
    }
}
