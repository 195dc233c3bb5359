//! The loop every phase and method share, split as burn-train splits it: run one epoch's
//! batches ([`PhaseRun::run_batches`]), then end the epoch ([`PhaseRun::end_epoch`]: evaluate on the
//! test set, emit the metrics, check for divergence). A phase trains one model towards one set
//! of targets; the stages differ only in the [`PhaseSpec`] and targets they pass.

use std::time::Instant;

use super::divergence::{Divergence, EpochOutcome, LossWatch};
use super::ema::WeightAverage;
use super::error::TrainError;
use super::optim::{learning_rate, warmup_factor, Optimizer};
use super::session::Session;
use super::step::{train_step, StepSettings};
use super::views::batch_input;
use crate::config::OptimConfig;
use crate::data::dataset::Dataset;
use crate::distill::targets::Targets;
use crate::eval::{evaluate_logits, Evaluation};
use crate::events::{EpochMetrics, Event, Phase, PhaseResult};
use crate::model::mlp::{Dropout, Mlp};
use crate::rng::FastRng;

/// Minimum time between two progress events of one phase.
const PROGRESS_INTERVAL_SECS: f64 = 0.2;

/// How one phase trains its model.
pub(super) struct PhaseSpec<'a> {
    pub phase: Phase,
    pub member: usize,
    pub epochs: usize,
    pub optim: &'a OptimConfig,
    /// The `--set` path of `optim.lr`, for the advice when training diverges.
    pub lr_field: &'static str,
    pub dropout: Dropout,
    pub max_norm: f64,
    pub jitter_px: usize,
    /// The targets have a row per example and shift view (`view · n + i`), as a jittered
    /// transfer set's cached teacher logits do; otherwise one row per example.
    pub targets_per_view: bool,
    pub detail: String,
    /// Temperature of the distillation-gap metrics; `None` for the teacher (no gap).
    pub gap_temperature: Option<f64>,
}

