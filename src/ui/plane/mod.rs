//! The plane playground: teacher, baseline student and distilled student on a 2-D dataset,
//! side by side, each the plane coloured by its class probabilities at temperature T
//! (`Σ_c p_c · colour_c`), with the decision boundary and the points on top.
//!
//! Training goes through the worker like any run ([`Action::StartPlane`]); its grids arrive as
//! events every few epochs and the panels redraw as they do. The grids' logits stay cached,
//! so the temperature slider only re-runs a softmax and re-colours three 200×200 textures
//! (a few milliseconds), inside the frame that moved it.

mod controls;
mod export;
mod panel;

pub use export::{write_plane_files, PlaneExport};

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::{EnsembleCombine, RunConfig};
use crate::distill::bias::shift_logits;
use crate::distill::soft::softmax_t;
use crate::events::{EpochMetrics, Phase};
use crate::export::{PlotSpec, Series, SeriesKind};
use crate::plane::grid::agreement;
use crate::plane::live::PlaneLive;

use super::actions::Action;
use super::ctx::ViewCtx;
use super::live_run::{LiveRun, RunKind, RunStatus};
use super::playground::{BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};
use super::plot_ui;
use super::tasks::PendingFile;
use panel::{cell_at, panel_ui, picture, ColourKey, GridSource, PanelTexture, PointLayer};

/// Range of the display temperature slider (logarithmic).
pub const DISPLAY_T: std::ops::RangeInclusive<f64> = 0.5..=20.0;

/// Names of the three panels, in [`PlaneLive::models`] order.
pub const PANELS: [&str; 3] = ["teacher", "baseline", "student"];

/// The plane view (a component: owns its state, reads the rest from [`ViewCtx`]).
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct PlaneView {
    /// The next plane run's configuration (separate from the MNIST launcher's).
    pub config: RunConfig,
    /// Temperature the panels are coloured at.
    pub temperature: f64,
    /// Draw the decision boundaries.
    pub boundary: bool,
    /// Draw the test points instead of the training points.
    pub show_test: bool,
    /// Show the distilled student after its bias shift (when the run has one).
    pub after_bias: bool,
    /// Hidden widths typed for the teacher.
    pub teacher_text: String,
    /// Hidden widths typed for the student.
    pub student_text: String,
    #[serde(skip)]
    textures: [PanelTexture; 3],
    #[serde(skip)]
    agreement: Option<(u64, [Option<f64>; 2])>,
    /// The hovered grid cell and the grid's side.
    #[serde(skip)]
    pub hovered: Option<(usize, usize)>,
    /// Milliseconds the last re-colouring of the panels took (0 when nothing changed).
    #[serde(skip)]
    pub last_recolour_ms: f64,
    /// How many times the panels were re-coloured (tests watch it).
    #[serde(skip)]
    pub recolours: u64,
}

impl Default for PlaneView {
    fn default() -> Self {
        let config = crate::plane::default_config();
        Self {
            teacher_text: widths_text(&config.teacher.hidden),
            student_text: widths_text(&config.student.hidden),
            config,
            temperature: 1.0,
            boundary: true,
            show_test: false,
            after_bias: true,
            textures: Default::default(),
            agreement: None,
            hovered: None,
            last_recolour_ms: 0.0,
            recolours: 0,
        }
    }
}

fn widths_text(widths: &[usize]) -> String {
    widths
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The live run if it is a plane run.
fn plane_run<'a>(ctx: &ViewCtx<'a>) -> Option<&'a LiveRun> {
    ctx.live.filter(|l| l.kind == RunKind::Plane)
}

/// Test accuracy of a phase's last epoch.
fn last_accuracy(metrics: &[EpochMetrics], phase: Phase) -> Option<f64> {
    metrics
        .iter()
        .rev()
        .find(|m| m.phase == phase && m.test_n > 0)
        .map(|m| 1.0 - m.test_errors as f64 / m.test_n as f64)
}

