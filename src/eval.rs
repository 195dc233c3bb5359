//! Evaluation in the paper's unit: misclassified test examples (out of 10,000 for MNIST),
//! per true class, and the confusion matrix. A leaf module: the bias search, the trainer, the
//! CLI and the UI all score logits here.

use serde::{Deserialize, Serialize};

/// How a model did on a labelled set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Misclassified examples.
    pub errors: usize,
    /// Misclassified examples per true class.
    pub per_class_errors: Vec<usize>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Examples evaluated.
    pub n: usize,
}

/// Index of the largest value (the first one on ties).
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
            if *v > best.1 {
                (i, *v)
            } else {
                best
            }
        })
        .0
}

/// Scores `[n, classes]` logits (or probabilities) against the labels.
pub fn evaluate_logits(logits: &[f32], labels: &[u8], classes: usize) -> Evaluation {
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (row, &label) in logits.chunks_exact(classes).zip(labels) {
        confusion[usize::from(label)][argmax(row)] += 1;
    }
    let per_class_errors: Vec<usize> = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| row.iter().sum::<usize>() - row[c])
        .collect();
    Evaluation {
        errors: per_class_errors.iter().sum(),
        per_class_errors,
        confusion,
        n: labels.len().min(logits.len() / classes.max(1)),
    }
}

/// Mean over rows of `KL(q ‖ softmax(z / T)) = Σ_c q_c (log q_c − log p_c)`, in nats: `q` holds
/// `[n, classes]` reference probabilities (the teacher's soft targets), `z` the logits of the
/// model compared with it. `log p` is computed in f64 as `z/T − logsumexp(z/T)`, so a
/// confident model's tiny probabilities never round to `log 0`; classes with `q_c = 0` add 0.
pub fn mean_kl(q: &[f32], z: &[f32], classes: usize, temperature: f64) -> f64 {
    let mut total = 0.0;
    let mut n = 0usize;
    for (q_row, z_row) in q.chunks_exact(classes).zip(z.chunks_exact(classes)) {
        let scaled: Vec<f64> = z_row.iter().map(|v| f64::from(*v) / temperature).collect();
        let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = max + scaled.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
        total += q_row
            .iter()
            .zip(&scaled)
            .filter(|(qc, _)| **qc > 0.0)
            .map(|(qc, s)| {
                let qc = f64::from(*qc);
                qc * (qc.ln() - (s - log_sum))
            })
            .sum::<f64>();
        n += 1;
    }
    total / n.max(1) as f64
}

/// Fraction of rows of two `[n, classes]` buffers (logits or probabilities) whose top-1 class
/// is the same: how often a student agrees with its teacher, right or wrong.
pub fn agreement(a: &[f32], b: &[f32], classes: usize) -> f64 {
    let rows = a.chunks_exact(classes).zip(b.chunks_exact(classes));
    let n = rows.len();
    let same = rows.filter(|(x, y)| argmax(x) == argmax(y)).count();
    same as f64 / n.max(1) as f64
}

/// One confidence bin of a reliability diagram.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Rows whose top-1 probability falls in the bin.
    pub count: usize,
    /// Their mean top-1 probability (0 for an empty bin).
    pub confidence: f64,
    /// The fraction of them classified correctly (0 for an empty bin).
    pub accuracy: f64,
}

/// How well a model's probabilities match how often it is right.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Expected calibration error: `Σ_b (n_b / N) · |accuracy_b − confidence_b|` over
    /// equal-width bins of the top-1 probability (Guo et al. 2017).
    pub ece: f64,
    /// Mean negative log-likelihood of the true class, in nats.
    pub nll: f64,
    /// The bins, lowest confidence first.
    pub bins: Vec<CalibrationBin>,
}

