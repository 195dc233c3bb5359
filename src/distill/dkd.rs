//! Decoupled knowledge distillation, DKD (Zhao, Cui, Song, Qiu & Liang, CVPR 2022), as
//! mdistiller implements it (`mdistiller/distillers/DKD.py`, `dkd_loss`).
//!
//! The soft-target KL splits exactly into a *target-class* term (how sure the teacher is of the
//! label, as a two-bin distribution) and a *non-target* term (how the teacher spreads the rest
//! over the wrong classes, its "dark knowledge"), weighted by `(1 − q_y)` in the classical loss.
//! DKD drops that coupling and weights the two freely, α and β:
//!
//! - `b(p) = [p_y, 1 − p_y]`, `TCKD = T² · (1/B) Σ_b KL(b(q_b) ‖ b(p_b))`
//! - `p̂_c = p_c / (1 − p_y)` for `c ≠ y` (the softmax of the non-target logits),
//!   `NCKD = T² · (1/B) Σ_b KL(q̂_b ‖ p̂_b)`
//! - `L = CE(z, y) + α · TCKD + β · NCKD`
//!
//! with `p = softmax(z/T)`, `q = softmax(v/T)`, `KL(a ‖ b) = Σ a (log a − log b)` (a term with
//! `a = 0` is 0, as in `F.kl_div`). The cross-entropy's weight is mdistiller's `CE_WEIGHT = 1`.
//! mdistiller also ramps the DKD part in, `min(epoch / WARMUP, 1)` with `WARMUP = 20`; that
//! schedule is *not* applied here: this is the loss of one batch, and a schedule over epochs
//! is the caller's.
//!
//! mdistiller gets the non-target softmax by pushing the target logit down by 1000 before a
//! softmax over all classes; here it is the softmax over the other classes themselves, which
//! is the same number (e^−1000 is 0 in floating point) without the trick. Everything is
//! computed in f64 and in log space (`log p_y = u_y − lse(u)`, `log(1 − p_y) = lse(u_{≠y}) −
//! lse(u)`, `u = z/T`), so the binary term stays finite as `p_y → 1`, where mdistiller in f32
//! gives `inf` (log 0) and NaN; that is also why [`crate::distill::soft::softmax_t`], an f32
//! softmax, is not used for the DKD terms. The cross-entropy is
//! [`crate::distill::loss::cross_entropy`].
//!
//! # Gradient
//! With `u = z/T`, `∂p_y/∂u_c = p_y (δ_cy − p_c)` and `d/dp_y KL(b(q) ‖ b(p)) =
//! (p_y − q_y) / (p_y (1 − p_y))`, so
//!
//! `∂TCKD_b/∂u_c = (p_y − q_y)(δ_cy − p_c) / (1 − p_y)`, i.e. `p_y − q_y` for `c = y` and
//! `−(p_y − q_y) · p̂_c` for `c ≠ y` (no division left: finite as `p_y → 1`).
//!
//! NCKD depends only on the non-target logits, through a softmax: `∂NCKD_b/∂u_c = p̂_c − q̂_c`
//! for `c ≠ y`, 0 for `c = y`. With the `T²/B` factor and `∂u/∂z = 1/T`:
//!
//! `∂L/∂z_bc = (p¹_c − δ_cy)/B + (T/B) · [α (p_y − q_y)(δ_cy − (1 − δ_cy) p̂_c)
//! + β (1 − δ_cy)(p̂_c − q̂_c)]`, with `p¹ = softmax(z)` from the cross-entropy.

use super::loss::{check_labels, cross_entropy, rows};

/// The DKD loss of a batch, its parts, and its gradient with respect to the student logits.
#[derive(Clone, Debug, PartialEq)]
pub struct DkdParts {
    /// The target-class term `TCKD` (batch mean, with its `T²`; unweighted by α), reported on
    /// its own because the paper's point is how the two terms behave apart.
    pub tckd: f64,
    /// The non-target term `NCKD` (batch mean, with its `T²`; unweighted by β).
    pub nckd: f64,
    /// The hard-label cross-entropy at T = 1 (weight 1).
    pub ce: f64,
    /// The value that is minimised: `ce + α · tckd + β · nckd`.
    pub total: f64,
    /// `∂total/∂z`, `[B, C]`, row-major.
    pub grad: Vec<f32>,
}

