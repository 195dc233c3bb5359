//! What a run reports: its phases, per-epoch metrics, summaries and the [`Event`] stream.
//!
//! A leaf module (it imports no other module of the crate) so that the trainer, which emits
//! these events, and the worker and UI, which consume them, all depend on it and not on each
//! other. Only plain data: numbers, vectors, strings and paths, never tensors. The trainer emits
//! [`Event`]s through an [`EventSink`], so the CLI (progress bars) and the GUI (channel to the
//! UI thread) consume the same stream from the same training code path.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Identifies one run (or sweep) started by the worker.
pub type RunId = u64;

/// Which of the two models the playground and the per-class view show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Slot {
    /// The teacher.
    Teacher,
    /// The student.
    Student,
}

impl Slot {
    /// Both slots, teacher first.
    pub const ALL: [Slot; 2] = [Slot::Teacher, Slot::Student];

    /// Lower-case name, for messages and labels.
    pub fn key(self) -> &'static str {
        match self {
            Slot::Teacher => "teacher",
            Slot::Student => "student",
        }
    }
}

/// A training phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Training the teacher (or one ensemble member).
    Teacher,
    /// Labelling the transfer set with the teacher (and growing it with MUNGE).
    Transfer,
    /// Training the student on hard labels only.
    Baseline,
    /// Training the distilled student (each of mutual learning's students is a member).
    Student,
    /// FitNets' stage 1: the student's layers up to the guided one, through a regressor,
    /// fitted to the teacher's hint layer (no class outputs, so no test errors).
    Hint,
    /// TAKD's teacher assistant, distilled from the teacher before it teaches the student.
    Assistant,
}

impl Phase {
    /// Every phase, in the order a run may go through them.
    pub const ALL: [Phase; 6] = [
        Phase::Teacher,
        Phase::Transfer,
        Phase::Baseline,
        Phase::Hint,
        Phase::Assistant,
        Phase::Student,
    ];

    /// Lower-case name used in CSV files and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Teacher => "teacher",
            Phase::Transfer => "transfer",
            Phase::Baseline => "baseline",
            Phase::Student => "student",
            Phase::Hint => "hint",
            Phase::Assistant => "assistant",
        }
    }
}

/// One row of training metrics: a phase's epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Which phase.
    pub phase: Phase,
    /// Ensemble member (0 for single models).
    pub member: usize,
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Mean soft (distillation) part of the loss; 0 when there is none.
    pub soft_loss: f64,
    /// Mean hard-label part of the loss; 0 when there is none.
    pub hard_loss: f64,
    /// Learning rate used this epoch.
    pub lr: f64,
    /// Misclassified test examples.
    pub test_errors: usize,
    /// Misclassified test examples per true class.
    pub per_class_errors: Vec<usize>,
    /// Test examples evaluated.
    pub test_n: usize,
    /// Seconds since the phase started.
    pub elapsed_secs: f64,
    /// How far the model is from the teacher (baseline and distilled student only).
    #[serde(default)]
    pub gap: Option<DistillationGap>,
}

/// How close a student is to its teacher on the whole test set (Stanton et al. 2021, "Does
/// knowledge distillation really work?"): a student can generalise well without matching its
/// teacher, and these numbers tell the two apart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistillationGap {
    /// Mean `KL(teacher ‖ model)` at the run's temperature T, in nats.
    pub kl_t: f64,
    /// Mean `KL(teacher ‖ model)` at T = 1, in nats.
    pub kl_1: f64,
    /// Fraction of test images on which the model's top-1 class is the teacher's.
    pub agreement: f64,
}

/// The logits of the probe images under one model at one moment of its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeSnapshot {
    /// The phase training the model (teacher, baseline or student).
    pub phase: Phase,
    /// Ensemble member or sweep point (0 for single models).
    pub member: usize,
    /// Epoch, from 1; 0 before the first batch (for a teacher loaded from a file: as loaded).
    pub epoch: usize,
    /// Batches of `epoch` done (0 before the first).
    pub batch: usize,
    /// Whether this is the state after `epoch` full epochs (written to `probes.csv` and
    /// replayed by the scrubber), rather than a throttled mid-epoch report.
    pub epoch_end: bool,
    /// The probe images: test-set indices.
    pub samples: Vec<usize>,
    /// Row-major `[samples, classes]` logits.
    pub logits: Vec<f32>,
}

impl ProbeSnapshot {
    /// Number of classes per row.
    pub fn classes(&self) -> usize {
        self.logits.len() / self.samples.len().max(1)
    }

    /// The logits of test image `sample`, if it is a probe.
    pub fn row(&self, sample: usize) -> Option<&[f32]> {
        let i = self.samples.iter().position(|s| *s == sample)?;
        let c = self.classes();
        self.logits.get(i * c..(i + 1) * c)
    }
}

