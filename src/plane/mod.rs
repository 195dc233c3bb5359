//! The plane playground's run: teacher, baseline and distilled student on a synthetic 2-D
//! dataset, each model's logits on a grid over the plane, and how well the students agree with
//! the teacher there.
//!
//! It is the MNIST run on other data: the same pipeline ([`run_stages`]) trains every phase
//! with the same loop, losses and transfer sets (a plane dataset is a [`Dataset`](crate::data::dataset::Dataset)
//! with two features). What this module adds is the grid: after each phase it evaluates the
//! model on `grid²` cell centres (the pipeline's [`StageHooks`]), and with `live` on it also
//! does so every few epochs (throttled) through the session's epoch hook, sending [`Event::PlaneGrid`] so the view can
//! redraw while training. The run folder gains `grid.csv` (every model's probabilities at
//! T = 1 on the grid), `points.csv` and `plane.json` ([`PlaneSummary`]).

pub mod grid;
pub mod live;
pub mod render;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::config::{DataSource, OptimConfig, OptimizerKind, RunConfig, Schedule};
use crate::data::dataset::Mnist;
use crate::data::plane::grid_points;
use crate::distill::soft::ensemble_soft_targets;
use crate::events::{Event, EventSink, Phase, PhaseResult, RunId, RunSummary};
use crate::model::mlp::Mlp;
use crate::runs::record::{new_folder, record_outcome};
use crate::train::pipeline::{run_stages, HookResult, StageHooks, Stages};
use crate::train::session::{EpochHook, Session};
use crate::train::stages::teacher::Teacher;
use crate::train::stages::transfer::TransferSet;
use crate::train::{CancelToken, TrainError};
use grid::{agreement, grid_csv, points_csv, predictions, PointSet};
use live::model_index;

/// Minimum time between two live grid updates of one model: about ten redraws a second.
const LIVE_INTERVAL: Duration = Duration::from_millis(100);

/// The plane playground's defaults: 1,000 points on three spiral arms, a 2-64-64-3 teacher
/// (100 epochs), a 2-16-16-3 student (200 epochs), AdamW, soft targets at T = 2. Teacher and
/// both students train in about a second on two cores. (A 2-8-8-3 student cannot follow the
/// spirals: about 55 % test accuracy with or without a teacher.)
pub fn default_config() -> RunConfig {
    let mut c = RunConfig {
        name: "plane".into(),
        ..RunConfig::default()
    };
    c.data.source = DataSource::Plane;
    let optim = OptimConfig {
        kind: OptimizerKind::Adamw,
        lr: 0.02,
        momentum: 0.9,
        weight_decay: 0.0,
        schedule: Schedule::Cosine,
        final_lr_fraction: 0.05,
        batch_size: 64,
        warmup_epochs: 0.0,
        ema_decay: 0.0,
    };
    let t = &mut c.teacher;
    t.hidden = vec![64, 64];
    t.dropout_input = 0.0;
    t.dropout_hidden = 0.0;
    t.max_norm = 0.0;
    t.jitter_px = 0;
    t.epochs = 100;
    t.optim = optim.clone();
    let s = &mut c.student;
    s.hidden = vec![16, 16];
    s.epochs = 200;
    s.optim = optim;
    c.distill.temperature = 2.0;
    c.distill.alpha = 0.9;
    // The view shows every point's probabilities on the grid; MNIST's probe images (and their
    // per-epoch reports) would only double the run's CPU time here.
    c.probes.samples.clear();
    c
}

/// A plane run's results, also written as `plane.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaneSummary {
    /// Dataset shape (`spirals`, …).
    pub dataset: String,
    /// Number of classes.
    pub classes: usize,
    /// Training points (the teacher's).
    pub train: usize,
    /// Training points the students see with labels.
    pub labelled: usize,
    /// Points of the distilled student's transfer set (labelled and synthetic).
    pub transfer_size: usize,
    /// Test points.
    pub test: usize,
    /// Cells per side of the grid.
    pub grid: usize,
    /// Teacher's test accuracy.
    pub teacher_accuracy: f64,
    /// Baseline student's (hard labels only) test accuracy, if trained.
    pub baseline_accuracy: Option<f64>,
    /// Distilled student's test accuracy.
    pub student_accuracy: f64,
    /// Distilled student's test accuracy after the bias shift, if configured.
    pub bias_accuracy: Option<f64>,
    /// Fraction of grid cells where the baseline picks the teacher's class.
    pub baseline_agreement: Option<f64>,
    /// Why the baseline stopped, if its training diverged (the run goes on without it).
    pub baseline_failure: Option<String>,
    /// Fraction of grid cells where the distilled student picks the teacher's class.
    pub student_agreement: f64,
    /// Wall time of teacher and students, seconds.
    pub seconds: f64,
    /// The run's summary (test errors, run folder, …).
    pub run: RunSummary,
}

fn accuracy(result: &PhaseResult) -> f64 {
    if result.test_n == 0 {
        return 0.0;
    }
    1.0 - result.test_errors as f64 / result.test_n as f64
}

