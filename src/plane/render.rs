//! The plane panels' pixels: each grid cell coloured by `Σ_c p_c · colour_c` at temperature T
//! (soft regions look soft: at a high T every cell tends to the mean colour), with the decision
//! boundary, where the arg-max changes from one cell to the next, drawn dark. Plain RGBA bytes,
//! so the view uploads them as a texture and the exports write them as they are.

use crate::config::EnsembleCombine;
use crate::distill::soft::ensemble_soft_targets;
use crate::eval::argmax;

/// The class colours (up to six classes in the plane datasets; more repeat).
pub const CLASS_COLOURS: [[u8; 3]; 6] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [23, 190, 207],
];

/// Colour of the decision boundary.
pub const BOUNDARY_COLOUR: [u8; 3] = [20, 20, 20];

/// How far region colours are lightened towards white, so points drawn on top stand out.
const REGION_LIGHTEN: f32 = 0.45;

/// The colour of class `class`.
pub fn class_colour(class: usize) -> [u8; 3] {
    CLASS_COLOURS[class % CLASS_COLOURS.len()]
}

/// The region colour of one cell's probabilities: the probability-weighted mix of the class
/// colours, lightened.
pub fn mix_colour(probs: &[f32]) -> [u8; 3] {
    let mut rgb = [0f32; 3];
    for (c, p) in probs.iter().enumerate() {
        let colour = class_colour(c);
        for (acc, v) in rgb.iter_mut().zip(colour) {
            *acc += p * f32::from(v);
        }
    }
    rgb.map(|v| (v + (255.0 - v) * REGION_LIGHTEN).round().clamp(0.0, 255.0) as u8)
}

/// RGBA pixels (`cells × cells`, rows from the top) of a model's grid at `temperature`, from
/// its members' `[cells², classes]` logits combined as the trainer combines an ensemble. With
/// `boundary`, cells whose arg-max differs from their right or lower neighbour's are dark.
pub fn panel_pixels(
    members: &[&[f32]],
    classes: usize,
    cells: usize,
    temperature: f64,
    combine: EnsembleCombine,
    boundary: bool,
) -> Vec<u8> {
    let probs = ensemble_soft_targets(members, classes, temperature, combine);
    let picks: Vec<usize> = probs.chunks_exact(classes).map(argmax).collect();
    let mut out = Vec::with_capacity(cells * cells * 4);
    for (i, row) in probs.chunks_exact(classes).enumerate().take(cells * cells) {
        let edge = boundary && {
            let (r, c) = (i / cells, i % cells);
            (c + 1 < cells && picks[i] != picks[i + 1])
                || (r + 1 < cells && picks[i] != picks[i + cells])
        };
        let rgb = if edge {
            BOUNDARY_COLOUR
        } else {
            mix_colour(row)
        };
        out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_cells_take_their_class_colour_and_uniform_ones_the_mean() {
        let sure = mix_colour(&[1.0, 0.0]);
        let lighten =
            |v: u8| (f32::from(v) + (255.0 - f32::from(v)) * REGION_LIGHTEN).round() as u8;
        assert_eq!(sure, CLASS_COLOURS[0].map(lighten));
        let even = mix_colour(&[0.5, 0.5]);
        let mean = |k: usize| {
            ((f32::from(CLASS_COLOURS[0][k]) + f32::from(CLASS_COLOURS[1][k])) / 2.0) as u8
        };
        for (k, v) in even.iter().enumerate() {
            assert!(i32::from(*v).abs_diff(i32::from(lighten(mean(k)))) <= 1);
        }
    }

    #[test]
    fn boundary_marks_where_the_pick_changes_and_temperature_softens() {
        // 2×2 grid, two classes: left column class 0, right column class 1.
        let logits = [4.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, 4.0];
        let px = panel_pixels(&[&logits], 2, 2, 1.0, EnsembleCombine::MeanProbs, true);
        assert_eq!(px.len(), 16);
        assert_eq!(
            &px[0..3],
            &BOUNDARY_COLOUR,
            "left cell borders the right one"
        );
        assert_ne!(
            &px[4..7],
            &BOUNDARY_COLOUR,
            "right column has no right neighbour"
        );
        let cold = panel_pixels(&[&logits], 2, 2, 1.0, EnsembleCombine::MeanProbs, false);
        let hot = panel_pixels(&[&logits], 2, 2, 100.0, EnsembleCombine::MeanProbs, false);
        // At a high temperature both columns tend to the same mixed colour.
        let gap = |px: &[u8]| {
            (0..3)
                .map(|k| px[k].abs_diff(px[4 + k]) as u32)
                .sum::<u32>()
        };
        assert!(
            gap(&hot) < gap(&cold) / 10,
            "{} vs {}",
            gap(&hot),
            gap(&cold)
        );
    }
}
