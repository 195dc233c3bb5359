//! Past runs from the runs folder: a table, an overlay of the selected runs' curves, and
//! buttons to reopen a run's configuration or use its student.

use crate::events::Phase;
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::runs::{ListedRun, RunStatus, StoredRun};

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::events::Slot;

use super::action::Action;
use super::ctx::{RunRow, ViewCtx};
use super::pending::PendingFile;
use super::plot::plot_ui;
use super::summary_text::others_text;
use super::theme::member_color;

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

/// Distilled-student test errors per epoch of each selected run, and in lighter shades of
/// the run's colour the other models a method trained beside it: TAKD's assistant, DML's
/// other students ("run student 2").
pub fn overlay_spec(runs: &[&StoredRun]) -> PlotSpec {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let curve = |phase: Phase, member: usize| -> Vec<[f64; 2]> {
            run.metrics
                .iter()
                .filter(|m| m.phase == phase && m.member == member && m.test_n > 0)
                .map(|m| [m.epoch as f64, m.test_errors as f64])
                .collect()
        };
        series.push(Series {
            name: run_name(run),
            kind: SeriesKind::Line,
            points: curve(Phase::Student, 0),
            color,
        });
        let mut others: Vec<(Phase, usize)> = run
            .metrics
            .iter()
            .filter(|m| m.phase == Phase::Assistant || (m.phase == Phase::Student && m.member > 0))
            .map(|m| (m.phase, m.member))
            .collect();
        others.sort();
        others.dedup();
        for (k, (phase, member)) in others.into_iter().enumerate() {
            let name = match phase {
                Phase::Assistant => format!("{} assistant", run_name(run)),
                _ => format!("{} student {}", run_name(run), member + 1),
            };
            series.push(Series {
                name,
                kind: SeriesKind::Line,
                points: curve(phase, member),
                color: member_color(color, 2 * k + 1),
            });
        }
    }
    PlotSpec {
        title: "Distilled student test errors, selected runs".into(),
        x_label: "epoch".into(),
        y_label: "test errors".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        ..PlotSpec::default()
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
        egui::ScrollArea::both()
            .max_height(ui.available_height() * 0.45)
            .show(ui, |ui| {
                self.table_ui(ui, ctx, &mut actions);
            });
        ui.separator();
        let selected: Vec<&StoredRun> = ctx
            .runs
            .runs
            .iter()
            .filter_map(|r| match &r.entry {
                ListedRun::Run(run) => Some(run.as_ref()),
                ListedRun::Unreadable { .. } => None,
            })
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

    fn table_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx, actions: &mut Vec<Action>) {
        // The folder of the run that is still training: deleting it would pull the files from
        // under the trainer.
        let active = ctx
            .live
            .filter(|l| l.is_running())
            .and_then(|l| l.dir.as_deref());
        egui::Grid::new("runs")
            .striped(true)
            .num_columns(12)
            .show(ui, |ui| {
                for header in [
                    "", "run", "status", "method", "T", "α", "teacher", "baseline", "student",
                    "time", "size", "",
                ] {
                    ui.strong(header);
                }
                ui.end_row();
                for row in &ctx.runs.runs {
                    match &row.entry {
                        ListedRun::Run(run) => self.run_row_ui(ui, run, row, active, actions),
                        ListedRun::Unreadable {
                            dir,
                            reason,
                            size_bytes,
                        } => self.unreadable_row_ui(ui, dir, reason, *size_bytes),
                    }
                    ui.end_row();
                }
            });
    }

    fn run_row_ui(
        &mut self,
        ui: &mut egui::Ui,
        run: &StoredRun,
        row: &RunRow,
        active: Option<&std::path::Path>,
        actions: &mut Vec<Action>,
    ) {
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
        status_ui(ui, run.status, run.status_message.as_deref());
        let s = run.summary.as_ref();
        // What the method trained besides the student (TAKD's assistant, DML's peers): on
        // hover over the method and the student's errors (a column more would push the
        // row's buttons out of a 1,400-pixel window).
        let others = s.and_then(others_text);
        let method = ui.label(run.config.distill.method.key());
        if let Some((cell, hover)) = &others {
            method.on_hover_text(format!("{cell}\n{hover}"));
        }
        ui.label(format!(
            "{}",
            s.map_or(run.config.distill.temperature, |s| s.temperature)
        ));
        ui.label(format!("{}", run.config.distill.alpha));
        ui.label(errors_text(s.map(|s| s.teacher.test_errors)));
        ui.label(errors_text(
            s.and_then(|s| s.baseline.as_ref()).map(|b| b.test_errors),
        ));
        let student = ui.label(errors_text(s.map(|s| s.student.test_errors)));
        if let Some((cell, hover)) = &others {
            student.on_hover_text(format!("{cell}\n{hover}"));
        }
        ui.label(s.map_or("–".into(), |s| format!("{:.0} s", s.duration_secs)));
        ui.label(size_text(run.size_bytes));
        ui.horizontal(|ui| {
            self.delete_button_ui(ui, &run.dir, active);
            if ui
                .small_button("Config")
                .on_hover_text("Load this run's configuration into the launcher")
                .clicked()
            {
                actions.push(Action::OpenConfig(Box::new(run.config.clone())));
            }
            if !run.probes.is_empty()
                && ui
                    .small_button("Replay")
                    .on_hover_text("Watch this run's soft targets epoch by epoch in the Live view")
                    .clicked()
            {
                actions.push(Action::ReplayRun(run.dir.clone()));
            }
            if let Some(student) = &row.student {
                if ui
                    .small_button("Playground")
                    .on_hover_text("Show this run's student in the temperature playground")
                    .clicked()
                {
                    actions.push(Action::LoadWeights {
                        slot: Slot::Student,
                        path: student.clone(),
                    });
                }
                if ui
                    .small_button("Export…")
                    .on_hover_text("Save a copy of this run's student weights")
                    .clicked()
                {
                    actions.push(Action::File(PendingFile::ExportWeights {
                        source: student.clone(),
                    }));
                }
            }
        });
    }

    fn unreadable_row_ui(
        &mut self,
        ui: &mut egui::Ui,
        dir: &std::path::Path,
        reason: &str,
        size_bytes: u64,
    ) {
        ui.label("");
        ui.label(
            dir.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        );
        ui.colored_label(ui.visuals().error_fg_color, "unreadable")
            .on_hover_text(reason);
        ui.label(reason.chars().take(60).collect::<String>())
            .on_hover_text(reason);
        for _ in 0..6 {
            ui.label("");
        }
        ui.label(size_text(size_bytes));
        self.delete_button_ui(ui, dir, None);
    }

    fn delete_button_ui(
        &mut self,
        ui: &mut egui::Ui,
        dir: &std::path::Path,
        active: Option<&std::path::Path>,
    ) {
        let training = active == Some(dir);
        if ui
            .add_enabled(!training, egui::Button::new("Delete…").small())
            .on_hover_text("Delete this run folder (asks first)")
            .on_disabled_hover_text("This run is still training: cancel it first")
            .clicked()
        {
            self.confirm_delete = Some(dir.to_owned());
        }
    }
}

