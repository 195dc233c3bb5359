//! The one training code path: teacher (or ensemble) → transfer set → baseline student →
//! distilled student → bias adjustment, for every method, driven by the CLI and the GUI alike.
//!
//! Progress leaves as [`Event`]s through an [`EventSink`]; a [`CancelToken`] is checked after
//! every batch; a loss that turns NaN or infinite or explodes, or test errors at chance level
//! after an epoch, stop the run as diverged (see [`super::divergence`]), naming the phase,
//! epoch and the learning rate to lower. However a run ends, its folder says so
//! (`status.json`). The teacher's logits on the transfer set are computed once per run and
//! cached, so the distilled student's epochs never run the teacher again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::RngCore;
use rayon::prelude::*;
use thiserror::Error;

use super::divergence::{Divergence, EpochOutcome, LossWatch};
use super::ema::WeightAverage;
use super::optim::{learning_rate, warmup_factor, Optimizer};
use super::probes::{ProbeSet, TeacherTestLogits};
use super::targets::{Noise, Targets};
use crate::config::memory::{self, DataShape};
use crate::config::{ConfigError, DataSource, Method, OptimConfig, RunConfig};
use crate::data::dataset::{bundled_mnist_dir, Dataset, Mnist};
use crate::data::idx::DataError;
use crate::data::plane;
use crate::data::transfer::{filter_classes, munge};
use crate::distill::bias::{best_shift, evaluate_with_shift};
use crate::distill::loss::LossParts;
use crate::distill::soft::{ensemble_soft_targets, mean_logits};
use crate::eval::{evaluate_logits, Evaluation};
use crate::events::{
    BiasResult, EpochMetrics, Event, EventSink, Phase, PhaseResult, ProbeSnapshot, RunId,
    RunSummary,
};
use crate::model::mlp::{Dropout, ForwardCache, Gradients, Mlp};
use crate::model::weights;
use crate::rng::FastRng;
use crate::runs::{mark_run, RunDir, RunStatus};

/// Shared flag that stops a run at the next batch.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a run stopped early.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The cancel token was set.
    #[error("cancelled")]
    Cancelled,
    /// Training diverged: the loss became NaN or infinite or exploded, or the test errors
    /// sat at chance level after an epoch.
    #[error("{phase} training diverged {}; lower the learning rate ({lr_field} = {lr})", .cause.describe(*.epoch))]
    Diverged {
        /// Phase name.
        phase: &'static str,
        /// Epoch, from 1.
        epoch: usize,
        /// What was seen.
        cause: Divergence,
        /// The `--set` path of the phase's learning rate (e.g. `student.optim.lr`).
        lr_field: &'static str,
        /// Its value.
        lr: f64,
    },
    /// A configuration value is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A data, weights or run-folder file is missing, corrupt or unwritable.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// A tensor operation failed.
    /// (Not `#[from]`: that would also make it the error's source, and the message, which
    /// already contains it, would be printed twice by `{:#}`.)
    #[error("tensor error: {0}")]
    Tensor(candle_core::Error),
    /// Anything else, with a message.
    #[error("{0}")]
    Other(String),
}

impl TrainError {
    /// The status a run folder records when a run stops with this error.
    pub fn run_status(&self) -> RunStatus {
        match self {
            TrainError::Cancelled => RunStatus::Cancelled,
            TrainError::Diverged { .. } => RunStatus::Diverged,
            _ => RunStatus::Failed,
        }
    }
}

impl From<candle_core::Error> for TrainError {
    fn from(error: candle_core::Error) -> Self {
        TrainError::Tensor(error)
    }
}

/// The trained teacher: one network or an ensemble.
pub struct Teacher {
    /// The members (one for a single teacher).
    pub members: Vec<Mlp>,
    /// Test result of the combined teacher.
    pub result: PhaseResult,
}

/// The transfer set with the teacher's cached logits on it.
pub struct TransferSet {
    /// The examples (real, then MUNGE synthetic).
    pub set: Dataset,
    /// How many of them are real training examples.
    pub real: usize,
    /// The students see each example shifted by up to this many pixels (`transfer.jitter_px`),
    /// and the teacher's logits are cached for every such shift.
    pub jitter_px: usize,
    /// Each member's logits, `[views · n, classes]`: row `view · n + i` is example `i` under
    /// shift `view` ([`shift_view`]); one view (the unshifted images) when `jitter_px` is 0.
    pub member_logits: Vec<Vec<f32>>,
}

impl TransferSet {
    /// Number of shift views the logits are cached for.
    pub fn views(&self) -> usize {
        shift_views(self.jitter_px)
    }

    /// Number of target rows: one per example and view.
    pub fn rows(&self) -> usize {
        self.views() * self.set.len()
    }

    /// Number of classes of the teacher's logits.
    pub fn classes(&self) -> usize {
        self.member_logits
            .first()
            .map_or(0, |logits| logits.len() / self.rows().max(1))
    }
}

/// Minimum time between two progress events of one phase.
const PROGRESS_INTERVAL_SECS: f64 = 0.2;

/// How one phase trains its model.
struct PhaseSpec<'a> {
    phase: Phase,
    member: usize,
    epochs: usize,
    optim: &'a OptimConfig,
    /// The `--set` path of `optim.lr`, for the advice when training diverges.
    lr_field: &'static str,
    dropout: Dropout,
    max_norm: f64,
    jitter_px: usize,
    /// The targets have a row per example and shift view (`view · n + i`), as a jittered
    /// transfer set's cached teacher logits do; otherwise one row per example.
    targets_per_view: bool,
    detail: String,
    /// Temperature of the distillation-gap metrics; `None` for the teacher (no gap).
    gap_temperature: Option<f64>,
}

/// Called after every epoch of every phase with the epoch's metrics and the model as it
/// stands (the plane playground redraws its panels from it).
pub type EpochHook<'a> = Box<dyn FnMut(&EpochMetrics, &Mlp) -> candle_core::Result<()> + 'a>;

