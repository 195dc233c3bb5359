//! The run the window follows, folded from the worker's events: phase, progress, every
//! epoch's metrics, sweep points and how it ended. Plain data, no egui: unit-tested below.

use std::path::PathBuf;
use std::time::Instant;

use crate::config::RunConfig;
use crate::events::{EpochMetrics, Event, Phase, RunId, RunSummary};
use crate::plane::live::PlaneLive;
use crate::runs::StoredRun;

use super::probe_history::ProbeHistory;

use crate::sweep::progress::SweepTable;

/// What kind of job the live run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Teacher → baseline → student.
    Run,
    /// A sweep: one point per combination of axis values.
    Sweep,
    /// The plane playground's teacher and students.
    Plane,
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
    /// How many members of the current phase train together (DML's students start as one
    /// cohort: every member's `PhaseStarted` before the first batch); 1 otherwise.
    pub cohort: usize,
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
    /// The sweep's axes and the points known so far (sweeps only).
    pub sweep: Option<SweepTable>,
    /// The probe images' logits under every model, live and per epoch.
    pub probes: ProbeHistory,
    /// Running or how it ended.
    pub status: RunStatus,
    /// A plane run's points and grids.
    pub plane: PlaneLive,
    started: Instant,
    phase_started: Instant,
}

impl LiveRun {
    /// A run that has just been asked for.
    pub fn new(id: RunId, kind: RunKind, config: RunConfig) -> Self {
        Self {
            id,
            kind,
            config,
            dir: None,
            phase: None,
            detail: String::new(),
            cohort: 1,
            epochs: 0,
            batches: 0,
            epoch: 0,
            batch: 0,
            loss: 0.0,
            metrics: Vec::new(),
            sweep: None,
            probes: ProbeHistory::default(),
            status: RunStatus::Running,
            plane: PlaneLive::default(),
            started: Instant::now(),
            phase_started: Instant::now(),
        }
    }

