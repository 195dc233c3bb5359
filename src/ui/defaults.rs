//! What the window starts from the first time: the quick preset with the shipped teacher, and
//! the shipped models spelled portably. A leaf, so that the launcher and the persisted state can
//! both use it.

use std::path::PathBuf;

use crate::assets;
use crate::config::RunConfig;

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
