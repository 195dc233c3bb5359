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

    #[test]
    fn finds_the_shift_that_rescues_an_under_predicted_class() {
        // Class 1 is always 2.0 below where it should win.
        let logits = [3.0, 1.5, 0.0, 3.0, 1.0, 0.0, 0.0, 2.0, 0.0];
        let labels = [1, 1, 2];
        assert_eq!(
            evaluate_with_shift(&logits, &labels, 3, &[1], 0.0).errors,
            3
        );
        let (shift, eval) = best_shift(&logits, &labels, 3, &[1]);
        assert_eq!(
            eval.errors, 1,
            "the class-2 example is lost whatever the shift"
        );
        assert!(
            (shift - 2.1).abs() < 1e-9,
            "the smallest shift that works: {shift}"
        );
    }
}
