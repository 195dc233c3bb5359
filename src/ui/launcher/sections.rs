//! The launcher's sections: the preset picker, the teacher and the student, the transfer set
//! and the probe images. Each edits the configuration in place and flags its own fields.

use crate::config::{RunConfig, TeacherConfig, TransferKind};
use crate::presets::PRESETS;
use crate::ui::defaults::shipped;
use crate::ui::methods::forces_munge;
use crate::ui::widgets::grid_row;

use super::form::{flag, flag_all, FormError};
use super::text::LauncherText;

/// The preset picker; returns the preset chosen this frame.
pub fn preset_ui(ui: &mut egui::Ui, current: &str) -> Option<String> {
    let mut chosen = None;
    ui.horizontal(|ui| {
        let name = ui.label("Preset");
        egui::ComboBox::from_id_salt("preset")
            .selected_text(current.to_owned())
            .show_ui(ui, |ui| {
                for preset in PRESETS {
                    if ui
                        .selectable_label(current == preset.name, preset.name)
                        .on_hover_text(preset.description)
                        .clicked()
                    {
                        chosen = Some(preset.name.to_owned());
                    }
                }
            })
            .response
            .labelled_by(name.id);
    });
    chosen
}

/// A drag value with a `0.01` step clamped to a dropout probability.
fn dropout(value: &mut f64) -> egui::DragValue<'_> {
    egui::DragValue::new(value).speed(0.01).range(0.0..=0.95)
}

/// The teacher: the shipped one or trained here, its widths, ensemble, regularisation and
/// schedule.
pub fn teacher_ui(
    c: &mut RunConfig,
    text: &mut LauncherText,
    ui: &mut egui::Ui,
    errors: &FormError,
) {
    let shipped = shipped(crate::assets::TEACHER);
    egui::CollapsingHeader::new("Teacher")
        .default_open(true)
        .show(ui, |ui| {
            let mut reuse = c.teacher.weights.is_some();
            if ui
                .checkbox(&mut reuse, "use the shipped pretrained teacher")
                .on_hover_text("Skip teacher training: load assets/teacher.safetensors")
                .changed()
            {
                c.teacher.weights = reuse.then(|| shipped.clone());
            }
            teacher_grid_ui(ui, &mut c.teacher, &mut text.teacher_hidden);
            flag_all(
                ui,
                errors,
                &[
                    "teacher.hidden",
                    "teacher.epochs",
                    "teacher.optim.lr",
                    "teacher.ensemble",
                    "teacher.dropout_input",
                    "teacher.dropout_hidden",
                ],
            );
        });
}

/// The teacher's widths, ensemble, dropout, jitter, epochs and learning rate, in a grid.
fn teacher_grid_ui(ui: &mut egui::Ui, t: &mut TeacherConfig, hidden: &mut String) {
    egui::Grid::new("teacher").num_columns(2).show(ui, |ui| {
        grid_row(ui, "Hidden widths", "", |ui| {
            vec![ui.text_edit_singleline(hidden)]
        });
        grid_row(ui, "Ensemble size", "", |ui| {
            vec![ui.add(egui::DragValue::new(&mut t.ensemble).range(1..=10))]
        });
        grid_row(
            ui,
            "Dropout input / hidden",
            "Dropout probability on the input pixels and on hidden units",
            |ui| {
                ui.horizontal(|ui| {
                    vec![
                        ui.add(dropout(&mut t.dropout_input)),
                        ui.add(dropout(&mut t.dropout_hidden)),
                    ]
                })
                .inner
            },
        );
        grid_row(ui, "Jitter (± px)", "", |ui| {
            vec![ui.add(egui::DragValue::new(&mut t.jitter_px).range(0..=8))]
        });
        grid_row(ui, "Epochs", "", |ui| {
            vec![ui.add(egui::DragValue::new(&mut t.epochs).range(0..=1000))]
        });
        grid_row(ui, "Learning rate", "", |ui| {
            vec![ui.add(egui::DragValue::new(&mut t.optim.lr).speed(0.001))]
        });
    });
}

/// The student: widths, schedule, the baseline, the seed and the training subset.
pub fn student_ui(
    c: &mut RunConfig,
    text: &mut LauncherText,
    ui: &mut egui::Ui,
    errors: &FormError,
) {
    egui::CollapsingHeader::new("Student")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("student").num_columns(2).show(ui, |ui| {
                grid_row(ui, "Hidden widths", "", |ui| {
                    vec![ui.text_edit_singleline(&mut text.student_hidden)]
                });
                grid_row(ui, "Epochs", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.student.epochs).range(0..=1000))]
                });
                grid_row(ui, "Learning rate", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.student.optim.lr).speed(0.001))]
                });
                grid_row(ui, "Baseline", "", |ui| {
                    vec![ui.checkbox(&mut c.student.baseline, "also train on hard labels")]
                });
                grid_row(ui, "Seed", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.seed))]
                });
                grid_row(
                    ui,
                    "Training subset",
                    "Train on the first N training images only (faster demos)",
                    |ui| {
                        ui.horizontal(|ui| train_limit_ui(ui, &mut c.data.train_limit))
                            .inner
                    },
                );
            });
            flag_all(
                ui,
                errors,
                &[
                    "student.hidden",
                    "student.epochs",
                    "student.optim.lr",
                    "data.train_limit",
                ],
            );
        });
}

