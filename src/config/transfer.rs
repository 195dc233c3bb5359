//! The transfer-set section: which examples the distilled student learns from, grown with
//! MUNGE or shifted by jitter.

use serde::{Deserialize, Serialize};

use super::check::{
    check_at_least, check_at_least_if_set, check_at_most, check_classes, check_finite_positive,
    check_probability,
};
use super::data::MAX_JITTER_PX;
use super::error::{invalid, ConfigError};

/// Which training examples the student sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransferKind {
    /// The whole training set.
    #[default]
    Full,
    /// The training set without the listed classes (paper: omit all 3s).
    Omit,
    /// Only the listed classes (paper: only 7s and 8s).
    Only,
}

/// MUNGE parameters (Buciluă et al. 2006).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MungeConfig {
    /// Probability of swapping each feature with the nearest neighbour's.
    pub p: f64,
    /// Local variance parameter: the swap draws from `N(e', |e − e'| / s)`.
    pub s: f64,
    /// How many synthetic copies of the training set to grow.
    pub k: usize,
}

impl Default for MungeConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            s: 1.0,
            k: 4,
        }
    }
}

/// The transfer set: what the distilled student is trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// Full, omit classes or keep only classes.
    pub kind: TransferKind,
    /// The classes omitted or kept (ignored for `full`).
    pub classes: Vec<u8>,
    /// Grow the set with MUNGE synthetic examples (always on for model compression).
    pub munge: bool,
    /// MUNGE parameters.
    pub munge_params: MungeConfig,
    /// Give the students (baseline and distilled) only the first N training examples, while
    /// the teacher learns from all of them: soft targets as a regulariser (Hinton et al. §6).
    pub limit: Option<usize>,
    /// Shift the distilled student's images by up to ±N pixels, with the teacher's targets
    /// computed on the same shifted image (cached for all `(2N + 1)²` shifts when the transfer
    /// set is built). 0: the paper's unjittered transfer set.
    pub jitter_px: usize,
}

impl TransferConfig {
    /// Checks the transfer set for data of `classes` classes.
    pub(super) fn validate(&self, classes: usize) -> Result<(), ConfigError> {
        check_at_most("transfer.jitter_px", self.jitter_px, MAX_JITTER_PX)?;
        check_classes("transfer.classes", &self.classes, classes)?;
        if self.kind != TransferKind::Full && self.classes.is_empty() {
            return Err(invalid(
                "transfer.classes",
                "list the classes to omit or keep",
            ));
        }
        if self.kind == TransferKind::Omit && self.classes.len() >= classes {
            return Err(invalid("transfer.classes", "cannot omit every class"));
        }
        check_at_least_if_set("transfer.limit", self.limit, 1)?;
        check_probability("transfer.munge_params.p", self.munge_params.p)?;
        check_finite_positive("transfer.munge_params.s", self.munge_params.s)?;
        check_at_least("transfer.munge_params.k", self.munge_params.k, 1)
    }
}
