//! Everything the window shows of a distillation method, drawn from the method registry
//! ([`crate::distill::methods`]): the launcher's method picker and the chosen method's fields,
//! the plane view's method buttons and fields, and the names and weights of its loss parts.
//! Nothing in `ui` matches on [`Method`]: a new method's fields appear here by themselves.

use crate::config::{DistillConfig, Method};
use crate::distill::methods::{self, FieldKind, LossLegend, MethodField};

/// The launcher's fields the chosen method may flag as invalid (shown under its grid).
pub fn launcher_fields(d: &DistillConfig) -> Vec<&'static str> {
    methods::get(d.method)
        .fields()
        .iter()
        .map(|f| f.key)
        .collect()
}

/// The launcher's method picker and the chosen method's fields, in a labelled grid.
pub fn launcher_method_ui(d: &mut DistillConfig, ui: &mut egui::Ui) {
    let name = ui.label("Method");
    method_combo_ui(ui, &mut d.method, 290.0).labelled_by(name.id);
    egui::Grid::new("distill")
        .num_columns(2)
        .show(ui, |ui| fields_grid_ui(ui, d));
}

/// The plane view's method buttons and the chosen method's fields, on one wrapped row.
pub fn plane_method_ui(d: &mut DistillConfig, ui: &mut egui::Ui) {
    method_buttons_ui(ui, &mut d.method);
    fields_inline_ui(ui, d);
}

/// Whether the method always grows the transfer set with MUNGE (its checkbox is then fixed).
pub fn forces_munge(method: Method) -> bool {
    methods::get(method).grows_transfer_set()
}

/// Whether the method fits the teacher's logits (the Live view then shows the probes' logits
/// beside their soft targets).
pub fn fits_logits(method: Method) -> bool {
    methods::get(method).matches_logits()
}

/// How the distilled student's plane panel names its method ("soft targets T = 4").
pub fn plane_title(d: &DistillConfig) -> String {
    methods::get(d.method).title(d)
}

/// The distilled student's loss parts as the loss curves draw them: each part's weight in
/// the total and its legend name.
pub fn loss_parts(d: &DistillConfig) -> LossLegend {
    methods::get(d.method).loss_legend(d)
}

/// A combo box of every registered method, showing their labels.
pub fn method_combo_ui(ui: &mut egui::Ui, method: &mut Method, width: f32) -> egui::Response {
    egui::ComboBox::from_id_salt("method")
        .selected_text(methods::get(*method).label())
        .width(width)
        .show_ui(ui, |ui| {
            for m in methods::REGISTRY {
                ui.selectable_value(method, m.method(), m.label())
                    .on_hover_text(m.tooltip());
            }
        })
        .response
}

/// A row of buttons, one per registered method, with their short names.
pub fn method_buttons_ui(ui: &mut egui::Ui, method: &mut Method) {
    for m in methods::REGISTRY {
        ui.selectable_value(method, m.method(), m.name())
            .on_hover_text(format!("{}: {}", m.label(), m.tooltip()));
    }
}

/// The widgets of one field (without its label); the responses, for labelling.
pub fn field_ui(
    ui: &mut egui::Ui,
    d: &mut DistillConfig,
    field: &MethodField,
) -> Vec<egui::Response> {
    let response = match field.kind {
        FieldKind::Number {
            min,
            max,
            speed,
            value,
        } => ui.add(egui::DragValue::new(value(d)).speed(speed).range(min..=max)),
        FieldKind::Count { min, max, value } => {
            ui.add(egui::DragValue::new(value(d)).speed(0.1).range(min..=max))
        }
        FieldKind::Fraction(value) => ui.add(egui::Slider::new(value(d), 0.0..=1.0)),
        FieldKind::Toggle { text, value } => ui.checkbox(value(d), text),
        FieldKind::Choice { options, get, set } => {
            let current = get(d);
            let responses: Vec<egui::Response> = options
                .iter()
                .enumerate()
                .map(|(i, option)| {
                    let r = ui.selectable_label(current == i, *option);
                    if r.clicked() {
                        set(d, i);
                    }
                    r
                })
                .collect();
            return responses;
        }
    };
    vec![response]
}

/// Every field of the configured method, each as a labelled row of `grid` (two columns).
pub fn fields_grid_ui(ui: &mut egui::Ui, d: &mut DistillConfig) {
    let method = methods::get(d.method);
    for field in method.fields() {
        let label = ui.label(field.label);
        if !field.tooltip.is_empty() {
            label.clone().on_hover_text(field.tooltip);
        }
        ui.horizontal(|ui| {
            for r in field_ui(ui, d, field) {
                let r = label_unnamed(r, field, label.id);
                if !field.tooltip.is_empty() {
                    r.on_hover_text(field.tooltip);
                }
            }
        });
        ui.end_row();
    }
}

/// Every field of the configured method inline (the plane's compact controls): each widget
/// after its label.
pub fn fields_inline_ui(ui: &mut egui::Ui, d: &mut DistillConfig) {
    let method = methods::get(d.method);
    for field in method.fields() {
        let label = ui.label(field.label);
        for r in field_ui(ui, d, field) {
            label_unnamed(r, field, label.id).on_hover_text(field.tooltip);
        }
    }
}

/// Names a number's widget after the field's label; a checkbox or an option keeps its own
/// text as its name (a screen reader, or a test, finds it by what it says).
fn label_unnamed(r: egui::Response, field: &MethodField, label: egui::Id) -> egui::Response {
    match field.kind {
        FieldKind::Number { .. } | FieldKind::Count { .. } | FieldKind::Fraction(_) => {
            r.labelled_by(label)
        }
        FieldKind::Toggle { .. } | FieldKind::Choice { .. } => r,
    }
}
