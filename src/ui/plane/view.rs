//! The plane view's state and frame: the display options, the panels' textures re-coloured
//! only when a grid, T or an option changes, and the agreement with the teacher cached per
//! grid version. The settings above are in `controls.rs`, the row of panels in `panels.rs`.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::{EnsembleCombine, RunConfig};
use crate::distill::bias::shift_logits;
use crate::plane::grid::agreement;
use crate::plane::live::PlaneLive;
use crate::ui::action::Action;
use crate::ui::ctx::ViewCtx;
use crate::ui::list_text::join_list;
use crate::ui::live_run::{LiveRun, RunKind, RunStatus};

use super::panel::{panel_ui, ColourKey, GridSource, PanelTexture};
use super::specs::PANELS;

/// Range of the display temperature slider (logarithmic).
pub const DISPLAY_T: std::ops::RangeInclusive<f64> = 0.5..=20.0;

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
    /// Each panel's texture, in [`PANELS`] order.
    #[serde(skip)]
    pub(super) textures: [PanelTexture; 3],
    /// The agreements with the teacher and the grid version they were computed for.
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
            teacher_text: join_list(&config.teacher.hidden),
            student_text: join_list(&config.student.hidden),
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

/// The live run if it is a plane run.
fn plane_run<'a>(ctx: &ViewCtx<'a>) -> Option<&'a LiveRun> {
    ctx.live.filter(|l| l.kind == RunKind::Plane)
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
    pub(super) fn agreements(&mut self, plane: &PlaneLive) -> [Option<f64>; 2] {
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
        self.display_ui(ui, live);
        self.recolour(ui.ctx(), live);
        match live {
            Some(live) => actions.extend(self.panels_ui(ui, live)),
            None => self.untrained_ui(ui),
        }
        actions
    }

    /// The display options: temperature, boundary, test points, bias shift.
    fn display_ui(&mut self, ui: &mut egui::Ui, live: Option<&LiveRun>) {
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
    }

    /// Three empty panels and a hint, before the first plane run.
    fn untrained_ui(&self, ui: &mut egui::Ui) {
        ui.weak("Press Train: the teacher's regions appear, then both students grow theirs live.");
        let side = ((ui.available_width() - 24.0) / 3.0).clamp(120.0, 420.0);
        ui.horizontal(|ui| {
            for texture in &self.textures {
                let _ = panel_ui(ui, side, texture, &[], None, "not trained yet");
            }
        });
    }

    /// A panel's probabilities at the display temperature (for the CSV export).
    pub(super) fn probabilities(&self, live: &LiveRun, i: usize) -> Vec<f32> {
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