/// A run in progress: its data, folder and event sink.
pub struct Session<'a> {
    /// The validated configuration.
    pub config: RunConfig,
    /// Training and test data (with the configured limits applied).
    pub data: Mnist,
    /// The run folder.
    pub dir: RunDir,
    run: RunId,
    sink: &'a dyn EventSink,
    cancel: CancelToken,
    device: Device,
    started: Instant,
    started_at: String,
    classes: usize,
    epoch_hook: Option<EpochHook<'a>>,
    probes: ProbeSet,
    /// Set once the teacher is trained or loaded.
    teacher_test: Option<TeacherTestLogits>,
}

/// Loads the dataset a configuration asks for, with its limits applied.
pub fn load_data(config: &RunConfig) -> Result<Mnist, DataError> {
    let mut data = match config.data.source {
        DataSource::Mnist => {
            let dir = config.data.dir.clone().unwrap_or_else(bundled_mnist_dir);
            Mnist::load(&dir)?
        }
        DataSource::Plane => plane::generate(&config.data.plane),
    };
    if let Some(n) = config.data.validation {
        if n >= data.train.len() {
            let dir = config.data.dir.clone().unwrap_or_else(bundled_mnist_dir);
            return Err(DataError::invalid(
                &dir,
                format!(
                    "data.validation = {n} leaves no training examples (the training set has {})",
                    data.train.len()
                ),
            ));
        }
        let keep = data.train.len() - n;
        data.test = data
            .train
            .select(&(keep..data.train.len()).collect::<Vec<_>>());
        data.train = data.train.take(keep);
    }
    if let Some(n) = config.data.train_limit {
        data.train = data.train.take(n);
    }
    if let Some(n) = config.data.test_limit {
        data.test = data.test.take(n);
    }
    Ok(data)
}

fn phase_result(eval: &Evaluation, epochs: usize, seconds: f64, layers: &[usize]) -> PhaseResult {
    PhaseResult {
        test_errors: eval.errors,
        per_class_errors: eval.per_class_errors.clone(),
        test_n: eval.n,
        epochs,
        seconds,
        layers: layers.to_vec(),
    }
}

/// How many different classes `labels` holds.
fn distinct_classes(labels: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &label in labels {
        seen[usize::from(label)] = true;
    }
    seen.iter().filter(|s| **s).count()
}

/// Per-batch settings of [`train_step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepSettings {
    /// Dropout of the training forward pass.
    pub dropout: Dropout,
    /// Max-norm constraint applied after the update (0: off).
    pub max_norm: f64,
    /// Learning rate of this step.
    pub lr: f64,
}

/// Copies the examples `batch` of `set` into `pixels`, each shifted by a random
/// `±jitter_px` pixels (none when 0), and returns them as a `[batch, dim]` tensor.
/// `pixels` must hold at least `batch.len() · dim` values; it is reused across batches.
/// `views` receives each row's shift as a view number (see [`shift_view`]), so that targets
/// cached per shift can be looked up for exactly the image the model sees.
pub fn batch_input(
    set: &Dataset,
    batch: &[usize],
    jitter_px: usize,
    rng: &mut FastRng,
    pixels: &mut [f32],
    views: &mut Vec<usize>,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let dim = set.dim();
    let Some(buffer) = pixels.get_mut(..batch.len() * dim) else {
        candle_core::bail!(
            "pixel buffer holds {} values, the batch needs {}",
            pixels.len(),
            batch.len() * dim
        );
    };
    views.clear();
    let k = jitter_px as i32;
    for (row, &i) in buffer.chunks_exact_mut(dim).zip(batch) {
        let (dx, dy) = if k > 0 {
            let span = (2 * k + 1) as usize;
            (rng.below(span) as i32 - k, rng.below(span) as i32 - k)
        } else {
            (0, 0)
        };
        views.push(shift_view(dx, dy, jitter_px));
        set.write_shifted(i, dx, dy, row);
    }
    Tensor::from_slice(buffer, (batch.len(), dim), device)
}

/// Number of integer shifts within `±jitter_px` pixels in x and y: `(2k + 1)²`.
pub fn shift_views(jitter_px: usize) -> usize {
    (2 * jitter_px + 1).pow(2)
}

/// The view number of shift `(dx, dy)` within `±jitter_px`: row-major over `dy`, then `dx`,
/// from `(−k, −k)` = 0 to `(k, k)` = `(2k + 1)² − 1`; the unshifted image is the middle view.
pub fn shift_view(dx: i32, dy: i32, jitter_px: usize) -> usize {
    let k = jitter_px as i32;
    let span = 2 * k + 1;
    ((dy + k) * span + (dx + k)) as usize
}

/// The shift `(dx, dy)` of view `view` within `±jitter_px` (inverse of [`shift_view`]).
pub fn view_shift(view: usize, jitter_px: usize) -> (i32, i32) {
    let k = jitter_px as i32;
    let span = 2 * jitter_px + 1;
    ((view % span) as i32 - k, (view / span) as i32 - k)
}

/// A batch is split across threads only into parts of at least this many rows: a smaller
/// matrix product costs more to hand out than it saves.
const MIN_ROWS_PER_PART: usize = 32;

/// How many parts [`train_step`] splits a batch of `rows` into: one per thread of the pool,
/// at most one per [`MIN_ROWS_PER_PART`] rows.
pub fn batch_parts(rows: usize) -> usize {
    rayon::current_num_threads()
        .min(rows / MIN_ROWS_PER_PART)
        .max(1)
}

/// One optimisation step on one batch, the body of every phase's training loop (and of
/// `distillery bench`): training forward pass, `loss(logits)` for the loss and `∂L/∂z`,
/// hand-written backward pass, optimiser update, max-norm. When the loss is not finite the
/// model is left untouched and the parts are returned for the caller to report.
///
/// The batch is split into [`batch_parts`] slices of rows whose forward and backward passes
/// run side by side on the pool's threads, each with its own matrix products; the optimiser
/// sums their weight gradients as it reads them. Handing each thread its own rows keeps both
/// cores busy through the element-wise work between the products, which one shared batch-128
/// product per layer did not.
pub fn train_step(
    model: &mut Mlp,
    optimizer: &mut Optimizer,
    x: &Tensor,
    step: &StepSettings,
    dropout_rng: &mut FastRng,
    loss: impl FnOnce(&[f32]) -> candle_core::Result<LossParts>,
) -> candle_core::Result<LossParts> {
    let parts = batch_parts(x.dim(0)?);
    train_step_in_parts(model, optimizer, x, step, dropout_rng, parts, loss)
}

