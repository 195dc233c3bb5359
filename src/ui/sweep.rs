//! The Sweeps view: a sweep over one or two settings of the launcher's configuration, sharing
//! one teacher. One axis draws a curve (teacher and baseline as lines, log x for temperatures
//! and sizes); two numeric axes draw a heatmap with the numbers in the cells and the best cell
//! outlined, filling cell by cell as points finish; a numeric axis against a switch (MUNGE
//! on/off) draws one curve per switch value. A sweep folder finished elsewhere (a Slurm job
//! array, `distillery collect`) opens into the same view.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::events::{PointStatus, SweepRow};
use crate::export::{HLine, Heatmap, PlotSpec, Series, SeriesKind};
use crate::sweep::axis::Axis;
use crate::sweep::plan::SweepPlan;
use crate::sweep::presets::SWEEP_PRESETS;
use crate::sweep::progress::SweepTable;

use super::action::Action;
use super::ctx::ViewCtx;
use super::live_run::RunKind;
use super::pending::PendingFile;
use super::plot::plot_ui;
use super::theme::{BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};

/// Test errors over the sweep: a curve for one axis, a heatmap for two numeric axes, one
/// curve per value of a second, non-numeric axis.
pub fn sweep_spec(table: &SweepTable) -> PlotSpec {
    match table.axes.as_slice() {
        [x, y] if x.is_numeric() && y.is_numeric() => heatmap_spec(table, x, y),
        [x, rest @ ..] => curve_spec(table, x, rest.first()),
        [] => PlotSpec::new("Sweep", "setting", "test errors"),
    }
}

/// The teacher's test errors as a reference line.
fn teacher_line(table: &SweepTable) -> Option<HLine> {
    let errors = table.teacher_errors()?;
    Some(HLine::new("teacher", errors as f64, TEACHER_COLOR))
}

/// The x coordinate of an axis value: the number, else its index.
fn x_of(axis: &Axis, i: usize) -> f64 {
    if axis.is_numeric() {
        axis.numeric(i).unwrap_or(i as f64)
    } else {
        i as f64
    }
}

fn curve_spec(table: &SweepTable, x: &Axis, group: Option<&Axis>) -> PlotSpec {
    let log_x = x.log_scale();
    let mut spec = PlotSpec::new(
        format!("Test errors against {}", x.short_name()),
        if log_x {
            format!("{} (log scale)", x.key)
        } else {
            x.key.clone()
        },
        "test errors",
    );
    spec.log_x = log_x;
    let groups: Vec<Option<usize>> = match group {
        Some(g) => (0..g.values.len()).map(Some).collect(),
        None => vec![None],
    };
    let own_baselines = Axis::changes_baseline(x);
    let shades = [STUDENT_COLOR, [40, 170, 110], [170, 90, 200], [220, 80, 80]];
    for (n, g) in groups.iter().enumerate() {
        let label = match (group, g) {
            (Some(axis), Some(i)) => format!(" ({}={})", axis.short_name(), axis.values[*i]),
            _ => String::new(),
        };
        let color = shades[n % shades.len()];
        let mut student = Vec::new();
        let mut baseline = Vec::new();
        for i in 0..x.values.len() {
            let index: Vec<usize> = std::iter::once(i).chain(*g).collect();
            if let Some(row) = table.row_at(&index) {
                if let Some(e) = row.student_errors {
                    student.push([x_of(x, i), e as f64]);
                }
                if let Some(e) = row.baseline_errors {
                    baseline.push([x_of(x, i), e as f64]);
                }
            }
        }
        spec.series.push(Series::new(
            format!("distilled student{label}"),
            SeriesKind::Line,
            student.clone(),
            color,
        ));
        spec.series.push(Series::new(
            String::new(),
            SeriesKind::Points,
            student,
            color,
        ));
        if own_baselines && n == 0 {
            spec.series.push(Series::new(
                "baseline (hard labels)",
                SeriesKind::Line,
                baseline.clone(),
                BASELINE_COLOR,
            ));
            spec.series.push(Series::new(
                String::new(),
                SeriesKind::Points,
                baseline,
                BASELINE_COLOR,
            ));
        }
    }
    if !own_baselines {
        if let Some(e) = table.rows.iter().find_map(|r| r.baseline_errors) {
            spec.hlines.push(HLine::new(
                "baseline (hard labels)",
                e as f64,
                BASELINE_COLOR,
            ));
        }
    }
    spec.hlines.extend(teacher_line(table));
    spec
}

