//! What `distillery reproduce` is asked for: which table, the compute budget, the split errors
//! are counted on, the number of seeds and any `--set` overrides. Each changes every
//! experiment's configuration the same way.

use anyhow::{Context, Result};

use crate::config::RunConfig;

/// Which table `distillery reproduce` runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Paper {
    /// Hinton, Vinyals & Dean (2015): the paper's MNIST table.
    #[default]
    Hinton,
    /// The nine methods of the registry side by side on the shipped teacher, each with its
    /// setting chosen on the validation split.
    Methods,
}

/// How much compute the reproduction may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Budget {
    /// A few minutes on 2 cores: the same story with short training.
    Quick,
    /// The presets as tuned, aiming at the paper's numbers (under half an hour on 2 cores).
    Full,
}

impl Budget {
    /// The name `--budget` takes, as the table's header quotes it.
    pub(super) fn key(self) -> &'static str {
        match self {
            Budget::Quick => "quick",
            Budget::Full => "full",
        }
    }

    /// Shrinks a preset's epochs (and the jittered transfer set's shifts) for the quick budget.
    pub(super) fn apply(self, config: &mut RunConfig) {
        if self == Budget::Quick {
            config.teacher.epochs = config.teacher.epochs.min(8);
            config.student.epochs = config.student.epochs.min(4);
            config.transfer.jitter_px = config.transfer.jitter_px.min(1);
            if config.teacher.ensemble > 1 {
                config.teacher.epochs = config.teacher.epochs.min(3);
            }
        }
    }
}

/// Which images the table's errors are counted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// Train on all 60,000 training images, count errors on the 10,000 test images.
    Test,
    /// Train on the first 50,000 training images, count errors on the last 10,000: where the
    /// hyperparameters are chosen.
    Validation,
}

/// Training images held out by [`Split::Validation`].
pub const VALIDATION_SIZE: usize = 10_000;

impl Split {
    /// The name `--split` takes, as the table's header quotes it.
    pub(super) fn key(self) -> &'static str {
        match self {
            Split::Test => "test",
            Split::Validation => "validation",
        }
    }

    /// Holds the validation images out of training when this is the validation split.
    pub(super) fn apply(self, config: &mut RunConfig) {
        if self == Split::Validation {
            config.data.validation = Some(VALIDATION_SIZE);
        }
    }
}

/// What `distillery reproduce` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Epoch budget.
    pub budget: Budget,
    /// Test or validation errors.
    pub split: Split,
    /// Seeds for the baseline and the distilled student (the teacher is trained once).
    pub seeds: usize,
    /// `--set key=value` assignments applied to every experiment's configuration (after the
    /// budget and the split, before the table's own per-run choices: seeds, temperatures,
    /// candidates), e.g. to shrink a run for a test.
    pub overrides: Vec<String>,
}

impl Options {
    /// Applies the `--set` overrides to `config`, naming the one that fails.
    pub(super) fn apply_overrides(&self, config: &mut RunConfig) -> Result<()> {
        for assignment in &self.overrides {
            config
                .set(assignment)
                .with_context(|| format!("--set {assignment}"))?;
        }
        Ok(())
    }

    /// ` --set a --set b`, as the tables' headers quote the command line.
    pub(super) fn overrides_args(&self) -> String {
        self.overrides
            .iter()
            .map(|a| format!(" --set {a}"))
            .collect()
    }
}
