//! Writes a plot's PNG, SVG and CSV files next to each other.

use std::path::{Path, PathBuf};

use super::csv::to_csv;
use super::error::ExportError;
use super::plot::PlotSpec;
use super::render::{render_png, render_svg};
use crate::files::write_atomic;

/// Width of exported plot images, in pixels.
pub const DEFAULT_WIDTH: u32 = 1000;
/// Height of exported plot images, in pixels.
pub const DEFAULT_HEIGHT: u32 = 600;

/// Writes `<base>.png`, `<base>.svg` and `<base>.csv` (images 1000 × 600), each atomically, and
/// returns their paths in that order.
///
/// Everything is rendered before the first file is written, so a plot that cannot be drawn
/// (x ≤ 0 on a log axis) leaves no files behind. `base` keeps any dots in its name:
/// `errors.v2` gives `errors.v2.png`.
pub fn save_plot(spec: &PlotSpec, base_path: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let [png_path, svg_path, csv_path] =
        ["png", "svg", "csv"].map(|ext| with_extension(base_path, ext));
    let png = render_png(spec, DEFAULT_WIDTH, DEFAULT_HEIGHT).map_err(|e| e.at(&png_path))?;
    let svg = render_svg(spec, DEFAULT_WIDTH, DEFAULT_HEIGHT).map_err(|e| e.at(&svg_path))?;
    let csv = to_csv(spec);
    write_file(&png_path, &png)?;
    write_file(&svg_path, svg.as_bytes())?;
    write_file(&csv_path, csv.as_bytes())?;
    Ok(vec![png_path, svg_path, csv_path])
}

/// Writes a file atomically (the error names `path`).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    Ok(write_atomic(path, bytes)?)
}

/// `base` with `.ext` appended to its file name.
fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Series, SeriesKind};

    fn spec() -> PlotSpec {
        let mut spec = PlotSpec::new("Loss", "epoch", "loss");
        spec.series.push(Series::new(
            "student",
            SeriesKind::Line,
            vec![[1.0, 0.5], [2.0, 0.25]],
            [0, 0, 255],
        ));
        spec
    }

    #[test]
    fn save_plot_writes_three_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("plots").join("loss.v2");
        let paths = save_plot(&spec(), &base).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["loss.v2.png", "loss.v2.svg", "loss.v2.csv"]);
        let png = image::open(&paths[0]).unwrap();
        assert_eq!((png.width(), png.height()), (DEFAULT_WIDTH, DEFAULT_HEIGHT));
        assert!(std::fs::read_to_string(&paths[1])
            .unwrap()
            .contains("student"));
        assert_eq!(std::fs::read_to_string(&paths[2]).unwrap(), to_csv(&spec()));
        let leftovers = std::fs::read_dir(dir.path().join("plots")).unwrap().count();
        assert_eq!(leftovers, 3, "temporary files left behind");
    }

    #[test]
    fn unwritable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let base = file.join("loss");
        let err = save_plot(&spec(), &base).unwrap_err().to_string();
        let png = base.with_extension("png");
        assert!(err.starts_with(&format!("{}: ", png.display())), "{err}");
    }

    #[test]
    fn unrenderable_plot_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = spec();
        bad.log_x = true;
        bad.series[0].points[0][0] = 0.0;
        let base = dir.path().join("sweep");
        let err = save_plot(&bad, &base).unwrap_err().to_string();
        assert!(err.contains("sweep.png") && err.contains("x > 0"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
