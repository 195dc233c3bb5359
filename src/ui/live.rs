//! The live training view: test errors per epoch for teacher, baseline and distilled student
//! (with the paper's reference numbers), and the loss curves with soft and hard parts apart.

use crate::events::{EpochMetrics, Phase};
use crate::export::{HLine, PlotSpec, Series, SeriesKind};

use serde::{Deserialize, Serialize};

use super::actions::Action;
use super::ctx::ViewCtx;
use super::live_run::RunStatus;
use super::playground::{BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};
use super::plot_ui;

const PAPER_COLOR: [u8; 3] = [200, 60, 60];
const HARD_COLOR: [u8; 3] = [120, 200, 120];
const SOFT_COLOR: [u8; 3] = [190, 110, 220];

fn phase_color(phase: Phase) -> [u8; 3] {
    match phase {
        Phase::Teacher => TEACHER_COLOR,
        Phase::Baseline => BASELINE_COLOR,
        Phase::Student | Phase::Transfer => STUDENT_COLOR,
    }
}

/// One series per (phase, member) of `metrics`, with `value` on the y axis.
fn phase_series(
    metrics: &[EpochMetrics],
    prefix: &str,
    value: impl Fn(&EpochMetrics) -> f64,
) -> Vec<Series> {
    let mut keys: Vec<(Phase, usize)> = metrics.iter().map(|m| (m.phase, m.member)).collect();
    keys.sort();
    keys.dedup();
    let several = |phase: Phase| keys.iter().filter(|k| k.0 == phase).count() > 1;
    keys.iter()
        .map(|&(phase, member)| {
            let name = if several(phase) {
                format!("{prefix}{} {}", phase.key(), member + 1)
            } else {
                format!("{prefix}{}", phase.key())
            };
            Series {
                name,
                kind: SeriesKind::Line,
                points: metrics
                    .iter()
                    .filter(|m| m.phase == phase && m.member == member)
                    .map(|m| [m.epoch as f64, value(m)])
                    .collect(),
                color: phase_color(phase),
            }
        })
        .collect()
}

/// Test errors per epoch, one line per phase (and member), with optional reference lines.
pub fn errors_spec(metrics: &[EpochMetrics], reference: &[(&str, f64)]) -> PlotSpec {
    PlotSpec {
        title: "Test errors per epoch".into(),
        x_label: "epoch".into(),
        y_label: "test errors (of 10,000)".into(),
        log_x: false,
        series: phase_series(metrics, "", |m| m.test_errors as f64),
        hlines: reference
            .iter()
            .map(|(name, y)| HLine {
                name: (*name).to_owned(),
                y: *y,
                color: PAPER_COLOR,
            })
            .collect(),
        heatmap: None,
    }
}

/// Training loss per epoch; for the distilled student the soft and hard parts apart.
pub fn loss_spec(metrics: &[EpochMetrics]) -> PlotSpec {
    let mut series = phase_series(metrics, "loss ", |m| m.loss);
    let student: Vec<&EpochMetrics> = metrics
        .iter()
        .filter(|m| m.phase == Phase::Student)
        .collect();
    for (name, color, value) in [
        (
            "student soft part",
            SOFT_COLOR,
            (|m: &EpochMetrics| m.soft_loss) as fn(&EpochMetrics) -> f64,
        ),
        ("student hard part", HARD_COLOR, |m: &EpochMetrics| {
            m.hard_loss
        }),
    ] {
        if student.iter().any(|m| value(m) != 0.0) {
            series.push(Series {
                name: name.into(),
                kind: SeriesKind::Points,
                points: student
                    .iter()
                    .map(|m| [m.epoch as f64 + 0.01 * m.member as f64, value(m)])
                    .collect(),
                color,
            });
        }
    }
    PlotSpec {
        title: "Training loss per epoch".into(),
        x_label: "epoch".into(),
        y_label: "mean loss".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        heatmap: None,
    }
}

/// The live training view.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct LiveView {
    /// Draw the paper's reference numbers (67 / 146 / 74).
    pub show_paper_lines: bool,
}

impl Default for LiveView {
    fn default() -> Self {
        Self {
            show_paper_lines: true,
        }
    }
}

impl LiveView {
    /// Draws the live view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let Some(live) = ctx.live else {
            ui.label(
                "No run yet: choose a method in the launcher on the left and press Start run.",
            );
            return Vec::new();
        };
        ui.horizontal(|ui| {
            ui.label(format!(
                "Run {} — {} — {}",
                live.id,
                live.config.distill.method.label(),
                live.dir
                    .as_ref()
                    .map_or("starting…".into(), |d| d.display().to_string())
            ));
            ui.checkbox(&mut self.show_paper_lines, "paper reference lines")
                .on_hover_text(
                    "Hinton et al. 2015, MNIST: teacher 67, baseline 146, distilled 74 test errors",
                );
        });
        let reference = if self.show_paper_lines {
            crate::presets::paper_reference(ctx.preset)
        } else {
            Vec::new()
        };
        let mut errors = errors_spec(&live.metrics, &reference);
        // A teacher loaded from a file has no epochs to plot: show its result as a line.
        let trained_teacher = live.metrics.iter().any(|m| m.phase == Phase::Teacher);
        if let (false, RunStatus::Finished(summary)) = (trained_teacher, &live.status) {
            errors.hlines.push(HLine {
                name: "teacher (loaded)".into(),
                y: summary.teacher.test_errors as f64,
                color: TEACHER_COLOR,
            });
        }
        let loss = loss_spec(&live.metrics);
        let height = (ui.available_height() / 2.0 - 40.0).max(150.0);
        [
            plot_ui(ui, "live-errors", &errors, height),
            plot_ui(ui, "live-loss", &loss, height),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(phase: Phase, member: usize, epoch: usize, errors: usize) -> EpochMetrics {
        EpochMetrics {
            phase,
            member,
            epoch,
            loss: 1.0 / epoch as f64,
            soft_loss: 0.5,
            hard_loss: 0.25,
            lr: 0.1,
            test_errors: errors,
            per_class_errors: vec![0; 10],
            test_n: 10_000,
            elapsed_secs: 1.0,
        }
    }

    #[test]
    fn one_series_per_phase_and_member() {
        let metrics = vec![
            row(Phase::Teacher, 0, 1, 300),
            row(Phase::Teacher, 1, 1, 310),
            row(Phase::Baseline, 0, 1, 400),
            row(Phase::Student, 0, 1, 350),
            row(Phase::Student, 0, 2, 250),
        ];
        let spec = errors_spec(&metrics, &[("paper: teacher", 67.0)]);
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["teacher 1", "teacher 2", "baseline", "student"]);
        assert_eq!(spec.series[3].points, vec![[1.0, 350.0], [2.0, 250.0]]);
        assert_eq!(spec.hlines.len(), 1);
        let loss = loss_spec(&metrics);
        assert!(loss.series.iter().any(|s| s.name == "student soft part"));
    }
}