/// The test-set result of one trained model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct PhaseResult {
    /// Misclassified test examples.
    pub test_errors: usize,
    /// Per true class.
    pub per_class_errors: Vec<usize>,
    /// Test examples evaluated.
    pub test_n: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Wall time of the phase.
    pub seconds: f64,
    /// Layer widths, input and output included.
    pub layers: Vec<usize>,
}

/// Outcome of the per-class bias adjustment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasResult {
    /// The classes shifted.
    pub classes: Vec<u8>,
    /// The shift applied to their output bias.
    pub shift: f64,
    /// Test errors after the shift.
    pub test_errors: usize,
    /// Per-class errors after the shift.
    pub per_class_errors: Vec<usize>,
}

/// Summary of a finished run, also written as `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's name.
    pub name: String,
    /// The run folder.
    pub dir: PathBuf,
    /// Distillation method key.
    pub method: String,
    /// Temperature.
    pub temperature: f64,
    /// Weight of the soft term.
    pub alpha: f64,
    /// Seed.
    pub seed: u64,
    /// The teacher (ensemble: the combined ensemble).
    pub teacher: PhaseResult,
    /// The baseline student, if trained.
    pub baseline: Option<PhaseResult>,
    /// The distilled student.
    pub student: PhaseResult,
    /// The bias adjustment, if configured.
    pub bias: Option<BiasResult>,
    /// The teacher assistant (TAKD), if the method trained one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assistant: Option<PhaseResult>,
    /// The other students trained with the distilled one (DML's peers 2, 3, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PhaseResult>,
    /// Size of the transfer set the student was trained on.
    pub transfer_size: usize,
    /// Total wall time.
    pub duration_secs: f64,
    /// RFC 3339 start time.
    pub started: String,
}

impl RunSummary {
    /// One line summing up the run's test errors, e.g. "test errors (of 10000): teacher 133,
    /// baseline 159, distilled student 169 [2024 s]".
    pub fn describe(&self) -> String {
        let baseline = self
            .baseline
            .as_ref()
            .map_or("-".to_owned(), |b| b.test_errors.to_string());
        let bias = self.bias.as_ref().map_or(String::new(), |b| {
            format!(", after bias shift {:+.1}: {}", b.shift, b.test_errors)
        });
        format!(
            "test errors (of {}): teacher {}, baseline {}, distilled student {}{} [{:.0} s]",
            self.student.test_n,
            self.teacher.test_errors,
            baseline,
            self.student.test_errors,
            bias,
            self.duration_secs
        )
    }
}

/// Where a sweep point stands.
#[derive(Clone, Debug, PartialEq)]
pub enum PointStatus {
    /// Finished: its run folder has a summary.
    Done,
    /// Stopped: its run folder's `status.json` says failed, diverged or cancelled.
    Failed(String),
    /// Its run folder exists without a summary or an error: still running, or killed.
    Unfinished,
    /// No run folder: never started.
    Missing,
}

impl PointStatus {
    /// The word used in `sweep.csv` and messages.
    pub fn key(&self) -> &'static str {
        match self {
            PointStatus::Done => "done",
            PointStatus::Failed(_) => "failed",
            PointStatus::Unfinished => "unfinished",
            PointStatus::Missing => "missing",
        }
    }
}

/// One sweep point's result: a row of `sweep.csv`, a cell of the GUI's sweep map.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The point's index.
    pub point: usize,
    /// Its value on each axis, as TOML text.
    pub values: Vec<String>,
    /// Where it stands.
    pub status: PointStatus,
    /// The teacher's test errors (the shared teacher's, or the point's own).
    pub teacher_errors: Option<usize>,
    /// The hard-label baseline's test errors (the point's own, or the reference run's).
    pub baseline_errors: Option<usize>,
    /// The distilled student's test errors (after the bias shift, when one is configured).
    pub student_errors: Option<usize>,
    /// Test examples evaluated.
    pub test_n: Option<usize>,
    /// The point's run folder.
    pub run_dir: PathBuf,
}