/// The event carrying a model's grid logits.
fn grid_event(
    run: RunId,
    (phase, member, epoch): (Phase, usize, usize),
    cells: usize,
    classes: usize,
    logits: Vec<f32>,
) -> Event {
    Event::PlaneGrid {
        run,
        phase,
        member,
        epoch,
        grid: cells,
        classes,
        logits,
    }
}

/// The epoch hook of a live run: the model's grid logits, at most every [`LIVE_INTERVAL`]
/// per model (the first epoch always, so regions appear at once).
fn live_hook<'a>(
    sink: &'a dyn EventSink,
    run: RunId,
    points: Vec<f32>,
    cells: usize,
    classes: usize,
) -> EpochHook<'a> {
    let mut last: HashMap<(Phase, usize), Instant> = HashMap::new();
    Box::new(move |metrics, model| {
        let key = (metrics.phase, metrics.member);
        // Only models with a panel: not the hint stage's (its outputs are a teacher layer),
        // the assistant's, or DML's other students'.
        if model_index(metrics.phase, metrics.member).is_none()
            || last.get(&key).is_some_and(|t| t.elapsed() < LIVE_INTERVAL)
        {
            return Ok(());
        }
        last.insert(key, Instant::now());
        let logits = model.logits(&points, &Device::Cpu)?;
        let at = (metrics.phase, metrics.member, metrics.epoch);
        sink.send(grid_event(run, at, cells, classes, logits));
        Ok(())
    })
}

/// Trains teacher → baseline → distilled student (→ bias shift) on the configured plane
/// dataset, writes the run folder with the grid files, and returns the summary. With `live`,
/// grids are also sent every few epochs while each model trains (the GUI); without, only when
/// each phase ends (the CLI).
pub fn run(
    config: &RunConfig,
    runs_dir: &Path,
    run: RunId,
    sink: &dyn EventSink,
    cancel: CancelToken,
    live: bool,
) -> Result<PlaneSummary, TrainError> {
    if config.data.source != DataSource::Plane {
        return Err(TrainError::Other(
            "data.source: the plane playground needs `plane` data".into(),
        ));
    }
    let started = Instant::now();
    let mut session = Session::start(config, run, sink, cancel, new_folder(runs_dir))?;
    let dir = session.recorder_dir();
    let outcome = train_plane(&mut session, (run, sink), live, started);
    record_outcome(&dir, outcome, |s: &PlaneSummary| s.run.describe())
}

/// What the plane adds to the pipeline's stages: every model's grid logits and the points.
struct PlaneHooks {
    run: RunId,
    cells: usize,
    classes: usize,
    /// Cell centres, `[grid², 2]`.
    points: Vec<f32>,
    /// Training points the students see with labels.
    labelled: usize,
    /// The combined teacher's probabilities at T = 1 on the grid.
    teacher_probs: Vec<f32>,
    /// The baseline's grid logits, when it trained.
    baseline_grid: Option<Vec<f32>>,
    /// The distilled student's grid logits.
    student_grid: Vec<f32>,
    /// MUNGE's synthetic points and the teacher's labels of them.
    synthetic: (Vec<f32>, Vec<u8>),
}

impl PlaneHooks {
    fn grid_of(&self, model: &Mlp) -> Result<Vec<f32>, TrainError> {
        Ok(model.logits(&self.points, &Device::Cpu)?)
    }

    fn send_grid(
        &self,
        session: &Session<'_>,
        (phase, member, epoch): (Phase, usize, usize),
        logits: Vec<f32>,
    ) {
        session.notify(grid_event(
            self.run,
            (phase, member, epoch),
            self.cells,
            self.classes,
            logits,
        ));
    }

    fn send_points(&self, session: &Session<'_>, data: &Mnist) {
        session.notify(Event::PlanePoints {
            run: self.run,
            classes: self.classes,
            train: data.train.images.clone(),
            train_labels: data.train.labels.clone(),
            labelled: self.labelled,
            test: data.test.images.clone(),
            test_labels: data.test.labels.clone(),
            synthetic: self.synthetic.0.clone(),
            synthetic_labels: self.synthetic.1.clone(),
        });
    }
}

impl StageHooks for PlaneHooks {
    fn baseline_may_diverge(&self) -> bool {
        true
    }

    fn teacher_done(&mut self, session: &mut Session<'_>, teacher: &Teacher) -> HookResult {
        let member_grids: Vec<Vec<f32>> = teacher
            .members
            .iter()
            .map(|m| self.grid_of(m))
            .collect::<Result<_, _>>()?;
        let epochs = session.config.teacher.epochs;
        for (m, logits) in member_grids.iter().enumerate() {
            self.send_grid(session, (Phase::Teacher, m, epochs), logits.clone());
        }
        let refs: Vec<&[f32]> = member_grids.iter().map(Vec::as_slice).collect();
        let combine = session.config.teacher.combine;
        self.teacher_probs = ensemble_soft_targets(&refs, self.classes, 1.0, combine);
        Ok(())
    }

