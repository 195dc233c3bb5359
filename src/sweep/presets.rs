//! Built-in sweeps: the classic distillation curves and maps, each a base preset plus axes.

use super::axis::Axis;
use super::error::SweepError;
use super::plan::SweepPlan;
use crate::config::RunConfig;

/// A named sweep: a base configuration preset and the axes swept over it.
pub struct SweepPreset {
    /// Name used by `--sweep`.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The configuration preset it starts from (see `distillery presets`).
    pub base: &'static str,
    /// The axes, as `--axis` text.
    pub axes: &'static [&'static str],
}

impl SweepPreset {
    /// The axes parsed against `base`.
    pub fn axes(&self, base: &RunConfig) -> Result<Vec<Axis>, SweepError> {
        self.axes
            .iter()
            .map(|spec| Axis::parse(spec, base))
            .collect()
    }

    /// The plan over the preset's own base configuration.
    pub fn plan(&self) -> Result<SweepPlan, SweepError> {
        let base = crate::presets::find(self.base)
            .ok_or_else(|| SweepError::Plan(format!("unknown base preset `{}`", self.base)))?
            .config();
        let axes = self.axes(&base)?;
        SweepPlan::new(base, axes)
    }
}

/// Every sweep preset.
pub const SWEEP_PRESETS: &[SweepPreset] = &[
    SweepPreset {
        name: "t-alpha",
        description: "T × α map for the 2×800 student (quick preset: students see 5k examples)",
        base: "quick",
        axes: &["distill.temperature=1,2,4,8,20", "distill.alpha=0.1,0.5,0.9"],
    },
    SweepPreset {
        name: "transfer-size",
        description: "the model-compression curve: distilled student and baseline against transfer-set size, with and without MUNGE",
        base: "quick",
        axes: &[
            "transfer.limit=500,1000,2000,5000,10000,20000,60000",
            "transfer.munge=false,true",
        ],
    },
    SweepPreset {
        name: "student-width",
        description: "distilled student and baseline against hidden width: 2×30, 2×100, 2×300, 2×800",
        base: "quick",
        axes: &["student.hidden=[30,30],[100,100],[300,300],[800,800]"],
    },
];

/// Looks a sweep preset up by name.
pub fn find(name: &str) -> Option<&'static SweepPreset> {
    SWEEP_PRESETS.iter().find(|p| p.name == name)
}

/// The names of every sweep preset, comma-separated (for error messages).
pub fn names() -> String {
    SWEEP_PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sweep_preset_plans() {
        for preset in SWEEP_PRESETS {
            let plan = preset
                .plan()
                .unwrap_or_else(|e| panic!("{}: {e}", preset.name));
            assert!(plan.len() >= 4, "{}", preset.name);
        }
        assert!(find("t-alpha").is_some_and(|p| p.plan().unwrap().shares_teacher()));
    }
}