/// A message from the worker (or trainer) to its consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The run has started; its folder exists.
    RunStarted {
        /// The run.
        run: RunId,
        /// Its folder.
        dir: PathBuf,
    },
    /// A phase begins.
    PhaseStarted {
        /// The run.
        run: RunId,
        /// Which phase.
        phase: Phase,
        /// Ensemble member or sweep point index.
        member: usize,
        /// Epochs the phase will train (0 for transfer).
        epochs: usize,
        /// Batches per epoch (0 for transfer).
        batches: usize,
        /// Short text shown next to the progress bar (e.g. "T = 8").
        detail: String,
    },
    /// Throttled per-batch progress.
    Progress {
        /// The run.
        run: RunId,
        /// Which phase.
        phase: Phase,
        /// Epoch, from 1.
        epoch: usize,
        /// Batch within the epoch, from 1.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
        /// Running mean loss of this epoch.
        loss: f64,
    },
    /// An epoch ended and the model was evaluated on the test set.
    EpochEnded {
        /// The run.
        run: RunId,
        /// The metrics row.
        metrics: EpochMetrics,
    },
    /// A sweep is planned: its folder and axes are known before any point runs.
    SweepPlanned {
        /// The sweep (the worker's id for it).
        run: RunId,
        /// The sweep folder.
        dir: PathBuf,
        /// Each axis's setting and values (TOML text), first axis outermost.
        axes: Vec<(String, Vec<String>)>,
    },
    /// A sweep point is known: finished, reused from an earlier attempt, or failed.
    SweepCell {
        /// The sweep.
        run: RunId,
        /// The point's row.
        row: Box<SweepRow>,
    },
    /// Logits for `Command::ComputeLogits`.
    LogitsReady {
        /// The slot named in the command.
        slot: Slot,
        /// The weights file.
        weights: PathBuf,
        /// Layer widths of the model.
        layers: Vec<usize>,
        /// Row-major `[n, classes]` logits on the test set.
        logits: Vec<f32>,
        /// Number of classes.
        classes: usize,
    },
    /// Something not tied to a run failed (e.g. loading weights for the playground).
    Error {
        /// What failed.
        message: String,
    },
    /// Terminal: the run completed.
    RunFinished {
        /// The run.
        run: RunId,
        /// Its summary.
        summary: Box<RunSummary>,
    },
    /// Terminal: the run stopped with an error (a panic included).
    RunFailed {
        /// The run.
        run: RunId,
        /// One-line reason.
        message: String,
    },
    /// Terminal: the run was cancelled.
    RunCancelled {
        /// The run.
        run: RunId,
    },
    /// The probe images' logits under the model being trained: throttled during an epoch,
    /// and at every epoch end.
    Probes {
        /// The run.
        run: RunId,
        /// Which model, when, and its logits.
        snapshot: ProbeSnapshot,
    },
    /// The plane playground's points, sent when the run starts and again once the transfer
    /// set (with any MUNGE points) exists. Coordinates are `[n, 2]` in the unit square.
    PlanePoints {
        /// The run.
        run: RunId,
        /// Number of classes.
        classes: usize,
        /// The teacher's training points.
        train: Vec<f32>,
        /// Their labels.
        train_labels: Vec<u8>,
        /// How many of the training points (a prefix) the students see with labels.
        labelled: usize,
        /// The held-out test points.
        test: Vec<f32>,
        /// Their labels.
        test_labels: Vec<u8>,
        /// MUNGE's synthetic points (empty without MUNGE).
        synthetic: Vec<f32>,
        /// The teacher's labels of the synthetic points.
        synthetic_labels: Vec<u8>,
    },
    /// A model's logits on the plane's grid (`grid × grid` cells, row-major from the top
    /// left), sent every few epochs while it trains and once when its phase ends.
    PlaneGrid {
        /// The run.
        run: RunId,
        /// Teacher, baseline or distilled student.
        phase: Phase,
        /// Ensemble member (0 for single models).
        member: usize,
        /// Epoch the model has finished (its last epoch once the phase ends).
        epoch: usize,
        /// Cells per side.
        grid: usize,
        /// Number of classes.
        classes: usize,
        /// `[grid², classes]` logits.
        logits: Vec<f32>,
    },
}

impl Event {
    /// The run an event belongs to (`None` for events not tied to a run).
    pub fn run(&self) -> Option<RunId> {
        match self {
            Event::RunStarted { run, .. }
            | Event::PhaseStarted { run, .. }
            | Event::Progress { run, .. }
            | Event::EpochEnded { run, .. }
            | Event::SweepPlanned { run, .. }
            | Event::SweepCell { run, .. }
            | Event::RunFinished { run, .. }
            | Event::RunFailed { run, .. }
            | Event::RunCancelled { run }
            | Event::Probes { run, .. }
            | Event::PlanePoints { run, .. }
            | Event::PlaneGrid { run, .. } => Some(*run),
            Event::LogitsReady { .. } | Event::Error { .. } => None,
        }
    }
}

/// Where the trainer sends its events. The CLI prints them; the worker forwards them to the UI.
/// `Sync`, because a sweep's points train on several threads at once and share one sink.
pub trait EventSink: Sync {
    /// Delivers one event. Must not block for long: training waits on it.
    fn send(&self, event: Event);
}

impl<F: Fn(Event) + Sync> EventSink for F {
    fn send(&self, event: Event) {
        self(event)
    }
}