fn heatmap_spec(table: &SweepTable, x: &Axis, y: &Axis) -> PlotSpec {
    let values = (0..y.values.len())
        .map(|j| {
            (0..x.values.len())
                .map(|i| {
                    table
                        .row_at(&[i, j])
                        .and_then(|r| r.student_errors)
                        .map(|e| e as f64)
                })
                .collect()
        })
        .collect();
    let mut spec = PlotSpec::new(
        format!(
            "Distilled student test errors: {} × {} (best outlined)",
            x.short_name(),
            y.short_name()
        ),
        x.key.clone(),
        y.key.clone(),
    );
    spec.heatmap = Some(Heatmap {
        x_labels: x.values.clone(),
        y_labels: y.values.clone(),
        values,
    });
    spec
}

/// The Sweeps view's own state.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SweepView {
    /// First axis, as `KEY=V1,V2,…`.
    pub axis1: String,
    /// Second axis (empty: a curve).
    pub axis2: String,
    /// Points trained at a time.
    pub jobs: usize,
    /// A sweep folder opened from disk (shown when no sweep is live).
    #[serde(skip)]
    pub opened: Option<SweepTable>,
}

impl Default for SweepView {
    fn default() -> Self {
        Self {
            axis1: "distill.temperature=1,2,4,8,20".into(),
            axis2: "distill.alpha=0.1,0.5,0.9".into(),
            jobs: crate::sweep::local::default_jobs(),
            opened: None,
        }
    }
}

impl SweepView {
    /// The plan of the typed axes over `base`, or the first problem.
    pub fn plan(&self, base: &RunConfig) -> Result<SweepPlan, String> {
        let axes = [&self.axis1, &self.axis2]
            .into_iter()
            .filter(|text| !text.trim().is_empty())
            .map(|text| Axis::parse(text.trim(), base))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        SweepPlan::new(base.clone(), axes).map_err(|e| e.to_string())
    }

    /// Draws the view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let running = ctx.running();
        let plan = self.plan(ctx.config);
        self.controls_ui(ui, running, &plan, &mut actions);
        if let Err(e) = &plan {
            ui.colored_label(ui.visuals().error_fg_color, format!("! {e}"));
        }
        // A running sweep first; else the folder opened last, else the last sweep run here.
        let live = ctx.live.filter(|l| l.kind == RunKind::Sweep);
        let live_table = live.and_then(|l| l.sweep.as_ref());
        let table = if live.is_some_and(|l| l.is_running()) {
            live_table
        } else {
            self.opened.as_ref().or(live_table)
        };
        match table {
            Some(t) => {
                // One number when every point shares it (the reference run's), else per point.
                let shared = |f: fn(&SweepRow) -> Option<usize>| {
                    let mut values: Vec<usize> = t.rows.iter().filter_map(f).collect();
                    values.sort_unstable();
                    values.dedup();
                    match values.as_slice() {
                        [] => "-".to_owned(),
                        [one] => one.to_string(),
                        _ => "per point".to_owned(),
                    }
                };
                ui.label(format!(
                    "{} of {} points done — teacher {}, baseline {} test errors — {}",
                    t.done(),
                    t.planned_points(),
                    shared(|r| r.teacher_errors),
                    shared(|r| r.baseline_errors),
                    t.dir.display()
                ));
                let failed: Vec<String> = t
                    .rows
                    .iter()
                    .filter_map(|r| match &r.status {
                        PointStatus::Failed(m) => Some(format!("point {}: {m}", r.point)),
                        _ => None,
                    })
                    .collect();
                if !failed.is_empty() {
                    ui.colored_label(ui.visuals().error_fg_color, failed.join("; "));
                }
            }
            None => {
                ui.weak("Cells and points appear here as each point finishes (the reference run trains the shared teacher first).");
            }
        }
        let spec = table.map_or_else(
            || sweep_spec(&SweepTable::planned(PathBuf::new(), &plan_axes(&plan))),
            sweep_spec,
        );
        let height = (ui.available_height() - 30.0).max(200.0);
        actions.extend(plot_ui(ui, "sweep", &spec, height));
        actions
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        running: bool,
        plan: &Result<SweepPlan, String>,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal(|ui| {
            ui.label("Preset");
            for preset in SWEEP_PRESETS {
                if ui
                    .button(preset.name)
                    .on_hover_text(format!(
                        "{} (axes only: the base is the launcher's configuration; load the `{}` preset there for the original)",
                        preset.description, preset.base
                    ))
                    .clicked()
                {
                    self.axis1 = preset.axes.first().copied().unwrap_or_default().into();
                    self.axis2 = preset.axes.get(1).copied().unwrap_or_default().into();
                }
            }
        });
        egui::Grid::new("sweep-axes").num_columns(2).show(ui, |ui| {
            ui.label("Axis 1");
            ui.add(egui::TextEdit::singleline(&mut self.axis1).desired_width(420.0))
                .on_hover_text("A setting and its values, e.g. distill.temperature=1,2,4 or student.hidden=[30,30],[100,100]");
            ui.end_row();
            ui.label("Axis 2");
            ui.add(egui::TextEdit::singleline(&mut self.axis2).desired_width(420.0))
                .on_hover_text("Optional: a second setting makes a map (e.g. distill.alpha=0.1,0.5,0.9)");
            ui.end_row();
        });
        ui.horizontal(|ui| {
            ui.label("Jobs");
            ui.add(egui::DragValue::new(&mut self.jobs).range(1..=64))
                .on_hover_text("Points trained at a time");
            let points = plan.as_ref().map_or(0, SweepPlan::len);
            let launch = ui
                .add_enabled(!running && plan.is_ok(), egui::Button::new("Launch sweep"))
                .on_hover_text(format!(
                    "The launcher's configuration × these axes: {points} points sharing one teacher"
                ));
            if launch.clicked() {
                if let Ok(plan) = plan {
                    actions.push(Action::StartSweep {
                        plan: Box::new(plan.clone()),
                        jobs: self.jobs.max(1),
                    });
                }
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel"))
                .clicked()
            {
                actions.push(Action::Cancel);
            }
            if ui
                .button("Open sweep folder…")
                .on_hover_text(
                    "A sweep folder from `distillery sweep` or a collected Slurm job array",
                )
                .clicked()
            {
                actions.push(Action::File(PendingFile::OpenSweep));
            }
        });
    }
}

