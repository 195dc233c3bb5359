//! The plane playground's run: teacher, baseline and distilled student on a synthetic 2-D
//! dataset, each model's logits on a grid over the plane, and how well the students agree with
//! the teacher there.
//!
//! It is the MNIST run on other data: the same [`Session`] trains every phase with the same
//! loop, losses and transfer sets (a plane dataset is a [`Dataset`](crate::data::dataset::Dataset)
//! with two features). What this module adds is the grid: after each phase it evaluates the
//! model on `grid²` cell centres, and with `live` on it also does so every few epochs
//! (throttled) through the session's epoch hook, sending [`Event::PlaneGrid`] so the view can
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
use crate::data::plane::grid_points;
use crate::distill::soft::ensemble_soft_targets;
use crate::events::{Event, EventSink, Phase, PhaseResult, RunId, RunSummary};
use crate::model::mlp::Mlp;
use crate::train::trainer::{record_outcome, CancelToken, EpochHook, Session, TrainError};
use grid::{agreement, grid_csv, points_csv, predictions, PointSet};

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

/// Sends a model's grid logits.
fn send_grid(
    sink: &dyn EventSink,
    run: RunId,
    (phase, member, epoch): (Phase, usize, usize),
    cells: usize,
    classes: usize,
    logits: Vec<f32>,
) {
    sink.send(Event::PlaneGrid {
        run,
        phase,
        member,
        epoch,
        grid: cells,
        classes,
        logits,
    });
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
        if last.get(&key).is_some_and(|t| t.elapsed() < LIVE_INTERVAL) {
            return Ok(());
        }
        last.insert(key, Instant::now());
        let logits = model.logits(&points, &Device::Cpu)?;
        send_grid(
            sink,
            run,
            (metrics.phase, metrics.member, metrics.epoch),
            cells,
            classes,
            logits,
        );
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
    let mut session = Session::start(config, runs_dir, run, sink, cancel)?;
    let dir = session.dir.path.clone();
    let outcome = train_plane(&mut session, (config, run, sink), live, started);
    record_outcome(&dir, outcome, |s: &PlaneSummary| s.run.describe())
}