/// Decoupled KD of student logits `z` against teacher logits `v` (both `[B, classes]`) with
/// hard `labels`, at `temperature`, weights `alpha` (TCKD) and `beta` (NCKD); see the module
/// doc for the formula and its gradient. Fails, naming the lengths, when the inputs do not
/// describe the same rows, a label is not a class, there are fewer than 2 classes (there is
/// no non-target class to split off) or the temperature is not a positive number.
pub fn dkd(
    z: &[f32],
    v: &[f32],
    labels: &[u8],
    classes: usize,
    temperature: f64,
    alpha: f64,
    beta: f64,
) -> candle_core::Result<DkdParts> {
    check(z, v, labels, classes, temperature)?;
    let b = z.len() / classes;
    let ce = cross_entropy(z, labels, classes)?;
    let mut grad = ce.grad;
    let (mut tckd, mut nckd) = (0.0, 0.0);
    let factor = temperature / b as f64;
    for (((z_row, v_row), &y), g_row) in z
        .chunks_exact(classes)
        .zip(v.chunks_exact(classes))
        .zip(labels)
        .zip(grad.chunks_exact_mut(classes))
    {
        let y = usize::from(y);
        let student = Split::new(z_row, y, temperature);
        let teacher = Split::new(v_row, y, temperature);
        tckd += student.tckd(&teacher);
        nckd += student.nckd(&teacher);
        let dy = student.p_target() - teacher.p_target();
        for (c, g) in g_row.iter_mut().enumerate() {
            let d = if c == y {
                alpha * dy
            } else {
                let (p_hat, q_hat) = (student.p_rest(c), teacher.p_rest(c));
                -alpha * dy * p_hat + beta * (p_hat - q_hat)
            };
            *g += (factor * d) as f32;
        }
    }
    let scale = temperature * temperature / b as f64;
    let (tckd, nckd) = (tckd * scale, nckd * scale);
    Ok(DkdParts {
        tckd,
        nckd,
        ce: ce.hard,
        total: ce.hard + alpha * tckd + beta * nckd,
        grad,
    })
}

/// The shape and setting checks of [`dkd`], each failing with the numbers it was given.
fn check(
    z: &[f32],
    v: &[f32],
    labels: &[u8],
    classes: usize,
    temperature: f64,
) -> candle_core::Result<()> {
    if classes < 2 {
        candle_core::bail!(
            "dkd: {classes} classes: the decoupled loss needs a target and at least one non-target class"
        );
    }
    let b = rows("dkd", z, classes)?;
    if v.len() != z.len() {
        candle_core::bail!(
            "dkd: the student logits z have {} values but the teacher logits v have {}",
            z.len(),
            v.len()
        );
    }
    check_labels("dkd", labels, (z.len(), b), classes)?;
    if !(temperature.is_finite() && temperature > 0.0) {
        candle_core::bail!("dkd: the temperature {temperature} is not a positive number");
    }
    Ok(())
}

/// One row's softmax at temperature T split at the target class, in log space: the target's
/// log-probability, the log of the rest's total, and the log-normaliser of the rest (for the
/// non-target softmax `p̂`).
struct Split {
    /// `u = logits / T`, f64.
    u: Vec<f64>,
    /// The target class.
    y: usize,
    /// `log p_y = u_y − lse(u)`.
    log_target: f64,
    /// `log(1 − p_y) = lse(u_{≠y}) − lse(u)`.
    log_rest: f64,
    /// `lse(u_{≠y})`: `log p̂_c = u_c − lse_rest`.
    lse_rest: f64,
}

impl Split {
    /// Splits `logits` (a row of at least 2 classes) at class `y`, at `temperature`.
    fn new(logits: &[f32], y: usize, temperature: f64) -> Self {
        let u: Vec<f64> = logits.iter().map(|&x| f64::from(x) / temperature).collect();
        let lse_rest = log_sum_exp(u.iter().enumerate().filter(|(c, _)| *c != y).map(|x| *x.1));
        let lse_all = log_sum_exp([u[y], lse_rest].into_iter());
        Self {
            log_target: u[y] - lse_all,
            log_rest: lse_rest - lse_all,
            lse_rest,
            u,
            y,
        }
    }