    /// A finished (or interrupted) run read from its folder, to replay it.
    pub fn from_stored(id: RunId, stored: &StoredRun) -> Self {
        let mut live = Self::new(id, RunKind::Run, stored.config.clone());
        live.dir = Some(stored.dir.clone());
        live.metrics = stored.metrics.clone();
        live.probes = ProbeHistory::from_snapshots(stored.probes.clone());
        live.status = match &stored.summary {
            Some(summary) => RunStatus::Finished(Box::new(summary.clone())),
            None => RunStatus::Cancelled,
        };
        live
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

    /// What the progress bar calls the current phase: "teacher member 2 of 3", "student T = 4",
    /// "hint: student layer 1 → teacher layer 1" (a detail that names its phase stands
    /// alone), "students 1–2 together" (a cohort).
    pub fn phase_label(&self) -> String {
        let Some(phase) = self.phase else {
            return "starting".into();
        };
        let key = phase.key();
        if self.cohort > 1 {
            format!("{key}s 1–{} together", self.cohort)
        } else if self.detail.is_empty() {
            key.to_owned()
        } else if self.detail.starts_with(key) {
            self.detail.clone()
        } else {
            format!("{key} {}", self.detail)
        }
    }

    /// Seconds since the run started.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Whether the run is still going.
    pub fn is_running(&self) -> bool {
        self.status == RunStatus::Running
    }

    /// Folds one of this run's events into the model.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::RunStarted { dir, .. } => self.dir = Some(dir.clone()),
            Event::PhaseStarted {
                phase,
                member,
                epochs,
                batches,
                detail,
                ..
            } => {
                // A further member of the phase before its first batch (and before any epoch of
                // the phase ended: an ensemble's members train one after the other) joins the
                // cohort.
                let joins = self.phase == Some(*phase)
                    && *member > 0
                    && self.epoch == 0
                    && self.metrics.last().is_none_or(|m| m.phase != *phase);
                if joins {
                    self.cohort = self.cohort.max(member + 1);
                    return;
                }
                self.cohort = 1;
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
            Event::SweepPlanned { dir, axes, .. } => {
                self.sweep = Some(SweepTable::planned(dir.clone(), axes));
            }
            Event::SweepCell { row, .. } => {
                if let Some(table) = self.sweep.as_mut() {
                    table.upsert((**row).clone());
                }
            }
            Event::RunFinished { summary, .. } => {
                self.status = RunStatus::Finished(summary.clone())
            }
            Event::RunFailed { message, .. } => self.status = RunStatus::Failed(message.clone()),
            Event::RunCancelled { .. } => self.status = RunStatus::Cancelled,
            Event::Probes { snapshot, .. } => self.probes.push(snapshot.clone()),
            Event::PlanePoints { .. } | Event::PlaneGrid { .. } => self.plane.apply(event),
            Event::LogitsReady { .. } | Event::Error { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(phase: Phase, epoch: usize, errors: usize) -> EpochMetrics {
        EpochMetrics {
            phase,
            member: 0,
            epoch,
            loss: 0.5,
            soft_loss: 0.0,
            hard_loss: 0.5,
            lr: 0.1,
            test_errors: errors,
            per_class_errors: vec![0; 10],
            test_n: 100,
            elapsed_secs: 1.0,
            gap: None,
        }
    }

    #[test]
    fn events_fold_into_progress_metrics_and_one_ending() {
        let mut live = LiveRun::new(7, RunKind::Run, RunConfig::default());
        assert!(live.is_running());
        live.apply(&Event::RunStarted {
            run: 7,
            dir: "runs/x".into(),
        });
        live.apply(&Event::PhaseStarted {
            run: 7,
            phase: Phase::Student,
            member: 0,
            epochs: 4,
            batches: 10,
            detail: "T = 4".into(),
        });
        assert_eq!(live.phase_fraction(), 0.0);
        live.apply(&Event::Progress {
            run: 7,
            phase: Phase::Student,
            epoch: 2,
            batch: 5,
            batches: 10,
            loss: 0.3,
        });
        // 1 epoch and 5 of 10 batches done out of 4 epochs.
        assert!((live.phase_fraction() - 15.0 / 40.0).abs() < 1e-12);
        assert_eq!(live.detail, "T = 4");
        live.apply(&Event::EpochEnded {
            run: 7,
            metrics: metrics(Phase::Student, 1, 40),
        });
        live.apply(&Event::SweepPlanned {
            run: 7,
            dir: "runs/s".into(),
            axes: vec![("distill.temperature".into(), vec!["4".into()])],
        });
        let row = crate::events::SweepRow {
            point: 0,
            values: vec!["4".into()],
            status: crate::events::PointStatus::Done,
            teacher_errors: Some(30),
            baseline_errors: None,
            student_errors: Some(40),
            test_n: Some(100),
            run_dir: "runs/s/runs/0".into(),
        };
        live.apply(&Event::SweepCell {
            run: 7,
            row: Box::new(row.clone()),
        });
        live.apply(&Event::Probes {
            run: 7,
            snapshot: crate::events::ProbeSnapshot {
                phase: Phase::Student,
                member: 0,
                epoch: 1,
                batch: 10,
                epoch_end: true,
                samples: vec![3],
                logits: vec![0.5; 10],
            },
        });
        assert_eq!(live.metrics.len(), 1);
        assert_eq!(live.sweep.as_ref().map(|s| s.rows.clone()), Some(vec![row]));
        assert_eq!(live.probes.samples(), vec![3]);
        assert_eq!(live.probes.last_epoch(), 1);
        assert_eq!(live.dir.as_deref(), Some(std::path::Path::new("runs/x")));
        live.apply(&Event::RunCancelled { run: 7 });
        assert_eq!(live.status, RunStatus::Cancelled);
        assert!(!live.is_running());
    }

    fn started(phase: Phase, member: usize, detail: &str) -> Event {
        Event::PhaseStarted {
            run: 3,
            phase,
            member,
            epochs: 2,
            batches: 10,
            detail: detail.into(),
        }
    }

    #[test]
    fn the_phase_label_reads_well_for_hint_assistant_cohort_and_ensemble() {
        let mut live = LiveRun::new(3, RunKind::Run, RunConfig::default());
        assert_eq!(live.phase_label(), "starting");
        live.apply(&started(Phase::Teacher, 0, ""));
        assert_eq!(live.phase_label(), "teacher");
        live.apply(&started(
            Phase::Hint,
            0,
            "hint: student layer 1 → teacher layer 1",
        ));
        assert_eq!(
            live.phase_label(),
            "hint: student layer 1 → teacher layer 1"
        );
        live.apply(&started(Phase::Assistant, 0, "assistant [190, 190]"));
        assert_eq!(live.phase_label(), "assistant [190, 190]");
        // DML: both students start before the first batch and train together.
        live.apply(&started(Phase::Student, 0, "peer 1 of 2"));
        live.apply(&started(Phase::Student, 1, "peer 2 of 2"));
        assert_eq!(live.phase_label(), "students 1–2 together");
        assert_eq!((live.epochs, live.batches), (2, 10));
        // An ensemble's members train one after the other: each is its own phase run.
        let mut ensemble = LiveRun::new(4, RunKind::Run, RunConfig::default());
        ensemble.apply(&started(Phase::Teacher, 0, "member 1 of 2"));
        ensemble.apply(&Event::EpochEnded {
            run: 4,
            metrics: metrics(Phase::Teacher, 2, 30),
        });
        ensemble.apply(&started(Phase::Teacher, 1, "member 2 of 2"));
        assert_eq!(ensemble.phase_label(), "teacher member 2 of 2");
    }

    #[test]
    fn a_failure_keeps_its_message() {
        let mut live = LiveRun::new(1, RunKind::Sweep, RunConfig::default());
        live.apply(&Event::RunFailed {
            run: 1,
            message: "boom".into(),
        });
        assert_eq!(live.status, RunStatus::Failed("boom".into()));
    }
}