/// The body of [`run`], once its session has started.
fn train_plane<'a>(
    session: &mut Session<'a>,
    (config, run, sink): (&RunConfig, RunId, &'a dyn EventSink),
    live: bool,
    started: Instant,
) -> Result<PlaneSummary, TrainError> {
    let classes = session.classes();
    let cells = config.data.plane.grid;
    let points = grid_points(cells);
    let labelled = config
        .transfer
        .limit
        .unwrap_or(usize::MAX)
        .min(session.data.train.len());
    let send_points =
        |synthetic: &[f32], synthetic_labels: &[u8], data: &crate::data::dataset::Mnist| {
            sink.send(Event::PlanePoints {
                run,
                classes,
                train: data.train.images.clone(),
                train_labels: data.train.labels.clone(),
                labelled,
                test: data.test.images.clone(),
                test_labels: data.test.labels.clone(),
                synthetic: synthetic.to_vec(),
                synthetic_labels: synthetic_labels.to_vec(),
            });
        };
    send_points(&[], &[], &session.data);
    if live {
        session.on_epoch(live_hook(sink, run, points.clone(), cells, classes));
    }
    let grid_of = |model: &Mlp| model.logits(&points, &Device::Cpu);

    let teacher = session.teacher()?;
    let member_grids: Vec<Vec<f32>> = teacher
        .members
        .iter()
        .map(grid_of)
        .collect::<candle_core::Result<_>>()?;
    for (m, logits) in member_grids.iter().enumerate() {
        let epochs = config.teacher.epochs;
        send_grid(
            sink,
            run,
            (Phase::Teacher, m, epochs),
            cells,
            classes,
            logits.clone(),
        );
    }
    let refs: Vec<&[f32]> = member_grids.iter().map(Vec::as_slice).collect();
    let teacher_probs = ensemble_soft_targets(&refs, classes, 1.0, config.teacher.combine);

    let transfer = session.transfer(&teacher)?;
    let dim = 2;
    let synthetic = &transfer.set.images[transfer.real * dim..];
    let transfer_refs: Vec<&[f32]> = transfer.member_logits.iter().map(Vec::as_slice).collect();
    let transfer_probs =
        ensemble_soft_targets(&transfer_refs, classes, 1.0, config.teacher.combine);
    let synthetic_labels =
        predictions(&transfer_probs, classes).split_off(transfer.real.min(transfer.set.len()));
    send_points(synthetic, &synthetic_labels, &session.data);

    let student_epochs = config.student.epochs;
    // A baseline whose training diverges (its ReLUs die on a checkerboard, say) is part of
    // the picture, not the end of it: the run goes on to the distilled student.
    let mut baseline_failure = None;
    let baseline = if config.student.baseline {
        match session.baseline_model() {
            Ok(trained) => Some(trained),
            Err(e @ TrainError::Diverged { .. }) => {
                sink.send(Event::Error {
                    message: format!("baseline: {e}"),
                });
                baseline_failure = Some(e.to_string());
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let baseline = if let Some((model, result)) = baseline {
        let logits = grid_of(&model)?;
        send_grid(
            sink,
            run,
            (Phase::Baseline, 0, student_epochs),
            cells,
            classes,
            logits.clone(),
        );
        Some((result, logits))
    } else {
        None
    };
    let temperature = config.distill.temperature;
    let (student, student_result) =
        session.student(&transfer, temperature, 0, "student.safetensors")?;
    let student_grid = grid_of(&student)?;
    send_grid(
        sink,
        run,
        (Phase::Student, 0, student_epochs),
        cells,
        classes,
        student_grid.clone(),
    );
    let bias = session.adjust_bias(&student)?;
    let seconds = started.elapsed().as_secs_f64();

    let baseline_probs = baseline
        .as_ref()
        .map(|(_, logits)| ensemble_soft_targets(&[logits], classes, 1.0, Default::default()));
    let student_probs = ensemble_soft_targets(&[&student_grid], classes, 1.0, Default::default());
    let mut models: Vec<(&str, &[f32])> = vec![("teacher", &teacher_probs)];
    if let Some(probs) = &baseline_probs {
        models.push(("baseline", probs));
    }
    models.push(("student", &student_probs));
    session
        .dir
        .write("grid.csv", grid_csv(&points, &models, classes).as_bytes())?;
    let labelled_points = &session.data.train.images[..labelled * dim];
    let sets = [
        PointSet {
            name: "labelled",
            points: labelled_points,
            labels: &session.data.train.labels[..labelled],
        },
        PointSet {
            name: "teacher-only",
            points: &session.data.train.images[labelled * dim..],
            labels: &session.data.train.labels[labelled..],
        },
        PointSet {
            name: "test",
            points: &session.data.test.images,
            labels: &session.data.test.labels,
        },
        PointSet {
            name: "synthetic",
            points: synthetic,
            labels: &synthetic_labels,
        },
    ];
    session
        .dir
        .write("points.csv", points_csv(&sets).as_bytes())?;

    let baseline_result = baseline.as_ref().map(|(r, _)| r.clone());
    let run_summary = session.finish(
        &teacher,
        baseline_result.clone(),
        student_result.clone(),
        bias.clone(),
        transfer.set.len(),
        temperature,
    )?;
    let test_n = session.data.test.len();
    let summary = PlaneSummary {
        dataset: config.data.plane.kind.key().to_owned(),
        classes,
        train: session.data.train.len(),
        labelled,
        transfer_size: transfer.set.len(),
        test: test_n,
        grid: cells,
        teacher_accuracy: accuracy(&teacher.result),
        baseline_accuracy: baseline_result.as_ref().map(accuracy),
        student_accuracy: accuracy(&student_result),
        bias_accuracy: bias
            .as_ref()
            .map(|b| 1.0 - b.test_errors as f64 / test_n.max(1) as f64),
        baseline_agreement: baseline
            .as_ref()
            .map(|(_, logits)| agreement(logits, &teacher_probs, classes)),
        baseline_failure,
        student_agreement: agreement(&student_grid, &teacher_probs, classes),
        seconds,
        run: run_summary,
    };
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| TrainError::Other(format!("plane.json: {e}")))?;
    session.dir.write("plane.json", json.as_bytes())?;
    Ok(summary)
}
