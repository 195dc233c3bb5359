//! The run launcher (left panel): method, parameters, presets, Start/Cancel and progress.
//! Invalid values are flagged at their field and the run cannot be started.

use crate::config::{ConfigError, Method, NoiseKind, RunConfig, TransferKind};
use crate::presets::PRESETS;

use serde::{Deserialize, Serialize};

use super::actions::Action;
use super::ctx::ViewCtx;
use super::live_run::RunStatus;
use super::parse_list;
use super::state::shipped;
use super::tasks::PendingFile;

/// Text fields that hold lists (widths, classes) while the user types them.
#[derive(Clone, Debug, Default)]
pub struct LauncherText {
    teacher_hidden: String,
    student_hidden: String,
    classes: String,
    probes: String,
    list_error: Option<(&'static str, String)>,
}

fn join<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl LauncherText {
    /// The text fields of a configuration.
    pub fn from_config(config: &RunConfig) -> Self {
        Self {
            teacher_hidden: join(&config.teacher.hidden),
            student_hidden: join(&config.student.hidden),
            classes: join(&config.transfer.classes),
            probes: join(&config.probes.samples),
            list_error: None,
        }
    }

    /// Parses the text fields into the configuration; remembers which one is malformed.
    fn apply(&mut self, config: &mut RunConfig) {
        self.list_error = None;
        let fields: [(&'static str, &String); 4] = [
            ("teacher.hidden", &self.teacher_hidden),
            ("student.hidden", &self.student_hidden),
            ("transfer.classes", &self.classes),
            ("probes.samples", &self.probes),
        ];
        for (field, text) in fields {
            let result = match field {
                "transfer.classes" => {
                    parse_list::<u8>(text, "a whole number").map(|v| config.transfer.classes = v)
                }
                "teacher.hidden" => {
                    parse_list::<usize>(text, "a whole number").map(|v| config.teacher.hidden = v)
                }
                "probes.samples" => parse_list::<usize>(text, "a test image number")
                    .map(|v| config.probes.samples = v),
                _ => parse_list::<usize>(text, "a whole number").map(|v| config.student.hidden = v),
            };
            if let Err(e) = result {
                self.list_error.get_or_insert((field, e));
            }
        }
    }
}

/// The launcher panel: edits a copy of the shared configuration and asks for the change.
#[derive(Default, Serialize, Deserialize)]
pub struct Launcher {
    /// The list fields as typed.
    #[serde(skip)]
    text: LauncherText,
    /// The configuration the text fields were last in step with; when the shared one differs
    /// (a preset, a reopened run), the fields are refilled from it.
    #[serde(skip)]
    seen: Option<RunConfig>,
}

impl Launcher {
    /// Draws the launcher.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        if self.seen.as_ref() != Some(ctx.config) {
            self.text = LauncherText::from_config(ctx.config);
        }
        let mut config = ctx.config.clone();
        let mut actions = Vec::new();
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading("Run launcher");
            if let Some(preset) = preset_ui(ui, ctx.preset) {
                actions.push(Action::LoadPreset(preset));
            }
            self.text.apply(&mut config);
            let errors: Option<(String, String)> = match (&self.text.list_error, config.validate())
            {
                (Some((field, e)), _) => Some(((*field).to_owned(), e.clone())),
                (None, Err(ConfigError::Invalid { field, problem })) => Some((field, problem)),
                (None, Err(other)) => Some((String::new(), other.to_string())),
                (None, Ok(())) => None,
            };
            method_ui(&mut config, ui, &errors);
            models_ui(&mut config, &mut self.text, ui, &errors);
            transfer_ui(&mut config, &mut self.text, ui, &errors);
            probes_ui(&mut self.text, ui, &errors);
            ui.separator();
            controls_ui(ctx, ui, &mut actions, &errors);
        });
        if config != *ctx.config {
            actions.push(Action::SetConfig(Box::new(config.clone())));
        }
        self.seen = Some(config);
        actions
    }
}

