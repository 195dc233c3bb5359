//! What the window remembers across restarts (persisted with eframe's storage): the shared
//! settings, and each view's own state inside [`Views`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::assets;
use crate::config::RunConfig;

use super::launcher::Launcher;
use super::live::LiveView;
use super::per_class::PerClassView;
use super::plane::PlaneView;
use super::playground::Playground;
use super::runs_view::RunsView;
use super::sweep::SweepView;

/// Where these used to live; kept so that `ui::state::{Tab, quick_config, shipped}` still
/// name them.
pub use super::defaults::{quick_config, shipped};
pub use super::tab::Tab;

/// Each view's own state (components: the app hands each its part and a read-only context).
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Views {
    /// The run launcher (left panel).
    pub launcher: Launcher,
    /// The temperature playground.
    pub playground: Playground,
    /// Live training curves.
    pub live: LiveView,
    /// Sweeps.
    pub sweep: SweepView,
    /// Per-class errors and bias shift.
    pub per_class: PerClassView,
    /// Past runs.
    pub runs: RunsView,
    /// The 2-D playground.
    pub plane: PlaneView,
}

/// Persisted UI state.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The open view.
    pub tab: Tab,
    /// Dark theme.
    pub dark: bool,
    /// Where run folders go.
    pub runs_dir: PathBuf,
    /// The launcher's configuration.
    pub config: RunConfig,
    /// The preset last loaded into the launcher.
    pub preset: String,
    /// Test image shown in the playground (and probed by runs).
    pub sample: usize,
    /// Teacher weights shown in the playground (`@assets/…` for the shipped one).
    pub teacher_weights: PathBuf,
    /// Student weights shown in the playground.
    pub student_weights: PathBuf,
    /// The views' own state.
    pub views: Views,
}

impl Default for State {
    fn default() -> Self {
        Self {
            tab: Tab::Playground,
            dark: true,
            runs_dir: PathBuf::from("runs"),
            config: quick_config(),
            preset: "quick".into(),
            sample: 0,
            teacher_weights: shipped(assets::TEACHER),
            student_weights: shipped(assets::STUDENT),
            views: Views::default(),
        }
    }
}
