//! When training has diverged: the loss became NaN or infinite, grew far beyond where it
//! started, or after an epoch the model does no better than always answering the most
//! frequent test class *and* is not learning. The last one catches what the first two miss:
//! with a learning rate of 1e6 the first steps silence every ReLU, after which the loss stays
//! finite and the network answers one class for every image, which would otherwise end as a
//! "successful" run at chance level.
//!
//! Chance level alone is not enough: an untrained network also answers (almost) one class —
//! measured here, a 784-800-800-10 student after an epoch at lr 1e-9 made 882 errors of 1,000
//! where the majority class makes 874 — and so can a tiny run after one epoch of warm-up. What
//! sets divergence apart is a loss that rose (lr 10 to 1e6: epoch losses 6 to 74 against 2.3
//! at the start) or an output that no longer depends on the input (every ReLU silent). A rise
//! is judged after [`MIN_STEPS_FOR_RISE`] steps, and at a phase's last epoch whatever its
//! length: a short run that ends at chance level with its loss above where it started has
//! diverged, not "finished". A metric that turns NaN (the distillation gap's KL, say, while
//! the total loss is still finite) is divergence too.

use crate::eval::Evaluation;
use crate::events::EpochMetrics;

/// A batch loss this many times the loss before the first update means the run exploded.
/// Training lowers the loss; no sensible learning rate multiplies it by ten thousand.
pub const EXPLOSION_FACTOR: f64 = 1e4;

/// At chance level, an epoch's mean loss this many times the first batch's means the loss
/// rose: the model is not merely slow to start.
pub const RISE_FACTOR: f64 = 1.1;

/// A loss "rose" only once the phase has taken this many steps: before that the epoch's mean
/// against its first batch is batch-to-batch noise. An epoch of a 1,000-point plane dataset is
/// 16 batches, and a 2-16-16-2 student distilled on a checkerboard sat at chance after it with
/// a mean 12 % above its first batch, then learnt (90.8 % test accuracy). MNIST epochs are
/// hundreds of batches, so there nothing changes.
pub const MIN_STEPS_FOR_RISE: usize = 100;

/// The chance-level check needs at least this many test examples: on a handful of images a
/// model that learnt something can still tie with the majority class.
pub const MIN_CHANCE_TEST_EXAMPLES: usize = 100;

/// Why training was judged to have diverged.
#[derive(Clone, Debug, PartialEq)]
pub enum Divergence {
    /// The loss of a batch was NaN or infinite.
    NonFinite {
        /// Batch, from 1.
        batch: usize,
        /// The loss.
        value: f64,
    },
    /// The loss of a batch grew [`EXPLOSION_FACTOR`] times beyond the first batch's.
    Exploded {
        /// Batch, from 1.
        batch: usize,
        /// The loss.
        value: f64,
        /// The loss of the phase's first batch, before any update.
        initial: f64,
    },
    /// After an epoch, a number of its metrics row (a loss part, the distillation gap) was NaN
    /// or infinite, though every batch's total loss was finite.
    NonFiniteMetric {
        /// The metric's column in `metrics.csv`.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// After an epoch, the test errors are no better than always answering the most frequent
    /// test class, and the model is not learning.
    ChanceLevel {
        /// Misclassified test examples.
        errors: usize,
        /// Test examples.
        n: usize,
        /// Errors of always answering the most frequent class.
        majority_errors: usize,
        /// Why it is not merely slow to start.
        sign: NotLearning,
    },
}

/// What shows that a model at chance level is broken, not just untrained.
#[derive(Clone, Debug, PartialEq)]
pub enum NotLearning {
    /// The epoch's mean loss rose above the first batch's.
    LossRose {
        /// The loss of the phase's first batch.
        from: f64,
        /// The epoch's mean loss.
        to: f64,
    },
    /// Every test image gets the same output: no hidden unit responds to the input.
    ConstantOutput,
}

/// What an epoch ended with, for [`LossWatch::check_epoch`].
#[derive(Clone, Copy, Debug)]
pub struct EpochOutcome<'a> {
    /// The test evaluation.
    pub eval: &'a Evaluation,
    /// The test logits, `[n, classes]`.
    pub logits: &'a [f32],
    /// The epoch's mean training loss.
    pub mean_loss: f64,
    /// The epoch's metrics row: none of its numbers may be NaN or infinite.
    pub metrics: &'a EpochMetrics,
    /// Distinct classes among the training examples.
    pub trained_classes: usize,
    /// Whether this was the phase's last epoch.
    pub last_epoch: bool,
}