fn probes_ui(text: &mut LauncherText, ui: &mut egui::Ui, errors: &Option<(String, String)>) {
    ui.horizontal(|ui| {
        let name = ui.label("Probe images").on_hover_text(
            "Test images whose soft targets the Live view follows while training (at most 16); the playground's image is added at Start",
        );
        ui.text_edit_singleline(&mut text.probes)
            .labelled_by(name.id);
    });
    flag(ui, errors, "probes.samples");
}

/// A grid row: a label (with a tooltip) that names the widgets `add` creates, so screen
/// readers and UI tests can find them.
fn grid_row(
    ui: &mut egui::Ui,
    label: &str,
    hover: &str,
    add: impl FnOnce(&mut egui::Ui) -> Vec<egui::Response>,
) {
    let mut name = ui.label(label);
    if !hover.is_empty() {
        name = name.on_hover_text(hover);
    }
    for response in add(ui) {
        let _ = response.labelled_by(name.id);
    }
    ui.end_row();
}

/// The problem with `field`, if it is the invalid one.
fn field_error(errors: &Option<(String, String)>, field: &str) -> Option<String> {
    errors
        .as_ref()
        .filter(|(f, _)| f == field)
        .map(|(_, e)| e.clone())
}

fn flag(ui: &mut egui::Ui, errors: &Option<(String, String)>, field: &str) {
    if let Some(problem) = field_error(errors, field) {
        ui.colored_label(ui.visuals().error_fg_color, format!("! {problem}"));
    }
}

/// The preset picker; returns the preset chosen this frame.
fn preset_ui(ui: &mut egui::Ui, current: &str) -> Option<String> {
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

fn method_ui(config: &mut RunConfig, ui: &mut egui::Ui, errors: &Option<(String, String)>) {
    let d = &mut config.distill;
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
    for field in [
        "distill.temperature",
        "distill.alpha",
        "distill.noise_sigma",
        "distill.noise_p",
    ] {
        flag(ui, errors, field);
    }
}

fn models_ui(
    c: &mut RunConfig,
    text: &mut LauncherText,
    ui: &mut egui::Ui,
    errors: &Option<(String, String)>,
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
            egui::Grid::new("teacher").num_columns(2).show(ui, |ui| {
                grid_row(ui, "Hidden widths", "", |ui| {
                    vec![ui.text_edit_singleline(&mut text.teacher_hidden)]
                });
                grid_row(ui, "Ensemble size", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.teacher.ensemble).range(1..=10))]
                });
                grid_row(
                    ui,
                    "Dropout input / hidden",
                    "Dropout probability on the input pixels and on hidden units",
                    |ui| {
                        ui.horizontal(|ui| {
                            vec![
                                ui.add(
                                    egui::DragValue::new(&mut c.teacher.dropout_input)
                                        .speed(0.01)
                                        .range(0.0..=0.95),
                                ),
                                ui.add(
                                    egui::DragValue::new(&mut c.teacher.dropout_hidden)
                                        .speed(0.01)
                                        .range(0.0..=0.95),
                                ),
                            ]
                        })
                        .inner
                    },
                );
                grid_row(ui, "Jitter (± px)", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.teacher.jitter_px).range(0..=8))]
                });
                grid_row(ui, "Epochs", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.teacher.epochs).range(0..=1000))]
                });
                grid_row(ui, "Learning rate", "", |ui| {
                    vec![ui.add(egui::DragValue::new(&mut c.teacher.optim.lr).speed(0.001))]
                });
            });
            for field in [
                "teacher.hidden",
                "teacher.epochs",
                "teacher.optim.lr",
                "teacher.ensemble",
                "teacher.dropout_input",
                "teacher.dropout_hidden",
            ] {
                flag(ui, errors, field);
            }
        });
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
                        ui.horizontal(|ui| {
                            let mut limited = c.data.train_limit.is_some();
                            let mut responses = vec![ui.checkbox(&mut limited, "first")];
                            if responses[0].changed() {
                                c.data.train_limit = limited.then_some(10_000);
                            }
                            if let Some(n) = c.data.train_limit.as_mut() {
                                responses.push(
                                    ui.add(egui::DragValue::new(n).range(0..=60_000).speed(100)),
                                );
                            }
                            responses
                        })
                        .inner
                    },
                );
            });
            for field in [
                "student.hidden",
                "student.epochs",
                "student.optim.lr",
                "data.train_limit",
            ] {
                flag(ui, errors, field);
            }
        });
}

