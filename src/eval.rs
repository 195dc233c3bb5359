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

#[cfg(test)]
mod tests {
    use super::*;

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
