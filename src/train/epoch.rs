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
    /// The model's outputs are classes, so each epoch is judged on the test set (and probed);
    /// false for FitNets' hint stage, whose outputs are a teacher layer's.
    pub judged: bool,
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
pub(super) struct EpochLosses {
    total: f64,
    soft: f64,
    hard: f64,
}

/// Where one batch stands in its phase: `(epoch, learning rate, batch index)`.
pub(super) type BatchAt = (usize, f64, usize);

/// One phase's training state: its random streams, optimiser, buffers and watches.
pub(super) struct PhaseRun<'s, 'a> {
    spec: &'s PhaseSpec<'a>,
    set: &'s Dataset,
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
    watch: LossWatch,
    /// A model that only ever sees one class answers it by design: not a divergence.
    trained_classes: usize,
    average: Option<WeightAverage>,
    sums: EpochLosses,
    last_progress: Instant,
}

impl<'s, 'a> PhaseRun<'s, 'a> {
    pub(super) fn new(
        seed: u64,
        model: &Mlp,
        set: &'s Dataset,
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
            watch: LossWatch::new(),
            trained_classes: distinct_classes(&set.labels),
            average,
            sums: EpochLosses::default(),
            last_progress: Instant::now(),
        })
    }

    /// Batches per epoch.
    pub(super) fn batches(&self) -> usize {
        self.batches
    }

    /// Starts an epoch: a fresh shuffle of the examples, in the batches to train them in.
    pub(super) fn shuffled_batches(&mut self) -> Vec<Vec<usize>> {
        self.shuffle_rng.shuffle(&mut self.order);
        self.sums = EpochLosses::default();
        self.order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The input of the examples `batch` (shifted when the phase jitters) and their target
    /// rows (`view · n + i` when the targets have a row per shift view).
    pub(super) fn batch_input(
        &mut self,
        session: &Session<'_>,
        batch: &[usize],
    ) -> Result<(candle_core::Tensor, Vec<usize>), TrainError> {
        let x = batch_input(
            self.set,
            batch,
            self.spec.jitter_px,
            &mut self.jitter_rng,
            &mut self.pixels,
            &mut self.views,
            &session.device,
        )?;
        let n = self.set.len();
        let rows = if self.spec.targets_per_view {
            self.views
                .iter()
                .zip(batch)
                .map(|(v, i)| v * n + i)
                .collect()
        } else {
            batch.to_vec()
        };
        Ok((x, rows))
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

    /// Trains one epoch's batches towards `targets`, reporting progress and probes and
    /// checking the cancel token after every batch.
    fn run_batches(
        &mut self,
        session: &mut Session<'_>,
        model: &mut Mlp,
        targets: &dyn Targets,
        (epoch, lr): (usize, f64),
    ) -> Result<(), TrainError> {
        for (b, batch) in self.shuffled_batches().iter().enumerate() {
            let (x, rows) = self.batch_input(session, batch)?;
            self.step(session, model, targets, (&x, &rows), (epoch, lr, b))?;
        }
        Ok(())
    }

    /// One optimisation step on the batch input `x` with target rows `rows`, then the
    /// divergence watch, the weight average, progress, probes and the cancel token.
    pub(super) fn step(
        &mut self,
        session: &mut Session<'_>,
        model: &mut Mlp,
        targets: &dyn Targets,
        (x, rows): (&candle_core::Tensor, &[usize]),
        (epoch, lr, b): BatchAt,
    ) -> Result<(), TrainError> {
        let spec = self.spec;
        let classes = model.classes();
        let step = StepSettings {
            dropout: spec.dropout,
            max_norm: spec.max_norm,
            lr: lr * warmup_factor(spec.optim, epoch - 1, b, self.batches),
            feature_layer: targets.feature_layer(),
        };
        let noise_rng = &mut self.noise_rng;
        let parts = train_step(
            model,
            &mut self.optimizer,
            x,
            &step,
            &mut self.dropout_rng,
            |s| targets.loss(s, rows, classes, noise_rng),
        )?;
        self.watch
            .check(b + 1, parts.total)
            .map_err(|cause| self.diverged(epoch, cause))?;
        if let Some(average) = self.average.as_mut() {
            average.after_step(model)?;
        }
        self.sums.total += parts.total;
        self.sums.soft += parts.soft;
        self.sums.hard += parts.hard;
        if self.last_progress.elapsed().as_secs_f64() >= PROGRESS_INTERVAL_SECS
            || b + 1 == self.batches
        {
            self.last_progress = Instant::now();
            session.notify(Event::Progress {
                run: session.run,
                phase: spec.phase,
                epoch,
                batch: b + 1,
                batches: self.batches,
                loss: self.sums.total / (b + 1) as f64,
            });
        }
        if spec.judged && session.probes.due() && b + 1 < self.batches {
            session.report_probes(model, (spec.phase, spec.member), epoch, b + 1, false)?;
        }
        session.check_cancel()
    }

    /// Ends an epoch: judges the model (its weight average when there is one) on the test
    /// set, emits the metrics and probes, and checks for divergence.
    pub(super) fn end_epoch(
        &mut self,
        session: &mut Session<'_>,
        model: &mut Mlp,
        (epoch, lr): (usize, f64),
    ) -> Result<Evaluation, TrainError> {
        let spec = self.spec;
        let sums = std::mem::take(&mut self.sums);
        let averaged = self.average.as_ref().map(|a| a.model(model)).transpose()?;
        let judged: &Mlp = averaged.as_ref().unwrap_or(model);
        let (logits, eval) = if spec.judged {
            let logits = session.test_logits(judged)?;
            let eval = evaluate_logits(&logits, &session.data.test.labels, session.classes);
            (logits, eval)
        } else {
            (Vec::new(), Evaluation::default())
        };
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
        // A phase without class outputs has no probes or test errors to judge; its losses are
        // watched batch by batch.
        if spec.judged {
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
        }
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
        let mut phase = PhaseRun::new(self.config.seed, model, set, spec)?;
        self.notify(Event::PhaseStarted {
            run: self.run,
            phase: spec.phase,
            member: spec.member,
            epochs: spec.epochs,
            batches: phase.batches,
            detail: spec.detail.clone(),
        });
        if spec.judged {
            self.report_probes(model, (spec.phase, spec.member), 0, 0, true)?;
        }
        let mut last = None;
        for epoch in 1..=spec.epochs {
            let lr = learning_rate(spec.optim, epoch - 1, spec.epochs);
            phase.run_batches(self, model, targets, (epoch, lr))?;
            last = Some(phase.end_epoch(self, model, (epoch, lr))?);
        }
        let eval = match last {
            Some(eval) => eval,
            None if spec.judged => self.evaluate(model)?,
            None => Evaluation::default(),
        };
        Ok(phase_result(
            &eval,
            spec.epochs,
            phase.started.elapsed().as_secs_f64(),
            &model.layers,
        ))
    }
}
