//! The distillation losses, each with its gradient with respect to the student's logits.
//!
//! Notation: student logits `z`, teacher logits `v`, hard labels `y`, batch size `B`, `C`
//! classes. Every loss is a *batch mean* (a sum over classes, a mean over examples), never an
//! element mean. Each function returns the loss value and `∂L/∂z` (`[B, C]`, row-major), which
//! the MLP's hand-written backward pass takes from there. The losses work on plain slices: a
//! batch of logits is a few thousand numbers, far cheaper to handle here than as tensors.
//!
//! Like candle-nn's losses check their tensors' shapes, each loss first checks that its inputs
//! describe the same rows (and that labels are classes) and fails with the lengths it was
//! given: a zip of slices of different lengths would otherwise drop rows silently, and a label
//! past the last class would index out of bounds.

use super::soft::softmax_t;
use crate::config::NoiseKind;
use crate::rng::FastRng;

/// A loss value, its parts, and its gradient with respect to the student logits.
#[derive(Clone, Debug, PartialEq)]
pub struct LossParts {
    /// The value that is minimised.
    pub total: f64,
    /// The distillation (soft) part as reported: KL for Hinton, the L2 for logit matching.
    pub soft: f64,
    /// The hard-label cross-entropy part (unweighted).
    pub hard: f64,
    /// `∂total/∂z`, `[B, C]`.
    pub grad: Vec<f32>,
    /// `∂total/∂h` for the student's hidden features `h` the targets read
    /// ([`super::targets::Targets::feature_layer`]), `[B, width]`; empty when they read none.
    pub feature_grad: Vec<f32>,
}

/// The number of rows of the student logits `z`, checked to be whole rows of `classes`.
pub(crate) fn rows(loss: &str, z: &[f32], classes: usize) -> candle_core::Result<usize> {
    if classes == 0 {
        candle_core::bail!("{loss}: 0 classes");
    }
    if !z.len().is_multiple_of(classes) {
        candle_core::bail!(
            "{loss}: {} student logits are not whole rows of {classes} classes",
            z.len()
        );
    }
    Ok(z.len() / classes)
}

/// Checks that the teacher's side (`what`, `len` values) matches the student's `z_len` logits.
fn same_len(loss: &str, what: &str, len: usize, z_len: usize) -> candle_core::Result<()> {
    if len != z_len {
        candle_core::bail!("{loss}: the student logits z have {z_len} values but {what} has {len}");
    }
    Ok(())
}

/// Checks that `labels` has one class per row of the `z_len` student logits (`rows` rows).
pub(crate) fn check_labels(
    loss: &str,
    labels: &[u8],
    (z_len, rows): (usize, usize),
    classes: usize,
) -> candle_core::Result<()> {
    if labels.len() != rows {
        candle_core::bail!(
            "{loss}: {z_len} student logits are {rows} rows of {classes} classes but {} labels were given",
            labels.len()
        );
    }
    if let Some((row, y)) = labels
        .iter()
        .enumerate()
        .find(|(_, &y)| usize::from(y) >= classes)
    {
        candle_core::bail!("{loss}: label {y} of row {row} is not one of {classes} classes");
    }
    Ok(())
}

/// Cross-entropy with hard labels, `L = −(1/B) Σ_b log softmax(z_b)_{y_b}`;
/// `∂L/∂z_b = (softmax(z_b) − onehot(y_b)) / B`.
pub fn cross_entropy(z: &[f32], labels: &[u8], classes: usize) -> candle_core::Result<LossParts> {
    let b = rows("cross_entropy", z, classes)?;
    check_labels("cross_entropy", labels, (z.len(), b), classes)?;
    let mut grad = vec![0f32; z.len()];
    let mut total = 0.0;
    for (i, (row, &y)) in z.chunks_exact(classes).zip(labels).enumerate() {
        let p = softmax_t(row, 1.0);
        total -= f64::from(p[usize::from(y)].max(f32::MIN_POSITIVE)).ln();
        for c in 0..classes {
            let target = if c == usize::from(y) { 1.0 } else { 0.0 };
            grad[i * classes + c] = (p[c] - target) / b as f32;
        }
    }
    let total = total / b as f64;
    Ok(LossParts {
        total,
        soft: 0.0,
        hard: total,
        grad,
        feature_grad: Vec::new(),
    })
}

