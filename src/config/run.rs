//! [`RunConfig`], everything that defines one run, and the checks that span its sections.

use serde::{Deserialize, Serialize};

use super::data::{DataConfig, DataSource};
use super::distill::{BiasConfig, DistillConfig, Method};
use super::error::{invalid, ConfigError};
use super::models::{StudentConfig, TeacherConfig};
use super::probes::ProbeConfig;
use super::transfer::TransferConfig;

/// Everything that defines one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Short name, used in the run folder's name.
    pub name: String,
    /// One seed for everything: init, shuffling, dropout, jitter, noise, MUNGE.
    pub seed: u64,
    /// Data source and subsets.
    pub data: DataConfig,
    /// The teacher.
    pub teacher: TeacherConfig,
    /// The student.
    pub student: StudentConfig,
    /// The distillation method.
    pub distill: DistillConfig,
    /// The transfer set.
    pub transfer: TransferConfig,
    /// Bias adjustment after training.
    pub bias: BiasConfig,
    /// Test images whose logits are reported while training.
    pub probes: ProbeConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: "run".to_owned(),
            seed: 42,
            data: DataConfig::default(),
            teacher: TeacherConfig::default(),
            student: StudentConfig::default(),
            distill: DistillConfig::default(),
            transfer: TransferConfig::default(),
            bias: BiasConfig::default(),
            probes: ProbeConfig::default(),
        }
    }
}

impl RunConfig {
    /// Checks every field; the error names the first bad one by its `--set` path. Pure: it
    /// reads nothing from the machine, so a config is valid everywhere or nowhere (whether a
    /// run fits in this machine's memory is `memory::check_fits`'s question, asked once the
    /// data is loaded; the launcher runs this check every frame).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        let classes = self.data.classes();
        self.data.validate()?;
        self.teacher.validate()?;
        self.student.validate()?;
        self.distill.validate()?;
        self.transfer.validate(classes)?;
        self.bias.validate(classes)?;
        self.probes.validate()?;
        self.validate_across_sections()
    }

    /// The checks of one section against another.
    fn validate_across_sections(&self) -> Result<(), ConfigError> {
        if self.data.source == DataSource::Plane && self.transfer.jitter_px > 0 {
            return Err(invalid(
                "transfer.jitter_px",
                "shifts images by pixels: plane points have no pixels, use 0",
            ));
        }
        if self.distill.method == Method::Fitnets {
            // The teacher's layer is checked once its model exists (a loaded teacher's
            // widths come from its file, not from `teacher.hidden`).
            let student = self.student.hidden.len();
            if self.distill.fitnets_student_layer > student {
                return Err(invalid(
                    "distill.fitnets_student_layer",
                    format!("the student has {student} hidden layers"),
                ));
            }
        }
        if let Some(limit) = self.data.test_limit {
            if let Some(i) = self.probes.samples.iter().find(|i| **i >= limit) {
                return Err(invalid(
                    "probes.samples",
                    format!("test image {i} is outside the test set (data.test_limit = {limit})"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the transfer set is grown with MUNGE (always for model compression).
    pub fn uses_munge(&self) -> bool {
        self.transfer.munge || self.distill.method == Method::ModelCompression
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::memory::{self, DataShape};

    #[test]
    fn jittered_transfer_sets_are_for_images_only() {
        let mut config = RunConfig::default();
        config.set("transfer.jitter_px=2").unwrap();
        config.validate().unwrap();
        config.set("transfer.jitter_px=9").unwrap();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("transfer.jitter_px"));
        config.set("transfer.jitter_px=1").unwrap();
        config.set("data.source=\"plane\"").unwrap();
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("transfer.jitter_px"), "{error}");
    }

    #[test]
    fn absurd_epochs_are_refused_at_validation_and_absurd_sizes_by_check_fits() {
        for (assignment, field) in [
            ("student.epochs=1000000", "student.epochs"),
            ("teacher.epochs=10001", "teacher.epochs"),
        ] {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            match config.validate() {
                Err(ConfigError::Invalid { field: f, problem }) => {
                    assert_eq!(f, field, "{assignment}");
                    assert!(
                        problem.contains("must be ≤ 10000"),
                        "{assignment}: {problem}"
                    );
                }
                other => panic!("{assignment}: expected an error for {field}, got {other:?}"),
            }
        }
        let mut config = RunConfig::default();
        config.set("student.epochs=10000").unwrap();
        config.validate().unwrap();
        // Sizes are the memory check's, on a machine of a fixed 22 GB here.
        for (assignment, field) in [
            ("student.hidden=[2000000000]", "student.hidden"),
            ("teacher.hidden=[1000000, 1000000]", "teacher.hidden"),
        ] {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            let shape = DataShape::assumed(&config);
            match memory::check_fits(&config, &shape, 22_000_000_000) {
                Err(ConfigError::Invalid { field: f, problem }) => {
                    assert_eq!(f, field, "{assignment}");
                    assert!(
                        problem.contains("TB, this machine has 22 GB"),
                        "{assignment}: {problem}"
                    );
                }
                other => panic!("{assignment}: expected an error for {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn validation_reads_nothing_from_the_machine() {
        // A 60 TB student fits no machine this runs on, yet it is a valid configuration: the
        // memory check is the session's, not validate's.
        let mut config = RunConfig::default();
        config.set("student.hidden=[2000000000]").unwrap();
        config.validate().unwrap();
        let shape = DataShape::assumed(&config);
        let err = memory::check_fits(&config, &shape, memory::available_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("student.hidden: the run needs ~60.5 TB"),
            "{err}"
        );
    }

    #[test]
    fn validate_names_the_bad_field() {
        let cases: [(&str, &str); 10] = [
            ("distill.temperature=0", "distill.temperature"),
            ("distill.temperature=-2", "distill.temperature"),
            ("distill.temperature=nan", "distill.temperature"),
            ("distill.alpha=1.5", "distill.alpha"),
            ("student.hidden=[800, 0]", "student.hidden"),
            ("student.epochs=0", "student.epochs"),
            ("teacher.optim.lr=0", "teacher.optim.lr"),
            ("student.optim.lr=-1", "student.optim.lr"),
            ("teacher.optim.ema_decay=1", "teacher.optim.ema_decay"),
            ("student.optim.ema_decay=nan", "student.optim.ema_decay"),
        ];
        for (assignment, field) in cases {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            match config.validate() {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field, "{assignment}"),
                other => panic!("{assignment}: expected an error for {field}, got {other:?}"),
            }
        }
    }
}
