//! The data section: where a run's examples come from (MNIST-format files or a synthetic plane
//! set) and how much of them it uses.

use serde::{Deserialize, Serialize};

use super::check::{check_at_least, check_at_least_if_set, check_in_range, check_probability};
use super::error::{invalid, ConfigError};

/// The largest shift, in pixels, of a jittered image (teacher or transfer set): ±8 px moves an
/// MNIST digit most of the way out of its 28×28 frame.
pub const MAX_JITTER_PX: usize = 8;

/// Number of classes of MNIST-format datasets.
pub const MNIST_CLASSES: usize = 10;

/// Where a run's examples come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// MNIST-format IDX files (`data.dir`, or the bundled MNIST).
    #[default]
    Mnist,
    /// A synthetic two-feature dataset drawn from `data.plane` (the plane playground).
    Plane,
}

/// The shapes of the synthetic two-feature datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum PlaneKind {
    /// Two interleaved half circles (2 classes).
    Moons,
    /// `classes` interleaved spiral arms (2–5).
    #[default]
    Spirals,
    /// `classes` Gaussian blobs (3–6).
    Blobs,
    /// The four quadrants, diagonal ones sharing a class (2 classes).
    Xor,
    /// A 3×3 checkerboard (2 classes).
    Checkerboard,
}

impl PlaneKind {
    /// Every shape, in the order the UI lists them.
    pub const ALL: [PlaneKind; 5] = [
        PlaneKind::Moons,
        PlaneKind::Spirals,
        PlaneKind::Blobs,
        PlaneKind::Xor,
        PlaneKind::Checkerboard,
    ];

    /// The name used in configs and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            PlaneKind::Moons => "moons",
            PlaneKind::Spirals => "spirals",
            PlaneKind::Blobs => "blobs",
            PlaneKind::Xor => "xor",
            PlaneKind::Checkerboard => "checkerboard",
        }
    }

    /// The class counts this shape can have (`data.plane.classes` is read only when there is
    /// a choice).
    pub fn class_range(self) -> std::ops::RangeInclusive<usize> {
        match self {
            PlaneKind::Spirals => 2..=5,
            PlaneKind::Blobs => 3..=6,
            PlaneKind::Moons | PlaneKind::Xor | PlaneKind::Checkerboard => 2..=2,
        }
    }
}

/// A synthetic two-feature dataset: its shape, size, noise and seed, and the grid the plane
/// playground evaluates models on. Points lie in the unit square, like pixels in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaneDataConfig {
    /// Moons, spirals, blobs, XOR or checkerboard.
    pub kind: PlaneKind,
    /// Spiral arms or blobs (fixed at 2 for the other shapes).
    pub classes: usize,
    /// Training points (what the teacher learns from).
    pub train: usize,
    /// Held-out test points, drawn from the same distribution.
    pub test: usize,
    /// Noise as a fraction of the shape's scale (0 = points exactly on the shape).
    pub noise: f64,
    /// Seed of the points (separate from the run's seed, so the same data can be trained on
    /// with other seeds).
    pub seed: u64,
    /// Cells per side of the grid the models are evaluated on (`grid²` points).
    pub grid: usize,
}

impl Default for PlaneDataConfig {
    fn default() -> Self {
        Self {
            kind: PlaneKind::Spirals,
            classes: 3,
            train: 1000,
            test: 1000,
            noise: 0.15,
            seed: 1,
            grid: 200,
        }
    }
}

impl PlaneDataConfig {
    /// Number of classes of the configured shape.
    pub fn class_count(&self) -> usize {
        let range = self.kind.class_range();
        self.classes.clamp(*range.start(), *range.end())
    }
}

/// Which data to load and how much of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// MNIST-format files or a synthetic plane dataset.
    pub source: DataSource,
    /// Folder of MNIST-format IDX files; `None` uses the bundled MNIST.
    pub dir: Option<std::path::PathBuf>,
    /// Use only the first N training examples (for quick experiments and tests).
    pub train_limit: Option<usize>,
    /// Use only the first N test examples.
    pub test_limit: Option<usize>,
    /// Hold out the last N training examples as a validation split and evaluate on them
    /// *instead of* the test set (the run never sees a test image): how hyperparameters are
    /// chosen honestly. Applied before `train_limit` and `test_limit`.
    pub validation: Option<usize>,
    /// The synthetic dataset (read when `source` is `plane`).
    pub plane: PlaneDataConfig,
}

impl DataConfig {
    /// Number of classes of the configured data.
    pub fn classes(&self) -> usize {
        match self.source {
            DataSource::Mnist => MNIST_CLASSES,
            DataSource::Plane => self.plane.class_count(),
        }
    }
}

impl PlaneDataConfig {
    /// Checks the synthetic dataset's fields.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let range = self.kind.class_range();
        if !range.contains(&self.classes) && range.start() != range.end() {
            return Err(invalid(
                "data.plane.classes",
                format!(
                    "{} have {}–{} classes, got {}",
                    self.kind.key(),
                    range.start(),
                    range.end(),
                    self.classes
                ),
            ));
        }
        check_at_least("data.plane.train", self.train, 2)?;
        check_at_least("data.plane.test", self.test, 1)?;
        check_probability("data.plane.noise", self.noise)?;
        check_in_range("data.plane.grid", self.grid, 2..=1000)
    }
}

impl DataConfig {
    /// Checks the limits, and the plane dataset when it is the source.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.source == DataSource::Plane {
            self.plane.validate()?;
        }
        check_at_least_if_set("data.train_limit", self.train_limit, 1)?;
        check_at_least_if_set("data.test_limit", self.test_limit, 1)?;
        check_at_least_if_set("data.validation", self.validation, 1)
    }
}