/// Hinton, Vinyals & Dean (2015) soft-target loss:
///
/// `L = α · T² · KL(q ‖ softmax(z/T)) + (1 − α) · CE(y, softmax(z))`
///
/// with `q` the teacher's soft targets at temperature T (for an ensemble, the mean of the
/// members' softmaxes: computed by the caller), α the weight of the *soft* term, and the `T²`
/// factor (on when `t_squared`) keeping the soft gradients' magnitude independent of T.
/// `KL = Σ_c q_c (log q_c − log p_c)`, batch mean. KL has the same gradient as the soft
/// cross-entropy and is 0 at a perfect match, so it is what is reported.
///
/// Gradient: `∂L/∂z_b = α·T²·(1/T)·(p^T_b − q_b)/B + (1 − α)·(p_b − onehot(y_b))/B`.
pub fn hinton(
    z: &[f32],
    q: &[f32],
    labels: &[u8],
    classes: usize,
    temperature: f64,
    alpha: f64,
    t_squared: bool,
) -> candle_core::Result<LossParts> {
    let b = rows("hinton", z, classes)?;
    same_len("hinton", "the soft targets q", q.len(), z.len())?;
    let scale = if t_squared {
        temperature * temperature
    } else {
        1.0
    };
    let hard = cross_entropy(z, labels, classes)?;
    let mut kl = 0.0;
    let mut grad = vec![0f32; z.len()];
    let soft_factor = (alpha * scale / temperature / b as f64) as f32;
    for (i, (row, q_row)) in z
        .chunks_exact(classes)
        .zip(q.chunks_exact(classes))
        .enumerate()
    {
        let p = softmax_t(row, temperature);
        for c in 0..classes {
            let (qc, pc) = (f64::from(q_row[c]), f64::from(p[c]).max(1e-30));
            if qc > 0.0 {
                kl += qc * (qc.ln() - pc.ln());
            }
            let k = i * classes + c;
            grad[k] = soft_factor * (p[c] - q_row[c]) + (1.0 - alpha) as f32 * hard.grad[k];
        }
    }
    let soft = kl / b as f64;
    Ok(LossParts {
        total: alpha * scale * soft + (1.0 - alpha) * hard.hard,
        soft,
        hard: hard.hard,
        grad,
        feature_grad: Vec::new(),
    })
}

/// Subtracts each row's mean (per-example zero-mean logits).
pub fn center_rows(values: &[f32], classes: usize) -> Vec<f32> {
    values
        .chunks_exact(classes)
        .flat_map(|row| {
            let mean = row.iter().sum::<f32>() / classes as f32;
            row.iter().map(move |v| v - mean)
        })
        .collect()
}

/// Ba & Caruana (2014) logit matching: `L = 1/(2B) Σ_b ‖z_b − v_b‖²`, `∂L/∂z = (z − v)/B`.
/// With `zero_mean`, both sides are centred per example first (the high-temperature limit of
/// the soft-target loss, Hinton §2.1); the gradient is then the centred difference over B.
pub fn logit_l2(
    z: &[f32],
    v: &[f32],
    classes: usize,
    zero_mean: bool,
) -> candle_core::Result<LossParts> {
    let b = rows("logit_l2", z, classes)? as f64;
    same_len("logit_l2", "the teacher logits v", v.len(), z.len())?;
    let diff: Vec<f32> = if zero_mean {
        let (cz, cv) = (center_rows(z, classes), center_rows(v, classes));
        cz.iter().zip(&cv).map(|(a, b)| a - b).collect()
    } else {
        z.iter().zip(v).map(|(a, b)| a - b).collect()
    };
    let total = diff.iter().map(|d| f64::from(*d).powi(2)).sum::<f64>() / (2.0 * b);
    Ok(LossParts {
        total,
        soft: total,
        hard: 0.0,
        grad: diff.iter().map(|d| d / b as f32).collect(),
        feature_grad: Vec::new(),
    })
}