    /// `p_y`.
    fn p_target(&self) -> f64 {
        self.log_target.exp()
    }

    /// `p̂_c`, the non-target softmax at class `c ≠ y`.
    fn p_rest(&self, c: usize) -> f64 {
        (self.u[c] - self.lse_rest).exp()
    }

    /// `KL(b(teacher) ‖ b(self))` over the two bins [target, rest].
    fn tckd(&self, teacher: &Self) -> f64 {
        kl_term(teacher.log_target, self.log_target) + kl_term(teacher.log_rest, self.log_rest)
    }

    /// `KL(q̂ ‖ p̂)` over the non-target classes (0 with 2 classes: one class, p̂ = q̂ = 1).
    fn nckd(&self, teacher: &Self) -> f64 {
        (0..self.u.len())
            .filter(|&c| c != self.y)
            .map(|c| kl_term(teacher.u[c] - teacher.lse_rest, self.u[c] - self.lse_rest))
            .sum()
    }
}

/// One term `a (log a − log b)` of a KL divergence from the two log-probabilities; 0 where
/// `a` underflows to 0 (`F.kl_div`'s convention for a zero target).
fn kl_term(log_a: f64, log_b: f64) -> f64 {
    let a = log_a.exp();
    if a == 0.0 {
        0.0
    } else {
        a * (log_a - log_b)
    }
}