/// [`train_step`] with the batch split into exactly `parts` slices of rows (1: not split).
/// Each slice draws its dropout masks from its own stream, seeded from `dropout_rng`, so the
/// result does not depend on which thread runs which slice.
pub fn train_step_in_parts(
    model: &mut Mlp,
    optimizer: &mut Optimizer,
    x: &Tensor,
    step: &StepSettings,
    dropout_rng: &mut FastRng,
    parts: usize,
    loss: impl FnOnce(&[f32]) -> candle_core::Result<LossParts>,
) -> candle_core::Result<LossParts> {
    let rows = x.dim(0)?;
    let parts = parts.clamp(1, rows.max(1));
    let classes = model.classes();
    let bounds: Vec<(usize, usize)> = (0..parts)
        .map(|p| (p * rows / parts, (p + 1) * rows / parts))
        .collect();
    let mut rngs: Vec<FastRng> = if parts == 1 {
        Vec::new()
    } else {
        (0..parts)
            .map(|_| FastRng::new(dropout_rng.next_u64()))
            .collect()
    };
    let shared: &Mlp = model;
    let forwards = if parts == 1 {
        vec![shared.forward_train(x, step.dropout, dropout_rng)?]
    } else {
        bounds
            .par_iter()
            .zip(rngs.par_iter_mut())
            .map(|(&(from, to), rng)| {
                shared.forward_train(&x.narrow(0, from, to - from)?, step.dropout, rng)
            })
            .collect::<candle_core::Result<Vec<_>>>()?
    };
    let mut z = Vec::with_capacity(rows * classes);
    for (logits, _) in &forwards {
        z.extend(logits.flatten_all()?.to_vec1::<f32>()?);
    }
    let mut parts_loss = loss(&z)?;
    if !parts_loss.total.is_finite() {
        return Ok(parts_loss);
    }
    let grad = std::mem::take(&mut parts_loss.grad);
    let backward = |((_, cache), &(from, to)): (&(Tensor, ForwardCache), &(usize, usize))| {
        let g = Tensor::from_slice(
            &grad[from * classes..to * classes],
            (to - from, classes),
            x.device(),
        )?;
        shared.backward(cache, &g)
    };
    let grads: Vec<Gradients> = if parts == 1 {
        forwards
            .iter()
            .zip(&bounds)
            .map(backward)
            .collect::<candle_core::Result<_>>()?
    } else {
        forwards
            .par_iter()
            .zip(bounds.par_iter())
            .map(backward)
            .collect::<candle_core::Result<_>>()?
    };
    let grads: Vec<&Gradients> = grads.iter().collect();
    optimizer.step_parts(model, &grads, step.lr)?;
    if step.max_norm > 0.0 {
        model.apply_max_norm(step.max_norm)?;
    }
    Ok(parts_loss)
}

impl<'a> Session<'a> {
    /// Validates the configuration, loads the data, creates the run folder and announces the run.
    pub fn start(
        config: &RunConfig,
        runs_dir: &Path,
        run: RunId,
        sink: &'a dyn EventSink,
        cancel: CancelToken,
    ) -> Result<Self, TrainError> {
        Self::start_with(config, run, sink, cancel, |c| RunDir::create(runs_dir, c))
    }

    /// Like [`start`](Self::start), with the run folder at exactly `dir` (sweeps, cluster jobs).
    pub fn start_at(
        config: &RunConfig,
        dir: &Path,
        run: RunId,
        sink: &'a dyn EventSink,
        cancel: CancelToken,
    ) -> Result<Self, TrainError> {
        Self::start_with(config, run, sink, cancel, |c| RunDir::create_at(dir, c))
    }

    fn start_with(
        config: &RunConfig,
        run: RunId,
        sink: &'a dyn EventSink,
        cancel: CancelToken,
        create_dir: impl FnOnce(&RunConfig) -> Result<RunDir, crate::files::FileError>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let data = load_data(config)?;
        let shape = DataShape {
            train: data.train.len(),
            test: data.test.len(),
            features: data.train.dim(),
            classes: config.data.classes(),
        };
        // Validation assumed MNIST's size; a data folder of another size is checked again.
        if shape != DataShape::assumed(config) {
            memory::check_fits(config, &shape, memory::available_bytes())?;
        }
        let probes = ProbeSet::new(&config.probes, &data.test)?;
        let dir = create_dir(config)?;
        sink.send(Event::RunStarted {
            run,
            dir: dir.path.clone(),
        });
        Ok(Self {
            config: config.clone(),
            data,
            dir,
            run,
            sink,
            cancel,
            device: Device::Cpu,
            started: Instant::now(),
            started_at: chrono::Local::now().to_rfc3339(),
            classes: config.data.classes(),
            epoch_hook: None,
            probes,
            teacher_test: None,
        })
    }

    /// Number of classes of the run's data.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Calls `hook` after every epoch of every phase from now on.
    pub fn on_epoch(&mut self, hook: EpochHook<'a>) {
        self.epoch_hook = Some(hook);
    }

    fn layers(&self, hidden: &[usize]) -> Vec<usize> {
        let mut layers = vec![self.data.train.dim()];
        layers.extend_from_slice(hidden);
        layers.push(self.classes);
        layers
    }

    /// Test-set logits of a model.
    pub fn test_logits(&self, model: &Mlp) -> Result<Vec<f32>, TrainError> {
        Ok(model.logits(&self.data.test.images, &self.device)?)
    }

    fn evaluate(&self, model: &Mlp) -> Result<Evaluation, TrainError> {
        Ok(evaluate_logits(
            &self.test_logits(model)?,
            &self.data.test.labels,
            self.classes,
        ))
    }