/// Loss and test accuracy per epoch of teacher (member 0), baseline and student.
pub fn curve_specs(metrics: &[EpochMetrics]) -> (PlotSpec, PlotSpec) {
    let mut loss = PlotSpec::new("Training loss", "epoch", "loss");
    let mut accuracy = PlotSpec::new("Test accuracy", "epoch", "accuracy");
    for (name, phase, color) in [
        ("teacher", Phase::Teacher, TEACHER_COLOR),
        ("baseline", Phase::Baseline, BASELINE_COLOR),
        ("student", Phase::Student, STUDENT_COLOR),
    ] {
        let rows: Vec<&EpochMetrics> = metrics
            .iter()
            .filter(|m| m.phase == phase && m.member == 0)
            .collect();
        let points = |f: &dyn Fn(&EpochMetrics) -> f64| -> Vec<[f64; 2]> {
            rows.iter().map(|m| [m.epoch as f64, f(m)]).collect()
        };
        loss.series.push(Series::new(
            name,
            SeriesKind::Line,
            points(&|m| m.loss),
            color,
        ));
        accuracy.series.push(Series::new(
            name,
            SeriesKind::Line,
            points(&|m| 1.0 - m.test_errors as f64 / m.test_n.max(1) as f64),
            color,
        ));
    }
    (loss, accuracy)
}

/// Each model's probabilities at `t` in one grid cell, as bars.
pub fn hover_spec(live: &PlaneLive, combine: EnsembleCombine, cell: usize, t: f64) -> PlotSpec {
    let mut spec = PlotSpec::new(
        format!("Class probabilities at T = {t:.2} under the cursor"),
        "class",
        "probability",
    );
    let classes = live.classes;
    for ((name, model), color) in
        PANELS
            .iter()
            .zip(&live.models)
            .zip([TEACHER_COLOR, BASELINE_COLOR, STUDENT_COLOR])
    {
        let rows: Vec<Vec<f32>> = model
            .available()
            .iter()
            .filter_map(|m| m.get(cell * classes..(cell + 1) * classes))
            .map(|z| softmax_t(z, t))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // An ensemble's members are combined as in training (mean of probabilities, or the
        // softmax of the mean logits).
        let probs: Vec<f32> = match combine {
            EnsembleCombine::MeanProbs => (0..classes)
                .map(|c| rows.iter().map(|r| r[c]).sum::<f32>() / rows.len() as f32)
                .collect(),
            EnsembleCombine::MeanLogits => {
                let members = model.available();
                let mean: Vec<f32> = (0..classes)
                    .map(|c| {
                        members.iter().map(|m| m[cell * classes + c]).sum::<f32>()
                            / members.len() as f32
                    })
                    .collect();
                softmax_t(&mean, t)
            }
        };
        let points = probs
            .iter()
            .enumerate()
            .map(|(c, p)| [c as f64, f64::from(*p)])
            .collect();
        spec.series
            .push(Series::new(*name, SeriesKind::Bars, points, color));
    }
    spec
}

impl PlaneView {
    /// The RGBA pixels panel `i` (teacher, baseline, student) shows; empty before its grid.
    pub fn panel_pixels(&self, i: usize) -> &[u8] {
        self.textures.get(i).map_or(&[], |t| t.pixels.as_slice())
    }

    /// Re-colours the panels whose grid, T or options changed.
    fn recolour(&mut self, egui_ctx: &egui::Context, live: Option<&LiveRun>) {
        let started = Instant::now();
        let mut changed = false;
        let Some(live) = live else {
            for texture in &mut self.textures {
                texture.clear();
            }
            return;
        };
        let plane = &live.plane;
        let bias = match &live.status {
            RunStatus::Finished(summary) if self.after_bias => summary.bias.clone(),
            _ => None,
        };
        for (i, texture) in self.textures.iter_mut().enumerate() {
            let model = &plane.models[i];
            if model.is_empty() || plane.grid == 0 {
                texture.clear();
                continue;
            }
            let shifted_logits = match (&bias, i) {
                (Some(b), 2) => model
                    .available()
                    .first()
                    .map(|z| shift_logits(z, plane.classes, &b.classes, b.shift)),
                _ => None,
            };
            let members = match &shifted_logits {
                Some(z) => vec![z.as_slice()],
                None => model.available(),
            };
            let combine = if i == 0 {
                live.config.teacher.combine
            } else {
                EnsembleCombine::MeanProbs
            };
            let source = GridSource {
                members,
                classes: plane.classes,
                cells: plane.grid,
                combine,
            };
            let key = ColourKey {
                version: model.version,
                temperature: self.temperature,
                boundary: self.boundary,
                shifted: shifted_logits.is_some(),
            };
            changed |= texture.update(egui_ctx, &format!("plane-{}", PANELS[i]), &source, key);
        }
        if changed {
            self.recolours += 1;
            self.last_recolour_ms = started.elapsed().as_secs_f64() * 1000.0;
        }
    }

