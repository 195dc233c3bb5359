//! What a panel may ask for while it draws: one small command enum, applied by the app after
//! drawing (`app/apply.rs`). A leaf, so that every panel can return actions without
//! depending on the app that applies them.

use std::path::PathBuf;

use crate::config::RunConfig;
use crate::events::Slot;
use crate::sweep::plan::SweepPlan;

use super::pending::PendingFile;
use super::tab::Tab;

/// A request from a panel, applied by the app after drawing.
#[must_use]
#[derive(Clone, Debug)]
pub enum Action {
    /// Start a run with the launcher's configuration.
    StartRun,
    /// Start a sweep of the launcher's configuration (into a new folder under the runs folder).
    StartSweep {
        /// The planned sweep.
        plan: Box<SweepPlan>,
        /// Points trained at a time.
        jobs: usize,
    },
    /// Cancel the live run.
    Cancel,
    /// Replace the launcher's configuration (an edit in the launcher).
    SetConfig(Box<RunConfig>),
    /// Load a preset into the launcher.
    LoadPreset(String),
    /// Put a stored configuration into the launcher.
    OpenConfig(Box<RunConfig>),
    /// Show this test image in the playground.
    ShowSample(usize),
    /// Show these weights in a playground slot.
    LoadWeights {
        /// The slot.
        slot: Slot,
        /// The file.
        path: PathBuf,
    },
    /// File work that needs a path (a dialog, or the window's own path field).
    File(PendingFile),
    /// The path typed into the window's path field for pending file work.
    FileAt(PendingFile, PathBuf),
    /// Close the path field without doing the work.
    DismissPrompt,
    /// Re-read the runs folder (in the background).
    RefreshRuns,
    /// Delete a run folder (in the background; the runs view has asked to confirm).
    DeleteRun(PathBuf),
    /// Search the best bias shift of these classes for the student (in the background).
    FindBestShift(Vec<u8>),
    /// Switch the central view.
    ShowTab(Tab),
    /// Switch between the dark and light themes.
    SetDark(bool),
    /// Open a run from the runs folder in the Live view, to replay its probes.
    ReplayRun(PathBuf),
    /// Train the plane playground's models with this configuration.
    StartPlane(Box<RunConfig>),
}