    /// Trains `model` on `set` towards `targets`: the loop every phase and method share.
    fn train_phase(
        &mut self,
        model: &mut Mlp,
        set: &Dataset,
        targets: &Targets,
        spec: &PhaseSpec<'_>,
    ) -> Result<PhaseResult, TrainError> {
        let started = Instant::now();
        let batch_size = spec.optim.batch_size.min(set.len()).max(1);
        let batches = set.len().div_ceil(batch_size);
        self.sink.send(Event::PhaseStarted {
            run: self.run,
            phase: spec.phase,
            member: spec.member,
            epochs: spec.epochs,
            batches,
            detail: spec.detail.clone(),
        });
        let stream = format!("{}-{}", spec.phase.key(), spec.member);
        let mut shuffle_rng = FastRng::fork(self.config.seed, &format!("shuffle-{stream}"));
        let mut dropout_rng = FastRng::fork(self.config.seed, &format!("dropout-{stream}"));
        let mut jitter_rng = FastRng::fork(self.config.seed, &format!("jitter-{stream}"));
        let mut noise_rng = FastRng::fork(self.config.seed, &format!("noise-{stream}"));
        let mut optimizer = Optimizer::new(spec.optim);
        let mut order: Vec<usize> = (0..set.len()).collect();
        let mut pixels = vec![0f32; batch_size * set.dim()];
        let mut views = Vec::with_capacity(batch_size);
        let mut rows = Vec::with_capacity(batch_size);
        let classes = self.classes;
        let mut watch = LossWatch::new();
        let diverged = |epoch: usize, cause: Divergence| TrainError::Diverged {
            phase: spec.phase.key(),
            epoch,
            cause,
            lr_field: spec.lr_field,
            lr: spec.optim.lr,
        };
        // A model that only ever sees one class answers it by design: not a divergence.
        let trained_classes = distinct_classes(&set.labels);
        let mut last = None;
        let mut average = match spec.optim.ema_decay {
            d if d > 0.0 => Some(WeightAverage::new(model, d)?),
            _ => None,
        };
        self.report_probes(model, (spec.phase, spec.member), 0, 0, true)?;
        for epoch in 1..=spec.epochs {
            let lr = learning_rate(spec.optim, epoch - 1, spec.epochs);
            shuffle_rng.shuffle(&mut order);
            let (mut sum, mut soft, mut hard) = (0.0, 0.0, 0.0);
            let mut last_progress = Instant::now();
            for (b, batch) in order.chunks(batch_size).enumerate() {
                let x = batch_input(
                    set,
                    batch,
                    spec.jitter_px,
                    &mut jitter_rng,
                    &mut pixels,
                    &mut views,
                    &self.device,
                )?;
                let target_rows = if spec.targets_per_view {
                    rows.clear();
                    rows.extend(views.iter().zip(batch).map(|(v, i)| v * set.len() + i));
                    &rows[..]
                } else {
                    batch
                };
                let step = StepSettings {
                    dropout: spec.dropout,
                    max_norm: spec.max_norm,
                    lr: lr * warmup_factor(spec.optim, epoch - 1, b, batches),
                };
                let parts = train_step(model, &mut optimizer, &x, &step, &mut dropout_rng, |z| {
                    targets.loss(z, target_rows, classes, &mut noise_rng)
                })?;
                watch
                    .check(b + 1, parts.total)
                    .map_err(|cause| diverged(epoch, cause))?;
                if let Some(average) = average.as_mut() {
                    average.after_step(model)?;
                }
                sum += parts.total;
                soft += parts.soft;
                hard += parts.hard;
                if last_progress.elapsed().as_secs_f64() >= PROGRESS_INTERVAL_SECS
                    || b + 1 == batches
                {
                    last_progress = Instant::now();
                    self.sink.send(Event::Progress {
                        run: self.run,
                        phase: spec.phase,
                        epoch,
                        batch: b + 1,
                        batches,
                        loss: sum / (b + 1) as f64,
                    });
                }
                if self.probes.due() && b + 1 < batches {
                    self.report_probes(model, (spec.phase, spec.member), epoch, b + 1, false)?;
                }
                if self.cancel.is_cancelled() {
                    return Err(TrainError::Cancelled);
                }
            }
            // The model this epoch is judged by: the weight average when there is one.
            let averaged = average.as_ref().map(|a| a.model(model)).transpose()?;
            let judged: &Mlp = averaged.as_ref().unwrap_or(model);
            let logits = self.test_logits(judged)?;
            let eval = evaluate_logits(&logits, &self.data.test.labels, classes);
            let gap = spec
                .gap_temperature
                .zip(self.teacher_test.as_ref())
                .map(|(t, teacher)| teacher.gap(&logits, t));
            let metrics = EpochMetrics {
                phase: spec.phase,
                member: spec.member,
                epoch,
                loss: sum / batches as f64,
                soft_loss: soft / batches as f64,
                hard_loss: hard / batches as f64,
                lr,
                test_errors: eval.errors,
                per_class_errors: eval.per_class_errors.clone(),
                test_n: eval.n,
                elapsed_secs: started.elapsed().as_secs_f64(),
                gap,
            };
            self.dir.record(&metrics)?;
            if let Some(hook) = self.epoch_hook.as_mut() {
                hook(&metrics, judged)?;
            }
            self.sink.send(Event::EpochEnded {
                run: self.run,
                metrics,
            });
            self.report_probes(judged, (spec.phase, spec.member), epoch, batches, true)?;
            watch
                .check_epoch(&EpochOutcome {
                    eval: &eval,
                    logits: &logits,
                    mean_loss: sum / batches as f64,
                    trained_classes,
                })
                .map_err(|cause| diverged(epoch, cause))?;
            last = Some(eval);
            if let Some(averaged) = averaged.filter(|_| epoch == spec.epochs) {
                *model = averaged;
            }
        }
        let eval = match last {
            Some(eval) => eval,
            None => self.evaluate(model)?,
        };
        Ok(phase_result(
            &eval,
            spec.epochs,
            started.elapsed().as_secs_f64(),
            &model.layers,
        ))
    }

