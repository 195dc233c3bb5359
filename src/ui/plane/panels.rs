//! The plane view's row of three panels (teacher, baseline, distilled student), each with its
//! title, its points, an Export… and a Weights… button, and under them the loss and accuracy
//! curves and the probabilities under the cursor.

use crate::config::RunConfig;
use crate::events::Phase;
use crate::plane::live::PlaneLive;
use crate::ui::action::Action;
use crate::ui::list_text::join_list;
use crate::ui::live_run::{LiveRun, RunStatus};
use crate::ui::methods::plane_title;
use crate::ui::pending::PendingFile;
use crate::ui::plot::plot_ui;

use super::export::PlaneExport;
use super::panel::{cell_at, panel_ui, picture, PointLayer};
use super::specs::{curve_specs, hover_spec, last_accuracy, PANELS};
use super::view::PlaneView;

/// Labelled training points the students see (the first `labelled` of the training set).
fn labelled(plane: &PlaneLive) -> usize {
    plane.labelled.min(plane.train_labels.len())
}

/// The points each panel draws: the teacher every training (or test) point, the baseline its
/// labelled ones, the distilled student MUNGE's synthetic points under its labelled ones.
fn point_layers(plane: &PlaneLive, show_test: bool) -> [Vec<PointLayer<'_>>; 3] {
    let n = labelled(plane);
    let layer = |points, labels, hollow| PointLayer {
        points,
        labels,
        hollow,
    };
    let (train, train_labels) = if show_test {
        (&plane.test[..], &plane.test_labels[..])
    } else {
        (&plane.train[..], &plane.train_labels[..])
    };
    let (student_points, student_labels) = if show_test {
        (&plane.test[..], &plane.test_labels[..])
    } else {
        (&plane.train[..n * 2], &plane.train_labels[..n])
    };
    [
        vec![layer(train, train_labels, false)],
        vec![layer(student_points, student_labels, false)],
        vec![
            layer(&plane.synthetic, &plane.synthetic_labels, true),
            layer(student_points, student_labels, false),
        ],
    ]
}

/// A percentage with one decimal, or a dash when not known yet.
fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |v| format!("{:.1} %", 100.0 * v))
}

/// Layer widths as the titles write them: `2-64-64-3`.
fn layers_text(hidden: &[usize], classes: usize) -> String {
    let mut all = vec![2];
    all.extend_from_slice(hidden);
    all.push(classes);
    join_list(&all).replace(", ", "-")
}

/// The distilled student's bias shift and its test accuracy, when the run found one and the
/// view shows it.
fn bias_text(live: &LiveRun, after_bias: bool) -> String {
    let RunStatus::Finished(summary) = &live.status else {
        return String::new();
    };
    match &summary.bias {
        Some(b) if after_bias => {
            let n = live.plane.test_labels.len().max(1);
            format!(
                " · bias {:+.1}: test {}",
                b.shift,
                pct(Some(1.0 - b.test_errors as f64 / n as f64))
            )
        }
        _ => String::new(),
    }
}

/// The panels' titles: architecture or method, test accuracy, agreement with the teacher.
fn panel_titles(live: &LiveRun, agree: [Option<f64>; 2], after_bias: bool) -> [String; 3] {
    let config: &RunConfig = &live.config;
    let (metrics, classes) = (&live.metrics, live.plane.classes);
    let ensemble = if config.teacher.ensemble > 1 {
        format!(" ×{}", config.teacher.ensemble)
    } else {
        String::new()
    };
    [
        format!(
            "Teacher {}{ensemble} · test {}",
            layers_text(&config.teacher.hidden, classes),
            pct(last_accuracy(metrics, Phase::Teacher))
        ),
        format!(
            "Baseline (hard labels, {} points) · test {} · agrees {}",
            labelled(&live.plane),
            pct(last_accuracy(metrics, Phase::Baseline)),
            pct(agree[0])
        ),
        format!(
            "Distilled ({}) · test {} · agrees {}{}",
            plane_title(&config.distill),
            pct(last_accuracy(metrics, Phase::Student)),
            pct(agree[1]),
            bias_text(live, after_bias)
        ),
    ]
}

/// One panel as the row draws it.
struct PanelRow<'a, 'p> {
    /// 0 teacher, 1 baseline, 2 student.
    index: usize,
    title: &'a str,
    layers: &'a [PointLayer<'p>],
}