impl Divergence {
    /// Where (in epoch `epoch`, from 1) and what, e.g. `at epoch 2, batch 3: the loss became
    /// NaN` or `after epoch 1: 884 of 1000 test images misclassified, …`.
    pub fn describe(&self, epoch: usize) -> String {
        match self {
            Divergence::NonFinite { batch, value } => {
                format!("at epoch {epoch}, batch {batch}: the loss became {value}")
            }
            Divergence::Exploded {
                batch,
                value,
                initial,
            } => format!(
                "at epoch {epoch}, batch {batch}: the loss exploded from {initial:.3} to {value:.3e}"
            ),
            Divergence::NonFiniteMetric { name, value } => {
                format!("after epoch {epoch}: its {name} became {value}")
            }
            Divergence::ChanceLevel {
                errors,
                n,
                majority_errors,
                sign,
            } => {
                let sign = match sign {
                    NotLearning::LossRose { from, to } => {
                        format!("the loss rose from {from:.3} to {to:.3}")
                    }
                    NotLearning::ConstantOutput => {
                        "every image gets the same output (no ReLU responds)".to_owned()
                    }
                };
                format!(
                    "after epoch {epoch}: {errors} of {n} test images misclassified, no better \
                     than always answering the most frequent class ({majority_errors}), and {sign}"
                )
            }
        }
    }
}

/// Watches the batch losses of one training phase.
#[derive(Clone, Debug, Default)]
pub struct LossWatch {
    initial: Option<f64>,
    steps: usize,
}