    /// Sends the probes' logits under `model` (of `phase`, ensemble member or sweep point
    /// `member`) and, at an epoch end, adds them to `probes.csv`. Nothing when there are no
    /// probes.
    fn report_probes(
        &mut self,
        model: &Mlp,
        (phase, member): (Phase, usize),
        epoch: usize,
        batch: usize,
        epoch_end: bool,
    ) -> Result<(), TrainError> {
        if self.probes.is_empty() {
            return Ok(());
        }
        let snapshot = ProbeSnapshot {
            phase,
            member,
            epoch,
            batch,
            epoch_end,
            samples: self.probes.samples().to_vec(),
            logits: self.probes.logits(model, &self.device)?,
        };
        if epoch_end {
            self.dir.record_probes(&snapshot)?;
        }
        self.sink.send(Event::Probes {
            run: self.run,
            snapshot,
        });
        Ok(())
    }

    fn save_model(
        &self,
        file: &str,
        model: &Mlp,
        extra: &[(&str, String)],
    ) -> Result<(), TrainError> {
        let d = &self.config.distill;
        let mut metadata: HashMap<String, String> = HashMap::from([
            ("method".to_owned(), d.method.key().to_owned()),
            ("temperature".to_owned(), d.temperature.to_string()),
            ("alpha".to_owned(), d.alpha.to_string()),
            ("seed".to_owned(), self.config.seed.to_string()),
        ]);
        for (k, v) in extra {
            metadata.insert((*k).to_owned(), v.clone());
        }
        self.dir
            .write(file, &weights::to_bytes(model, &metadata)?)?;
        Ok(())
    }

    /// Loads or trains the teacher (every ensemble member), saves it and evaluates it.
    pub fn teacher(&mut self) -> Result<Teacher, TrainError> {
        let t = self.config.teacher.clone();
        let started = Instant::now();
        let mut members = Vec::new();
        if let Some(path) = &t.weights {
            // `@assets/teacher.safetensors` is the shipped teacher wherever the bundle is.
            let path = crate::assets::resolve(path, None);
            let dim = self.data.train.dim();
            let teacher = weights::load_fitting(&path, &self.device, dim, self.classes)?.mlp;
            // Referenced (hard-linked where possible), never copied into the run folder.
            self.dir.reference_teacher(&path)?;
            // Its probes, as loaded: the soft targets the students are compared with.
            self.report_probes(&teacher, (Phase::Teacher, 0), 0, 0, true)?;
            members.push(teacher);
        } else {
            let layers = self.layers(&t.hidden);
            let train = self.data.train.clone();
            let targets = Targets::Hard {
                labels: train.labels.clone(),
            };
            for m in 0..t.ensemble {
                let mut model = Mlp::new(
                    &layers,
                    self.config.seed.wrapping_add(1000 + m as u64),
                    &self.device,
                )?;
                let spec = PhaseSpec {
                    phase: Phase::Teacher,
                    member: m,
                    epochs: t.epochs,
                    optim: &t.optim,
                    lr_field: "teacher.optim.lr",
                    dropout: Dropout {
                        input: t.dropout_input,
                        hidden: t.dropout_hidden,
                    },
                    max_norm: t.max_norm,
                    jitter_px: t.jitter_px,
                    targets_per_view: false,
                    detail: if t.ensemble > 1 {
                        format!("member {} of {}", m + 1, t.ensemble)
                    } else {
                        String::new()
                    },
                    gap_temperature: None,
                };
                self.train_phase(&mut model, &train, &targets, &spec)?;
                members.push(model);
            }
        }
        let member_logits: Vec<Vec<f32>> = members
            .iter()
            .map(|m| self.test_logits(m))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&[f32]> = member_logits.iter().map(Vec::as_slice).collect();
        let combined = ensemble_soft_targets(&refs, self.classes, 1.0, t.combine);
        let eval = evaluate_logits(&combined, &self.data.test.labels, self.classes);
        self.teacher_test = Some(TeacherTestLogits::new(
            member_logits.clone(),
            t.combine,
            self.classes,
        ));
        let result = phase_result(
            &eval,
            t.epochs,
            started.elapsed().as_secs_f64(),
            &members[0].layers,
        );
        // A teacher loaded from a file was referenced above; only trained ones are saved.
        let trained = if t.weights.is_none() {
            members.len()
        } else {
            0
        };
        for (m, member) in members.iter().enumerate().take(trained) {
            let file = if m == 0 {
                "teacher.safetensors".to_owned()
            } else {
                format!("teacher-{}.safetensors", m + 1)
            };
            let errors =
                evaluate_logits(&member_logits[m], &self.data.test.labels, self.classes).errors;
            self.save_model(
                &file,
                member,
                &[
                    ("role", "teacher".into()),
                    ("test_errors", errors.to_string()),
                ],
            )?;
        }
        Ok(Teacher { members, result })
    }

    /// Builds the transfer set (class filter, MUNGE) and caches the teacher's logits on it.
    pub fn transfer(&mut self, teacher: &Teacher) -> Result<TransferSet, TrainError> {
        self.sink.send(Event::PhaseStarted {
            run: self.run,
            phase: Phase::Transfer,
            member: 0,
            epochs: 0,
            batches: 0,
            detail: if self.config.uses_munge() {
                "growing MUNGE set".into()
            } else {
                "caching teacher logits".into()
            },
        });
        let mut set = filter_classes(&self.student_examples(), &self.config.transfer);
        if set.is_empty() {
            return Err(TrainError::Other(
                "transfer.classes: the transfer set is empty (no training example has those classes)".into(),
            ));
        }
        let real = set.len();
        if self.config.uses_munge() {
            let cancel = self.cancel.clone();
            let synthetic = munge(
                &set,
                &self.config.transfer.munge_params,
                self.config.seed,
                &self.device,
                &move || cancel.is_cancelled(),
            )?
            .ok_or(TrainError::Cancelled)?;
            set.images.extend_from_slice(&synthetic.images);
            set.labels.extend_from_slice(&synthetic.labels);
        }
        if self.cancel.is_cancelled() {
            return Err(TrainError::Cancelled);
        }
        let jitter_px = self.config.transfer.jitter_px;
        let mut member_logits = vec![Vec::new(); teacher.members.len()];
        // One shifted copy of the set at a time; the unshifted view (the only one without
        // jitter) reads the set itself.
        let mut shifted = Vec::new();
        for view in 0..shift_views(jitter_px) {
            let (dx, dy) = view_shift(view, jitter_px);
            let images = if (dx, dy) == (0, 0) {
                &set.images
            } else {
                shifted.resize(set.images.len(), 0.0);
                for (i, out) in shifted.chunks_exact_mut(set.dim()).enumerate() {
                    set.write_shifted(i, dx, dy, out);
                }
                &shifted
            };
            for (logits, member) in member_logits.iter_mut().zip(&teacher.members) {
                logits.extend(member.logits(images, &self.device)?);
            }
            if self.cancel.is_cancelled() {
                return Err(TrainError::Cancelled);
            }
        }
        Ok(TransferSet {
            set,
            real,
            jitter_px,
            member_logits,
        })
    }

