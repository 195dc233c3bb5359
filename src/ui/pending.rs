//! File work waiting for a path (from a system dialog or the window's own path field): what
//! panels ask for, what the path prompt shows, and what the file tasks do once a path is known.

use std::path::PathBuf;

use crate::events::Slot;
use crate::export::PlotSpec;
use crate::ui::plane::export::PlaneExport;

/// File work waiting for a path: from a dialog, or typed into the window's own path field.
#[derive(Clone, Debug)]
pub enum PendingFile {
    /// Export a plot (PNG of the screen region, SVG, CSV).
    ExportPlot {
        /// The plot's data.
        spec: Box<PlotSpec>,
        /// Where it is on screen, in points.
        rect: [f32; 4],
        /// Suggested file name, without extension.
        name: String,
    },
    /// Save a copy of a weights file.
    ExportWeights {
        /// The file to copy.
        source: PathBuf,
    },
    /// Open a weights file into a playground slot.
    OpenWeights {
        /// The slot.
        slot: Slot,
    },
    /// Export a plane panel (PNG of the screen region, SVG, grid and points CSV).
    ExportPlane(Box<PlaneExport>),
    /// Open a sweep folder into the Sweeps view.
    OpenSweep,
    /// Use another folder of MNIST-format files.
    OpenDataDir,
}

impl PendingFile {
    /// The file name a dialog or the path field suggests.
    pub fn suggested_name(&self) -> String {
        match self {
            PendingFile::ExportPlot { name, .. } => format!("{name}.png"),
            PendingFile::ExportWeights { source } => source
                .file_name()
                .map_or("student.safetensors".into(), |n| {
                    n.to_string_lossy().into_owned()
                }),
            PendingFile::OpenWeights { slot } => format!("{}.safetensors", slot.key()),
            PendingFile::ExportPlane(export) => format!("{}.png", export.name),
            PendingFile::OpenSweep | PendingFile::OpenDataDir => String::new(),
        }
    }

    /// What the path field's button says.
    pub fn verb(&self) -> &'static str {
        match self {
            PendingFile::OpenWeights { .. } | PendingFile::OpenSweep | PendingFile::OpenDataDir => {
                "Open"
            }
            _ => "Save",
        }
    }

    /// What the path names: a file, or a folder (sweeps, data sets).
    pub fn noun(&self) -> &'static str {
        match self {
            PendingFile::OpenSweep | PendingFile::OpenDataDir => "folder",
            _ => "file",
        }
    }
}
