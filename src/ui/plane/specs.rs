//! What the plane view plots beside its panels, as plain plot specs: the loss and accuracy
//! curves of the three models (and TAKD's assistant), and their class probabilities under the cursor.

use crate::config::EnsembleCombine;
use crate::distill::soft::softmax_t;
use crate::events::{EpochMetrics, Phase};
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::plane::live::PlaneLive;
use crate::ui::theme::{ASSISTANT_COLOR, BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};

/// Names of the three panels, in [`PlaneLive::models`] order.
pub const PANELS: [&str; 3] = ["teacher", "baseline", "student"];

/// Test accuracy of a phase's last epoch (of its first member, but for an ensemble teacher:
/// DML's second student must not stand in for the run's distilled student).
pub fn last_accuracy(metrics: &[EpochMetrics], phase: Phase) -> Option<f64> {
    metrics
        .iter()
        .rev()
        .find(|m| m.phase == phase && m.test_n > 0 && (phase == Phase::Teacher || m.member == 0))
        .map(|m| 1.0 - m.test_errors as f64 / m.test_n as f64)
}

/// Loss and test accuracy per epoch of teacher (member 0), baseline, TAKD's assistant (when
/// the method trains one) and student (the first of DML's); FitNets' hint stage, which has
/// no test accuracy, is left out.
pub fn curve_specs(metrics: &[EpochMetrics]) -> (PlotSpec, PlotSpec) {
    let mut loss = PlotSpec::new("Training loss", "epoch", "loss");
    let mut accuracy = PlotSpec::new("Test accuracy", "epoch", "accuracy");
    for (name, phase, color) in [
        ("teacher", Phase::Teacher, TEACHER_COLOR),
        ("baseline", Phase::Baseline, BASELINE_COLOR),
        ("assistant", Phase::Assistant, ASSISTANT_COLOR),
        ("student", Phase::Student, STUDENT_COLOR),
    ] {
        let rows: Vec<&EpochMetrics> = metrics
            .iter()
            .filter(|m| m.phase == phase && m.member == 0)
            .collect();
        if phase == Phase::Assistant && rows.is_empty() {
            continue;
        }
        let points = |f: &dyn Fn(&EpochMetrics) -> f64| -> Vec<[f64; 2]> {
            rows.iter().map(|m| [m.epoch as f64, f(m)]).collect()
        };
        loss.series.push(Series::new(
            name,
            SeriesKind::Line,
            points(&|m| m.loss),
            color,
        ));
        accuracy.series.push(Series::new(
            name,
            SeriesKind::Line,
            points(&|m| 1.0 - m.test_errors as f64 / m.test_n.max(1) as f64),
            color,
        ));
    }
    (loss, accuracy)
}

/// Each model's probabilities at `t` in one grid cell, as bars.
pub fn hover_spec(live: &PlaneLive, combine: EnsembleCombine, cell: usize, t: f64) -> PlotSpec {
    let mut spec = PlotSpec::new(
        format!("Class probabilities at T = {t:.2} under the cursor"),
        "class",
        "probability",
    );
    let classes = live.classes;
    for ((name, model), color) in
        PANELS
            .iter()
            .zip(&live.models)
            .zip([TEACHER_COLOR, BASELINE_COLOR, STUDENT_COLOR])
    {
        let rows: Vec<Vec<f32>> = model
            .available()
            .iter()
            .filter_map(|m| m.get(cell * classes..(cell + 1) * classes))
            .map(|z| softmax_t(z, t))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // An ensemble's members are combined as in training (mean of probabilities, or the
        // softmax of the mean logits).
        let probs: Vec<f32> = match combine {
            EnsembleCombine::MeanProbs => (0..classes)
                .map(|c| rows.iter().map(|r| r[c]).sum::<f32>() / rows.len() as f32)
                .collect(),
            EnsembleCombine::MeanLogits => {
                let members = model.available();
                let mean: Vec<f32> = (0..classes)
                    .map(|c| {
                        members.iter().map(|m| m[cell * classes + c]).sum::<f32>()
                            / members.len() as f32
                    })
                    .collect();
                softmax_t(&mean, t)
            }
        };
        let points = probs
            .iter()
            .enumerate()
            .map(|(c, p)| [c as f64, f64::from(*p)])
            .collect();
        spec.series
            .push(Series::new(*name, SeriesKind::Bars, points, color));
    }
    spec
}
