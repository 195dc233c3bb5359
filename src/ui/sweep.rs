//! The T-sweep view: one teacher, then one distilled student per temperature; test errors
//! against T on a log axis, points appearing as each finishes, the baseline as a line.

use crate::events::{EpochMetrics, Phase};
use crate::export::{HLine, PlotSpec, Series, SeriesKind};

use serde::{Deserialize, Serialize};

use super::actions::Action;
use super::ctx::ViewCtx;
use super::live_run::RunKind;
use super::playground::{BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};
use super::plot_ui;

/// Parses "1, 2, 4" into temperatures, rejecting T ≤ 0 and non-numbers.
pub fn parse_temperatures(text: &str) -> Result<Vec<f64>, String> {
    let values: Vec<f64> = super::parse_list(text, "a number")?;
    if values.is_empty() {
        return Err("give at least one temperature".into());
    }
    if let Some(t) = values.iter().find(|t| !t.is_finite() || **t <= 0.0) {
        return Err(format!("temperatures must be > 0, got {t}"));
    }
    Ok(values)
}

fn last_errors(metrics: &[EpochMetrics], phase: Phase) -> Option<usize> {
    metrics
        .iter()
        .rev()
        .find(|m| m.phase == phase)
        .map(|m| m.test_errors)
}

/// Student test errors against T, with the teacher and baseline as lines.
pub fn sweep_spec(points: &[(f64, usize)], metrics: &[EpochMetrics]) -> PlotSpec {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xy: Vec<[f64; 2]> = sorted.iter().map(|(t, e)| [*t, *e as f64]).collect();
    let mut hlines = Vec::new();
    for (name, phase, color) in [
        ("baseline", Phase::Baseline, BASELINE_COLOR),
        ("teacher", Phase::Teacher, TEACHER_COLOR),
    ] {
        if let Some(errors) = last_errors(metrics, phase) {
            hlines.push(HLine {
                name: name.into(),
                y: errors as f64,
                color,
            });
        }
    }
    PlotSpec {
        title: "Distilled student test errors against temperature".into(),
        x_label: "temperature T (log scale)".into(),
        y_label: "test errors".into(),
        log_x: true,
        series: vec![
            Series {
                name: "student".into(),
                kind: SeriesKind::Line,
                points: xy.clone(),
                color: STUDENT_COLOR,
            },
            Series {
                name: "student points".into(),
                kind: SeriesKind::Points,
                points: xy,
                color: STUDENT_COLOR,
            },
        ],
        hlines,
    }
}

/// The T-sweep view.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SweepView {
    /// Temperatures of the next sweep, as typed.
    pub temperatures: String,
}

impl Default for SweepView {
    fn default() -> Self {
        Self {
            temperatures: "1, 2, 4, 8, 20".into(),
        }
    }
}

impl SweepView {
    /// Draws the sweep view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let running = ctx.running();
        let parsed = parse_temperatures(&self.temperatures);
        let valid_config = ctx.config.validate();
        ui.horizontal(|ui| {
            ui.label("Temperatures");
            ui.text_edit_singleline(&mut self.temperatures)
                .on_hover_text("Comma-separated, e.g. 1, 2, 4, 8, 20");
            let launch = ui
                .add_enabled(!running && parsed.is_ok() && valid_config.is_ok(), egui::Button::new("Launch sweep"))
                .on_hover_text("Trains the launcher's teacher once, then one student per T (method: the launcher's)");
            if launch.clicked() {
                if let Ok(temperatures) = &parsed {
                    actions.push(Action::StartSweep(temperatures.clone()));
                }
            }
            if ui.add_enabled(running, egui::Button::new("Cancel")).clicked() {
                actions.push(Action::Cancel);
            }
        });
        if let Err(e) = &parsed {
            ui.colored_label(ui.visuals().error_fg_color, format!("! {e}"));
        }
        if let Err(e) = &valid_config {
            ui.colored_label(ui.visuals().error_fg_color, format!("! launcher: {e}"));
        }
        let sweep = ctx.live.filter(|l| l.kind == RunKind::Sweep);
        let spec = sweep.map_or_else(
            || sweep_spec(&[], &[]),
            |live| sweep_spec(&live.sweep_points, &live.metrics),
        );
        if sweep.is_none_or(|l| l.sweep_points.is_empty()) {
            ui.weak("Points appear here as each temperature's student finishes.");
        }
        let height = (ui.available_height() - 30.0).max(200.0);
        actions.extend(plot_ui(ui, "t-sweep", &spec, height));
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperatures_parse_and_reject_bad_values() {
        assert_eq!(parse_temperatures("1, 2.5 8").unwrap(), vec![1.0, 2.5, 8.0]);
        assert!(parse_temperatures("1, 0").is_err());
        assert!(parse_temperatures("-1").is_err());
        assert!(parse_temperatures("x").is_err());
        assert!(parse_temperatures("").is_err());
    }

    #[test]
    fn sweep_points_are_sorted_by_temperature() {
        let spec = sweep_spec(&[(8.0, 90), (1.0, 120)], &[]);
        assert_eq!(spec.series[0].points, vec![[1.0, 120.0], [8.0, 90.0]]);
        assert!(spec.log_x);
    }
}
