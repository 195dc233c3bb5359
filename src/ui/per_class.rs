//! Per-class test errors of teacher and student, and the bias adjustment of Hinton et al. §3:
//! shift chosen classes' output bias and watch the student's errors change, recomputed from
//! cached logits every frame; "best shift" searches the shift that minimises test errors (in
//! the background: some 400 evaluations of the test set).

use serde::{Deserialize, Serialize};

use crate::distill::bias::evaluate_with_shift;
use crate::eval::{evaluate_logits, Evaluation};
use crate::export::{PlotSpec, Series, SeriesKind};

use super::action::Action;
use super::ctx::{ModelLogits, ViewCtx};
use super::plot::plot_ui;
use super::theme::{STUDENT_COLOR, TEACHER_COLOR};

const ADJUSTED_COLOR: [u8; 3] = [80, 190, 120];

fn bars(name: &str, eval: &Evaluation, color: [u8; 3]) -> Series {
    Series {
        name: name.into(),
        kind: SeriesKind::Bars,
        points: eval
            .per_class_errors
            .iter()
            .enumerate()
            .map(|(c, e)| [c as f64, *e as f64])
            .collect(),
        color,
    }
}

fn evaluate(model: &ModelLogits, labels: &[u8]) -> Evaluation {
    evaluate_logits(&model.logits, labels, model.classes)
}

/// The per-class view.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct PerClassView {
    /// Classes whose bias is shifted.
    pub bias_classes: [bool; 10],
    /// The bias shift.
    pub bias_shift: f64,
    /// A best-shift search is running.
    #[serde(skip)]
    pub searching: bool,
}

impl Default for PerClassView {
    fn default() -> Self {
        let mut bias_classes = [false; 10];
        bias_classes[3] = true;
        Self {
            bias_classes,
            bias_shift: 0.0,
            searching: false,
        }
    }
}

impl PerClassView {
    /// The classes ticked for the shift.
    pub fn classes(&self) -> Vec<u8> {
        (0..10u8)
            .filter(|c| self.bias_classes[usize::from(*c)])
            .collect()
    }

    /// Draws the per-class view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(test) = ctx.test else {
            ui.label("No test set loaded.");
            return actions;
        };
        let labels = &test.labels;
        let classes = self.classes();
        ui.horizontal(|ui| {
            ui.label("Shift the output bias of classes");
            for (c, on) in self.bias_classes.iter_mut().enumerate() {
                ui.checkbox(on, c.to_string());
            }
        });
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = 360.0;
            ui.add(egui::Slider::new(&mut self.bias_shift, -15.0..=15.0).text("bias shift"))
                .on_hover_text(
                    "Added to the chosen classes' logits (the paper: +3.5 on class 3; −7.6 on 7 and 8)",
                );
            let best = ui
                .add_enabled(
                    ctx.student.is_some() && !classes.is_empty() && !self.searching,
                    egui::Button::new("Best shift"),
                )
                .on_hover_text("Search −20…20 for the shift with the fewest test errors");
            if best.clicked() {
                actions.push(Action::FindBestShift(classes.clone()));
            }
            if self.searching {
                ui.spinner();
            }
            if ui.button("Reset").clicked() {
                self.bias_shift = 0.0;
            }
        });
        let mut series = Vec::new();
        let mut lines = Vec::new();
        if let Some(teacher) = ctx.teacher {
            let eval = evaluate(teacher, labels);
            lines.push(format!("teacher: {} errors", eval.errors));
            series.push(bars("teacher", &eval, TEACHER_COLOR));
        }
        if let Some(student) = ctx.student {
            let eval = evaluate(student, labels);
            lines.push(format!("student: {} errors", eval.errors));
            series.push(bars("student", &eval, STUDENT_COLOR));
            if !classes.is_empty() && self.bias_shift != 0.0 {
                let shifted = evaluate_with_shift(
                    &student.logits,
                    labels,
                    student.classes,
                    &classes,
                    self.bias_shift,
                );
                let on_chosen: usize = classes
                    .iter()
                    .map(|c| shifted.per_class_errors[usize::from(*c)])
                    .sum();
                lines.push(format!(
                    "student after {:+.1} on {classes:?}: {} errors ({on_chosen} on those classes)",
                    self.bias_shift, shifted.errors
                ));
                series.push(bars("student, bias shifted", &shifted, ADJUSTED_COLOR));
            }
        }
        if series.is_empty() {
            ui.weak("Loading teacher and student logits…");
        }
        for line in &lines {
            ui.label(line);
        }
        ui.weak("Tip: load a student trained with the omit-3 preset (Runs view: Show in playground) and raise class 3.");
        let spec = PlotSpec {
            title: "Test errors per class".into(),
            x_label: "true class".into(),
            y_label: "test errors".into(),
            log_x: false,
            series,
            hlines: Vec::new(),
            ..PlotSpec::default()
        };
        let height = (ui.available_height() - 30.0).max(200.0);
        actions.extend(plot_ui(ui, "per-class", &spec, height));
        actions
    }
}
