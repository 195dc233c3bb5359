//! The temperature playground: a real test digit, the teacher's and the student's
//! `softmax(z / T)` as bars, the entropy and the ranking of the wrong classes ("dark
//! knowledge"). Soft targets come from cached logits, so dragging the slider redraws in the
//! same frame without asking the worker.

use crate::distill::soft::{dark_knowledge, entropy, softmax_t};
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::rng::FastRng;

use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::events::Slot;

use super::action::Action;
use super::ctx::{ModelLogits, ViewCtx};
use super::pending::PendingFile;
use super::plot::plot_ui;
use super::theme::{STUDENT_COLOR, TEACHER_COLOR};
use super::widgets::{slider_mark, T_MAX, T_MIN};

const IMAGE_SCALE: f32 = 8.0;

/// The soft targets of a model for one image at temperature `t`.
fn probs(model: Option<&ModelLogits>, sample: usize, t: f64) -> Option<Vec<f32>> {
    model.and_then(|m| m.row(sample)).map(|z| softmax_t(z, t))
}

/// The test image the teacher is least sure about (highest entropy at T = 1).
pub fn most_uncertain(teacher: &ModelLogits) -> usize {
    (0..teacher.logits.len() / teacher.classes.max(1))
        .filter_map(|i| teacher.row(i).map(|z| (i, entropy(&softmax_t(z, 1.0)))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(i, _)| i)
}

/// The plot spec of the playground's bars: teacher and student `softmax(z / T)` for test
/// image `sample`.
pub fn soft_target_spec(
    test: Option<&Dataset>,
    teacher: Option<&ModelLogits>,
    student: Option<&ModelLogits>,
    sample: usize,
    t: f64,
) -> PlotSpec {
    let label = test
        .and_then(|d| d.labels.get(sample))
        .copied()
        .unwrap_or(0);
    let mut series = Vec::new();
    for (name, model, color) in [
        ("teacher", teacher, TEACHER_COLOR),
        ("student", student, STUDENT_COLOR),
    ] {
        if let Some(p) = probs(model, sample, t) {
            series.push(Series {
                name: name.into(),
                kind: SeriesKind::Bars,
                points: p
                    .iter()
                    .enumerate()
                    .map(|(c, v)| [c as f64, f64::from(*v)])
                    .collect(),
                color,
            });
        }
    }
    PlotSpec {
        title: format!("softmax(z / T) for test image #{sample} (label {label}), T = {t:.2}"),
        x_label: "class".into(),
        y_label: "probability".into(),
        log_x: false,
        series,
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

/// The temperature playground.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct Playground {
    /// The temperature of the bars.
    pub temperature: f64,
    /// The digit's texture, and which image of which data set it shows.
    #[serde(skip)]
    texture: Option<DigitTexture>,
}

/// The texture of the digit shown, keyed by the data set's version and the image's index:
/// image 5 of a newly opened data folder is not image 5 of the old one.
struct DigitTexture {
    /// [`ViewCtx::data_version`] of the test set the image is from.
    data_version: u64,
    /// The image's index in that test set.
    sample: usize,
    /// The image's grey pixels, row by row (kept to tell what is shown).
    pixels: Vec<u8>,
    /// The texture drawn.
    handle: egui::TextureHandle,
}

impl Default for Playground {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            texture: None,
        }
    }
}

/// Steps `sample` by `delta` images, wrapping around `n`.
fn step(sample: usize, delta: isize, n: usize) -> usize {
    (sample as isize + delta).rem_euclid(n.max(1) as isize) as usize
}

impl Playground {
    /// The grey pixels of the digit shown (row by row), once one has been drawn.
    pub fn shown_digit(&self) -> Option<&[u8]> {
        self.texture.as_ref().map(|t| t.pixels.as_slice())
    }