fn transfer_ui(
    c: &mut RunConfig,
    text: &mut LauncherText,
    ui: &mut egui::Ui,
    errors: &Option<(String, String)>,
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
            ui.horizontal(|ui| {
                let mut limited = c.transfer.limit.is_some();
                let check = ui
                    .checkbox(&mut limited, "students see only the first")
                    .on_hover_text(
                        "The teacher learns from every training example; the baseline and the distilled student only from the first N (soft targets as a regulariser)",
                    );
                if check.changed() {
                    c.transfer.limit = limited.then_some(5_000);
                }
                if let Some(n) = c.transfer.limit.as_mut() {
                    ui.add(egui::DragValue::new(n).range(1..=60_000).speed(100))
                        .labelled_by(check.id);
                    ui.label("examples");
                }
            });
            ui.horizontal(|ui| {
                let mut jittered = c.transfer.jitter_px > 0;
                let check = ui
                    .checkbox(&mut jittered, "shift the student's images by up to ±")
                    .on_hover_text(
                        "Each batch shows the distilled student randomly shifted images, and its soft targets come from the teacher on the same shifted image (the teacher's logits are cached for every shift when the transfer set is built)",
                    );
                if check.changed() {
                    c.transfer.jitter_px = if jittered { 2 } else { 0 };
                }
                if c.transfer.jitter_px > 0 {
                    ui.add(egui::DragValue::new(&mut c.transfer.jitter_px).range(1..=4))
                        .labelled_by(check.id);
                    ui.label("px");
                }
            });
            let forced = c.distill.method == Method::ModelCompression;
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
            for field in [
                "transfer.classes",
                "transfer.limit",
                "transfer.jitter_px",
                "transfer.munge_params.p",
                "transfer.munge_params.s",
                "transfer.munge_params.k",
            ] {
                flag(ui, errors, field);
            }
        });
}

fn controls_ui(
    ctx: &ViewCtx,
    ui: &mut egui::Ui,
    actions: &mut Vec<Action>,
    errors: &Option<(String, String)>,
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
    let Some(live) = ctx.live else {
        return;
    };
    match &live.status {
        RunStatus::Running => {
            if let Some(sweep) = &live.sweep {
                let (done, all) = (sweep.rows.len(), sweep.planned_points().max(1));
                ui.add(
                    egui::ProgressBar::new(done as f32 / all as f32)
                        .text(format!("sweep: {done} of {all} points")),
                );
            }
            let phase = live.phase.map_or("starting", |p| p.key());
            let left = live
                .phase_secs_left()
                .map_or(String::new(), |s| format!(", ~{s:.0} s left in phase"));
            ui.add(
                egui::ProgressBar::new(live.phase_fraction() as f32).text(format!(
                    "{phase} {} epoch {}/{}{left}",
                    live.detail, live.epoch, live.epochs
                )),
            );
            ui.weak(format!(
                "loss {:.4} · {:.0} s elapsed",
                live.loss,
                live.elapsed_secs()
            ));
        }
        RunStatus::Finished(summary) => {
            ui.label(format!(
                "Finished in {:.0} s: teacher {}, baseline {}, student {}",
                summary.duration_secs,
                summary.teacher.test_errors,
                summary
                    .baseline
                    .as_ref()
                    .map_or("-".into(), |b| b.test_errors.to_string()),
                summary.student.test_errors
            ));
            if ui.button("Export student weights…").clicked() {
                actions.push(Action::File(PendingFile::ExportWeights {
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
}