    /// The training examples the students may see: the whole training set, or its first
    /// `transfer.limit` examples (the teacher always trains on the whole set).
    fn student_examples(&self) -> Dataset {
        match self.config.transfer.limit {
            Some(n) => self.data.train.take(n),
            None => self.data.train.clone(),
        }
    }

    /// Trains the baseline student on hard labels of the students' training examples (the
    /// full training set unless `transfer.limit` is set; class filters do not apply).
    pub fn baseline(&mut self) -> Result<PhaseResult, TrainError> {
        Ok(self.baseline_model()?.1)
    }

    /// [`baseline`](Self::baseline), also returning the trained model.
    pub fn baseline_model(&mut self) -> Result<(Mlp, PhaseResult), TrainError> {
        let s = self.config.student.clone();
        let mut model = Mlp::new(&self.layers(&s.hidden), self.config.seed, &self.device)?;
        let train = self.student_examples();
        let targets = Targets::Hard {
            labels: train.labels.clone(),
        };
        let temperature = self.config.distill.temperature;
        let spec = self.student_spec(Phase::Baseline, 0, String::new(), &s.optim, temperature);
        let result = self.train_phase(&mut model, &train, &targets, &spec)?;
        self.save_model(
            "baseline.safetensors",
            &model,
            &[
                ("role", "baseline".into()),
                ("method", "hard-labels".into()),
                ("test_errors", result.test_errors.to_string()),
            ],
        )?;
        Ok((model, result))
    }

    fn student_spec<'o>(
        &self,
        phase: Phase,
        member: usize,
        detail: String,
        optim: &'o OptimConfig,
        temperature: f64,
    ) -> PhaseSpec<'o> {
        PhaseSpec {
            phase,
            member,
            epochs: self.config.student.epochs,
            optim,
            lr_field: "student.optim.lr",
            dropout: Dropout::default(),
            max_norm: 0.0,
            jitter_px: 0,
            targets_per_view: false,
            detail,
            gap_temperature: Some(temperature),
        }
    }

    /// Trains the distilled student at `temperature`; returns the model and its result.
    pub fn student(
        &mut self,
        transfer: &TransferSet,
        temperature: f64,
        member: usize,
        file: &str,
    ) -> Result<(Mlp, PhaseResult), TrainError> {
        let s = self.config.student.clone();
        let mut model = Mlp::new(&self.layers(&s.hidden), self.config.seed, &self.device)?;
        let targets = student_targets(&self.config, transfer, temperature);
        let detail = match self.config.distill.method {
            Method::Hinton => format!("T = {temperature}"),
            other => other.key().to_owned(),
        };
        let spec = PhaseSpec {
            jitter_px: transfer.jitter_px,
            targets_per_view: true,
            ..self.student_spec(Phase::Student, member, detail, &s.optim, temperature)
        };
        let result = self.train_phase(&mut model, &transfer.set, &targets, &spec)?;
        self.save_model(
            file,
            &model,
            &[
                ("role", "student".into()),
                ("temperature", temperature.to_string()),
                ("test_errors", result.test_errors.to_string()),
            ],
        )?;
        Ok((model, result))
    }

    /// Applies the configured per-class bias shift (searched or fixed) to the student.
    pub fn adjust_bias(&mut self, student: &Mlp) -> Result<Option<BiasResult>, TrainError> {
        let b = self.config.bias.clone();
        if b.classes.is_empty() {
            return Ok(None);
        }
        let logits = self.test_logits(student)?;
        let labels = &self.data.test.labels;
        // The searched shift is never chosen on the test set it is then measured on: in a
        // validation run (`data.validation`) it is chosen on the held-out images, which is what
        // they are for; otherwise on the training images (the classes the transfer set left
        // out are still there, though the student fits the others it trained on too well, so
        // this overshoots: `reproduce` carries the validation run's shift over instead).
        let shift = if b.search && self.config.data.validation.is_some() {
            best_shift(&logits, labels, self.classes, &b.classes).0
        } else if b.search {
            let train = &self.data.train;
            let train_logits = student.logits(&train.images, &self.device)?;
            best_shift(&train_logits, &train.labels, self.classes, &b.classes).0
        } else {
            b.shift
        };
        let eval = evaluate_with_shift(&logits, labels, self.classes, &b.classes, shift);
        let mut adjusted = student.clone();
        adjusted.shift_output_bias(&b.classes, shift)?;
        self.save_model(
            "student-bias-adjusted.safetensors",
            &adjusted,
            &[
                ("role", "student".into()),
                ("bias_shift", format!("{shift}")),
                ("bias_classes", format!("{:?}", b.classes)),
                ("test_errors", eval.errors.to_string()),
            ],
        )?;
        Ok(Some(BiasResult {
            classes: b.classes,
            shift,
            test_errors: eval.errors,
            per_class_errors: eval.per_class_errors,
        }))
    }

    /// Builds the summary and writes `summary.json`.
    pub fn finish(
        &self,
        teacher: &Teacher,
        baseline: Option<PhaseResult>,
        student: PhaseResult,
        bias: Option<BiasResult>,
        transfer_size: usize,
        temperature: f64,
    ) -> Result<RunSummary, TrainError> {
        let summary = RunSummary {
            name: self.config.name.clone(),
            dir: self.dir.path.clone(),
            method: self.config.distill.method.key().to_owned(),
            temperature,
            alpha: self.config.distill.alpha,
            seed: self.config.seed,
            teacher: teacher.result.clone(),
            baseline,
            student,
            bias,
            transfer_size,
            duration_secs: self.started.elapsed().as_secs_f64(),
            started: self.started_at.clone(),
        };
        self.dir.write_summary(&summary)?;
        Ok(summary)
    }

    /// What a run and a sweep share: the teacher, the transfer set with its cached logits, and
    /// the baseline student (if configured).
    pub fn prepare(&mut self) -> Result<(Teacher, TransferSet, Option<PhaseResult>), TrainError> {
        let teacher = self.teacher()?;
        let transfer = self.transfer(&teacher)?;
        let baseline = if self.config.student.baseline {
            Some(self.baseline()?)
        } else {
            None
        };
        Ok((teacher, transfer, baseline))
    }
}

