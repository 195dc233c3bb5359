//! Everything the window does differently for each distillation method, in one place: the
//! launcher's method picker and per-method fields, the plane view's method buttons and fields,
//! the names the plane's panel titles and the loss curves give a method's parts, and which
//! methods force MUNGE or fit logits. Nothing else in `ui` matches on [`Method`]; a method
//! registry that says each method's fields, labels and tooltips can replace this file whole.

use crate::config::{DistillConfig, Method, NoiseKind};

use super::widgets::grid_row;

/// The launcher's fields a method may flag as invalid (shown under its grid).
pub const LAUNCHER_FIELDS: [&str; 4] = [
    "distill.temperature",
    "distill.alpha",
    "distill.noise_sigma",
    "distill.noise_p",
];

/// The launcher's method picker and the chosen method's fields, in a labelled grid.
pub fn launcher_method_ui(d: &mut DistillConfig, ui: &mut egui::Ui) {
    let name = ui.label("Method");
    egui::ComboBox::from_id_salt("method")
        .selected_text(d.method.label())
        .width(290.0)
        .show_ui(ui, |ui| {
            for method in Method::ALL {
                ui.selectable_value(&mut d.method, method, method.label());
            }
        })
        .response
        .labelled_by(name.id);
    egui::Grid::new("distill").num_columns(2).show(ui, |ui| {
        if d.method == Method::Hinton {
            grid_row(ui, "Temperature T", "Soft targets are softmax(z / T). T = 1 is the ordinary softmax; higher T flattens it and exposes how the teacher ranks the wrong classes.", |ui| vec![ui.add(egui::DragValue::new(&mut d.temperature).speed(0.1).range(0.0..=1000.0))]);
            grid_row(ui, "α (weight of soft term)", "L = α·T²·KL(q || p_T) + (1−α)·CE(y, p). α weights the SOFT term here (Keras uses the opposite convention).", |ui| vec![ui.add(egui::Slider::new(&mut d.alpha, 0.0..=1.0))]);
            grid_row(ui, "T² factor", "Multiply the soft term by T² so its gradients keep their size as T changes (Hinton et al. §2).", |ui| vec![ui.checkbox(&mut d.t_squared, "scale soft term by T²")]);
        }
        if matches!(d.method, Method::LogitL2 | Method::NoisyTeacher) {
            grid_row(ui, "Zero-mean logits", "", |ui| vec![ui.checkbox(&mut d.zero_mean_logits, "centre each example's logits")]);
        }
        if d.method == Method::NoisyTeacher {
            grid_row(ui, "Noise σ", "v' = v·(1 + σ·ε) (multiplicative) or v + σ·ε (additive), ε ~ N(0, 1)", |ui| vec![ui.add(egui::DragValue::new(&mut d.noise_sigma).speed(0.01))]);
            grid_row(ui, "Noise probability p", "", |ui| vec![ui.add(egui::Slider::new(&mut d.noise_p, 0.0..=1.0))]);
            grid_row(ui, "Noise form", "", |ui| {
                vec![
                    ui.selectable_value(&mut d.noise_kind, NoiseKind::Multiplicative, "multiplicative"),
                    ui.selectable_value(&mut d.noise_kind, NoiseKind::Additive, "additive"),
                ]
            });
        }
        if d.method == Method::ModelCompression {
            grid_row(ui, "Synthetic labels", "", |ui| vec![ui.checkbox(&mut d.soft_labels, "teacher probabilities (else hard labels)")]);
        }
    });
}

/// Short names of the methods on the plane view's buttons.
fn button_name(method: Method) -> &'static str {
    match method {
        Method::Hinton => "Soft targets",
        Method::LogitL2 => "Logit L2",
        Method::NoisyTeacher => "Noisy teacher",
        Method::ModelCompression => "MUNGE",
    }
}

/// The plane view's method buttons and the chosen method's fields, on one wrapped row.
pub fn plane_method_ui(d: &mut DistillConfig, ui: &mut egui::Ui) {
    for method in Method::ALL {
        ui.selectable_value(&mut d.method, method, button_name(method))
            .on_hover_text(method.label());
    }
    match d.method {
        Method::Hinton => {
            ui.add(
                egui::DragValue::new(&mut d.temperature)
                    .range(0.1..=100.0)
                    .speed(0.1)
                    .prefix("training T "),
            );
            ui.add(egui::Slider::new(&mut d.alpha, 0.0..=1.0).text("α (soft weight)"));
            ui.checkbox(&mut d.t_squared, "× T²");
        }
        Method::LogitL2 => {
            ui.checkbox(&mut d.zero_mean_logits, "zero-mean logits");
        }
        Method::NoisyTeacher => {
            ui.add(egui::Slider::new(&mut d.noise_sigma, 0.0..=2.0).text("σ"));
            ui.add(egui::Slider::new(&mut d.noise_p, 0.0..=1.0).text("p"));
        }
        Method::ModelCompression => {
            ui.checkbox(&mut d.soft_labels, "teacher's probabilities as labels");
        }
    }
}

/// Whether the method always grows the transfer set with MUNGE (its checkbox is then fixed).
pub fn forces_munge(method: Method) -> bool {
    method == Method::ModelCompression
}

/// Whether the method fits the teacher's logits (the Live view then shows the probes' logits
/// beside their soft targets).
pub fn fits_logits(method: Method) -> bool {
    matches!(method, Method::LogitL2 | Method::NoisyTeacher)
}

/// How the distilled student's plane panel names its method: "soft targets T = 4", else the
/// method's key.
pub fn plane_title(d: &DistillConfig) -> String {
    match d.method {
        Method::Hinton => format!("soft targets T = {}", d.temperature),
        other => other.key().to_owned(),
    }
}

/// The distilled student's loss split into its soft and hard parts, as the loss curves draw
/// them: each part's weight in the total and its legend name.
pub struct LossParts {
    /// Weight of the soft part (`soft_loss`) in the total.
    pub soft_weight: f64,
    /// Weight of the hard part (`hard_loss`) in the total.
    pub hard_weight: f64,
    /// Legend name of the soft part.
    pub soft_name: String,
    /// Legend name of the hard part.
    pub hard_name: String,
}

/// The loss parts of `d`'s method: for soft targets as they enter the loss, `α·T²·KL`
/// (`α·KL` without the T² factor) and `(1 − α)·CE`, which add up to the total; for the other
/// methods both parts unweighted.
pub fn loss_parts(d: &DistillConfig) -> LossParts {
    if d.method != Method::Hinton {
        return LossParts {
            soft_weight: 1.0,
            hard_weight: 1.0,
            soft_name: "student soft part".to_owned(),
            hard_name: "student hard part".to_owned(),
        };
    }
    let scale = if d.t_squared {
        d.temperature * d.temperature
    } else {
        1.0
    };
    let soft_name = if d.t_squared {
        format!(
            "student soft part α·T²·KL (α={}, T²={})",
            d.alpha,
            d.temperature * d.temperature
        )
    } else {
        format!("student soft part α·KL (α={:.2})", d.alpha)
    };
    LossParts {
        soft_weight: d.alpha * scale,
        hard_weight: 1.0 - d.alpha,
        soft_name,
        hard_name: format!("student hard part (1−α)·CE (1−α={:.2})", 1.0 - d.alpha),
    }
}
