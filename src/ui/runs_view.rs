//! Past runs from the runs folder: a table, an overlay of the selected runs' curves, and
//! buttons to reopen a run's configuration or use its student.

use crate::events::Phase;
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::runs::StoredRun;

use super::app::{Action, DistilleryApp};

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
    }
}

fn errors_text(value: Option<usize>) -> String {
    value.map_or("–".into(), |v| v.to_string())
}

fn table_ui(app: &mut DistilleryApp, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
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
            for run in &app.runs {
                let mut selected = app.selected_runs.contains(&run.dir);
                if ui
                    .checkbox(&mut selected, "")
                    .on_hover_text("Overlay this run's curve")
                    .changed()
                {
                    if selected {
                        app.selected_runs.insert(run.dir.clone());
                    } else {
                        app.selected_runs.remove(&run.dir);
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
                ui.label(s.map_or("unfinished".into(), |s| format!("{:.0} s", s.duration_secs)));
                ui.horizontal(|ui| {
                    if ui
                        .small_button("Open config")
                        .on_hover_text("Load this run's configuration into the launcher")
                        .clicked()
                    {
                        actions.push(Action::OpenConfig(Box::new(run.config.clone())));
                    }
                    let student = run.dir.join("student.safetensors");
                    if student.is_file() {
                        if ui.small_button("Show in playground").clicked() {
                            actions.push(Action::LoadWeights {
                                slot: "student".into(),
                                path: student.clone(),
                            });
                        }
                        if ui.small_button("Export student…").clicked() {
                            actions.push(Action::ExportWeights { source: student });
                        }
                    }
                });
                ui.end_row();
            }
        });
}

/// Draws the runs view.
pub fn runs_ui(app: &mut DistilleryApp, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} runs in {}",
            app.runs.len(),
            app.state.runs_dir.display()
        ));
        if ui.button("Refresh").clicked() {
            actions.push(Action::RefreshRuns);
        }
    });
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() * 0.45)
        .show(ui, |ui| {
            table_ui(app, ui, actions);
        });
    ui.separator();
    let selected: Vec<&StoredRun> = app
        .runs
        .iter()
        .filter(|r| app.selected_runs.contains(&r.dir))
        .collect();
    if selected.is_empty() {
        ui.weak("Tick runs above to overlay their curves.");
    }
    let spec = overlay_spec(&selected);
    let height = (ui.available_height() - 30.0).max(200.0);
    super::plot_ui(ui, "runs-overlay", &spec, height, actions);
}
