//! Evaluation in the paper's unit: misclassified test examples (out of 10,000 for MNIST),
//! per true class, and the confusion matrix. A leaf module: the bias search, the trainer, the
//! CLI and the UI all score logits here.

use serde::{Deserialize, Serialize};

/// How a model did on a labelled set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}