    /// Draws the playground.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let n = ctx.test_len();
        let sample = ctx.sample.min(n.saturating_sub(1));
        let mut next = self.keyboard(ui, sample, n);
        egui::Panel::left("playground-image")
            .resizable(false)
            .show(ui, |ui| {
                self.image_ui(ui, ctx, sample);
                if n > 0 {
                    next = navigation_ui(ui, ctx, sample, n).or(next);
                }
                ui.separator();
                ui.label("Models");
                for slot in Slot::ALL {
                    if ui
                        .button(format!("Open {} weights…", slot.key()))
                        .on_hover_text("Pick a .safetensors file saved by Distillery")
                        .clicked()
                    {
                        actions.push(Action::File(PendingFile::OpenWeights { slot }));
                    }
                }
                ui.separator();
                ui.weak(
                    "Keys: left/right arrow: image; up/down arrow: temperature; R: random image",
                );
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            self.slider_ui(ui);
            let spec =
                soft_target_spec(ctx.test, ctx.teacher, ctx.student, sample, self.temperature);
            actions.extend(plot_ui(ui, "soft-targets", &spec, 340.0));
            knowledge_ui(ctx, ui, sample, self.temperature);
        });
        if let Some(next) = next.filter(|&s| s != ctx.sample) {
            actions.push(Action::ShowSample(next));
        }
        actions
    }

    /// Arrow keys and R; returns the image to show next, if they asked for another.
    fn keyboard(&mut self, ui: &egui::Ui, sample: usize, n: usize) -> Option<usize> {
        if ui.ctx().egui_wants_keyboard_input() || n == 0 {
            return None;
        }
        let (left, right, up, down, random) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowLeft),
                i.key_pressed(egui::Key::ArrowRight),
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::R),
            )
        });
        if up {
            self.temperature = (self.temperature * 1.25).min(T_MAX);
        }
        if down {
            self.temperature = (self.temperature / 1.25).max(T_MIN);
        }
        if left {
            Some(step(sample, -1, n))
        } else if right {
            Some(step(sample, 1, n))
        } else if random {
            Some(random_index(n))
        } else {
            None
        }
    }

    fn image_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx, sample: usize) {
        let Some(test) = ctx.test.filter(|t| !t.is_empty()) else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                ctx.test_error.unwrap_or("no test set"),
            );
            return;
        };
        let texture = match &self.texture {
            Some(t) if t.sample == sample && t.data_version == ctx.data_version => t.handle.clone(),
            _ => {
                let pixels: Vec<u8> = test
                    .image(sample)
                    .iter()
                    .map(|p| (p * 255.0) as u8)
                    .collect();
                let image = egui::ColorImage::from_gray([test.cols, test.rows], &pixels);
                let handle = ui
                    .ctx()
                    .load_texture("digit", image, egui::TextureOptions::NEAREST);
                self.texture = Some(DigitTexture {
                    data_version: ctx.data_version,
                    sample,
                    pixels,
                    handle: handle.clone(),
                });
                handle
            }
        };
        let size = egui::vec2(
            test.cols as f32 * IMAGE_SCALE,
            test.rows as f32 * IMAGE_SCALE,
        );
        ui.add(egui::Image::new(&texture).fit_to_exact_size(size));
        ui.label(
            egui::RichText::new(format!(
                "Test image #{sample} — label {}",
                test.labels[sample]
            ))
            .strong(),
        );
    }

    fn slider_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = 420.0;
            let response = ui
                .add(
                    egui::Slider::new(&mut self.temperature, T_MIN..=T_MAX)
                        .logarithmic(true)
                        .text("Temperature T"),
                )
                .on_hover_text("softmax(z / T): higher T flattens the distribution and reveals the dark knowledge (up/down arrows)");
            slider_mark(ui, &response, 1.0);
            if ui.button("T = 1").on_hover_text("The ordinary softmax").clicked() {
                self.temperature = 1.0;
            }
        });
    }
}

fn random_index(n: usize) -> usize {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    FastRng::new(nanos).below(n.max(1))
}

/// Prev / next / number / random / most uncertain; returns the image chosen, if any.
fn navigation_ui(ui: &mut egui::Ui, ctx: &ViewCtx, sample: usize, n: usize) -> Option<usize> {
    let mut next = None;
    ui.horizontal(|ui| {
        if ui
            .button("< Prev")
            .on_hover_text("Previous image (left arrow)")
            .clicked()
        {
            next = Some(step(sample, -1, n));
        }
        let mut typed = sample;
        if ui
            .add(
                egui::DragValue::new(&mut typed)
                    .range(0..=n - 1)
                    .prefix("#"),
            )
            .changed()
        {
            next = Some(typed);
        }
        if ui
            .button("Next >")
            .on_hover_text("Next image (right arrow)")
            .clicked()
        {
            next = Some(step(sample, 1, n));
        }
    });
    ui.horizontal(|ui| {
        if ui
            .button("Random")
            .on_hover_text("A random test image (R)")
            .clicked()
        {
            next = Some(random_index(n));
        }
        let uncertain = ui
            .add_enabled(ctx.teacher.is_some(), egui::Button::new("Most uncertain"))
            .on_hover_text("The test image whose teacher softmax (T = 1) has the highest entropy");
        if uncertain.clicked() {
            next = ctx.teacher.map(most_uncertain);
        }
    });
    next
}

fn knowledge_ui(ctx: &ViewCtx, ui: &mut egui::Ui, sample: usize, t: f64) {
    let label = ctx
        .test
        .and_then(|d| d.labels.get(sample))
        .map_or(0, |l| usize::from(*l));
    ui.columns(2, |cols| {
        for (col, (name, model)) in cols
            .iter_mut()
            .zip([("Teacher", ctx.teacher), ("Student", ctx.student)])
        {
            col.strong(name);
            let Some(model) = model else {
                col.weak("loading logits…");
                continue;
            };
            col.weak(format!(
                "{:?} from {}",
                model.layers,
                model
                    .path
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            ));
            let Some(p) = probs(Some(model), sample, t) else {
                continue;
            };
            col.label(format!(
                "entropy {:.3} nats (max {:.3})",
                entropy(&p),
                (p.len() as f64).ln()
            ));
            let ranked = dark_knowledge(&p, label);
            let text: Vec<String> = ranked
                .iter()
                .take(5)
                .map(|(c, q)| format!("{c}: {}", probability_text(*q)))
                .collect();
            col.label(format!(
                "wrong classes, most plausible first: {}",
                text.join(" · ")
            ));
        }
    });
}

/// A probability with enough digits to tell tiny ones apart (1.2e-7 rather than 0.0000).
fn probability_text(p: f32) -> String {
    if p >= 0.001 {
        format!("{p:.4}")
    } else {
        format!("{p:.1e}")
    }
}
