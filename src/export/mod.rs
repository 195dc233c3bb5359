//! Exports what the user sees: plots as PNG, SVG and CSV, and screenshots cropped to a plot.
//!
//! The UI describes each plot it draws as a plain-data [`PlotSpec`]; this module renders that
//! description with plotters (no system fonts: egui's bundled font is registered once) and writes
//! files atomically through [`crate::files::write_atomic`]. It knows nothing of egui.

mod chart;
mod csv;
mod error;
mod heatmap;
mod plane;
mod plot;
mod range;
mod render;
mod save;
mod screenshot;
mod style;

pub use chart::log_ticks_125;
pub use csv::to_csv;
pub use error::ExportError;
pub use heatmap::Heatmap;
pub use plane::{PlanePicture, PlanePoint, PLANE_SVG_SIDE};
pub use plot::{HLine, PlotSpec, Series, SeriesKind};
pub use render::{render_png, render_svg};
pub use save::{save_plot, DEFAULT_HEIGHT, DEFAULT_WIDTH};
pub use screenshot::{clamp_rect, crop_rgba, save_rgba_png};
