//! Exporting a plane panel: PNG of what is on screen (or the grid itself when no frame can be
//! captured), SVG (grid and points), CSV of the grid's probabilities at the shown T, and CSV
//! of the points. Runs on the file-task thread.

use std::path::{Path, PathBuf};

use crate::data::plane::grid_points;
use crate::export::{save_rgba_png, PlanePicture};
use crate::files::write_atomic;
use crate::plane::grid::{grid_csv, points_csv, PointSet};

use crate::ui::capture::capture_region;

/// Everything a panel export writes, as plain data taken when Export was clicked.
#[derive(Clone, Debug)]
pub struct PlaneExport {
    /// Suggested file name, without extension.
    pub name: String,
    /// The panel's grid and points.
    pub picture: PlanePicture,
    /// Where the panel is on screen, in points.
    pub rect: [f32; 4],
    /// `[cells², classes]` probabilities at the shown temperature.
    pub probs: Vec<f32>,
    /// Number of classes.
    pub classes: usize,
    /// The panel's point layers: hollow (synthetic) or not, coordinates, labels.
    pub points: Vec<(bool, Vec<f32>, Vec<u8>)>,
}

fn sibling(base: &Path, suffix: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `<base>.png`, `.svg`, `.csv` (grid) and `-points.csv` next to `chosen`; the message
/// says where.
pub fn write_plane_files(
    ctx: &egui::Context,
    export: &PlaneExport,
    chosen: &Path,
) -> Result<String, String> {
    let base = chosen.with_extension("");
    let svg = export.picture.to_svg().map_err(|e| e.to_string())?;
    write_atomic(&sibling(&base, ".svg"), svg.as_bytes()).map_err(|e| e.to_string())?;
    let cells = export.picture.cells;
    let grid = grid_csv(
        &grid_points(cells),
        &[(export.name.as_str(), &export.probs)],
        export.classes,
    );
    write_atomic(&sibling(&base, ".csv"), grid.as_bytes()).map_err(|e| e.to_string())?;
    let sets: Vec<PointSet<'_>> = export
        .points
        .iter()
        .map(|(hollow, points, labels)| PointSet {
            name: if *hollow { "synthetic" } else { "points" },
            points,
            labels,
        })
        .collect();
    write_atomic(&sibling(&base, "-points.csv"), points_csv(&sets).as_bytes())
        .map_err(|e| e.to_string())?;
    let png_path = sibling(&base, ".png");
    let how = match capture_region(ctx, export.rect) {
        Some((w, h, rgba)) => {
            save_rgba_png(&png_path, w, h, &rgba).map_err(|e| e.to_string())?;
            "screen capture"
        }
        None => {
            let png = export.picture.grid_png().map_err(|e| e.to_string())?;
            write_atomic(&png_path, &png).map_err(|e| e.to_string())?;
            "grid only"
        }
    };
    Ok(format!(
        "panel saved: {} ({how}), .svg, .csv, -points.csv",
        png_path.display()
    ))
}