/// `log Σ exp(x)`, max-subtracted; `x` is never empty here (at least 2 classes).
fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    max + values.map(|x| (x - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from PyTorch 2.15 (float64), mdistiller's `dkd_loss` verbatim:
    //
    //   import torch, torch.nn.functional as F
    //   def dkd_loss(logits_student, logits_teacher, target, alpha, beta, temperature):
    //       gt_mask = _get_gt_mask(logits_student, target)
    //       other_mask = _get_other_mask(logits_student, target)
    //       pred_student = F.softmax(logits_student / temperature, dim=1)
    //       pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    //       pred_student = cat_mask(pred_student, gt_mask, other_mask)
    //       pred_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    //       log_pred_student = torch.log(pred_student)
    //       tckd_loss = (F.kl_div(log_pred_student, pred_teacher, size_average=False)
    //                    * (temperature**2) / target.shape[0])
    //       pred_teacher_part2 = F.softmax(logits_teacher / temperature - 1000.0 * gt_mask, dim=1)
    //       log_pred_student_part2 = F.log_softmax(logits_student / temperature - 1000.0 * gt_mask, dim=1)
    //       nckd_loss = (F.kl_div(log_pred_student_part2, pred_teacher_part2, size_average=False)
    //                    * (temperature**2) / target.shape[0])
    //       return alpha * tckd_loss + beta * nckd_loss
    //   def _get_gt_mask(logits, target):
    //       target = target.reshape(-1)
    //       return torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1).bool()
    //   def _get_other_mask(logits, target):
    //       target = target.reshape(-1)
    //       return torch.ones_like(logits).scatter_(1, target.unsqueeze(1), 0).bool()
    //   def cat_mask(t, mask1, mask2):
    //       t1 = (t * mask1).sum(dim=1, keepdims=True)
    //       t2 = (t * mask2).sum(1, keepdims=True)
    //       return torch.cat([t1, t2], dim=1)
    //   def case(z, v, y, T, alpha, beta, dtype=torch.float64):
    //       z = torch.tensor(z, dtype=dtype, requires_grad=True); v = torch.tensor(v, dtype=dtype)
    //       y = torch.tensor(y)
    //       tckd = dkd_loss(z, v, y, 1.0, 0.0, T).item(); nckd = dkd_loss(z, v, y, 0.0, 1.0, T).item()
    //       ce = F.cross_entropy(z, y)
    //       total = 1.0 * ce + dkd_loss(z, v, y, alpha, beta, T)
    //       total.backward()
    //       print(tckd, nckd, ce.item(), total.item(), z.grad.flatten().tolist())
    //   case(Z, V, Y, 4.0, 1.0, 8.0); case(Z, V, Y, 2.0, 0.5, 2.0)
    //   case(Z_TWO, V_TWO, Y_TWO, 3.0, 1.0, 8.0)
    //   case(Z_SURE, V_SURE, Y_SURE, 1.0, 1.0, 8.0)                  # float32: tckd inf, nckd nan
    //   case(Z_SURE, V_SURE, Y_SURE, 1.0, 1.0, 8.0, torch.float32)
    const Z: [f32; 16] = [
        1.0, 2.0, 0.5, -1.0, 0.0, 3.0, -2.0, 1.0, 2.0, -1.0, 0.0, 0.5, -0.5, 0.5, 1.5, 0.0,
    ];
    const V: [f32; 16] = [
        2.0, 1.0, 0.0, -1.0, 1.0, 4.0, -1.0, 0.0, 0.0, -2.0, 1.0, 3.0, -1.0, 1.0, 2.0, 0.5,
    ];
    const Y: [u8; 4] = [1, 1, 3, 2];
    /// T = 4, α = 1, β = 8 (mdistiller's CIFAR-100 setting): tckd, nckd, ce, total, grad.
    const REF_T4: (f64, f64, f64, f64, [f64; 16]) = (
        0.352_334_446_207_282_4,
        0.418_849_680_866_940_4,
        0.764_763_308_258_241_2,
        4.467_895_201_401_047,
        [
            -0.605_270_003,
            -0.029_847_607,
            0.512_354_319,
            0.122_763_29,
            -0.559_342_942,
            -0.087_683_59,
            -0.344_179_404,
            0.991_205_937,
            1.341_928_146,
            0.187_546_473,
            -1.144_785_611,
            -0.384_689_008,
            0.415_608_705,
            -0.149_196_414,
            -0.120_045_001,
            -0.146_367_289,
        ],
    );
    /// T = 2, α = 0.5, β = 2.
    const REF_T2: (f64, f64, f64, f64, [f64; 16]) = (
        0.386_815_391_475_296_5,
        0.433_446_656_218_027_6,
        0.764_763_308_258_241_2,
        1.825_064_316_431_944_7,
        [
            -0.125_090_745,
            -0.058_036_152,
            0.151_200_25,
            0.031_926_647,
            -0.156_542_18,
            -0.064_364_938,
            -0.060_017_142,
            0.280_924_26,
            0.532_503_002,
            0.040_060_515,
            -0.269_983_225,
            -0.302_580_292,
            0.104_136_051,
            0.009_361_123,
            -0.111_610_049,
            -0.001_887_125,
        ],
    );
    const Z_TWO: [f32; 6] = [1.0, -1.0, 0.5, 2.0, 3.0, 0.0];
    const V_TWO: [f32; 6] = [2.0, 0.0, -1.0, 1.0, 0.0, 0.0];
    const Y_TWO: [u8; 3] = [0, 1, 0];
    /// Two classes, T = 3, α = 1, β = 8: NCKD is exactly 0.
    const REF_TWO: (f64, f64, f64, f64, [f64; 6]) = (
        0.369_842_397_241_844_7,
        0.0,
        0.125_642_880_199_822_37,
        0.495_485_277_441_667,
        [
            -0.039_734_307,
            0.039_734_307,
            0.099_105_545,
            -0.099_105_545,
            0.215_249_954,
            -0.215_249_954,
        ],
    );
    /// A student sure of the target, margin 120 at T = 1 (e^−120 is 0 in f32).
    const Z_SURE: [f32; 8] = [0.0, 120.0, 0.0, -1.0, 1.0, 0.0, 2.0, 0.0];
    const V_SURE: [f32; 8] = [0.0, 5.0, 1.0, 0.0, 0.0, 1.0, 3.0, 0.0];
    const Y_SURE: [u8; 2] = [1, 2];
    /// T = 1, α = 1, β = 8, in float64 (float32 PyTorch gives tckd = inf, nckd = NaN).
    const REF_SURE: (f64, f64, f64, f64, [f64; 8]) = (
        1.812_956_822_268_245_3,
        0.231_391_929_828_929_12,
        0.246_905_854_536_119_32,
        3.910_998_115_435_797,
        [
            0.835_002_725,
            0.015_405_987,
            -0.621_698_584,
            -0.228_710_128,
            1.626_420_913,
            -1.394_264_955,
            -0.294_592_31,
            0.062_436_353,
        ],
    );

    /// Central finite differences of `f` at `z`, in f64 around f32 points.
    fn numeric_grad(z: &[f32], f: impl Fn(&[f32]) -> f64) -> Vec<f32> {
        let h = 1e-3f32;
        (0..z.len())
            .map(|k| {
                let (mut up, mut down) = (z.to_vec(), z.to_vec());
                up[k] += h;
                down[k] -= h;
                ((f(&up) - f(&down)) / f64::from(up[k] - down[k])) as f32
            })
            .collect()
    }

    fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < tol, "{actual:?}\nvs {expected:?}");
        }
    }

    /// `dkd` with (T, α, β) against a PyTorch reference (tckd, nckd, ce, total, grad).
    fn assert_matches(
        z: &[f32],
        v: &[f32],
        y: &[u8],
        classes: usize,
        setting: (f64, f64, f64),
        expected: (f64, f64, f64, f64, &[f64]),
    ) {
        let (t, alpha, beta) = setting;
        let out = dkd(z, v, y, classes, t, alpha, beta).unwrap();
        let (tckd, nckd, ce, total, grad) = expected;
        assert!(
            (out.tckd - tckd).abs() < 1e-9,
            "tckd {} vs {tckd}",
            out.tckd
        );
        assert!(
            (out.nckd - nckd).abs() < 1e-9,
            "nckd {} vs {nckd}",
            out.nckd
        );
        // The cross-entropy is loss.rs's, in f32, and so is the total's share of it.
        assert!((out.ce - ce).abs() < 1e-6, "ce {} vs {ce}", out.ce);
        assert!(
            (out.total - total).abs() < 1e-6,
            "total {} vs {total}",
            out.total
        );
        let grad: Vec<f32> = grad.iter().map(|&g| g as f32).collect();
        assert_close(&out.grad, &grad, 2e-6);
    }

    #[test]
    fn dkd_matches_mdistiller_in_pytorch() {
        let (a, b, c, d, g) = REF_T4;
        assert_matches(&Z, &V, &Y, 4, (4.0, 1.0, 8.0), (a, b, c, d, &g));
        let (a, b, c, d, g) = REF_T2;
        assert_matches(&Z, &V, &Y, 4, (2.0, 0.5, 2.0), (a, b, c, d, &g));
    }

    /// With two classes the non-target part is a single class: NCKD and its gradient are 0,
    /// not NaN, and TCKD is the whole KL.
    #[test]
    fn two_classes_have_no_non_target_term() {
        let (a, b, c, d, g) = REF_TWO;
        assert_matches(&Z_TWO, &V_TWO, &Y_TWO, 2, (3.0, 1.0, 8.0), (a, b, c, d, &g));
        let out = dkd(&Z_TWO, &V_TWO, &Y_TWO, 2, 3.0, 0.0, 8.0).unwrap();
        let ce = cross_entropy(&Z_TWO, &Y_TWO, 2).unwrap();
        assert_eq!(out.nckd, 0.0);
        assert_close(&out.grad, &ce.grad, 1e-7);
    }

    /// A student sure of the label (p_y = 1 − e^−120) gives the float64 value, where
    /// mdistiller in float32 gives `inf` and NaN; so does a margin of 10⁴, where even float64
    /// softmaxes underflow, with a gradient that finite differences agree with.
    #[test]
    fn a_sure_student_stays_finite() {
        let (a, b, c, d, g) = REF_SURE;
        assert_matches(
            &Z_SURE,
            &V_SURE,
            &Y_SURE,
            4,
            (1.0, 1.0, 8.0),
            (a, b, c, d, &g),
        );
        let mut z = Z_SURE;
        z[1] = 1e4;
        let out = dkd(&z, &V_SURE, &Y_SURE, 4, 1.0, 1.0, 8.0).unwrap();
        assert!(out.total.is_finite() && out.grad.iter().all(|g| g.is_finite()));
        // From there TCKD grows linearly with the margin, log(1 − p_y) falling one for one:
        // another 10⁴ adds (1 − q_y) · 10⁴ / B, q_y = softmax(V_SURE[0..4])_1.
        let mut further = z;
        further[1] = 2e4;
        let grown = dkd(&further, &V_SURE, &Y_SURE, 4, 1.0, 1.0, 8.0)
            .unwrap()
            .tckd
            - out.tckd;
        let q_rest = 1.0 - 5f64.exp() / (5f64.exp() + 1f64.exp() + 2.0);
        assert!((grown - q_rest * 1e4 / 2.0).abs() < 1e-6, "{grown}");
        let numeric = numeric_grad(&z, |z| {
            dkd(z, &V_SURE, &Y_SURE, 4, 1.0, 1.0, 8.0).unwrap().total
        });
        assert_close(&out.grad, &numeric, 2e-2);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (t, alpha, beta) in [(4.0, 1.0, 8.0), (1.0, 2.0, 0.5), (0.5, 0.3, 3.0)] {
            let out = dkd(&Z, &V, &Y, 4, t, alpha, beta).unwrap();
            let numeric = numeric_grad(&Z, |z| dkd(z, &V, &Y, 4, t, alpha, beta).unwrap().total);
            assert_close(&out.grad, &numeric, 1e-3);
        }
    }

    /// TCKD + NCKD weighted by the teacher's `(1 − q_y)` is the soft-target KL (the paper's
    /// Eq. 7 with the T² of both): the split loses nothing.
    #[test]
    fn the_coupled_sum_is_the_soft_target_kl() {
        let t = 4.0;
        let q = crate::distill::soft::softmax_rows(&V, 4, t);
        let kl = crate::distill::loss::hinton(&Z, &q, &Y, 4, t, 1.0, true)
            .unwrap()
            .total;
        let mut coupled = 0.0;
        for (b, &y) in Y.iter().enumerate() {
            let row = |x: &[f32]| x[b * 4..b * 4 + 4].to_vec();
            let y = [y];
            let parts = dkd(&row(&Z), &row(&V), &y, 4, t, 1.0, 1.0).unwrap();
            let q_y = f64::from(q[b * 4 + usize::from(y[0])]);
            coupled += (parts.tckd + (1.0 - q_y) * parts.nckd) / Y.len() as f64;
        }
        assert!((coupled - kl).abs() < 1e-5, "{coupled} vs {kl}");
    }

    #[test]
    fn a_student_equal_to_its_teacher_has_only_cross_entropy() {
        let out = dkd(&V, &V, &Y, 4, 4.0, 1.0, 8.0).unwrap();
        let ce = cross_entropy(&V, &Y, 4).unwrap();
        assert!(out.tckd.abs() < 1e-12 && out.nckd.abs() < 1e-12);
        assert_close(&out.grad, &ce.grad, 1e-7);
    }

    #[test]
    fn bad_inputs_are_errors_naming_what_is_wrong() {
        let message = |r: candle_core::Result<DkdParts>| match r {
            Ok(parts) => panic!("accepted: {parts:?}"),
            Err(e) => e.to_string(),
        };
        let cases = [
            (
                message(dkd(&Z, &V[..12], &Y, 4, 4.0, 1.0, 8.0)),
                ["z have 16", "v have 12"],
            ),
            (
                message(dkd(&Z, &V, &Y[..3], 4, 4.0, 1.0, 8.0)),
                ["4 rows", "3 labels"],
            ),
            (
                message(dkd(&Z[..15], &V[..15], &Y, 4, 4.0, 1.0, 8.0)),
                ["15", "whole rows"],
            ),
            (
                message(dkd(&Z, &V, &[1, 4, 0, 0], 4, 4.0, 1.0, 8.0)),
                ["label 4", "row 1"],
            ),
            (
                message(dkd(&Z, &V, &[0; 16], 1, 4.0, 1.0, 8.0)),
                ["1 classes", "non-target"],
            ),
            (
                message(dkd(&Z, &V, &Y, 4, 0.0, 1.0, 8.0)),
                ["temperature 0", "positive"],
            ),
        ];
        for (text, needles) in cases {
            for needle in needles {
                assert!(text.contains(needle), "`{text}` does not say `{needle}`");
            }
        }
    }
}
