//! What the plane playground computes on its grid: each model's pick, where two models agree,
//! and the CSV text of the grid and of the points.

use std::fmt::Write as _;

use crate::eval::argmax;

/// The class each row of a `[n, classes]` buffer of logits or probabilities picks.
pub fn predictions(scores: &[f32], classes: usize) -> Vec<u8> {
    scores
        .chunks_exact(classes.max(1))
        .map(|row| argmax(row) as u8)
        .collect()
}

/// The fraction of rows on which two `[n, classes]` buffers of logits or probabilities pick
/// the same class (0 when there are none).
pub fn agreement(a: &[f32], b: &[f32], classes: usize) -> f64 {
    let (pa, pb) = (predictions(a, classes), predictions(b, classes));
    let n = pa.len().min(pb.len());
    if n == 0 {
        return 0.0;
    }
    let same = pa.iter().zip(&pb).filter(|(x, y)| x == y).count();
    same as f64 / n as f64
}

/// `x,y,<name>_p0,…` for every grid cell: one group of probability columns per named model.
/// `points` is `[n, 2]`; every model's buffer is `[n, classes]`.
pub fn grid_csv(points: &[f32], models: &[(&str, &[f32])], classes: usize) -> String {
    let mut out = String::from("x,y");
    for (name, _) in models {
        for c in 0..classes {
            let _ = write!(out, ",{name}_p{c}");
        }
    }
    out.push('\n');
    for (i, p) in points.chunks_exact(2).enumerate() {
        let _ = write!(out, "{:.5},{:.5}", p[0], p[1]);
        for (_, probs) in models {
            for c in 0..classes {
                let v = probs.get(i * classes + c).copied().unwrap_or(f32::NAN);
                let _ = write!(out, ",{v:.6}");
            }
        }
        out.push('\n');
    }
    out
}

/// A named set of points with their labels, `[n, 2]` coordinates.
pub struct PointSet<'a> {
    /// What the points are (`labelled`, `teacher-only`, `test`, `synthetic`).
    pub name: &'a str,
    /// Coordinates.
    pub points: &'a [f32],
    /// One label per point.
    pub labels: &'a [u8],
}

/// `x,y,label,set` for every point of every set.
pub fn points_csv(sets: &[PointSet<'_>]) -> String {
    let mut out = String::from("x,y,label,set\n");
    for set in sets {
        for (p, label) in set.points.chunks_exact(2).zip(set.labels) {
            let _ = writeln!(out, "{:.5},{:.5},{label},{}", p[0], p[1], set.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_counts_matching_arg_max() {
        let a = [1.0, 0.0, 0.0, 1.0, 2.0, 1.0];
        let b = [0.9, 0.1, 0.7, 0.3, 0.2, 0.8];
        assert!((agreement(&a, &b, 2) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(agreement(&[], &[], 2), 0.0);
    }

    #[test]
    fn csv_has_a_column_per_model_and_class() {
        let points = [0.25, 0.75, 0.5, 0.5];
        let t = [0.9, 0.1, 0.2, 0.8];
        let s = [0.6, 0.4, 0.5, 0.5];
        let csv = grid_csv(&points, &[("teacher", &t), ("student", &s)], 2);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "x,y,teacher_p0,teacher_p1,student_p0,student_p1");
        assert_eq!(
            lines[1],
            "0.25000,0.75000,0.900000,0.100000,0.600000,0.400000"
        );
        assert_eq!(lines.len(), 3);
        let pts = points_csv(&[PointSet {
            name: "test",
            points: &points,
            labels: &[1, 0],
        }]);
        assert_eq!(
            pts,
            "x,y,label,set\n0.25000,0.75000,1,test\n0.50000,0.50000,0,test\n"
        );
    }
}