impl LossWatch {
    /// A watch for a new phase.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the loss of batch `batch` (from 1); the phase's first loss is the reference.
    pub fn check(&mut self, batch: usize, loss: f64) -> Result<(), Divergence> {
        if !loss.is_finite() {
            return Err(Divergence::NonFinite { batch, value: loss });
        }
        self.steps += 1;
        match self.initial {
            None => self.initial = Some(loss),
            Some(initial) if initial > 0.0 && loss > EXPLOSION_FACTOR * initial => {
                return Err(Divergence::Exploded {
                    batch,
                    value: loss,
                    initial,
                })
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Checks an epoch's outcome: at chance level (see [`at_chance_level`]) while the loss
    /// rose or the output ignores the input.
    pub fn check_epoch(&self, outcome: &EpochOutcome<'_>) -> Result<(), Divergence> {
        if let Some((name, value)) = non_finite_metric(outcome.metrics) {
            return Err(Divergence::NonFiniteMetric { name, value });
        }
        let eval = outcome.eval;
        let Some(majority_errors) = at_chance_level(eval, outcome.trained_classes) else {
            return Ok(());
        };
        let sign = match self.initial {
            Some(from)
                if from > 0.0
                    && (self.steps >= MIN_STEPS_FOR_RISE || outcome.last_epoch)
                    && outcome.mean_loss > RISE_FACTOR * from =>
            {
                NotLearning::LossRose {
                    from,
                    to: outcome.mean_loss,
                }
            }
            _ if is_constant(outcome.logits, eval.confusion.len()) => NotLearning::ConstantOutput,
            _ => return Ok(()),
        };
        Err(Divergence::ChanceLevel {
            errors: eval.errors,
            n: eval.n,
            majority_errors,
            sign,
        })
    }
}

/// The first of an epoch's metrics that is NaN or infinite, with its `metrics.csv` column.
fn non_finite_metric(m: &EpochMetrics) -> Option<(&'static str, f64)> {
    let mut values = vec![
        ("loss", m.loss),
        ("soft_loss", m.soft_loss),
        ("hard_loss", m.hard_loss),
    ];
    if let Some(gap) = &m.gap {
        values.extend([
            ("kl_t", gap.kl_t),
            ("kl_1", gap.kl_1),
            ("agreement", gap.agreement),
        ]);
    }
    values.into_iter().find(|(_, v)| !v.is_finite())
}

/// Whether every row of `[n, classes]` logits equals the first (to f32 rounding).
fn is_constant(logits: &[f32], classes: usize) -> bool {
    let Some(first) = logits.get(..classes) else {
        return false;
    };
    logits.chunks_exact(classes.max(1)).all(|row| {
        row.iter()
            .zip(first)
            .all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + b.abs()))
    })
}

/// Errors of always answering the most frequent true class of `eval`'s examples.
pub fn majority_errors(eval: &Evaluation) -> usize {
    let largest = eval
        .confusion
        .iter()
        .map(|row| row.iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    eval.n - largest.min(eval.n)
}

/// `Some(majority_errors)` when `eval` is no better than always answering the most frequent
/// class. `trained_classes` is the number of distinct classes the model was trained on: a
/// model that saw one class only answers that class by design, so it is not judged, and
/// neither is a test set too small to tell or one with a single class.
pub fn at_chance_level(eval: &Evaluation, trained_classes: usize) -> Option<usize> {
    let majority = majority_errors(eval);
    let judged = trained_classes >= 2 && eval.n >= MIN_CHANCE_TEST_EXAMPLES && majority > 0;
    (judged && eval.errors >= majority).then_some(majority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate_logits;

    /// 100 test examples: 40 of class 0, 30 of class 1, 30 of class 2.
    fn labels() -> Vec<u8> {
        (0..100u8)
            .map(|i| {
                if i < 40 {
                    0
                } else if i < 70 {
                    1
                } else {
                    2
                }
            })
            .collect()
    }

    /// Logits that answer `answer(i)` for example `i`.
    fn answering(answer: impl Fn(usize) -> usize) -> Vec<f32> {
        (0..100)
            .flat_map(|i| (0..3).map(move |c| (c, i)))
            .map(|(c, i)| if c == answer(i) { 1.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn a_model_answering_one_class_is_at_chance_level() {
        let labels = labels();
        // Every answer "1": 70 errors; the majority class (0) would make 60.
        let eval = evaluate_logits(&answering(|_| 1), &labels, 3);
        assert_eq!(majority_errors(&eval), 60);
        assert_eq!(at_chance_level(&eval, 10), Some(60));
        // Always the majority class: exactly chance.
        let eval = evaluate_logits(&answering(|_| 0), &labels, 3);
        assert_eq!(at_chance_level(&eval, 10), Some(60));
        // Right on half of class 0 and all of class 1, wrong on class 2: 20 + 30 = 50 < 60.
        let learnt = answering(|i| match i {
            0..20 => 0,
            20..40 => 2,
            40..70 => 1,
            _ => 0,
        });
        let eval = evaluate_logits(&learnt, &labels, 3);
        assert_eq!(eval.errors, 50);
        assert_eq!(at_chance_level(&eval, 10), None);
        // A model trained on one class, or a test set too small, is not judged.
        let eval = evaluate_logits(&answering(|_| 1), &labels, 3);
        assert_eq!(at_chance_level(&eval, 1), None);
        let few = evaluate_logits(&answering(|_| 1)[..30], &labels[..10], 3);
        assert_eq!(at_chance_level(&few, 10), None);
    }

    #[test]
    fn at_chance_level_only_a_rising_loss_or_a_constant_output_is_divergence() {
        let labels = labels();
        let mut watch = LossWatch::new();
        watch.check(1, 2.3).unwrap();
        let mut early = watch.clone();
        for b in 2..=MIN_STEPS_FOR_RISE {
            watch.check(b, 2.3).unwrap();
        }
        // Answers "1" for every image, each with slightly different logits (an untrained
        // network): chance level, but the loss fell, so it may yet learn.
        let varied: Vec<f32> = answering(|_| 1)
            .iter()
            .enumerate()
            .map(|(i, v)| v + i as f32 * 1e-3)
            .collect();
        let eval = evaluate_logits(&varied, &labels, 3);
        let row = metrics(2.3);
        let outcome = |logits, mean_loss| EpochOutcome {
            eval: &eval,
            logits,
            mean_loss,
            metrics: &row,
            trained_classes: 10,
            last_epoch: false,
        };
        assert_eq!(watch.check_epoch(&outcome(&varied, 2.29)), Ok(()));
        assert_eq!(
            watch.check_epoch(&outcome(&varied, 2.5)),
            Ok(()),
            "within 10 %"
        );
        assert_eq!(
            watch.check_epoch(&outcome(&varied, 74.0)),
            Err(Divergence::ChanceLevel {
                errors: 70,
                n: 100,
                majority_errors: 60,
                sign: NotLearning::LossRose {
                    from: 2.3,
                    to: 74.0
                },
            })
        );
        // After a few steps the same rise is batch-to-batch noise (a tiny plane run).
        early.check(2, 2.3).unwrap();
        assert_eq!(early.check_epoch(&outcome(&varied, 74.0)), Ok(()));
        // The same answers with identical logits for every image: every ReLU is silent.
        let constant = answering(|_| 1);
        let err = watch.check_epoch(&outcome(&constant, 2.29)).unwrap_err();
        assert!(matches!(
            err,
            Divergence::ChanceLevel {
                sign: NotLearning::ConstantOutput,
                ..
            }
        ));
        let text = err.describe(3);
        assert!(
            text.starts_with("after epoch 3: 70 of 100") && text.contains("same output"),
            "{text}"
        );
        // Better than chance: never divergence, whatever the loss.
        let learnt = evaluate_logits(&answering(|i| usize::from(labels[i])), &labels, 3);
        let fine = EpochOutcome {
            eval: &learnt,
            logits: &constant,
            mean_loss: 74.0,
            metrics: &row,
            trained_classes: 10,
            last_epoch: true,
        };
        assert_eq!(watch.check_epoch(&fine), Ok(()));
    }

    /// A metrics row with these losses and a finite distillation gap.
    fn metrics(loss: f64) -> EpochMetrics {
        EpochMetrics {
            phase: crate::events::Phase::Student,
            member: 0,
            epoch: 1,
            loss,
            soft_loss: loss,
            hard_loss: loss,
            lr: 0.1,
            test_errors: 0,
            per_class_errors: Vec::new(),
            test_n: 100,
            elapsed_secs: 1.0,
            gap: Some(crate::events::DistillationGap {
                kl_t: 0.1,
                kl_1: 0.1,
                agreement: 0.5,
            }),
        }
    }

    /// The issue-18 run (lr 1e6, 2 epochs, 80 steps): every image called one class with
    /// slightly different logits, the loss risen from 2.3 to 87, `kl_t` NaN. Before the fix it
    /// ended "finished" (a rise was judged only after 100 steps); a NaN metric, or chance level
    /// with a risen loss at the last epoch, is divergence whatever the phase's length, while a
    /// short run at chance whose loss fell (a tiny smoke test) is not.
    #[test]
    fn a_short_run_ending_at_chance_or_with_a_nan_metric_diverged() {
        let labels = labels();
        let mut watch = LossWatch::new();
        watch.check(1, 2.3).unwrap();
        for b in 2..=80 {
            watch.check(b, 85.0).unwrap();
        }
        let varied: Vec<f32> = answering(|_| 0)
            .iter()
            .enumerate()
            .map(|(i, v)| v + i as f32 * 1e-3)
            .collect();
        let eval = evaluate_logits(&varied, &labels, 3);
        let finite = metrics(87.0);
        let mut nan = metrics(87.0);
        if let Some(gap) = nan.gap.as_mut() {
            gap.kl_t = f64::NAN;
        }
        let outcome = |metrics, last_epoch| EpochOutcome {
            eval: &eval,
            logits: &varied,
            mean_loss: 87.0,
            metrics,
            trained_classes: 10,
            last_epoch,
        };
        assert_eq!(watch.check_epoch(&outcome(&finite, false)), Ok(()));
        let err = watch.check_epoch(&outcome(&finite, true)).unwrap_err();
        assert!(
            matches!(
                err,
                Divergence::ChanceLevel {
                    sign: NotLearning::LossRose { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let fell = EpochOutcome {
            mean_loss: 2.0,
            ..outcome(&finite, true)
        };
        assert_eq!(
            watch.check_epoch(&fell),
            Ok(()),
            "undertrained, not diverged"
        );
        let err = watch.check_epoch(&outcome(&nan, false)).unwrap_err();
        assert!(
            matches!(err, Divergence::NonFiniteMetric { name: "kl_t", .. }),
            "{err:?}"
        );
        assert_eq!(err.describe(1), "after epoch 1: its kl_t became NaN");
        // The same NaN on a model that learnt is still divergence: the numbers are broken.
        let learnt = evaluate_logits(&answering(|i| usize::from(labels[i])), &labels, 3);
        let good = EpochOutcome {
            eval: &learnt,
            ..outcome(&nan, false)
        };
        assert!(watch.check_epoch(&good).is_err());
    }

    #[test]
    fn non_finite_and_exploding_losses_are_caught() {
        let mut watch = LossWatch::new();
        assert_eq!(watch.check(1, 2.3), Ok(()));
        assert_eq!(
            watch.check(2, 2.3 * 9_000.0),
            Ok(()),
            "a spike is not a divergence"
        );
        assert_eq!(
            watch.check(3, 2.3e5),
            Err(Divergence::Exploded {
                batch: 3,
                value: 2.3e5,
                initial: 2.3
            })
        );
        assert!(matches!(
            watch.check(4, f64::NAN),
            Err(Divergence::NonFinite { batch: 4, .. })
        ));
        let mut first = LossWatch::new();
        assert!(first.check(1, f64::INFINITY).is_err());
        // A phase that starts at a loss of 0 has no scale to explode from.
        let mut zero = LossWatch::new();
        assert_eq!(zero.check(1, 0.0), Ok(()));
        assert_eq!(zero.check(2, 1e9), Ok(()));
    }
}