/// Calibration of `[n, classes]` probabilities (rows summing to 1) against the labels, over
/// `bins` equal-width bins of the top-1 probability (15 in Guo et al. 2017): a row of
/// confidence `c` goes to bin `⌊c · bins⌋` (the last one for `c = 1`). A true class of
/// probability 0 adds the NLL of the smallest positive f32 rather than infinity.
pub fn calibration(probs: &[f32], labels: &[u8], classes: usize, bins: usize) -> Calibration {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0f64, 0usize); bins];
    let mut nll = 0.0;
    let mut n = 0usize;
    for (row, &label) in probs.chunks_exact(classes.max(1)).zip(labels) {
        let top = argmax(row);
        let confidence = f64::from(row[top]);
        let bin = ((confidence * bins as f64) as usize).min(bins - 1);
        sums[bin].0 += 1;
        sums[bin].1 += confidence;
        sums[bin].2 += usize::from(top == usize::from(label));
        nll -= f64::from(row[usize::from(label)].max(f32::MIN_POSITIVE)).ln();
        n += 1;
    }
    let total = n.max(1) as f64;
    let bins: Vec<CalibrationBin> = sums
        .into_iter()
        .map(|(count, confidence, correct)| CalibrationBin {
            count,
            confidence: confidence / count.max(1) as f64,
            accuracy: correct as f64 / count.max(1) as f64,
        })
        .collect();
    let ece = bins
        .iter()
        .map(|b| b.count as f64 / total * (b.accuracy - b.confidence).abs())
        .sum();
    Calibration {
        ece,
        nll: nll / total,
        bins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand, 15 bins of width 1/15: confidences 0.9 (right, bin 13), 0.8 (wrong, bin 12),
    /// 0.7 (right, bin 10), 0.6 (right, bin 9), and 0.92 (wrong) sharing bin 13 with 0.9.
    /// Bin 13: accuracy 1/2, confidence 0.91. ECE = (2·|0.5 − 0.91| + |0 − 0.8| + |1 − 0.7| +
    /// |1 − 0.6|) / 5 = (0.82 + 0.8 + 0.3 + 0.4) / 5 = 0.464. NLL = −(ln 0.9 + ln 0.2 +
    /// ln 0.7 + ln 0.6 + ln 0.08) / 5 = (0.105361 + 1.609438 + 0.356675 + 0.510826 +
    /// 2.525729) / 5 = 1.0216057.
    #[test]
    fn calibration_counts_by_hand() {
        let probs = [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.92, 0.08];
        let labels = [0, 1, 1, 0, 1];
        let c = calibration(&probs, &labels, 2, 15);
        assert_eq!(c.bins.len(), 15);
        let counts: Vec<usize> = c.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 2, 0]);
        assert!((c.bins[13].accuracy - 0.5).abs() < 1e-12);
        assert!((c.bins[13].confidence - 0.91).abs() < 1e-6);
        assert!((c.ece - 0.464).abs() < 1e-6, "{}", c.ece);
        assert!((c.nll - 1.021_605_7).abs() < 1e-6, "{}", c.nll);
        // A perfectly confident, always right model is perfectly calibrated.
        let sure = calibration(&[1.0, 0.0, 0.0, 1.0], &[0, 1], 2, 15);
        assert_eq!(sure.ece, 0.0);
        assert_eq!(sure.bins[14].count, 2);
        assert!(sure.nll.abs() < 1e-12);
    }

    #[test]
    fn counts_errors_per_class_and_confusion() {
        let logits = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.4, 0.6];
        let labels = [0, 1, 1, 0];
        let eval = evaluate_logits(&logits, &labels, 2);
        assert_eq!(eval.errors, 2);
        assert_eq!(eval.per_class_errors, vec![1, 1]);
        assert_eq!(eval.confusion, vec![vec![1, 1], vec![1, 1]]);
        assert_eq!(eval.n, 4);
    }

    // Reference (numpy):
    //   q = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    //   z = np.array([[2.0, 1.0, -1.0], [0.5, 3.0, 0.0]])
    //   def kl(T):
    //       s = z / T; logp = s - np.log(np.exp(s).sum(1, keepdims=True))
    //       return (q * (np.log(q) - logp)).sum(1).mean()
    //   kl(1) -> 1.0910173815, kl(4) -> 0.4275262009
    //   (q.argmax(1) == z.argmax(1)).mean() -> 0.5
    #[test]
    fn kl_and_agreement_match_numpy() {
        let q = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8];
        let z = [2.0, 1.0, -1.0, 0.5, 3.0, 0.0];
        assert!((mean_kl(&q, &z, 3, 1.0) - 1.091_017_381_5).abs() < 1e-6);
        assert!((mean_kl(&q, &z, 3, 4.0) - 0.427_526_200_9).abs() < 1e-6);
        assert_eq!(agreement(&q, &z, 3), 0.5);
        // A perfect match: KL 0, full agreement.
        let p = [0.5f32, 0.25, 0.25];
        let logits = p.map(f32::ln);
        assert!(mean_kl(&p, &logits, 3, 1.0).abs() < 1e-7);
        assert_eq!(agreement(&p, &logits, 3), 1.0);
        // A confident model's near-zero probability stays finite (f32 softmax would give 0).
        let kl = mean_kl(&[0.5, 0.5], &[0.0, -200.0], 2, 1.0);
        assert!(kl.is_finite() && kl > 90.0, "{kl}");
    }
}