/// A phase's result from its last evaluation.
pub(super) fn phase_result(
    eval: &Evaluation,
    epochs: usize,
    seconds: f64,
    layers: &[usize],
) -> PhaseResult {
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

/// Sums of one epoch's batch losses.
#[derive(Default)]
struct EpochLosses {
    total: f64,
    soft: f64,
    hard: f64,
}

/// One phase's training state: its random streams, optimiser, buffers and watches.
struct PhaseRun<'s, 'a> {
    spec: &'s PhaseSpec<'a>,
    set: &'s Dataset,
    targets: &'s dyn Targets,
    started: Instant,
    batch_size: usize,
    batches: usize,
    shuffle_rng: FastRng,
    dropout_rng: FastRng,
    jitter_rng: FastRng,
    noise_rng: FastRng,
    optimizer: Optimizer,
    order: Vec<usize>,
    pixels: Vec<f32>,
    views: Vec<usize>,
    rows: Vec<usize>,
    watch: LossWatch,
    /// A model that only ever sees one class answers it by design: not a divergence.
    trained_classes: usize,
    average: Option<WeightAverage>,
}

impl<'s, 'a> PhaseRun<'s, 'a> {
    fn new(
        seed: u64,
        model: &Mlp,
        set: &'s Dataset,
        targets: &'s dyn Targets,
        spec: &'s PhaseSpec<'a>,
    ) -> Result<Self, TrainError> {
        let batch_size = spec.optim.batch_size.min(set.len()).max(1);
        let stream = format!("{}-{}", spec.phase.key(), spec.member);
        let fork = |name: &str| FastRng::fork(seed, &format!("{name}-{stream}"));
        let average = match spec.optim.ema_decay {
            d if d > 0.0 => Some(WeightAverage::new(model, d)?),
            _ => None,
        };
        Ok(Self {
            spec,
            set,
            targets,
            started: Instant::now(),
            batch_size,
            batches: set.len().div_ceil(batch_size),
            shuffle_rng: fork("shuffle"),
            dropout_rng: fork("dropout"),
            jitter_rng: fork("jitter"),
            noise_rng: fork("noise"),
            optimizer: Optimizer::new(spec.optim),
            order: (0..set.len()).collect(),
            pixels: vec![0f32; batch_size * set.dim()],
            views: Vec::with_capacity(batch_size),
            rows: Vec::with_capacity(batch_size),
            watch: LossWatch::new(),
            trained_classes: distinct_classes(&set.labels),
            average,
        })
    }

    fn diverged(&self, epoch: usize, cause: Divergence) -> TrainError {
        TrainError::Diverged {
            phase: self.spec.phase.key(),
            epoch,
            cause,
            lr_field: self.spec.lr_field,
            lr: self.spec.optim.lr,
        }
    }

    /// Trains one epoch's batches, reporting progress and probes and checking the cancel
    /// token after every batch; returns the sums of the batch losses.
    fn run_batches(
        &mut self,
        session: &mut Session<'_>,
        model: &mut Mlp,
        epoch: usize,
        lr: f64,
    ) -> Result<EpochLosses, TrainError> {
        let spec = self.spec;
        let classes = session.classes;
        self.shuffle_rng.shuffle(&mut self.order);
        let mut sums = EpochLosses::default();
        let mut last_progress = Instant::now();
        let order = std::mem::take(&mut self.order);
        for (b, batch) in order.chunks(self.batch_size).enumerate() {
            let x = batch_input(
                self.set,
                batch,
                spec.jitter_px,
                &mut self.jitter_rng,
                &mut self.pixels,
                &mut self.views,
                &session.device,
            )?;
            let n = self.set.len();
            let target_rows = if spec.targets_per_view {
                self.rows.clear();
                let rows = self.views.iter().zip(batch).map(|(v, i)| v * n + i);
                self.rows.extend(rows);
                &self.rows[..]
            } else {
                batch
            };
            let step = StepSettings {
                dropout: spec.dropout,
                max_norm: spec.max_norm,
                lr: lr * warmup_factor(spec.optim, epoch - 1, b, self.batches),
            };
            let (targets, noise_rng) = (self.targets, &mut self.noise_rng);
            let parts = train_step(
                model,
                &mut self.optimizer,
                &x,
                &step,
                &mut self.dropout_rng,
                |z| targets.loss(z, target_rows, classes, noise_rng),
            )?;
            self.watch
                .check(b + 1, parts.total)
                .map_err(|cause| self.diverged(epoch, cause))?;
            if let Some(average) = self.average.as_mut() {
                average.after_step(model)?;
            }
            sums.total += parts.total;
            sums.soft += parts.soft;
            sums.hard += parts.hard;
            if last_progress.elapsed().as_secs_f64() >= PROGRESS_INTERVAL_SECS
                || b + 1 == self.batches
            {
                last_progress = Instant::now();
                session.notify(Event::Progress {
                    run: session.run,
                    phase: spec.phase,
                    epoch,
                    batch: b + 1,
                    batches: self.batches,
                    loss: sums.total / (b + 1) as f64,
                });
            }
            if session.probes.due() && b + 1 < self.batches {
                session.report_probes(model, (spec.phase, spec.member), epoch, b + 1, false)?;
            }
            session.check_cancel()?;
        }
        self.order = order;
        Ok(sums)
    }

    /// Ends an epoch: judges the model (its weight average when there is one) on the test
    /// set, emits the metrics and probes, and checks for divergence.
    fn end_epoch(
        &mut self,
        session: &mut Session<'_>,
        model: &mut Mlp,
        (epoch, lr): (usize, f64),
        sums: &EpochLosses,
    ) -> Result<Evaluation, TrainError> {
        let spec = self.spec;
        let averaged = self.average.as_ref().map(|a| a.model(model)).transpose()?;
        let judged: &Mlp = averaged.as_ref().unwrap_or(model);
        let logits = session.test_logits(judged)?;
        let eval = evaluate_logits(&logits, &session.data.test.labels, session.classes);
        let gap = spec
            .gap_temperature
            .zip(session.teacher_test.as_ref())
            .map(|(t, teacher)| teacher.gap(&logits, t));
        let batches = self.batches as f64;
        let metrics = EpochMetrics {
            phase: spec.phase,
            member: spec.member,
            epoch,
            loss: sums.total / batches,
            soft_loss: sums.soft / batches,
            hard_loss: sums.hard / batches,
            lr,
            test_errors: eval.errors,
            per_class_errors: eval.per_class_errors.clone(),
            test_n: eval.n,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            gap,
        };
        // Recorded before the hook runs and sent after it, as one event.
        let ended = Event::EpochEnded {
            run: session.run,
            metrics: metrics.clone(),
        };
        session.recorder.record(&ended)?;
        if let Some(hook) = session.epoch_hook.as_mut() {
            hook(&metrics, judged)?;
        }
        session.notify(ended);
        session.report_probes(judged, (spec.phase, spec.member), epoch, self.batches, true)?;
        let outcome = EpochOutcome {
            eval: &eval,
            logits: &logits,
            mean_loss: metrics.loss,
            metrics: &metrics,
            trained_classes: self.trained_classes,
            last_epoch: epoch == spec.epochs,
        };
        self.watch
            .check_epoch(&outcome)
            .map_err(|cause| self.diverged(epoch, cause))?;
        if let Some(averaged) = averaged.filter(|_| epoch == spec.epochs) {
            *model = averaged;
        }
        Ok(eval)
    }
}

impl Session<'_> {
    /// Trains `model` on `set` towards `targets`: the loop every phase and method share.
    pub(super) fn train_phase(
        &mut self,
        model: &mut Mlp,
        set: &Dataset,
        targets: &dyn Targets,
        spec: &PhaseSpec<'_>,
    ) -> Result<PhaseResult, TrainError> {
        let mut phase = PhaseRun::new(self.config.seed, model, set, targets, spec)?;
        self.notify(Event::PhaseStarted {
            run: self.run,
            phase: spec.phase,
            member: spec.member,
            epochs: spec.epochs,
            batches: phase.batches,
            detail: spec.detail.clone(),
        });
        self.report_probes(model, (spec.phase, spec.member), 0, 0, true)?;
        let mut last = None;
        for epoch in 1..=spec.epochs {
            let lr = learning_rate(spec.optim, epoch - 1, spec.epochs);
            let sums = phase.run_batches(self, model, epoch, lr)?;
            last = Some(phase.end_epoch(self, model, (epoch, lr), &sums)?);
        }
        let eval = match last {
            Some(eval) => eval,
            None => self.evaluate(model)?,
        };
        Ok(phase_result(
            &eval,
            spec.epochs,
            phase.started.elapsed().as_secs_f64(),
            &model.layers,
        ))
    }
}