    fn transfer_done(&mut self, session: &mut Session<'_>, transfer: &TransferSet) -> HookResult {
        let synthetic = transfer.set.images[transfer.real * 2..].to_vec();
        let probs = transfer
            .teacher_outputs(session.config.teacher.combine)
            .soft_targets(1.0);
        let labels =
            predictions(&probs, self.classes).split_off(transfer.real.min(transfer.set.len()));
        self.synthetic = (synthetic, labels);
        self.send_points(session, &session.data);
        Ok(())
    }

    fn baseline_done(&mut self, session: &mut Session<'_>, model: &Mlp) -> HookResult {
        let logits = self.grid_of(model)?;
        let epochs = session.config.student.epochs;
        self.send_grid(session, (Phase::Baseline, 0, epochs), logits.clone());
        self.baseline_grid = Some(logits);
        Ok(())
    }

    fn student_done(&mut self, session: &mut Session<'_>, model: &Mlp) -> HookResult {
        let logits = self.grid_of(model)?;
        let epochs = session.config.student.epochs;
        self.send_grid(session, (Phase::Student, 0, epochs), logits.clone());
        self.student_grid = logits;
        Ok(())
    }
}

/// The body of [`run`], once its session has started: the pipeline with the plane's hooks,
/// then the grid files and `plane.json`.
fn train_plane<'a>(
    session: &mut Session<'a>,
    (run, sink): (RunId, &'a dyn EventSink),
    live: bool,
    started: Instant,
) -> Result<PlaneSummary, TrainError> {
    let classes = session.classes();
    let cells = session.config.data.plane.grid;
    let points = grid_points(cells);
    let labelled = session
        .config
        .transfer
        .limit
        .unwrap_or(usize::MAX)
        .min(session.data.train.len());
    let mut hooks = PlaneHooks {
        run,
        cells,
        classes,
        points: points.clone(),
        labelled,
        teacher_probs: Vec::new(),
        baseline_grid: None,
        student_grid: Vec::new(),
        synthetic: (Vec::new(), Vec::new()),
    };
    hooks.send_points(session, &session.data);
    if live {
        session.on_epoch(live_hook(sink, run, points, cells, classes));
    }
    let stages = run_stages(session, &mut hooks)?;
    let seconds = started.elapsed().as_secs_f64();
    write_grid_files(session, &hooks)?;
    let summary = plane_summary(session, &hooks, stages, seconds);
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| TrainError::Other(format!("plane.json: {e}")))?;
    session.store("plane.json", json.as_bytes())?;
    Ok(summary)
}

/// `grid.csv` (every model's probabilities at T = 1 on the grid) and `points.csv`.
fn write_grid_files(session: &mut Session<'_>, hooks: &PlaneHooks) -> Result<(), TrainError> {
    let classes = hooks.classes;
    let probs = |logits: &[f32]| ensemble_soft_targets(&[logits], classes, 1.0, Default::default());
    let baseline_probs = hooks.baseline_grid.as_deref().map(probs);
    let student_probs = probs(&hooks.student_grid);
    let mut models: Vec<(&str, &[f32])> = vec![("teacher", &hooks.teacher_probs)];
    if let Some(p) = &baseline_probs {
        models.push(("baseline", p));
    }
    models.push(("student", &student_probs));
    let grid = grid_csv(&hooks.points, &models, classes);
    let (labelled, dim) = (hooks.labelled, 2);
    let data = &session.data;
    let sets = [
        PointSet {
            name: "labelled",
            points: &data.train.images[..labelled * dim],
            labels: &data.train.labels[..labelled],
        },
        PointSet {
            name: "teacher-only",
            points: &data.train.images[labelled * dim..],
            labels: &data.train.labels[labelled..],
        },
        PointSet {
            name: "test",
            points: &data.test.images,
            labels: &data.test.labels,
        },
        PointSet {
            name: "synthetic",
            points: &hooks.synthetic.0,
            labels: &hooks.synthetic.1,
        },
    ];
    let points = points_csv(&sets);
    session.store("grid.csv", grid.as_bytes())?;
    session.store("points.csv", points.as_bytes())
}

/// The run's [`PlaneSummary`].
fn plane_summary(
    session: &Session<'_>,
    hooks: &PlaneHooks,
    stages: Stages,
    seconds: f64,
) -> PlaneSummary {
    let test_n = session.data.test.len();
    let classes = hooks.classes;
    PlaneSummary {
        dataset: session.config.data.plane.kind.key().to_owned(),
        classes,
        train: session.data.train.len(),
        labelled: hooks.labelled,
        transfer_size: stages.transfer_size,
        test: test_n,
        grid: hooks.cells,
        teacher_accuracy: accuracy(&stages.teacher),
        baseline_accuracy: stages.baseline.as_ref().map(accuracy),
        student_accuracy: accuracy(&stages.student),
        bias_accuracy: stages
            .bias
            .as_ref()
            .map(|b| 1.0 - b.test_errors as f64 / test_n.max(1) as f64),
        baseline_agreement: hooks
            .baseline_grid
            .as_ref()
            .map(|logits| agreement(logits, &hooks.teacher_probs, classes)),
        baseline_failure: stages.baseline_failure,
        student_agreement: agreement(&hooks.student_grid, &hooks.teacher_probs, classes),
        seconds,
        run: stages.summary,
    }
}
