//! Per-class test errors of teacher and student, and the bias adjustment of Hinton et al. §3:
//! shift chosen classes' output bias and watch the student's errors change, recomputed from
//! cached logits every frame; "best shift" searches the shift that minimises test errors.

use crate::distill::bias::{best_shift, evaluate_with_shift};
use crate::eval::{evaluate_logits, Evaluation};
use crate::export::{PlotSpec, Series, SeriesKind};

use super::app::{Action, DistilleryApp, ModelLogits};
use super::playground::{STUDENT_COLOR, TEACHER_COLOR};

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

/// Draws the per-class view.
pub fn per_class_ui(app: &mut DistilleryApp, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    let Some(test) = app.test.clone() else {
        ui.label("No test set loaded.");
        return;
    };
    let labels = &test.labels;
    let classes: Vec<u8> = (0..10u8)
        .filter(|c| app.state.bias_classes[usize::from(*c)])
        .collect();
    ui.horizontal(|ui| {
        ui.label("Shift the output bias of classes");
        for (c, on) in app.state.bias_classes.iter_mut().enumerate() {
            ui.checkbox(on, c.to_string());
        }
    });
    ui.horizontal(|ui| {
        ui.spacing_mut().slider_width = 360.0;
        ui.add(egui::Slider::new(&mut app.state.bias_shift, -15.0..=15.0).text("bias shift"))
            .on_hover_text(
                "Added to the chosen classes' logits (the paper: +3.5 on class 3; −7.6 on 7 and 8)",
            );
        let best = ui
            .add_enabled(
                app.student.is_some() && !classes.is_empty(),
                egui::Button::new("Best shift"),
            )
            .on_hover_text("Search −20…20 for the shift with the fewest test errors");
        if best.clicked() {
            if let Some(student) = &app.student {
                app.state.bias_shift =
                    best_shift(&student.logits, labels, student.classes, &classes).0;
            }
        }
        if ui.button("Reset").clicked() {
            app.state.bias_shift = 0.0;
        }
    });
    let mut series = Vec::new();
    let mut lines = Vec::new();
    if let Some(teacher) = &app.teacher {
        let eval = evaluate(teacher, labels);
        lines.push(format!("teacher: {} errors", eval.errors));
        series.push(bars("teacher", &eval, TEACHER_COLOR));
    }
    if let Some(student) = &app.student {
        let eval = evaluate(student, labels);
        lines.push(format!("student: {} errors", eval.errors));
        series.push(bars("student", &eval, STUDENT_COLOR));
        if !classes.is_empty() && app.state.bias_shift != 0.0 {
            let shifted = evaluate_with_shift(
                &student.logits,
                labels,
                student.classes,
                &classes,
                app.state.bias_shift,
            );
            let on_chosen: usize = classes
                .iter()
                .map(|c| shifted.per_class_errors[usize::from(*c)])
                .sum();
            lines.push(format!(
                "student after {:+.1} on {classes:?}: {} errors ({on_chosen} on those classes)",
                app.state.bias_shift, shifted.errors
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
    };
    let height = (ui.available_height() - 30.0).max(200.0);
    super::plot_ui(ui, "per-class", &spec, height, actions);
}
