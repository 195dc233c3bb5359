//! The live training view: test errors per epoch for teacher, baseline and distilled student
//! (with the paper's reference numbers), the loss curves with soft and hard parts apart, the
//! distillation gap (agreement and KL with the teacher) beside them, and the soft-targets
//! panel of the probe images.

use crate::config::RunConfig;
use crate::events::{EpochMetrics, Phase};
use crate::export::{HLine, PlotSpec, Series, SeriesKind};

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::ctx::ViewCtx;
use super::live_run::RunStatus;
use super::methods::loss_parts;
use super::plot::plot_ui;
use super::soft_targets::SoftTargetsPanel;
use super::theme::{
    member_color, ASSISTANT_COLOR, BASELINE_COLOR, HINT_COLOR, STUDENT_COLOR, TEACHER_COLOR,
};
use crate::distill::methods::LossLegend;

const PAPER_COLOR: [u8; 3] = [200, 60, 60];
const HARD_COLOR: [u8; 3] = [120, 200, 120];
const SOFT_COLOR: [u8; 3] = [190, 110, 220];

fn phase_color(phase: Phase) -> [u8; 3] {
    match phase {
        Phase::Teacher => TEACHER_COLOR,
        Phase::Baseline => BASELINE_COLOR,
        Phase::Student | Phase::Transfer => STUDENT_COLOR,
        Phase::Assistant => ASSISTANT_COLOR,
        Phase::Hint => HINT_COLOR,
    }
}

/// The legend name of `(phase, member)` among `keys`: the phase's key ("assistant"), with the
/// member's number from 1 when the phase has several ("student 1", "student 2": DML's
/// students; "teacher 2": an ensemble's second member).
pub fn model_label(keys: &[(Phase, usize)], (phase, member): (Phase, usize)) -> String {
    if keys.iter().filter(|k| k.0 == phase).count() > 1 {
        format!("{} {}", phase.key(), member + 1)
    } else {
        phase.key().to_owned()
    }
}

/// The distinct (phase, member) pairs of `metrics`, phases in the order a run goes through
/// them (teacher, baseline, hint, assistant, student), then by member.
fn model_keys(metrics: &[EpochMetrics]) -> Vec<(Phase, usize)> {
    let mut keys: Vec<(Phase, usize)> = metrics.iter().map(|m| (m.phase, m.member)).collect();
    keys.sort_by_key(|&(phase, member)| (Phase::ALL.iter().position(|p| *p == phase), member));
    keys.dedup();
    keys
}

/// One series per (phase, member) of `metrics`, with `value` on the y axis; a phase's
/// members in shades of its colour.
fn phase_series(
    metrics: &[EpochMetrics],
    prefix: &str,
    value: impl Fn(&EpochMetrics) -> f64,
) -> Vec<Series> {
    let keys = model_keys(metrics);
    keys.iter()
        .map(|&(phase, member)| Series {
            name: format!("{prefix}{}", model_label(&keys, (phase, member))),
            kind: SeriesKind::Line,
            points: metrics
                .iter()
                .filter(|m| m.phase == phase && m.member == member)
                .map(|m| [m.epoch as f64, value(m)])
                .collect(),
            color: member_color(phase_color(phase), member),
        })
        .collect()
}

/// The rows judged on the test set: every phase's but the hint stage's (FitNets' stage 1 has
/// no class outputs; its rows carry `test_n == 0`), so that no zero "error" is drawn for it.
fn judged(metrics: &[EpochMetrics]) -> Vec<EpochMetrics> {
    metrics.iter().filter(|m| m.test_n > 0).cloned().collect()
}

/// Where to clip the y axis of test errors per epoch when the first epochs dwarf the rest
/// (3,400 errors, then 100–700): 1.5 × the median of the values after the first epoch (and
/// above every reference line), when some value lies above that. `None` when nothing needs
/// clipping. The exported CSV keeps every value.
pub fn error_clip(spec: &PlotSpec) -> Option<f64> {
    let mut later: Vec<f64> = spec
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| p[0] >= 2.0).map(|p| p[1]))
        .filter(|y| y.is_finite())
        .collect();
    if later.is_empty() {
        return None;
    }
    later.sort_by(f64::total_cmp);
    let median = later[later.len() / 2];
    let lines = spec.hlines.iter().map(|h| h.y).fold(0.0, f64::max);
    let clip = (1.5 * median).max(1.1 * lines);
    let highest = spec
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p[1]))
        .fold(f64::NAN, f64::max);
    (highest > clip).then_some(clip)
}

