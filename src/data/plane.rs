//! Synthetic two-feature datasets for the plane playground: two moons, spirals, Gaussian
//! blobs, XOR and a checkerboard, with a held-out test set from the same distribution, and the
//! grid of points the models are evaluated on.
//!
//! A plane dataset is an ordinary [`Dataset`] with one row of two "pixels" (`x`, `y`), so the
//! MLP, the losses, the trainer and MUNGE use it unchanged. Each shape is drawn in its own
//! coordinates (radius about 1) and mapped into the unit square by the same fixed affine map,
//! `u = 0.5 + 0.45·x`, so features stay in [0, 1] like pixels and the grid's margin shows
//! where the models extrapolate.

use std::f64::consts::{PI, TAU};

use super::dataset::{Dataset, Mnist};
use crate::config::{PlaneDataConfig, PlaneKind};
use crate::rng::FastRng;

/// Scale of the map from a shape's coordinates into the unit square.
const SCALE: f64 = 0.45;

/// Spiral turns from the centre to the end of an arm.
const SPIRAL_TURNS: f64 = 0.75;

/// Radius of the circle the blobs' centres sit on.
const BLOB_RADIUS: f64 = 0.65;

/// Draws the training and test sets of `config` (the training set from the stream
/// `plane-train`, the test set from `plane-test` of `config.seed`).
pub fn generate(config: &PlaneDataConfig) -> Mnist {
    Mnist {
        train: draw_set(config, config.train, "plane-train"),
        test: draw_set(config, config.test, "plane-test"),
    }
}

/// `n` points with balanced classes in random order.
fn draw_set(config: &PlaneDataConfig, n: usize, stream: &str) -> Dataset {
    let classes = config.class_count();
    let mut rng = FastRng::fork(config.seed, stream);
    let mut points: Vec<([f32; 2], u8)> = (0..n)
        .map(|i| {
            let (x, y, label) =
                draw_point(config.kind, i % classes, classes, config.noise, &mut rng);
            ([to_unit(x), to_unit(y)], label as u8)
        })
        .collect();
    // The students' subset (`transfer.limit`) is a prefix, so the order must mix the classes.
    rng.shuffle(&mut points);
    Dataset {
        images: points.iter().flat_map(|(p, _)| *p).collect(),
        labels: points.iter().map(|(_, l)| *l).collect(),
        rows: 1,
        cols: 2,
    }
}

fn to_unit(v: f64) -> f32 {
    (0.5 + SCALE * v).clamp(0.0, 1.0) as f32
}

/// One point of class `class` in the shape's coordinates, with its label (the XOR and
/// checkerboard shapes label a uniform draw, so their label is not `class`).
fn draw_point(
    kind: PlaneKind,
    class: usize,
    classes: usize,
    noise: f64,
    rng: &mut FastRng,
) -> (f64, f64, usize) {
    match kind {
        PlaneKind::Moons => {
            // scikit-learn's make_moons, centred and scaled to x ∈ [−1, 1].
            let t = PI * rng.uniform();
            let (x, y) = if class == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            let (x, y) = (x + gauss(rng, noise), y + gauss(rng, noise));
            ((x - 0.5) / 1.5, (y - 0.25) / 1.5, class)
        }
        PlaneKind::Spirals => {
            // Radius grows linearly with the angle; √u spreads points evenly along the arm.
            let t = rng.uniform().sqrt();
            let angle = class as f64 * TAU / classes as f64 + t * SPIRAL_TURNS * TAU;
            let r = 0.05 + 0.95 * t;
            let sd = noise * 0.5;
            (
                r * angle.cos() + gauss(rng, sd),
                r * angle.sin() + gauss(rng, sd),
                class,
            )
        }
        PlaneKind::Blobs => {
            let angle = class as f64 * TAU / classes as f64 + PI / 2.0;
            let sd = 0.05 + noise;
            (
                BLOB_RADIUS * angle.cos() + gauss(rng, sd),
                BLOB_RADIUS * angle.sin() + gauss(rng, sd),
                class,
            )
        }
        PlaneKind::Xor | PlaneKind::Checkerboard => {
            let tiles = if kind == PlaneKind::Xor { 2.0 } else { 3.0 };
            let (x, y) = (rng.uniform() * 2.0 - 1.0, rng.uniform() * 2.0 - 1.0);
            let tile =
                |v: f64| (((v + 1.0) / 2.0 * tiles).floor() as i64).clamp(0, tiles as i64 - 1);
            let label = ((tile(x) + tile(y)) % 2) as usize;
            // Noise moves the point after labelling it, so labels near the edges mix.
            let sd = noise * 0.5 / tiles * 2.0;
            (x + gauss(rng, sd), y + gauss(rng, sd), label)
        }
    }
}

