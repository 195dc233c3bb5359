//! Soft targets: the softmax at temperature T, and what the playground shows of it.
//!
//! `q_i = exp(z_i / T) / Σ_j exp(z_j / T)`. T = 1 is the ordinary softmax; a higher T flattens
//! the distribution and exposes the "dark knowledge": how much probability the model gives to
//! each wrong class. These functions work on plain slices so the UI can redraw the bars every
//! frame while the slider moves, from cached logits, without a tensor library.

use crate::config::EnsembleCombine;

/// `softmax(z / T)` of one row of logits (max-subtracted for stability).
pub fn softmax_t(logits: &[f32], temperature: f64) -> Vec<f32> {
    let mut out = logits.to_vec();
    softmax_in_place(&mut out, temperature);
    out
}

/// [`softmax_t`] overwriting the row.
fn softmax_in_place(row: &mut [f32], temperature: f64) {
    let t = temperature as f32;
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in row.iter_mut() {
        *v = ((*v - max) / t).exp();
    }
    let sum: f32 = row.iter().sum();
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// Row-wise `softmax(z / T)` of a `[n, classes]` buffer (one allocation, not one per row:
/// the plane view re-colours 40,000-row grids while the temperature slider moves).
pub fn softmax_rows(logits: &[f32], classes: usize, temperature: f64) -> Vec<f32> {
    let mut out = logits[..logits.len() - logits.len() % classes.max(1)].to_vec();
    for row in out.chunks_exact_mut(classes.max(1)) {
        softmax_in_place(row, temperature);
    }
    out
}

/// Soft targets of an ensemble for a `[n, classes]` batch, from each member's logits.
/// `MeanProbs`: `mean_m softmax(v_m / T)` (the paper); `MeanLogits`: `softmax(mean_m v_m / T)`.
pub fn ensemble_soft_targets(
    members: &[&[f32]],
    classes: usize,
    temperature: f64,
    combine: EnsembleCombine,
) -> Vec<f32> {
    let m = members.len().max(1) as f32;
    let n = members.first().map_or(0, |v| v.len());
    match combine {
        EnsembleCombine::MeanProbs => {
            let mut out = vec![0f32; n];
            for member in members {
                for (o, p) in out
                    .iter_mut()
                    .zip(softmax_rows(member, classes, temperature))
                {
                    *o += p / m;
                }
            }
            out
        }
        EnsembleCombine::MeanLogits => softmax_rows(&mean_logits(members), classes, temperature),
    }
}

/// Element-wise mean of the members' logits.
pub fn mean_logits(members: &[&[f32]]) -> Vec<f32> {
    let m = members.len().max(1) as f32;
    let n = members.first().map_or(0, |v| v.len());
    let mut out = vec![0f32; n];
    for member in members {
        for (o, v) in out.iter_mut().zip(member.iter()) {
            *o += v / m;
        }
    }
    out
}

/// Shannon entropy in nats, `−Σ p log p`.
pub fn entropy(probs: &[f32]) -> f64 {
    probs
        .iter()
        .filter(|p| **p > 0.0)
        .map(|p| -f64::from(*p) * f64::from(*p).ln())
        .sum()
}

/// The wrong classes (all but `label`) ordered from most to least probable: the teacher's
/// "dark knowledge" about which mistakes would be plausible.
pub fn dark_knowledge(probs: &[f32], label: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probs
        .iter()
        .copied()
        .enumerate()
        .filter(|(c, _)| *c != label)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference (numpy):
    //   z = np.array([2.0, 1.0, 0.1]); e = np.exp(z / 4); e / e.sum()
    //   -> [0.41654763, 0.32440762, 0.25904475]; -(p * np.log(p)).sum() -> 1.0799026233
    #[test]
    fn softmax_at_temperature_matches_numpy() {
        let p = softmax_t(&[2.0, 1.0, 0.1], 4.0);
        let expected: [f32; 3] = [0.416_547_6, 0.324_407_6, 0.259_044_8];
        for (a, b) in p.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{p:?}");
        }
        assert!((entropy(&p) - 1.079_902_623).abs() < 1e-6);
        assert!((softmax_t(&[2.0, 1.0, 0.1], 1.0)[0] - 0.659_001_1).abs() < 1e-6);
    }

    #[test]
    fn high_temperature_flattens_and_low_sharpens() {
        let z = [5.0, 1.0, -2.0];
        assert!(entropy(&softmax_t(&z, 100.0)) > entropy(&softmax_t(&z, 1.0)));
        assert!(softmax_t(&z, 0.05)[0] > 0.999);
    }

    #[test]
    fn ensemble_mean_of_probs_differs_from_mean_of_logits() {
        let a = [4.0f32, 0.0];
        let b = [0.0f32, 0.0];
        let probs = ensemble_soft_targets(&[&a, &b], 2, 1.0, EnsembleCombine::MeanProbs);
        // (softmax([4,0]) + [0.5,0.5]) / 2 = ([0.98201379, 0.01798621] + 0.5) / 2
        assert!((probs[0] - 0.741_006_9).abs() < 1e-6, "{probs:?}");
        let logits = ensemble_soft_targets(&[&a, &b], 2, 1.0, EnsembleCombine::MeanLogits);
        // softmax([2, 0]) = [0.88079708, 0.11920292]
        assert!((logits[0] - 0.880_797_1).abs() < 1e-6, "{logits:?}");
    }

    #[test]
    fn dark_knowledge_ranks_wrong_classes() {
        let ranked = dark_knowledge(&[0.1, 0.6, 0.05, 0.25], 1);
        let order: Vec<usize> = ranked.iter().map(|r| r.0).collect();
        assert_eq!(order, vec![3, 0, 2]);
    }
}
