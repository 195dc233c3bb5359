//! The central panel's views, in the order the top bar lists them. A leaf: the top bar, the
//! app and the actions that switch views all name it without depending on each other.

use serde::{Deserialize, Serialize};

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
