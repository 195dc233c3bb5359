//! One plane panel: the model's grid as a texture coloured at temperature T, re-coloured only
//! when the grid, T or the options change; the points on top; the hovered cell.

use crate::config::EnsembleCombine;
use crate::export::{PlanePicture, PlanePoint};
use crate::plane::render::{class_colour, panel_pixels};

/// What a panel's texture was last coloured from; a different key means re-colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColourKey {
    /// [`crate::plane::live::ModelGrid::version`] of the grid.
    pub version: u64,
    /// Temperature.
    pub temperature: f64,
    /// Boundary drawn.
    pub boundary: bool,
    /// Bias shift applied (student only).
    pub shifted: bool,
}

/// A panel's texture and the pixels it holds.
#[derive(Default)]
pub struct PanelTexture {
    key: Option<ColourKey>,
    texture: Option<egui::TextureHandle>,
    /// The texture's RGBA pixels (kept for exports).
    pub pixels: Vec<u8>,
    /// Cells per side of `pixels`.
    pub cells: usize,
}

/// A grid to colour: the members' logits and how to combine them.
pub struct GridSource<'a> {
    /// `[cells², classes]` logits per member.
    pub members: Vec<&'a [f32]>,
    /// Number of classes.
    pub classes: usize,
    /// Cells per side.
    pub cells: usize,
    /// How an ensemble's members are combined.
    pub combine: EnsembleCombine,
}

impl PanelTexture {
    /// Re-colours the texture if `key` differs from the last one; returns whether it did.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        source: &GridSource<'_>,
        key: ColourKey,
    ) -> bool {
        if self.key == Some(key) && self.texture.is_some() {
            return false;
        }
        self.key = Some(key);
        self.cells = source.cells;
        self.pixels = panel_pixels(
            &source.members,
            source.classes,
            source.cells,
            key.temperature,
            source.combine,
            key.boundary,
        );
        let image =
            egui::ColorImage::from_rgba_unmultiplied([source.cells, source.cells], &self.pixels);
        // Nearest: a cell stays a crisp square and the boundary a sharp line.
        let options = egui::TextureOptions::NEAREST;
        match &mut self.texture {
            Some(texture) => texture.set(image, options),
            None => self.texture = Some(ctx.load_texture(name, image, options)),
        }
        true
    }

    /// Forgets the texture (no grid to show).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The texture to draw, if coloured.
    pub fn id(&self) -> Option<egui::TextureId> {
        self.texture.as_ref().map(egui::TextureHandle::id)
    }
}

/// A set of points drawn on a panel.
pub struct PointLayer<'a> {
    /// `[n, 2]` coordinates in the unit square.
    pub points: &'a [f32],
    /// One label per point (its colour).
    pub labels: &'a [u8],
    /// Rings (MUNGE's points) instead of discs.
    pub hollow: bool,
}

impl PointLayer<'_> {
    /// The layer's points as plain data for exports.
    pub fn to_points(&self) -> Vec<PlanePoint> {
        self.points
            .chunks_exact(2)
            .zip(self.labels)
            .map(|(p, l)| PlanePoint {
                x: p[0],
                y: p[1],
                colour: class_colour(usize::from(*l)),
                hollow: self.hollow,
            })
            .collect()
    }
}

fn colour32(rgb: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2])
}

/// Screen position of a unit-square point inside `rect` (`y` up).
pub fn to_screen(rect: egui::Rect, x: f32, y: f32) -> egui::Pos2 {
    egui::pos2(
        rect.left() + x * rect.width(),
        rect.top() + (1.0 - y) * rect.height(),
    )
}

/// The grid cell under `pos`, if inside `rect`.
pub fn cell_at(rect: egui::Rect, pos: egui::Pos2, cells: usize) -> Option<usize> {
    if !rect.contains(pos) || cells == 0 {
        return None;
    }
    let fx = ((pos.x - rect.left()) / rect.width()).clamp(0.0, 0.999_999);
    let fy = ((pos.y - rect.top()) / rect.height()).clamp(0.0, 0.999_999);
    let (col, row) = ((fx * cells as f32) as usize, (fy * cells as f32) as usize);
    Some(row * cells + col)
}

/// Draws a panel: texture (or an empty frame with `empty_text`), points, and a cross at the
/// hovered cell. Returns the panel's response (hover) and its rectangle.
pub fn panel_ui(
    ui: &mut egui::Ui,
    side: f32,
    texture: &PanelTexture,
    layers: &[PointLayer<'_>],
    hovered: Option<(usize, usize)>,
    empty_text: &str,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    match texture.id() {
        Some(id) => {
            painter.image(
                id,
                rect,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        None => {
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                empty_text,
                egui::FontId::proportional(14.0),
                ui.visuals().weak_text_color(),
            );
        }
    }
    for layer in layers {
        for (p, l) in layer.points.chunks_exact(2).zip(layer.labels) {
            let centre = to_screen(rect, p[0], p[1]);
            let colour = colour32(class_colour(usize::from(*l)));
            if layer.hollow {
                painter.circle_stroke(centre, 2.6, egui::Stroke::new(1.2, colour));
            } else {
                painter.circle(
                    centre,
                    2.6,
                    colour,
                    egui::Stroke::new(0.6, egui::Color32::BLACK),
                );
            }
        }
    }
    if let Some((cell, cells)) = hovered {
        let (row, col) = (cell / cells, cell % cells);
        let x = (col as f32 + 0.5) / cells as f32;
        let y = 1.0 - (row as f32 + 0.5) / cells as f32;
        let centre = to_screen(rect, x, y);
        let stroke = egui::Stroke::new(1.5, egui::Color32::WHITE);
        painter.line_segment(
            [centre - egui::vec2(7.0, 0.0), centre + egui::vec2(7.0, 0.0)],
            stroke,
        );
        painter.line_segment(
            [centre - egui::vec2(0.0, 7.0), centre + egui::vec2(0.0, 7.0)],
            stroke,
        );
    }
    painter.rect_stroke(
        rect,
        0.0,
        egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
        egui::StrokeKind::Inside,
    );
    response
}

/// The panel as plain data for exports.
pub fn picture(title: &str, texture: &PanelTexture, layers: &[PointLayer<'_>]) -> PlanePicture {
    PlanePicture {
        title: title.to_owned(),
        cells: texture.cells,
        pixels: texture.pixels.clone(),
        points: layers.iter().flat_map(PointLayer::to_points).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_screen_positions_agree() {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(100.0, 100.0));
        assert_eq!(
            cell_at(rect, egui::pos2(10.5, 20.5), 4),
            Some(0),
            "top left"
        );
        assert_eq!(
            cell_at(rect, egui::pos2(109.0, 119.0), 4),
            Some(15),
            "bottom right"
        );
        assert_eq!(cell_at(rect, egui::pos2(5.0, 20.5), 4), None);
        // The top-left cell's centre (x = 0.125, y = 0.875) maps back into that cell.
        let p = to_screen(rect, 0.125, 0.875);
        assert_eq!(cell_at(rect, p, 4), Some(0));
    }
}