/// How a run ended, coloured: failures and divergence stand out.
fn status_ui(ui: &mut egui::Ui, status: RunStatus, message: Option<&str>) {
    let color = match status {
        RunStatus::Finished => ui.visuals().text_color(),
        RunStatus::Cancelled | RunStatus::Unfinished => ui.visuals().weak_text_color(),
        RunStatus::Failed | RunStatus::Diverged => ui.visuals().error_fg_color,
    };
    let label = ui.colored_label(color, status.key());
    if let Some(message) = message.filter(|m| !m.is_empty()) {
        label.on_hover_text(message);
    }
}

/// Bytes as KB / MB / GB.
fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} KB", (b / 1e3).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EpochMetrics;

    fn row(
        phase: Phase,
        member: usize,
        epoch: usize,
        errors: usize,
        test_n: usize,
    ) -> EpochMetrics {
        EpochMetrics {
            phase,
            member,
            epoch,
            loss: 1.0,
            soft_loss: 0.0,
            hard_loss: 1.0,
            lr: 0.1,
            test_errors: errors,
            per_class_errors: Vec::new(),
            test_n,
            elapsed_secs: 1.0,
            gap: None,
        }
    }

    #[test]
    fn the_overlay_adds_each_runs_assistant_and_peers_beside_its_student() {
        let run = StoredRun {
            dir: "runs/r1".into(),
            config: crate::config::RunConfig::default(),
            summary: None,
            metrics: vec![
                row(Phase::Hint, 0, 1, 0, 0),
                row(Phase::Assistant, 0, 1, 300, 100),
                row(Phase::Student, 0, 1, 400, 100),
                row(Phase::Student, 1, 1, 410, 100),
                row(Phase::Student, 0, 2, 350, 100),
                row(Phase::Student, 1, 2, 360, 100),
            ],
            status: RunStatus::Finished,
            status_message: None,
            teacher_weights: None,
            size_bytes: 0,
            probes: Vec::new(),
        };
        let spec = overlay_spec(&[&run]);
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["r1", "r1 student 2", "r1 assistant"]);
        assert_eq!(spec.series[0].points, [[1.0, 400.0], [2.0, 350.0]]);
        assert_eq!(spec.series[1].points, [[1.0, 410.0], [2.0, 360.0]]);
        assert_eq!(spec.series[2].points, [[1.0, 300.0]]);
        assert_ne!(spec.series[1].color, spec.series[0].color);
    }
}