/// The per-example targets of `config`'s method on the transfer set, at `temperature`:
///
/// - Hinton: the teacher's soft targets at T, and for the hard term the real examples' true
///   labels and the synthetic (MUNGE) examples' teacher arg-max;
/// - logit matching and the noisy teacher: the teacher's (mean) logits;
/// - model compression: the teacher's arg-max for every example (or, with `soft_labels`, its
///   probabilities at T = 1 through the soft loss with α = 1).
///
/// For an ensemble, "the teacher" is the members combined as `teacher.combine` says.
pub fn student_targets(config: &RunConfig, transfer: &TransferSet, temperature: f64) -> Targets {
    let d = &config.distill;
    let refs: Vec<&[f32]> = transfer.member_logits.iter().map(Vec::as_slice).collect();
    let combine = config.teacher.combine;
    let classes = transfer.classes();
    let teacher_labels = || -> Vec<u8> {
        ensemble_soft_targets(&refs, classes, 1.0, combine)
            .chunks_exact(classes)
            .map(|row| crate::eval::argmax(row) as u8)
            .collect()
    };
    // Real examples keep their true labels; synthetic ones take the teacher's (on each view).
    let n = transfer.set.len();
    let mixed_labels = || -> Vec<u8> {
        let teacher = teacher_labels();
        (0..transfer.rows())
            .map(|row| {
                let i = row % n;
                if i < transfer.real {
                    transfer.set.labels[i]
                } else {
                    teacher[row]
                }
            })
            .collect()
    };
    match d.method {
        Method::Hinton => Targets::Soft {
            q: ensemble_soft_targets(&refs, classes, temperature, combine),
            labels: mixed_labels(),
            temperature,
            alpha: d.alpha,
            t_squared: d.t_squared,
        },
        Method::LogitL2 | Method::NoisyTeacher => Targets::Logits {
            v: mean_logits(&refs),
            zero_mean: d.zero_mean_logits,
            noise: (d.method == Method::NoisyTeacher).then_some(Noise {
                sigma: d.noise_sigma,
                p: d.noise_p,
                kind: d.noise_kind,
            }),
        },
        Method::ModelCompression if d.soft_labels => Targets::Soft {
            q: ensemble_soft_targets(&refs, classes, 1.0, combine),
            labels: teacher_labels(),
            temperature: 1.0,
            alpha: 1.0,
            t_squared: false,
        },
        Method::ModelCompression => Targets::Hard {
            labels: teacher_labels(),
        },
    }
}

/// Trains teacher → baseline → distilled student (→ bias) and writes the run folder.
pub fn run(
    config: &RunConfig,
    runs_dir: &Path,
    run: RunId,
    sink: &dyn EventSink,
    cancel: CancelToken,
) -> Result<RunSummary, TrainError> {
    let mut session = Session::start(config, runs_dir, run, sink, cancel)?;
    let dir = session.dir.path.clone();
    let outcome = run_session(&mut session);
    record_outcome(&dir, outcome, RunSummary::describe)
}

/// Like [`run`], with the run folder at exactly `dir` (created if needed; an unfinished
/// attempt's files are replaced). Its `status.json` says how it ended, so a sweep tells a failed
/// point from a missing one.
pub fn run_at(
    config: &RunConfig,
    dir: &Path,
    run: RunId,
    sink: &dyn EventSink,
    cancel: CancelToken,
) -> Result<RunSummary, TrainError> {
    let mut session = Session::start_at(config, dir, run, sink, cancel)?;
    let outcome = run_session(&mut session);
    record_outcome(dir, outcome, RunSummary::describe)
}

/// The body of [`run`], once its session has started.
fn run_session(session: &mut Session<'_>) -> Result<RunSummary, TrainError> {
    let (teacher, transfer, baseline) = session.prepare()?;
    let temperature = session.config.distill.temperature;
    let (student, result) = session.student(&transfer, temperature, 0, "student.safetensors")?;
    let bias = session.adjust_bias(&student)?;
    session.finish(
        &teacher,
        baseline,
        result,
        bias,
        transfer.set.len(),
        temperature,
    )
}

