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
            .num_columns(13)
            .show(ui, |ui| {
                for header in [
                    "",
                    "run",
                    "status",
                    "method",
                    "T",
                    "α",
                    "teacher",
                    "baseline",
                    "student",
                    "assistant / peers",
                    "time",
                    "size",
                    "",
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
        match s.and_then(others_text) {
            Some((cell, hover)) => {
                ui.label(cell).on_hover_text(hover);
            }
            None => {
                ui.label("–");
            }
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
        for _ in 0..7 {
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