/// Sau & Balasubramanian (2016) noisy teacher: perturbs each example's teacher logits with
/// probability `p`: multiplicative `v' = v · (1 + σ·ε)` or additive `v' = v + σ·ε`, with
/// `ε ~ N(0, 1)` drawn per logit. The student then matches `v'` with [`logit_l2`].
pub fn add_noise(
    v: &mut [f32],
    classes: usize,
    sigma: f64,
    p: f64,
    kind: NoiseKind,
    rng: &mut FastRng,
) {
    for row in v.chunks_exact_mut(classes) {
        if rng.uniform() >= p {
            continue;
        }
        for value in row {
            let eps = (sigma * rng.normal()) as f32;
            *value = match kind {
                NoiseKind::Multiplicative => *value * (1.0 + eps),
                NoiseKind::Additive => *value + eps,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: [f32; 6] = [1.0, 2.0, 0.5, -1.0, 0.0, 3.0];
    const V: [f32; 6] = [2.0, 1.0, 0.0, 0.0, -1.0, 4.0];
    const Y: [u8; 2] = [1, 2];

    fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < tol, "{actual:?} vs {expected:?}");
        }
    }

    /// Central finite differences of `f` at `z`.
    fn numeric_grad(z: &[f32], f: impl Fn(&[f32]) -> f64) -> Vec<f32> {
        let h = 1e-3f32;
        (0..z.len())
            .map(|k| {
                let (mut up, mut down) = (z.to_vec(), z.to_vec());
                up[k] += h;
                down[k] -= h;
                ((f(&up) - f(&down)) / (2.0 * f64::from(h))) as f32
            })
            .collect()
    }

    // Reference values, computed independently with numpy:
    //   z = np.array([[1., 2., .5], [-1., 0., 3.]]); v = np.array([[2., 1., 0.], [0., -1., 4.]])
    //   y = np.array([1, 2])
    //   def sm(x, T=1.0): e = np.exp((x - x.max(1, keepdims=True)) / T); return e / e.sum(1, keepdims=True)
    //   ce = -np.log(sm(z)[np.arange(2), y]).mean()                      # 0.2651263439
    //   q, p = sm(v, 4), sm(z, 4); kl = (q * (np.log(q) - np.log(p))).sum(1).mean()  # 0.0222877692
    //   0.7 * 16 * kl + 0.3 * ce                                         # 0.3291609184
    //   cz = z - z.mean(1, keepdims=True); cv = v - v.mean(1, keepdims=True)
    //   ((cz - cv) ** 2).sum() / (2 * 2)                                 # 1.2083333333
    const REF_CE: f64 = 0.265_126_343_9;
    const REF_KL_T4: f64 = 0.022_287_769_2;
    const REF_HINTON: f64 = 0.329_160_918_4;
    const REF_L2_CENTRED: f64 = 1.208_333_333_3;

    #[test]
    fn cross_entropy_matches_reference() {
        let out = cross_entropy(&Z, &Y, 3).unwrap();
        assert!((out.total - REF_CE).abs() < 1e-6, "{}", out.total);
        assert_close(
            &out.grad,
            &numeric_grad(&Z, |z| cross_entropy(z, &Y, 3).unwrap().total),
            1e-3,
        );
    }

    #[test]
    fn hinton_loss_matches_reference_and_finite_differences() {
        let q = crate::distill::soft::softmax_rows(&V, 3, 4.0);
        let out = hinton(&Z, &q, &Y, 3, 4.0, 0.7, true).unwrap();
        assert!((out.soft - REF_KL_T4).abs() < 1e-6, "kl {}", out.soft);
        assert!((out.total - REF_HINTON).abs() < 1e-5, "total {}", out.total);
        let numeric = numeric_grad(&Z, |z| hinton(z, &q, &Y, 3, 4.0, 0.7, true).unwrap().total);
        assert_close(&out.grad, &numeric, 1e-3);
        // Without T² the soft term is T² = 16 times smaller.
        let plain = hinton(&Z, &q, &Y, 3, 4.0, 0.7, false).unwrap();
        let expected = 0.7 * REF_KL_T4 + 0.3 * REF_CE;
        assert!((plain.total - expected).abs() < 1e-5);
        // KL is zero when the student equals the teacher.
        let same = hinton(&V, &q, &Y, 3, 4.0, 1.0, true).unwrap();
        assert!(same.soft.abs() < 1e-7 && same.grad.iter().all(|g| g.abs() < 1e-7));
    }

    #[test]
    fn logit_l2_matches_reference() {
        let out = logit_l2(&Z, &V, 3, false).unwrap();
        // 0.5 * ((1+1+.25) + (1+1+1)) / 2 = 1.3125
        assert!((out.total - 1.3125).abs() < 1e-6);
        assert_close(&out.grad, &[-0.5, 0.5, 0.25, -0.5, 0.5, -0.5], 1e-6);
        let centred = logit_l2(&Z, &V, 3, true).unwrap();
        assert!(
            (centred.total - REF_L2_CENTRED).abs() < 1e-6,
            "{}",
            centred.total
        );
        let numeric = numeric_grad(&Z, |z| logit_l2(z, &V, 3, true).unwrap().total);
        assert_close(&centred.grad, &numeric, 1e-3);
    }

    /// Inputs that do not describe the same rows are refused with the lengths given, instead
    /// of being zipped to the shorter one (before: cross-entropy over 2 rows with 1 label
    /// returned 0.232, the second row dropped, and logit matching against 3 of 6 teacher
    /// values a 3-value gradient for 6 logits).
    #[test]
    fn inputs_of_different_lengths_are_errors_naming_the_lengths() {
        let message = |r: candle_core::Result<LossParts>| match r {
            Ok(parts) => panic!("accepted: {parts:?}"),
            Err(e) => e.to_string(),
        };
        let q = crate::distill::soft::softmax_rows(&V, 3, 4.0);
        let cases = [
            (
                message(cross_entropy(&Z, &Y[..1], 3)),
                ["6", "2 rows", "1 labels"],
            ),
            (
                message(cross_entropy(&Z[..5], &Y, 3)),
                ["5", "3 classes", "whole rows"],
            ),
            (
                message(cross_entropy(&Z, &[1, 3], 3)),
                ["label 3", "row 1", "3 classes"],
            ),
            (
                message(hinton(&Z, &q[..3], &Y, 3, 4.0, 0.7, true)),
                ["z have 6", "q has 3", "hinton"],
            ),
            (
                message(hinton(&Z, &q, &Y[..1], 3, 4.0, 0.7, true)),
                ["2 rows", "1 labels", "6"],
            ),
            (
                message(logit_l2(&Z, &V[..3], 3, false)),
                ["z have 6", "v has 3", "logit_l2"],
            ),
            (
                message(logit_l2(&Z[..3], &V, 3, true)),
                ["z have 3", "v has 6", "logit_l2"],
            ),
            (
                message(logit_l2(&Z, &V, 0, true)),
                ["0 classes", "logit_l2", ""],
            ),
        ];
        for (text, needles) in cases {
            for needle in needles {
                assert!(text.contains(needle), "`{text}` does not say `{needle}`");
            }
        }
    }

    #[test]
    fn noise_is_seeded_and_respects_p_and_kind() {
        let mut a = V.to_vec();
        let mut b = V.to_vec();
        add_noise(
            &mut a,
            3,
            0.5,
            1.0,
            NoiseKind::Multiplicative,
            &mut FastRng::new(3),
        );
        add_noise(
            &mut b,
            3,
            0.5,
            1.0,
            NoiseKind::Multiplicative,
            &mut FastRng::new(3),
        );
        assert_eq!(a, b);
        assert_ne!(a, V.to_vec());
        // Multiplicative noise keeps zero logits at zero.
        assert_eq!(a[2], 0.0);
        assert_eq!(a[3], 0.0);
        let mut untouched = V.to_vec();
        add_noise(
            &mut untouched,
            3,
            0.5,
            0.0,
            NoiseKind::Additive,
            &mut FastRng::new(3),
        );
        assert_eq!(untouched, V.to_vec());
        let mut additive = V.to_vec();
        add_noise(
            &mut additive,
            3,
            0.5,
            1.0,
            NoiseKind::Additive,
            &mut FastRng::new(3),
        );
        assert_ne!(additive[2], 0.0);
    }

    /// Mean and (population) standard deviation.
    fn mean_sd(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    /// The noise as applied, measured on 20,000 examples of 10 logits all equal to 2: the
    /// fraction of examples touched is p, and the relative (multiplicative) or absolute
    /// (additive) change of each logit is σ·ε with ε ~ N(0, 1), drawn per logit, not per
    /// example. A σ² for σ (0.25 vs 0.5), a 1 − p for p (0.7 vs 0.3), one ε per example or a
    /// missing factor all fall far outside the tolerances (five standard errors or more).
    #[test]
    fn noise_has_rate_p_and_standard_deviation_sigma() {
        let (rows, classes, v0, sigma, p) = (20_000, 10, 2.0f32, 0.5, 0.3);
        for kind in [NoiseKind::Multiplicative, NoiseKind::Additive] {
            let mut v = vec![v0; rows * classes];
            add_noise(&mut v, classes, sigma, p, kind, &mut FastRng::new(5));
            let eps: Vec<Vec<f64>> = v
                .chunks_exact(classes)
                .map(|row| {
                    row.iter()
                        .map(|x| match kind {
                            NoiseKind::Multiplicative => f64::from(*x / v0 - 1.0) / sigma,
                            NoiseKind::Additive => f64::from(*x - v0) / sigma,
                        })
                        .collect()
                })
                .collect();
            let touched: Vec<&Vec<f64>> = eps
                .iter()
                .filter(|row| row.iter().any(|e| *e != 0.0))
                .collect();
            let rate = touched.len() as f64 / rows as f64;
            assert!((rate - p).abs() < 0.02, "{kind:?}: rate {rate}");
            let all: Vec<f64> = touched.iter().flat_map(|row| row.iter().copied()).collect();
            let (mean, sd) = mean_sd(&all);
            assert!(mean.abs() < 0.02, "{kind:?}: mean ε {mean}");
            assert!(
                (sd - 1.0).abs() < 0.03,
                "{kind:?}: sd of ε {sd} (σ = {sigma})"
            );
            // Per logit: within an example the draws vary as much as across examples.
            let within: Vec<f64> = touched.iter().map(|row| mean_sd(row).1).collect();
            let (within_mean, _) = mean_sd(&within);
            assert!(
                within_mean > 0.8,
                "{kind:?}: within-example sd {within_mean}"
            );
        }
    }
}