fn gauss(rng: &mut FastRng, sd: f64) -> f64 {
    sd * rng.normal()
}

/// The centres of a `cells × cells` grid over the unit square, row-major from the top row
/// (`y` near 1) down, each row from left (`x` near 0) to right: `[cells², 2]`, as a texture
/// is laid out.
pub fn grid_points(cells: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(cells * cells * 2);
    let step = 1.0 / cells as f32;
    for r in 0..cells {
        let y = 1.0 - (r as f32 + 0.5) * step;
        for c in 0..cells {
            out.push((c as f32 + 0.5) * step);
            out.push(y);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: PlaneKind, classes: usize) -> PlaneDataConfig {
        PlaneDataConfig {
            kind,
            classes,
            train: 600,
            test: 300,
            ..PlaneDataConfig::default()
        }
    }

    #[test]
    fn every_shape_gives_balanced_classes_in_the_unit_square() {
        for kind in PlaneKind::ALL {
            let c = config(kind, *kind.class_range().end());
            let data = generate(&c);
            assert_eq!(data.train.len(), 600);
            assert_eq!(data.test.len(), 300);
            assert_eq!(data.train.dim(), 2);
            assert!(data.train.images.iter().all(|v| (0.0..=1.0).contains(v)));
            let classes = c.class_count();
            for class in 0..classes {
                let count = data
                    .train
                    .labels
                    .iter()
                    .filter(|l| usize::from(**l) == class)
                    .count();
                // Labelled by construction: exactly balanced; XOR/checkerboard: by area.
                assert!(
                    count * classes >= 600 * 3 / 4 && count * classes <= 600 * 5 / 4,
                    "{kind:?} class {class}: {count}"
                );
            }
            assert!(data.train.labels.iter().all(|l| usize::from(*l) < classes));
            // The prefix mixes the classes (the students' subset is a prefix).
            let first: std::collections::HashSet<u8> =
                data.train.labels[..60].iter().copied().collect();
            assert_eq!(first.len(), classes, "{kind:?}");
        }
    }

    #[test]
    fn same_seed_same_points_and_test_differs_from_train() {
        let c = config(PlaneKind::Spirals, 3);
        let (a, b) = (generate(&c), generate(&c));
        assert_eq!(a.train, b.train);
        assert_ne!(a.train.images[..600], a.test.images[..600]);
        let other = generate(&PlaneDataConfig { seed: 2, ..c });
        assert_ne!(a.train, other.train);
    }

    #[test]
    fn xor_labels_follow_the_quadrants_without_noise() {
        let c = PlaneDataConfig {
            noise: 0.0,
            ..config(PlaneKind::Xor, 2)
        };
        let data = generate(&c);
        for (p, l) in data.train.images.chunks_exact(2).zip(&data.train.labels) {
            let expected = u8::from((p[0] > 0.5) != (p[1] > 0.5));
            assert_eq!(*l, expected, "{p:?}");
        }
    }

    #[test]
    fn grid_runs_from_top_left_row_by_row() {
        let g = grid_points(4);
        assert_eq!(g.len(), 32);
        assert_eq!(&g[..2], &[0.125, 0.875]);
        assert_eq!(&g[2..4], &[0.375, 0.875]);
        assert_eq!(&g[30..], &[0.875, 0.125]);
    }
}
