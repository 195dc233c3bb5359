//! The plane view's settings: dataset, method and its parameters, transfer set, models, and
//! the Train / Cancel buttons. They edit the view's own configuration; Train hands a copy to
//! the app.

use crate::config::{PlaneKind, TransferKind};
use crate::ui::action::Action;
use crate::ui::ctx::ViewCtx;
use crate::ui::list_text::parse_list;
use crate::ui::live_run::{LiveRun, RunStatus};
use crate::ui::methods::{forces_munge, plane_method_ui};

use super::view::PlaneView;

impl PlaneView {
    /// Draws the settings and the Train / Cancel buttons.
    pub(super) fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &ViewCtx,
        live: Option<&LiveRun>,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        self.dataset_ui(ui);
        self.method_ui(ui);
        self.transfer_ui(ui);
        self.models_ui(ui);
        let problem = self
            .apply_widths()
            .err()
            .or_else(|| self.config.validate().err().map(|e| e.to_string()));
        ui.horizontal(|ui| {
            let running = ctx.running();
            let train = ui
                .add_enabled(!running && problem.is_none(), egui::Button::new("Train"))
                .on_hover_text("Trains the teacher, then the baseline and the distilled student; panels redraw as they learn");
            if train.clicked() {
                actions.push(Action::StartPlane(Box::new(self.config.clone())));
            }
            if ui.add_enabled(running, egui::Button::new("Cancel")).clicked() {
                actions.push(Action::Cancel);
            }
            if let Some(problem) = &problem {
                ui.colored_label(ui.visuals().error_fg_color, format!("! {problem}"));
            } else if let Some(live) = live {
                let text = match &live.status {
                    RunStatus::Running => format!(
                        "training {} · {:.1} s",
                        live.phase.map_or("…", |p| p.key()),
                        live.elapsed_secs()
                    ),
                    RunStatus::Finished(s) => {
                        format!("done in {:.2} s · {}", s.duration_secs, s.dir.display())
                    }
                    RunStatus::Failed(m) => format!("failed: {m}"),
                    RunStatus::Cancelled => "cancelled".into(),
                };
                ui.weak(text);
            }
        });
        actions
    }

    fn dataset_ui(&mut self, ui: &mut egui::Ui) {
        let p = &mut self.config.data.plane;
        ui.horizontal_wrapped(|ui| {
            ui.strong("Data");
            for kind in PlaneKind::ALL {
                ui.selectable_value(&mut p.kind, kind, kind.key());
            }
            let range = p.kind.class_range();
            if range.start() != range.end() {
                p.classes = p.classes.clamp(*range.start(), *range.end());
                ui.add(egui::Slider::new(&mut p.classes, range).text("classes"));
            }
            ui.add(
                egui::DragValue::new(&mut p.train)
                    .range(20..=20_000)
                    .prefix("points "),
            );
            ui.add(egui::Slider::new(&mut p.noise, 0.0..=0.5).text("noise"));
            ui.add(egui::DragValue::new(&mut p.seed).prefix("data seed "));
        });
    }

    fn method_ui(&mut self, ui: &mut egui::Ui) {
        let c = &mut self.config;
        ui.horizontal_wrapped(|ui| {
            ui.strong("Method");
            plane_method_ui(&mut c.distill, ui);
            if c.uses_munge() {
                let m = &mut c.transfer.munge_params;
                ui.label("MUNGE");
                ui.add(egui::Slider::new(&mut m.p, 0.0..=1.0).text("p"));
                ui.add(
                    egui::DragValue::new(&mut m.s)
                        .range(0.1..=100.0)
                        .speed(0.1)
                        .prefix("s "),
                );
                ui.add(egui::DragValue::new(&mut m.k).range(1..=20).prefix("k "));
            }
        });
    }

    fn transfer_ui(&mut self, ui: &mut egui::Ui) {
        let c = &mut self.config;
        let train = c.data.plane.train;
        let classes = c.data.classes();
        ui.horizontal_wrapped(|ui| {
            ui.strong("Students see");
            let mut labelled = c.transfer.limit.unwrap_or(train).min(train);
            ui.add(egui::Slider::new(&mut labelled, 1..=train).text("labelled points"))
                .on_hover_text("The teacher learns from every point; baseline and distilled student only from the first N");
            c.transfer.limit = (labelled < train).then_some(labelled);
            let compression = forces_munge(c.distill.method);
            let mut munge = c.uses_munge();
            ui.add_enabled(!compression, egui::Checkbox::new(&mut munge, "+ MUNGE points"))
                .on_hover_text("Grow the transfer set with synthetic points labelled by the teacher");
            if !compression {
                c.transfer.munge = munge;
            }
            let mut omitted = (c.transfer.kind == TransferKind::Omit)
                .then(|| c.transfer.classes.first().copied())
                .flatten();
            egui::ComboBox::from_label("omitted class")
                .selected_text(omitted.map_or("none".into(), |k| k.to_string()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut omitted, None, "none");
                    for k in 0..classes as u8 {
                        ui.selectable_value(&mut omitted, Some(k), k.to_string());
                    }
                });
            match omitted.filter(|k| usize::from(*k) < classes) {
                Some(k) => {
                    c.transfer.kind = TransferKind::Omit;
                    c.transfer.classes = vec![k];
                    c.bias.classes = vec![k];
                    c.bias.search = true;
                }
                None => {
                    c.transfer.kind = TransferKind::Full;
                    c.transfer.classes.clear();
                    c.bias.classes.clear();
                }
            }
        });
    }

    fn models_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Teacher");
            ui.add(egui::TextEdit::singleline(&mut self.teacher_text).desired_width(60.0))
                .on_hover_text("Hidden widths, e.g. 64, 64");
            let t = &mut self.config.teacher;
            ui.add(
                egui::DragValue::new(&mut t.ensemble)
                    .range(1..=8)
                    .prefix("× "),
            )
            .on_hover_text("Ensemble members (differ only in their seed)");
            ui.add(
                egui::DragValue::new(&mut t.epochs)
                    .range(1..=2000)
                    .suffix(" epochs"),
            );
            ui.strong("Student");
            ui.add(egui::TextEdit::singleline(&mut self.student_text).desired_width(60.0))
                .on_hover_text("Hidden widths, e.g. 16, 16");
            let s = &mut self.config.student;
            ui.add(
                egui::DragValue::new(&mut s.epochs)
                    .range(1..=5000)
                    .suffix(" epochs"),
            );
            ui.add(egui::DragValue::new(&mut self.config.seed).prefix("seed "));
        });
    }

    /// Copies the typed widths into the configuration; the error names the bad field.
    fn apply_widths(&mut self) -> Result<(), String> {
        let teacher: Vec<usize> = parse_list(&self.teacher_text, "a width")
            .map_err(|e| format!("teacher widths: {e}"))?;
        let student: Vec<usize> = parse_list(&self.student_text, "a width")
            .map_err(|e| format!("student widths: {e}"))?;
        self.config.teacher.hidden = teacher;
        self.config.student.hidden = student;
        Ok(())
    }
}