/// Test errors per epoch, one line per judged phase (and member), with optional reference
/// lines.
pub fn errors_spec(metrics: &[EpochMetrics], reference: &[(&str, f64)]) -> PlotSpec {
    PlotSpec {
        title: "Test errors per epoch".into(),
        x_label: "epoch".into(),
        y_label: "test errors (of 10,000)".into(),
        log_x: false,
        series: phase_series(&judged(metrics), "", |m| m.test_errors as f64),
        hlines: reference
            .iter()
            .map(|(name, y)| HLine {
                name: (*name).to_owned(),
                y: *y,
                color: PAPER_COLOR,
            })
            .collect(),
        ..PlotSpec::default()
    }
}

/// The legend name of FitNets' hint-stage loss on the loss plot.
pub const HINT_LOSS_NAME: &str = "hint loss (L2 to teacher layer)";

/// Training loss per epoch, FitNets' hint loss beside it, and for the distilled student(s)
/// the soft and hard parts as lines on the same scale as its total: for soft targets the
/// parts as they enter the loss, `α·T²·KL` (`α·KL` without the T² factor) and `(1 − α)·CE`,
/// which add up to the total.
pub fn loss_spec(metrics: &[EpochMetrics], config: &RunConfig) -> PlotSpec {
    let (hint, trained): (Vec<EpochMetrics>, Vec<EpochMetrics>) = metrics
        .iter()
        .cloned()
        .partition(|m| m.phase == Phase::Hint);
    let mut series = phase_series(&trained, "loss ", |m| m.loss);
    if !hint.is_empty() {
        series.push(Series {
            name: HINT_LOSS_NAME.to_owned(),
            kind: SeriesKind::Line,
            points: hint.iter().map(|m| [m.epoch as f64, m.loss]).collect(),
            color: HINT_COLOR,
        });
    }
    series.extend(student_parts(&trained, &loss_parts(&config.distill)));
    PlotSpec {
        title: "Training loss per epoch".into(),
        x_label: "epoch".into(),
        y_label: "mean loss".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

/// Reads one loss part of an epoch's row.
type PartOf = fn(&EpochMetrics) -> f64;

/// The soft and hard parts of every distilled student's loss, weighted as they enter it; one
/// pair per student when several learn together ("student 2 hard part CE").
fn student_parts(metrics: &[EpochMetrics], legend: &LossLegend) -> Vec<Series> {
    let members: Vec<usize> = model_keys(metrics)
        .into_iter()
        .filter(|k| k.0 == Phase::Student)
        .map(|k| k.1)
        .collect();
    let several = members.len() > 1;
    let parts: [(&str, [u8; 3], f64, PartOf); 2] = [
        (&legend.soft_name, SOFT_COLOR, legend.soft_weight, |m| {
            m.soft_loss
        }),
        (&legend.hard_name, HARD_COLOR, legend.hard_weight, |m| {
            m.hard_loss
        }),
    ];
    let mut series = Vec::new();
    for &member in &members {
        let rows: Vec<&EpochMetrics> = metrics
            .iter()
            .filter(|m| m.phase == Phase::Student && m.member == member)
            .collect();
        for (name, color, weight, value) in parts {
            if rows.iter().any(|m| value(m) * weight != 0.0) {
                series.push(Series {
                    name: member_part_name(name, several.then_some(member)),
                    kind: SeriesKind::Line,
                    points: rows
                        .iter()
                        .map(|m| [m.epoch as f64, weight * value(m)])
                        .collect(),
                    color: member_color(color, member),
                });
            }
        }
    }
    series
}

/// A loss part's legend name for one of several students: "student 2 mimicry …" for a name
/// that starts with "student", else the student's number after it.
fn member_part_name(name: &str, member: Option<usize>) -> String {
    match (member, name.strip_prefix("student ")) {
        (None, _) => name.to_owned(),
        (Some(k), Some(rest)) => format!("student {} {rest}", k + 1),
        (Some(k), None) => format!("{name} (student {})", k + 1),
    }
}

/// The epochs that have a distillation gap (baseline and distilled student).
fn with_gap(metrics: &[EpochMetrics]) -> Vec<EpochMetrics> {
    metrics
        .iter()
        .filter(|m| m.gap.is_some())
        .cloned()
        .collect()
}

/// Top-1 agreement with the teacher on the test set per epoch, in %.
pub fn agreement_spec(metrics: &[EpochMetrics]) -> PlotSpec {
    PlotSpec {
        title: "Top-1 agreement with the teacher".into(),
        x_label: "epoch".into(),
        y_label: "agreement (% of test images)".into(),
        log_x: false,
        series: phase_series(&with_gap(metrics), "", |m| {
            m.gap.map_or(0.0, |g| 100.0 * g.agreement)
        }),
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

/// Mean `KL(teacher ‖ model)` on the test set per epoch: at the run's T (lines) and at T = 1
/// (points).
pub fn kl_spec(metrics: &[EpochMetrics], temperature: f64) -> PlotSpec {
    let gap = with_gap(metrics);
    let mut series = phase_series(&gap, &format!("T = {temperature}: "), |m| {
        m.gap.map_or(0.0, |g| g.kl_t)
    });
    series.extend(
        phase_series(&gap, "T = 1: ", |m| m.gap.map_or(0.0, |g| g.kl_1))
            .into_iter()
            .map(|s| Series {
                kind: SeriesKind::Points,
                ..s
            }),
    );
    PlotSpec {
        // (The UI font has no '‖'.)
        title: "KL(teacher || model)".into(),
        x_label: "epoch".into(),
        y_label: "mean KL (nats)".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

/// The live training view.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct LiveView {
    /// Draw the paper's reference numbers (67 / 146 / 74).
    pub show_paper_lines: bool,
    /// Clip the test-error axis when the first epoch dwarfs the rest.
    pub clip_first_epoch: bool,
    /// The probe images' soft targets (view state of the run being shown, not persisted).
    #[serde(skip)]
    pub soft_targets: SoftTargetsPanel,
}

impl Default for LiveView {
    fn default() -> Self {
        Self {
            show_paper_lines: true,
            clip_first_epoch: true,
            soft_targets: SoftTargetsPanel::default(),
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
                crate::distill::methods::get(live.config.distill.method).label(),
                live.dir
                    .as_ref()
                    .map_or("starting…".into(), |d| d.display().to_string())
            ));
            ui.checkbox(&mut self.show_paper_lines, "paper reference lines")
                .on_hover_text(
                    "Hinton et al. 2015, MNIST: teacher 67, baseline 146, distilled 74 test errors",
                );
            ui.checkbox(&mut self.clip_first_epoch, "clip first epoch")
                .on_hover_text("When the first epoch's errors dwarf the rest, cut the y axis at 1.2 × the later epochs' largest value (the CSV keeps every value)");
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
        if self.clip_first_epoch {
            errors.y_max = error_clip(&errors);
        }
        let loss = loss_spec(&live.metrics, &live.config);
        let agreement = agreement_spec(&live.metrics);
        let kl = kl_spec(&live.metrics, live.config.distill.temperature);
        let mut actions = Vec::new();
        let soft_targets = &mut self.soft_targets;
        ui.columns(2, |columns| {
            let [curves, soft] = columns else {
                return;
            };
            let height = (curves.available_height() / 4.0 - 30.0).max(110.0);
            for (id, spec) in [
                ("live-errors", &errors),
                ("live-agreement", &agreement),
                ("live-kl", &kl),
                ("live-loss", &loss),
            ] {
                actions.extend(plot_ui(curves, id, spec, height));
            }
            actions.extend(soft_targets.ui(soft, ctx));
        });
        actions
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
            gap: None,
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
        let loss = loss_spec(&metrics, &RunConfig::default());
        // Default α = 0.9, T = 20 with T²: the parts enter the loss as 0.9·400·KL and 0.1·CE.
        let soft = loss
            .series
            .iter()
            .find(|s| s.name.starts_with("student soft part α·T²·KL"));
        assert_eq!(soft.unwrap().points[0], [1.0, 0.9 * 400.0 * 0.5]);
        let hard = loss
            .series
            .iter()
            .find(|s| s.name.starts_with("student hard part"));
        let [_, y] = hard.unwrap().points[0];
        assert!((y - 0.1 * 0.25).abs() < 1e-12 && hard.unwrap().kind == SeriesKind::Line);
    }

    /// FitNets' stage 1: a loss, no test errors.
    fn hint_row(epoch: usize, loss: f64) -> EpochMetrics {
        EpochMetrics {
            loss,
            soft_loss: loss,
            hard_loss: 0.0,
            test_errors: 0,
            per_class_errors: Vec::new(),
            test_n: 0,
            ..row(Phase::Hint, 0, epoch, 0)
        }
    }

    #[test]
    fn dml_students_the_assistant_and_the_hint_stage_each_read_as_their_own() {
        let metrics = vec![
            row(Phase::Teacher, 0, 1, 300),
            hint_row(1, 40.0),
            hint_row(2, 20.0),
            row(Phase::Assistant, 0, 1, 280),
            row(Phase::Assistant, 0, 2, 200),
            row(Phase::Student, 0, 1, 350),
            row(Phase::Student, 1, 1, 360),
            row(Phase::Student, 0, 2, 250),
            row(Phase::Student, 1, 2, 260),
        ];
        let errors = errors_spec(&metrics, &[]);
        let names: Vec<&str> = errors.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["teacher", "assistant", "student 1", "student 2"]);
        assert_eq!(errors.series[1].points, [[1.0, 280.0], [2.0, 200.0]]);
        assert_eq!(errors.series[1].color, ASSISTANT_COLOR);
        assert_eq!(errors.series[3].points, [[1.0, 360.0], [2.0, 260.0]]);
        assert_ne!(errors.series[2].color, errors.series[3].color);
        assert!(
            errors
                .series
                .iter()
                .all(|s| s.points.iter().all(|p| p[1] > 0.0)),
            "no zero error for the hint stage: {errors:?}"
        );
        let loss = loss_spec(&metrics, &RunConfig::default());
        let hint = loss.series.iter().find(|s| s.name == HINT_LOSS_NAME);
        assert_eq!(hint.unwrap().points, [[1.0, 40.0], [2.0, 20.0]]);
        let names: Vec<&str> = loss.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            &names[..5],
            [
                "loss teacher",
                "loss assistant",
                "loss student 1",
                "loss student 2",
                HINT_LOSS_NAME
            ]
        );
        // Each student's parts on their own lines (0.1·CE of student 2 at epochs 1 and 2).
        let hard = loss
            .series
            .iter()
            .find(|s| s.name.starts_with("student 2 hard part (1−α)·CE"))
            .unwrap_or_else(|| panic!("{names:?}"));
        assert_eq!(hard.points.len(), 2);
        assert!((hard.points[1][1] - 0.1 * 0.25).abs() < 1e-12);
        // Only the judged models have a gap, and none of them is the hint.
        assert!(agreement_spec(&metrics).series.is_empty());
    }

    #[test]
    fn a_first_epoch_that_dwarfs_the_rest_is_clipped() {
        let metrics = vec![
            row(Phase::Student, 0, 1, 3400),
            row(Phase::Student, 0, 2, 700),
            row(Phase::Student, 0, 3, 100),
        ];
        let spec = errors_spec(&metrics, &[]);
        // Later values 700 and 100: median (upper) 700, so the axis stops at 1,050.
        assert_eq!(error_clip(&spec), Some(1050.0));
        let calm = errors_spec(&metrics[1..], &[]);
        assert_eq!(error_clip(&calm), None);
        // A reference line above the later values stays in view.
        let lines = errors_spec(&metrics, &[("paper", 1000.0)]);
        assert_eq!(error_clip(&lines), Some(1100.0));
        // A hint stage before (no test errors) moves neither the median nor the clip.
        let mut hinted: Vec<EpochMetrics> = (1..=4).map(|e| hint_row(e, 9.0)).collect();
        hinted.extend(metrics);
        assert_eq!(error_clip(&errors_spec(&hinted, &[])), Some(1050.0));
    }
}