fn plan_axes(plan: &Result<SweepPlan, String>) -> Vec<(String, Vec<String>)> {
    plan.as_ref().map_or_else(
        |_| Vec::new(),
        |p| {
            p.axes
                .iter()
                .map(|a| (a.key.clone(), a.values.clone()))
                .collect()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(point: usize, values: &[&str], student: usize, baseline: usize) -> SweepRow {
        SweepRow {
            point,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            status: PointStatus::Done,
            teacher_errors: Some(70),
            baseline_errors: Some(baseline),
            student_errors: Some(student),
            test_n: Some(10_000),
            run_dir: PathBuf::new(),
        }
    }

    fn axes(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn two_numeric_axes_fill_a_heatmap_cell_by_cell() {
        let mut t = SweepTable::planned(
            "s".into(),
            &axes(&[
                ("distill.temperature", &["1", "4"]),
                ("distill.alpha", &["0.1", "0.9"]),
            ]),
        );
        t.upsert(row(3, &["4", "0.9"], 80, 140));
        let map = sweep_spec(&t).heatmap.unwrap();
        assert_eq!(map.values, vec![vec![None, None], vec![None, Some(80.0)]]);
        t.upsert(row(0, &["1", "0.1"], 120, 140));
        let map = sweep_spec(&t).heatmap.unwrap();
        assert_eq!(map.values[0][0], Some(120.0));
        assert_eq!(map.best(), Some((1, 1)));
    }

    #[test]
    fn a_size_axis_is_a_log_curve_with_its_own_baseline_and_a_teacher_line() {
        let mut t = SweepTable::planned(
            "s".into(),
            &axes(&[
                ("transfer.limit", &["500", "5000"]),
                ("transfer.munge", &["false", "true"]),
            ]),
        );
        t.upsert(row(0, &["500", "false"], 300, 400));
        t.upsert(row(1, &["500", "true"], 250, 400));
        t.upsert(row(2, &["5000", "false"], 150, 200));
        let spec = sweep_spec(&t);
        assert!(spec.heatmap.is_none() && spec.log_x);
        let named: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            named,
            [
                "distilled student (munge=false)",
                "",
                "baseline (hard labels)",
                "",
                "distilled student (munge=true)",
                ""
            ]
        );
        assert_eq!(spec.series[0].points, vec![[500.0, 300.0], [5000.0, 150.0]]);
        assert_eq!(spec.series[2].points, vec![[500.0, 400.0], [5000.0, 200.0]]);
        assert_eq!(spec.series[4].points, vec![[500.0, 250.0]]);
        assert_eq!(
            spec.hlines,
            vec![HLine::new("teacher", 70.0, TEACHER_COLOR)]
        );
    }

    #[test]
    fn a_temperature_curve_has_baseline_and_teacher_lines() {
        let mut t =
            SweepTable::planned("s".into(), &axes(&[("distill.temperature", &["1", "20"])]));
        t.upsert(row(1, &["20"], 90, 140));
        let spec = sweep_spec(&t);
        assert!(spec.log_x);
        assert_eq!(spec.series[0].points, vec![[20.0, 90.0]]);
        let lines: Vec<&str> = spec.hlines.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(lines, ["baseline (hard labels)", "teacher"]);
    }
}
