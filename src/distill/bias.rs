//! Per-class bias adjustment (Hinton et al. 2015, §3): a student that never saw a class in its
//! transfer set under-predicts it; raising that class's output bias (+3.5 for the omitted 3s in
//! the paper), or lowering the over-represented classes' (−7.6 for "only 7s and 8s"), repairs
//! much of the damage. A shift of the output bias is a shift of those classes' logits, so it
//! is evaluated on cached logits without touching the network.

use crate::eval::{evaluate_logits, Evaluation};

/// The shifts searched by [`best_shift`]: −20 to +20 in steps of 0.1.
const SEARCH_STEPS: i32 = 200;
const SEARCH_STEP: f64 = 0.1;

/// Adds `shift` to the logits of `shift_classes` in a `[n, classes]` buffer.
pub fn shift_logits(logits: &[f32], classes: usize, shift_classes: &[u8], shift: f64) -> Vec<f32> {
    let mut out = logits.to_vec();
    for row in out.chunks_exact_mut(classes) {
        for &c in shift_classes {
            if let Some(v) = row.get_mut(usize::from(c)) {
                *v += shift as f32;
            }
        }
    }
    out
}

/// Test errors after shifting the chosen classes' bias by `shift`.
pub fn evaluate_with_shift(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    shift_classes: &[u8],
    shift: f64,
) -> Evaluation {
    evaluate_logits(
        &shift_logits(logits, classes, shift_classes, shift),
        labels,
        classes,
    )
}

/// The shift in [−20, 20] (step 0.1) that minimises errors; ties go to the smallest |shift|.
pub fn best_shift(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    shift_classes: &[u8],
) -> (f64, Evaluation) {
    let mut best = (
        0.0,
        evaluate_with_shift(logits, labels, classes, shift_classes, 0.0),
    );
    for step in 1..=SEARCH_STEPS {
        for sign in [1.0, -1.0] {
            let shift = sign * f64::from(step) * SEARCH_STEP;
            let eval = evaluate_with_shift(logits, labels, classes, shift_classes, shift);
            if eval.errors < best.1.errors {
                best = (shift, eval);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits whose error count is known for every shift `s` of class 1: class 0 scores 0,
    /// class 2 scores −5 (−30 on its own example), class 1 scores `−d` on the examples of
    /// class 1 (wrong until `s > d`, the first maximum wins ties) and `−e` on those of class 0
    /// (right until `s > e`). With d ∈ {0.55, 1.25, 2.05, 3.55, 3.75} and e ∈ {2.45, 4.15}:
    ///
    /// | s | ≤ 0.55 | (0.55, 1.25] | (1.25, 2.05] | (2.05, 2.45] | (2.45, 3.55] | (3.55, 3.75] | (3.75, 4.15] | > 4.15 |
    /// |---|---|---|---|---|---|---|---|---|
    /// | errors | 5 | 4 | 3 | 2 | 3 | 2 | **1** | 2 |
    ///
    /// The optimum is the interval (3.75, 4.15]; on the 0.1 grid its smallest shift is 3.8,
    /// past a local minimum at 2.1 where a search that stopped early would end.
    fn known_landscape() -> (Vec<f32>, Vec<u8>) {
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for d in [0.55f32, 1.25, 2.05, 3.55, 3.75] {
            logits.extend([0.0, -d, -5.0]);
            labels.push(1);
        }
        for e in [2.45f32, 4.15] {
            logits.extend([0.0, -e, -5.0]);
            labels.push(0);
        }
        logits.extend([-5.0, -30.0, 0.0]);
        labels.push(2);
        (logits, labels)
    }

    #[test]
    fn error_counts_follow_the_known_landscape() {
        let (logits, labels) = known_landscape();
        for (shift, errors) in [
            (0.0, 5),
            (1.0, 4),
            (2.0, 3),
            (2.3, 2),
            (3.0, 3),
            (3.6, 2),
            (4.0, 1),
            (4.2, 2),
            (20.0, 2),
            (-3.0, 5),
        ] {
            let eval = evaluate_with_shift(&logits, &labels, 3, &[1], shift);
            assert_eq!(eval.errors, errors, "shift {shift}");
        }
    }

    #[test]
    fn search_finds_the_known_optimum() {
        let (logits, labels) = known_landscape();
        let (shift, eval) = best_shift(&logits, &labels, 3, &[1]);
        assert!((shift - 3.8).abs() < 1e-9, "shift {shift}");
        assert_eq!(eval.errors, 1);
        assert_eq!(
            eval.per_class_errors,
            [1, 0, 0],
            "the class-0 example at e = 2.45"
        );
    }

    /// Lowering class 0 by `s` is, on these logits, raising class 1 by `s` (class 2 stays
    /// below both for every shift that matters): the optimum is −3.8.
    #[test]
    fn search_finds_a_negative_optimum() {
        let (logits, labels) = known_landscape();
        let (shift, eval) = best_shift(&logits, &labels, 3, &[0]);
        assert!((shift + 3.8).abs() < 1e-9, "shift {shift}");
        assert_eq!(eval.errors, 1);
    }
}
