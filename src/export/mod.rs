//! Exports what the user sees: plots as PNG, SVG and CSV, and screenshots cropped to a plot.
//!
//! The UI describes each plot it draws as a plain-data [`PlotSpec`]; this module renders that
//! description with plotters (no system fonts: egui's bundled font is registered once) and writes
//! files atomically through [`crate::files::write_atomic`]. It knows nothing of egui.

mod chart;
mod csv;
mod heatmap;
mod plane;
mod plot;
mod range;
mod render;
mod save;
mod screenshot;

use crate::files::FileError;

pub use chart::log_ticks_125;
pub use csv::to_csv;
pub use heatmap::Heatmap;
pub use plane::{PlanePicture, PlanePoint, PLANE_SVG_SIDE};
pub use plot::{HLine, PlotSpec, Series, SeriesKind};
pub use render::{render_png, render_svg};
pub use save::{save_plot, DEFAULT_HEIGHT, DEFAULT_WIDTH};
pub use screenshot::{clamp_rect, crop_rgba, save_rgba_png};

/// Why an export failed; every message names the file (or plot) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed, or its content could not be produced.
    #[error(transparent)]
    File(#[from] FileError),
    /// A plot could not be rendered (before any file is involved).
    #[error("plot \"{title}\": {problem}")]
    Plot {
        /// The plot's title.
        title: String,
        /// What is wrong.
        problem: String,
    },
}

impl ExportError {
    /// Attaches the file being written to an error that does not name one yet.
    pub(crate) fn at(self, path: &std::path::Path) -> Self {
        match self {
            ExportError::Plot { .. } => FileError::invalid(path, self.to_string()).into(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_error_gains_the_path() {
        let e = ExportError::Plot {
            title: "Loss".into(),
            problem: "log x axis needs x > 0".into(),
        };
        let msg = e.at(std::path::Path::new("/x/y.png")).to_string();
        assert_eq!(msg, "/x/y.png: plot \"Loss\": log x axis needs x > 0");
    }

    #[test]
    fn io_error_names_the_path() {
        let e = ExportError::from(FileError::Io {
            path: "/x/y.png".into(),
            error: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert!(e.to_string().starts_with("/x/y.png: permission denied"));
    }
}