    /// Fraction of grid cells where baseline and student pick the teacher's class, cached
    /// per grid version.
    fn agreements(&mut self, plane: &PlaneLive) -> [Option<f64>; 2] {
        if let Some((version, values)) = self.agreement {
            if version == plane.version {
                return values;
            }
        }
        let teacher = plane.models[0].available();
        let values = [1, 2].map(|i| {
            let model = plane.models[i].available();
            match (teacher.first(), model.first()) {
                (Some(t), Some(m)) => Some(agreement(t, m, plane.classes)),
                _ => None,
            }
        });
        self.agreement = Some((plane.version, values));
        values
    }

    /// Draws the plane view.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let live = plane_run(ctx);
        actions.extend(self.controls_ui(ui, ctx, live));
        ui.separator();
        ui.horizontal(|ui| {
            ui.add(
                egui::Slider::new(&mut self.temperature, DISPLAY_T)
                    .logarithmic(true)
                    .text("Display temperature T"),
            )
            .on_hover_text("Colours each cell by Σ p_c · colour_c with p = softmax(z / T): high T softens every region");
            ui.checkbox(&mut self.boundary, "Boundary");
            ui.checkbox(&mut self.show_test, "Test points");
            let has_bias = live.is_some_and(|l| {
                matches!(&l.status, RunStatus::Finished(s) if s.bias.is_some())
            });
            ui.add_enabled(has_bias, egui::Checkbox::new(&mut self.after_bias, "After bias shift"))
                .on_hover_text("Show the distilled student with the run's per-class bias shift");
        });
        self.recolour(ui.ctx(), live);
        match live {
            Some(live) => actions.extend(self.panels_ui(ui, live)),
            None => {
                ui.weak("Press Train: the teacher's regions appear, then both students grow theirs live.");
                let side = ((ui.available_width() - 24.0) / 3.0).clamp(120.0, 420.0);
                ui.horizontal(|ui| {
                    for texture in &self.textures {
                        let _ = panel_ui(ui, side, texture, &[], None, "not trained yet");
                    }
                });
            }
        }
        actions
    }

    fn panels_ui(&mut self, ui: &mut egui::Ui, live: &LiveRun) -> Vec<Action> {
        let mut actions = Vec::new();
        let plane = &live.plane;
        let agree = self.agreements(plane);
        let metrics = &live.metrics;
        let labelled = plane.labelled.min(plane.train_labels.len());
        let (train, train_labels) = if self.show_test {
            (&plane.test[..], &plane.test_labels[..])
        } else {
            (&plane.train[..], &plane.train_labels[..])
        };
        let (student_points, student_labels) = if self.show_test {
            (&plane.test[..], &plane.test_labels[..])
        } else {
            (
                &plane.train[..labelled * 2],
                &plane.train_labels[..labelled],
            )
        };
        let layers: [Vec<PointLayer<'_>>; 3] = [
            vec![PointLayer {
                points: train,
                labels: train_labels,
                hollow: false,
            }],
            vec![PointLayer {
                points: student_points,
                labels: student_labels,
                hollow: false,
            }],
            vec![
                PointLayer {
                    points: &plane.synthetic,
                    labels: &plane.synthetic_labels,
                    hollow: true,
                },
                PointLayer {
                    points: student_points,
                    labels: student_labels,
                    hollow: false,
                },
            ],
        ];
        let config = &live.config;
        let d = &config.distill;
        let method = match d.method {
            crate::config::Method::Hinton => format!("soft targets T = {}", d.temperature),
            other => other.key().to_owned(),
        };
        let layers_text = |hidden: &[usize]| {
            let mut all = vec![2];
            all.extend_from_slice(hidden);
            all.push(plane.classes);
            widths_text(&all).replace(", ", "-")
        };
        let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{:.1} %", 100.0 * v));
        let titles = [
            format!(
                "Teacher {}{} · test {}",
                layers_text(&config.teacher.hidden),
                if config.teacher.ensemble > 1 {
                    format!(" ×{}", config.teacher.ensemble)
                } else {
                    String::new()
                },
                pct(last_accuracy(metrics, Phase::Teacher))
            ),
            format!(
                "Baseline (hard labels, {labelled} points) · test {} · agrees {}",
                pct(last_accuracy(metrics, Phase::Baseline)),
                pct(agree[0])
            ),
            format!(
                "Distilled ({method}) · test {} · agrees {}{}",
                pct(last_accuracy(metrics, Phase::Student)),
                pct(agree[1]),
                match &live.status {
                    RunStatus::Finished(s) if self.after_bias =>
                        s.bias.as_ref().map_or(String::new(), |b| {
                            let n = live.plane.test_labels.len().max(1);
                            format!(
                                " · bias {:+.1}: test {}",
                                b.shift,
                                pct(Some(1.0 - b.test_errors as f64 / n as f64))
                            )
                        }),
                    _ => String::new(),
                }
            ),
        ];
        let side = ((ui.available_width() - 24.0) / 3.0)
            .min(ui.available_height() - 230.0)
            .clamp(120.0, 460.0);
        let mut hovered = None;
        ui.horizontal_top(|ui| {
            for i in 0..3 {
                ui.vertical(|ui| {
                    ui.set_width(side);
                    ui.horizontal(|ui| {
                        ui.label(egui::RichText::new(&titles[i]).small().strong());
                    });
                    let epoch = plane.models[i].epoch;
                    let empty = if live.is_running() { "training…" } else { "no model" };
                    let response =
                        panel_ui(ui, side, &self.textures[i], &layers[i], self.hovered, empty);
                    if let Some(pos) = response.hover_pos() {
                        hovered = cell_at(response.rect, pos, plane.grid).map(|c| (c, plane.grid));
                    }
                    ui.horizontal(|ui| {
                        if epoch > 0 {
                            ui.weak(format!("epoch {epoch}"));
                        }
                        let exportable = !self.textures[i].pixels.is_empty();
                        if ui
                            .add_enabled(exportable, egui::Button::new("Export…").small())
                            .on_hover_text("PNG (what you see), SVG, CSV of the grid's probabilities at this T and of the points")
                            .clicked()
                        {
                            let r = response.rect;
                            actions.push(Action::File(PendingFile::ExportPlane(Box::new(
                                PlaneExport {
                                    name: format!("plane-{}", PANELS[i]),
                                    picture: picture(&titles[i], &self.textures[i], &layers[i]),
                                    rect: [r.min.x, r.min.y, r.width(), r.height()],
                                    probs: self.probabilities(live, i),
                                    classes: plane.classes,
                                    points: layers[i]
                                        .iter()
                                        .map(|l| (l.hollow, l.points.to_vec(), l.labels.to_vec()))
                                        .collect(),
                                },
                            ))));
                        }
                        if i > 0 {
                            if let Some(dir) = &live.dir {
                                let file = if i == 1 { "baseline.safetensors" } else { "student.safetensors" };
                                let source = dir.join(file);
                                if ui
                                    .add_enabled(!live.is_running() && source.is_file(), egui::Button::new("Weights…").small())
                                    .on_hover_text("Save this model's weights (safetensors, config attached)")
                                    .clicked()
                                {
                                    actions.push(Action::File(PendingFile::ExportWeights { source }));
                                }
                            }
                        }
                    });
                });
            }
        });
        self.hovered = hovered;
        let height = (ui.available_height() - 30.0).clamp(120.0, 220.0);
        let (loss, accuracy) = curve_specs(metrics);
        ui.columns(3, |columns| {
            actions.extend(plot_ui(&mut columns[0], "plane-loss", &loss, height));
            actions.extend(plot_ui(
                &mut columns[1],
                "plane-accuracy",
                &accuracy,
                height,
            ));
            match self.hovered {
                Some((cell, _)) => {
                    let spec = hover_spec(plane, config.teacher.combine, cell, self.temperature);
                    actions.extend(plot_ui(&mut columns[2], "plane-hover", &spec, height));
                }
                None => {
                    columns[2].weak(
                        "Hover over a panel to compare the three models' probabilities there.",
                    );
                }
            }
        });
        actions
    }

    /// A panel's probabilities at the display temperature (for the CSV export).
    fn probabilities(&self, live: &LiveRun, i: usize) -> Vec<f32> {
        let model = &live.plane.models[i];
        let combine = if i == 0 {
            live.config.teacher.combine
        } else {
            EnsembleCombine::MeanProbs
        };
        crate::distill::soft::ensemble_soft_targets(
            &model.available(),
            live.plane.classes,
            self.temperature,
            combine,
        )
    }
}
