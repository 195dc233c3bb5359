//! What the window remembers across restarts (persisted with eframe's storage).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;

/// The views of the central panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    /// Temperature playground.
    #[default]
    Playground,
    /// Live training curves.
    Live,
    /// Test errors against temperature.
    Sweep,
    /// Per-class errors and bias adjustment.
    PerClass,
    /// Past runs.
    Runs,
}

impl Tab {
    /// Every tab, in display order.
    pub const ALL: [Tab; 5] = [
        Tab::Playground,
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
            Tab::Sweep => "T-sweep",
            Tab::PerClass => "Per-class & bias",
            Tab::Runs => "Runs",
        }
    }
}

/// Persisted UI state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The open view.
    pub tab: Tab,
    /// The launcher's configuration.
    pub config: RunConfig,
    /// The preset last loaded into the launcher.
    pub preset: String,
    /// Test image shown in the playground.
    pub sample: usize,
    /// Playground temperature.
    pub temperature: f64,
    /// Teacher weights shown in the playground.
    pub teacher_weights: PathBuf,
    /// Student weights shown in the playground.
    pub student_weights: PathBuf,
    /// Temperatures of the next sweep, as typed.
    pub sweep_temperatures: String,
    /// Draw the paper's reference numbers (67 / 146 / 74).
    pub show_paper_lines: bool,
    /// Dark theme.
    pub dark: bool,
    /// Where run folders go.
    pub runs_dir: PathBuf,
    /// Classes whose bias the per-class view shifts.
    pub bias_classes: [bool; 10],
    /// The bias shift in the per-class view.
    pub bias_shift: f64,
}

impl Default for State {
    fn default() -> Self {
        let assets = crate::ui::assets_dir();
        let mut config =
            crate::presets::find("quick").map_or_else(RunConfig::default, |p| p.config());
        config.name = "gui".into();
        // Start from the shipped teacher so the first click trains only the students.
        let shipped = assets.join("teacher.safetensors");
        if shipped.is_file() {
            config.teacher.weights = Some(shipped);
        }
        Self {
            tab: Tab::Playground,
            config,
            preset: "quick".into(),
            sample: 0,
            temperature: 1.0,
            teacher_weights: assets.join("teacher.safetensors"),
            student_weights: assets.join("student.safetensors"),
            sweep_temperatures: "1, 2, 4, 8, 20".into(),
            show_paper_lines: true,
            dark: true,
            runs_dir: PathBuf::from("runs"),
            bias_classes: [
                false, false, false, true, false, false, false, false, false, false,
            ],
            bias_shift: 0.0,
        }
    }
}