impl PlaneView {
    /// The three panels side by side, then the curves; remembers the hovered cell.
    pub(super) fn panels_ui(&mut self, ui: &mut egui::Ui, live: &LiveRun) -> Vec<Action> {
        let plane = &live.plane;
        let agree = self.agreements(plane);
        let layers = point_layers(plane, self.show_test);
        let titles = panel_titles(live, agree, self.after_bias);
        let side = ((ui.available_width() - 24.0) / 3.0)
            .min(ui.available_height() - 230.0)
            .clamp(120.0, 460.0);
        let mut actions = Vec::new();
        let mut hovered = None;
        ui.horizontal_top(|ui| {
            for (index, (title, layers)) in titles.iter().zip(&layers).enumerate() {
                let row = PanelRow {
                    index,
                    title,
                    layers,
                };
                if let Some(cell) = self.panel_column_ui(ui, live, &row, side, &mut actions) {
                    hovered = Some(cell);
                }
            }
        });
        self.hovered = hovered;
        actions.extend(self.curves_ui(ui, live));
        actions
    }

    /// One panel with its title above and its buttons below; returns the hovered cell and
    /// the grid's side when the cursor is over it.
    fn panel_column_ui(
        &self,
        ui: &mut egui::Ui,
        live: &LiveRun,
        row: &PanelRow<'_, '_>,
        side: f32,
        actions: &mut Vec<Action>,
    ) -> Option<(usize, usize)> {
        let grid = live.plane.grid;
        ui.vertical(|ui| {
            ui.set_width(side);
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(row.title).small().strong());
            });
            let empty = if live.is_running() {
                "training…"
            } else {
                "no model"
            };
            let texture = &self.textures[row.index];
            let response = panel_ui(ui, side, texture, row.layers, self.hovered, empty);
            ui.horizontal(|ui| {
                self.panel_buttons_ui(ui, live, row, response.rect, actions);
            });
            let pos = response.hover_pos()?;
            cell_at(response.rect, pos, grid).map(|c| (c, grid))
        })
        .inner
    }

    /// The panel's epoch, its Export… button and (students only) its Weights… button.
    fn panel_buttons_ui(
        &self,
        ui: &mut egui::Ui,
        live: &LiveRun,
        row: &PanelRow<'_, '_>,
        rect: egui::Rect,
        actions: &mut Vec<Action>,
    ) {
        let epoch = live.plane.models[row.index].epoch;
        if epoch > 0 {
            ui.weak(format!("epoch {epoch}"));
        }
        let exportable = !self.textures[row.index].pixels.is_empty();
        if ui
            .add_enabled(exportable, egui::Button::new("Export…").small())
            .on_hover_text("PNG (what you see), SVG, CSV of the grid's probabilities at this T and of the points")
            .clicked()
        {
            let export = self.export(live, row, rect);
            actions.push(Action::File(PendingFile::ExportPlane(Box::new(export))));
        }
        if row.index > 0 {
            actions.extend(weights_button_ui(ui, live, row.index));
        }
    }

    /// Everything an export of the panel writes, taken now.
    fn export(&self, live: &LiveRun, row: &PanelRow<'_, '_>, rect: egui::Rect) -> PlaneExport {
        let texture = &self.textures[row.index];
        PlaneExport {
            name: format!("plane-{}", PANELS[row.index]),
            picture: picture(row.title, texture, row.layers),
            rect: [rect.min.x, rect.min.y, rect.width(), rect.height()],
            probs: self.probabilities(live, row.index),
            classes: live.plane.classes,
            points: row
                .layers
                .iter()
                .map(|l| (l.hollow, l.points.to_vec(), l.labels.to_vec()))
                .collect(),
        }
    }

    /// Loss and accuracy curves, and the three models' probabilities under the cursor.
    fn curves_ui(&self, ui: &mut egui::Ui, live: &LiveRun) -> Vec<Action> {
        let mut actions = Vec::new();
        let height = (ui.available_height() - 30.0).clamp(120.0, 220.0);
        let (loss, accuracy) = curve_specs(&live.metrics);
        let combine = live.config.teacher.combine;
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
                    let spec = hover_spec(&live.plane, combine, cell, self.temperature);
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
}

/// A student panel's Weights… button, enabled once the run has saved that model.
fn weights_button_ui(ui: &mut egui::Ui, live: &LiveRun, index: usize) -> Option<Action> {
    let dir = live.dir.as_ref()?;
    let file = if index == 1 {
        "baseline.safetensors"
    } else {
        "student.safetensors"
    };
    let source = dir.join(file);
    let enabled = !live.is_running() && source.is_file();
    ui.add_enabled(enabled, egui::Button::new("Weights…").small())
        .on_hover_text("Save this model's weights (safetensors, config attached)")
        .clicked()
        .then_some(Action::File(PendingFile::ExportWeights { source }))
}
