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

/// The views of the central panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    /// Temperature playground.
    #[default]
    Playground,
    /// Live training curves.
    Live,
    /// Sweeps: curves and T × α maps.
    Sweep,
    /// Per-class errors and bias adjustment.
    PerClass,
    /// Past runs.
    Runs,
    /// The 2-D playground: teacher and students on a plane.
    Plane,
}

impl Tab {
    /// Every tab, in display order.
    pub const ALL: [Tab; 6] = [
        Tab::Playground,
        Tab::Plane,
        Tab::Live,
        Tab::Sweep,
        Tab::PerClass,
        Tab::Runs,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Playground => "Temperature playground",
            Tab::Live => "Live training",
            Tab::Sweep => "Sweeps",
            Tab::PerClass => "Per-class & bias",
            Tab::Runs => "Runs",
            Tab::Plane => "Plane (2-D)",
        }
    }
}

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

/// The launcher's configuration at first start: the quick preset.
pub fn quick_config() -> RunConfig {
    let mut config = crate::presets::find("quick").map_or_else(RunConfig::default, |p| p.config());
    config.name = "gui".into();
    // Start from the shipped teacher so the first click trains only the students.
    config.teacher.weights = Some(shipped(assets::TEACHER));
    config
}

/// A shipped model, spelled portably (`@assets/<file>`).
pub fn shipped(file: &str) -> PathBuf {
    PathBuf::from(assets::MARKER).join(file)
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