/// Writes the run folder's `status.json` for `outcome` and passes the outcome on. A run that
/// finished but cannot say so fails; a run that already failed keeps its own error.
pub(crate) fn record_outcome<T>(
    dir: &Path,
    outcome: Result<T, TrainError>,
    describe: impl FnOnce(&T) -> String,
) -> Result<T, TrainError> {
    match outcome {
        Ok(value) => {
            mark_run(dir, RunStatus::Finished, &describe(&value))?;
            Ok(value)
        }
        Err(error) => {
            // Best effort: the error being reported matters more than the status file.
            let _ = mark_run(dir, error.run_status(), &error.to_string());
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::CLASSES;

    /// Four transfer examples: two real ones (labels 1 and 2) and two MUNGE ones (labels 3 and
    /// 4, copied from the examples they grew from), on which the teacher's arg-max is 5, 6, 7
    /// and 8, so every label source gives different labels.
    fn transfer() -> TransferSet {
        let labels = vec![1, 2, 3, 4];
        let logits = (0..labels.len())
            .flat_map(|i| (0..CLASSES).map(move |c| if c == 5 + i { 3.0 } else { 0.1 * c as f32 }))
            .collect();
        TransferSet {
            set: Dataset {
                images: vec![0.0; labels.len()],
                labels,
                rows: 1,
                cols: 1,
            },
            real: 2,
            jitter_px: 0,
            member_logits: vec![logits],
        }
    }

    /// A batch split into parts takes the step the whole batch takes (same loss; parameters
    /// equal up to float summation order), for both optimisers, with max-norm on; with dropout
    /// the split step is deterministic whatever thread runs which part.
    #[test]
    fn split_batch_steps_match_the_whole_batch() {
        let device = Device::Cpu;
        let rows = 70;
        let x: Vec<f32> = (0..rows * 20)
            .map(|i| ((i * 37 % 101) as f32) / 101.0)
            .collect();
        let labels: Vec<u8> = (0..rows).map(|i| (i % 10) as u8).collect();
        let x = Tensor::from_vec(x, (rows, 20), &device).unwrap();
        let batch: Vec<usize> = (0..rows).collect();
        let targets = Targets::Hard { labels };
        let run = |kind: crate::config::OptimizerKind, parts: usize, dropout: Dropout| {
            let mut model = Mlp::new(&[20, 48, 32, 10], 5, &device).unwrap();
            let mut optimizer = Optimizer::new(&OptimConfig {
                kind,
                lr: 0.05,
                ..OptimConfig::default()
            });
            let step = StepSettings {
                dropout,
                max_norm: 1.5,
                lr: 0.05,
            };
            let mut rng = FastRng::new(9);
            let mut losses = Vec::new();
            for _ in 0..3 {
                let parts = train_step_in_parts(
                    &mut model,
                    &mut optimizer,
                    &x,
                    &step,
                    &mut rng,
                    parts,
                    |z| targets.loss(z, &batch, 10, &mut FastRng::new(0)),
                )
                .unwrap();
                losses.push(parts.total);
            }
            let params: Vec<Vec<f32>> = model
                .weights
                .iter()
                .chain(&model.biases)
                .map(|t| t.flatten_all().unwrap().to_vec1().unwrap())
                .collect();
            (losses, params)
        };
        for kind in [
            crate::config::OptimizerKind::Sgd,
            crate::config::OptimizerKind::Adamw,
        ] {
            let (whole_loss, whole) = run(kind, 1, Dropout::default());
            for parts in [2, 3] {
                let (loss, split) = run(kind, parts, Dropout::default());
                for (a, b) in loss.iter().zip(&whole_loss) {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "{kind:?} {parts} parts: loss {a} vs {b}"
                    );
                }
                for (p, q) in split.iter().flatten().zip(whole.iter().flatten()) {
                    assert!((p - q).abs() < 1e-4, "{kind:?} {parts} parts: {p} vs {q}");
                }
            }
            let dropout = Dropout {
                input: 0.2,
                hidden: 0.5,
            };
            assert_eq!(run(kind, 2, dropout), run(kind, 2, dropout));
            assert_ne!(run(kind, 2, dropout).1, whole);
        }
    }

    fn config(method: Method) -> RunConfig {
        let mut config = RunConfig::default();
        config.distill.method = method;
        config
    }

    /// `softmax(v / T)` row by row, computed here in f64 independently of `distill::soft`.
    fn softmax_at(logits: &[f32], temperature: f64) -> Vec<f32> {
        logits
            .chunks_exact(CLASSES)
            .flat_map(|row| {
                let e: Vec<f64> = row
                    .iter()
                    .map(|v| (f64::from(*v) / temperature).exp())
                    .collect();
                let sum: f64 = e.iter().sum();
                e.into_iter().map(move |x| (x / sum) as f32)
            })
            .collect()
    }

    fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn hinton_mixes_true_labels_of_real_examples_with_teacher_labels_of_synthetic_ones() {
        let transfer = transfer();
        let mut config = config(Method::Hinton);
        config.distill.alpha = 0.7;
        config.distill.t_squared = false;
        match student_targets(&config, &transfer, 4.0) {
            Targets::Soft {
                q,
                labels,
                temperature,
                alpha,
                t_squared,
            } => {
                assert_eq!(labels, [1, 2, 7, 8]);
                assert_close(&q, &softmax_at(&transfer.member_logits[0], 4.0));
                assert_eq!((temperature, alpha, t_squared), (4.0, 0.7, false));
            }
            other => panic!("expected soft targets, got {other:?}"),
        }
    }

    #[test]
    fn model_compression_learns_the_teachers_labels_on_every_example() {
        let transfer = transfer();
        let mut config = config(Method::ModelCompression);
        config.distill.soft_labels = false;
        match student_targets(&config, &transfer, 4.0) {
            Targets::Hard { labels } => assert_eq!(labels, [5, 6, 7, 8]),
            other => panic!("expected hard labels, got {other:?}"),
        }
        config.distill.soft_labels = true;
        match student_targets(&config, &transfer, 4.0) {
            Targets::Soft {
                q,
                labels,
                temperature,
                alpha,
                ..
            } => {
                assert_eq!(labels, [5, 6, 7, 8]);
                assert_close(&q, &softmax_at(&transfer.member_logits[0], 1.0));
                assert_eq!((temperature, alpha), (1.0, 1.0), "probabilities at T = 1");
            }
            other => panic!("expected soft targets, got {other:?}"),
        }
    }

    #[test]
    fn logit_methods_match_the_teachers_logits_and_only_the_noisy_teacher_adds_noise() {
        let transfer = transfer();
        for method in [Method::LogitL2, Method::NoisyTeacher] {
            match student_targets(&config(method), &transfer, 4.0) {
                Targets::Logits { v, noise, .. } => {
                    assert_eq!(v, transfer.member_logits[0]);
                    assert_eq!(noise.is_some(), method == Method::NoisyTeacher);
                }
                other => panic!("{method:?}: expected logits, got {other:?}"),
            }
        }
    }
}
