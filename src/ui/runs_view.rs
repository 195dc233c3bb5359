//! Past runs from the runs folder: a table, an overlay of the selected runs' curves, and
//! buttons to reopen a run's configuration or use its student.

use crate::events::Phase;
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::runs::StoredRun;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::events::Slot;

use super::actions::Action;
use super::ctx::{ListedRun, ViewCtx};
use super::plot_ui;
use super::tasks::PendingFile;

const PALETTE: [[u8; 3]; 6] = [
    [60, 140, 230],
    [230, 140, 40],
    [80, 190, 120],
    [200, 60, 60],
    [160, 100, 220],
    [120, 120, 120],
];

fn run_name(run: &StoredRun) -> String {
    run.dir.file_name().map_or_else(
        || run.config.name.clone(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Distilled-student test errors per epoch of each selected run.
pub fn overlay_spec(runs: &[&StoredRun]) -> PlotSpec {
    let series = runs
        .iter()
        .enumerate()
        .map(|(i, run)| Series {
            name: run_name(run),
            kind: SeriesKind::Line,
            points: run
                .metrics
                .iter()
                .filter(|m| m.phase == Phase::Student && m.member == 0)
                .map(|m| [m.epoch as f64, m.test_errors as f64])
                .collect(),
            color: PALETTE[i % PALETTE.len()],
        })
        .collect();
    PlotSpec {
        title: "Distilled student test errors, selected runs".into(),
        x_label: "epoch".into(),
        y_label: "test errors".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        heatmap: None,
        y_max: None,
    }
}

fn errors_text(value: Option<usize>) -> String {
    value.map_or("–".into(), |v| v.to_string())
}

/// The runs view: which runs are overlaid, and a delete waiting for confirmation.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct RunsView {
    /// Runs selected for overlay.
    #[serde(skip)]
    pub selected: BTreeSet<PathBuf>,
    /// A run the user asked to delete, waiting for "Delete" or "Keep".
    #[serde(skip)]
    pub confirm_delete: Option<PathBuf>,
}

impl RunsView {
    /// Draws the runs view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} runs in {}",
                ctx.runs.runs.len(),
                ctx.runs_dir.display()
            ));
            if ctx.runs.loading {
                ui.spinner();
            }
            if ui.button("Refresh").clicked() {
                actions.push(Action::RefreshRuns);
            }
        });
        if let Some(dir) = self.confirm_delete.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("Delete {} and everything in it?", dir.display()),
                );
                if ui.button("Delete").clicked() {
                    self.selected.remove(&dir);
                    actions.push(Action::DeleteRun(dir));
                    self.confirm_delete = None;
                } else if ui.button("Keep").clicked() {
                    self.confirm_delete = None;
                }
            });
        }
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() * 0.45)
            .show(ui, |ui| {
                self.table_ui(ui, &ctx.runs.runs, &mut actions);
            });
        ui.separator();
        let selected: Vec<&StoredRun> = ctx
            .runs
            .runs
            .iter()
            .map(|r| &r.run)
            .filter(|r| self.selected.contains(&r.dir))
            .collect();
        if selected.is_empty() {
            ui.weak("Tick runs above to overlay their curves.");
        }
        let spec = overlay_spec(&selected);
        let height = (ui.available_height() - 30.0).max(200.0);
        actions.extend(plot_ui(ui, "runs-overlay", &spec, height));
        actions
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, runs: &[ListedRun], actions: &mut Vec<Action>) {
        egui::Grid::new("runs")
            .striped(true)
            .num_columns(10)
            .show(ui, |ui| {
                for header in [
                    "", "run", "method", "T", "α", "teacher", "baseline", "student", "time", "",
                ] {
                    ui.strong(header);
                }
                ui.end_row();
                for listed in runs {
                    let run = &listed.run;
                    let mut selected = self.selected.contains(&run.dir);
                    if ui
                        .checkbox(&mut selected, "")
                        .on_hover_text("Overlay this run's curve")
                        .changed()
                    {
                        if selected {
                            self.selected.insert(run.dir.clone());
                        } else {
                            self.selected.remove(&run.dir);
                        }
                    }
                    ui.label(run_name(run));
                    let s = run.summary.as_ref();
                    ui.label(run.config.distill.method.key());
                    ui.label(format!(
                        "{}",
                        s.map_or(run.config.distill.temperature, |s| s.temperature)
                    ));
                    ui.label(format!("{}", run.config.distill.alpha));
                    ui.label(errors_text(s.map(|s| s.teacher.test_errors)));
                    ui.label(errors_text(
                        s.and_then(|s| s.baseline.as_ref()).map(|b| b.test_errors),
                    ));
                    ui.label(errors_text(s.map(|s| s.student.test_errors)));
                    ui.label(
                        s.map_or("unfinished".into(), |s| format!("{:.0} s", s.duration_secs)),
                    );
                    ui.horizontal(|ui| {
                        if ui
                            .small_button("Open config")
                            .on_hover_text("Load this run's configuration into the launcher")
                            .clicked()
                        {
                            actions.push(Action::OpenConfig(Box::new(run.config.clone())));
                        }
                        if let Some(student) = &listed.student {
                            if ui.small_button("Show in playground").clicked() {
                                actions.push(Action::LoadWeights {
                                    slot: Slot::Student,
                                    path: student.clone(),
                                });
                            }
                            if ui.small_button("Export student…").clicked() {
                                actions.push(Action::File(PendingFile::ExportWeights {
                                    source: student.clone(),
                                }));
                            }
                        }
                        if ui
                            .small_button("Delete…")
                            .on_hover_text("Delete this run folder (asks first)")
                            .clicked()
                        {
                            self.confirm_delete = Some(run.dir.clone());
                        }
                    });
                    ui.end_row();
                }
            });
    }
}
