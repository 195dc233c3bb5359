//! The launcher's foot: the memory the run is estimated to need, why it cannot start,
//! Start / Cancel, and the live run's progress or how it ended.

use crate::config::memory::{estimate, format_bytes, DataShape};
use crate::config::RunConfig;
use crate::ui::action::Action;
use crate::ui::ctx::ViewCtx;
use crate::ui::live_run::{LiveRun, RunStatus};
use crate::ui::pending::PendingFile;
use crate::ui::summary_text::others_text;
use crate::ui::widgets::screen_text;

use super::form::FormError;

/// The run's estimated peak memory, as information: "needs about 600 MB of memory (12 GB
/// available)", in the warning colour when it is more than was available. The session checks
/// the real data's shape again when the run starts.
pub fn memory_ui(ui: &mut egui::Ui, config: &RunConfig, available_bytes: u64) {
    let need = estimate(config, &DataShape::assumed(config));
    let (need_text, available_text) = (
        format_bytes(need.bytes),
        format_bytes(available_bytes as f64),
    );
    let text = egui::RichText::new(if need.bytes > available_bytes as f64 {
        format!("needs about {need_text} of memory, more than the {available_text} available")
    } else {
        format!("needs about {need_text} of memory ({available_text} available)")
    })
    .small();
    let text = if need.bytes > available_bytes as f64 {
        text.color(ui.visuals().warn_fg_color)
    } else {
        text.weak()
    };
    ui.label(text).on_hover_text(format!(
        "Estimated peak memory of the run on MNIST-sized data, most of it for {} (memory available when the window opened)",
        need.field
    ));
}

/// Why the run cannot start, Start / Cancel, and the live run's state.
pub fn controls_ui(
    ctx: &ViewCtx,
    ui: &mut egui::Ui,
    actions: &mut Vec<Action>,
    errors: &FormError,
) {
    let running = ctx.running();
    if let Some((field, problem)) = errors {
        let text = if field.is_empty() {
            problem.clone()
        } else {
            format!("{field}: {problem}")
        };
        ui.colored_label(ui.visuals().error_fg_color, format!("Cannot start: {text}"));
    }
    ui.horizontal(|ui| {
        let start = ui.add_enabled(!running && errors.is_none(), egui::Button::new("Start run"));
        if start.clicked() {
            actions.push(Action::StartRun);
        }
        if ui
            .add_enabled(running, egui::Button::new("Cancel"))
            .clicked()
        {
            actions.push(Action::Cancel);
        }
    });
    if let Some(live) = ctx.live {
        actions.extend(status_ui(ui, live));
    }
}

/// The live run's progress bars while it runs, else how it ended.
fn status_ui(ui: &mut egui::Ui, live: &LiveRun) -> Option<Action> {
    match &live.status {
        RunStatus::Running => progress_ui(ui, live),
        RunStatus::Finished(summary) => {
            let label = ui.label(format!(
                "Finished in {:.0} s: teacher {}, baseline {}, student {}{}",
                summary.duration_secs,
                summary.teacher.test_errors,
                summary
                    .baseline
                    .as_ref()
                    .map_or("-".into(), |b| b.test_errors.to_string()),
                summary.student.test_errors,
                others_text(summary).map_or(String::new(), |(cell, _)| format!(" · {cell}"))
            ));
            if let Some((_, hover)) = others_text(summary) {
                label.on_hover_text(hover);
            }
            if ui.button("Export student weights…").clicked() {
                return Some(Action::File(PendingFile::ExportWeights {
                    source: summary.dir.join("student.safetensors"),
                }));
            }
        }
        RunStatus::Failed(message) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Run failed: {message}"),
            );
        }
        RunStatus::Cancelled => {
            ui.label("Run cancelled.");
        }
    }
    None
}

/// The sweep's points and the phase's epochs as progress bars, the loss and the time.
fn progress_ui(ui: &mut egui::Ui, live: &LiveRun) {
    if let Some(sweep) = &live.sweep {
        let (done, all) = (sweep.rows.len(), sweep.planned_points().max(1));
        ui.add(
            egui::ProgressBar::new(done as f32 / all as f32)
                .text(format!("sweep: {done} of {all} points")),
        );
    }
    let left = live
        .phase_secs_left()
        .map_or(String::new(), |s| format!(", ~{s:.0} s left in phase"));
    ui.add(
        egui::ProgressBar::new(live.phase_fraction() as f32).text(format!(
            "{} epoch {}/{}{left}",
            screen_text(&live.phase_label()),
            live.epoch,
            live.epochs
        )),
    );
    ui.weak(format!(
        "loss {:.4} · {:.0} s elapsed",
        live.loss,
        live.elapsed_secs()
    ));
}