/// "first [N]" training images: a checkbox and, when checked, the number.
fn train_limit_ui(ui: &mut egui::Ui, limit: &mut Option<usize>) -> Vec<egui::Response> {
    let mut limited = limit.is_some();
    let mut responses = vec![ui.checkbox(&mut limited, "first")];
    if responses[0].changed() {
        *limit = limited.then_some(10_000);
    }
    if let Some(n) = limit.as_mut() {
        responses.push(ui.add(egui::DragValue::new(n).range(0..=60_000).speed(100)));
    }
    responses
}

/// The transfer set: which classes, how many examples, shifted images and MUNGE.
pub fn transfer_ui(
    c: &mut RunConfig,
    text: &mut LauncherText,
    ui: &mut egui::Ui,
    errors: &FormError,
) {
    egui::CollapsingHeader::new("Transfer set")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut c.transfer.kind, TransferKind::Full, "full");
                ui.selectable_value(&mut c.transfer.kind, TransferKind::Omit, "omit classes");
                ui.selectable_value(&mut c.transfer.kind, TransferKind::Only, "only classes");
            });
            if c.transfer.kind != TransferKind::Full {
                ui.horizontal(|ui| {
                    let name = ui.label("Classes");
                    ui.text_edit_singleline(&mut text.classes)
                        .labelled_by(name.id);
                });
            }
            transfer_limit_ui(ui, &mut c.transfer.limit);
            transfer_jitter_ui(ui, &mut c.transfer.jitter_px);
            munge_ui(ui, c);
            flag_all(
                ui,
                errors,
                &[
                    "transfer.classes",
                    "transfer.limit",
                    "transfer.jitter_px",
                    "transfer.munge_params.p",
                    "transfer.munge_params.s",
                    "transfer.munge_params.k",
                ],
            );
        });
}

/// "students see only the first [N] examples".
fn transfer_limit_ui(ui: &mut egui::Ui, limit: &mut Option<usize>) {
    ui.horizontal(|ui| {
        let mut limited = limit.is_some();
        let check = ui
            .checkbox(&mut limited, "students see only the first")
            .on_hover_text(
                "The teacher learns from every training example; the baseline and the distilled student only from the first N (soft targets as a regulariser)",
            );
        if check.changed() {
            *limit = limited.then_some(5_000);
        }
        if let Some(n) = limit.as_mut() {
            ui.add(egui::DragValue::new(n).range(1..=60_000).speed(100))
                .labelled_by(check.id);
            ui.label("examples");
        }
    });
}

/// "shift the student's images by up to ± [n] px".
fn transfer_jitter_ui(ui: &mut egui::Ui, jitter_px: &mut usize) {
    ui.horizontal(|ui| {
        let mut jittered = *jitter_px > 0;
        let check = ui
            .checkbox(&mut jittered, "shift the student's images by up to ±")
            .on_hover_text(
                "Each batch shows the distilled student randomly shifted images, and its soft targets come from the teacher on the same shifted image (the teacher's logits are cached for every shift when the transfer set is built)",
            );
        if check.changed() {
            *jitter_px = if jittered { 2 } else { 0 };
        }
        if *jitter_px > 0 {
            ui.add(egui::DragValue::new(jitter_px).range(1..=4))
                .labelled_by(check.id);
            ui.label("px");
        }
    });
}

/// The MUNGE switch (fixed on for a method that always uses it) and its p, s and k.
fn munge_ui(ui: &mut egui::Ui, c: &mut RunConfig) {
    let forced = forces_munge(c.distill.method);
    let mut munge = c.transfer.munge || forced;
    ui.add_enabled_ui(!forced, |ui| {
        ui.checkbox(&mut munge, "grow with MUNGE synthetic examples")
            .on_hover_text(
                "Buciluă et al. 2006: swap features with the nearest neighbour, with noise",
            );
    });
    if !forced {
        c.transfer.munge = munge;
    }
    if munge {
        let m = &mut c.transfer.munge_params;
        ui.horizontal(|ui| {
            let name = ui.label("p");
            ui.add(egui::DragValue::new(&mut m.p).speed(0.01).range(0.0..=1.0))
                .labelled_by(name.id);
            let name = ui.label("s");
            ui.add(egui::DragValue::new(&mut m.s).speed(0.1))
                .labelled_by(name.id);
            let name = ui.label("k");
            ui.add(egui::DragValue::new(&mut m.k).range(1..=20))
                .labelled_by(name.id);
        });
    }
}

/// The probe images the Live view follows.
pub fn probes_ui(text: &mut LauncherText, ui: &mut egui::Ui, errors: &FormError) {
    ui.horizontal(|ui| {
        let name = ui.label("Probe images").on_hover_text(
            "Test images whose soft targets the Live view follows while training (at most 16); the playground's image is added at Start",
        );
        ui.text_edit_singleline(&mut text.probes)
            .labelled_by(name.id);
    });
    flag(ui, errors, "probes.samples");
}
