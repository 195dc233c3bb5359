//! Turning an experiment into runs: its configuration (preset, budget, split, teacher, its own
//! changes), its plan's runs, and each run in a folder named after its configuration, so that
//! a rerun after a crash or Ctrl-C reuses every run that finished with the same configuration.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::experiments::{Experiment, Plan, Teacher};
use super::options::{Options, Split};
use crate::config::RunConfig;
use crate::events::{EventSink, RunSummary};
use crate::presets;
use crate::runs;
use crate::runs::{load_run, RunStatus};
use crate::train::CancelToken;

/// The run folder of a configuration: its name and a fingerprint of everything in it, so
/// that the same configuration always lands in the same folder and a changed one never does.
pub fn run_folder(runs_dir: &Path, config: &RunConfig) -> PathBuf {
    let fingerprint = crate::rng::fingerprint(&config.to_toml());
    runs_dir.join(format!("{}-{:016x}", config.name, fingerprint))
}

/// The summary of a run in `dir` that finished with exactly `config`.
fn finished_run(dir: &Path, config: &RunConfig) -> Option<RunSummary> {
    let stored = load_run(dir).ok()?;
    if stored.status == RunStatus::Finished && stored.config == *config {
        stored.summary
    } else {
        None
    }
}

/// An experiment's configuration: its preset under the budget and split, its teacher (the
/// shared one's weights file for [`Teacher::Shared`]), then its own changes.
pub(super) fn configure(
    experiment: &Experiment,
    options: &Options,
    shared_teacher: Option<&Path>,
) -> Result<RunConfig> {
    let mut c = presets::find(experiment.preset)
        .with_context(|| format!("preset {}", experiment.preset))?
        .config();
    options.budget.apply(&mut c);
    options.split.apply(&mut c);
    if experiment.teacher == Teacher::Shared {
        let teacher = shared_teacher.with_context(|| {
            format!(
                "{} reuses the shared teacher, which no earlier experiment trains",
                experiment.preset
            )
        })?;
        c.teacher.weights = Some(teacher.to_owned());
        c.student.baseline = false;
    }
    if let Some(name) = experiment.name {
        c.name = name.into();
    }
    (experiment.change)(&mut c, options);
    options.apply_overrides(&mut c)?;
    Ok(c)
}

/// Runs configurations in `runs_dir`, reusing the ones that already finished.
pub(super) struct Runner<'a> {
    /// Where the run folders go.
    pub runs_dir: PathBuf,
    /// Every run's events.
    pub sink: &'a dyn EventSink,
    /// Runs reused from an earlier attempt.
    pub reused: usize,
}

impl Runner<'_> {
    /// Runs `config`, or reuses its finished run.
    pub fn run(&mut self, config: &RunConfig) -> Result<RunSummary> {
        let dir = run_folder(&self.runs_dir, config);
        if let Some(summary) = finished_run(&dir, config) {
            eprintln!(
                "== {}: finished before, reusing {} ==",
                config.name,
                dir.display()
            );
            self.reused += 1;
            return Ok(summary);
        }
        eprintln!("== {} ==", config.name);
        let summary = runs::run_at(config, &dir, 0, self.sink, CancelToken::new())?;
        eprintln!("{}: {}", config.name, summary.describe());
        Ok(summary)
    }

    /// The runs of `plan` for `config`, in order.
    pub fn run_plan(
        &mut self,
        plan: Plan,
        config: &RunConfig,
        options: &Options,
    ) -> Result<Vec<RunSummary>> {
        match plan {
            Plan::Once => Ok(vec![self.run(config)?]),
            Plan::BiasFromValidation => {
                let mut c = config.clone();
                if options.split == Split::Test && c.bias.search {
                    let mut v = c.clone();
                    v.name = format!("{}-validation", config.name);
                    Split::Validation.apply(&mut v);
                    if let Some(b) = self.run(&v)?.bias {
                        c.bias.search = false;
                        c.bias.shift = b.shift;
                    }
                }
                Ok(vec![self.run(&c)?])
            }
            Plan::Seeds => {
                let mut runs = vec![self.run(config)?];
                for i in 1..options.seeds as u64 {
                    let mut c = config.clone();
                    c.name = format!("{}-seed{}", config.name, config.seed + i);
                    c.seed += i;
                    c.student.baseline = true;
                    runs.push(self.run(&c)?);
                }
                Ok(runs)
            }
            Plan::Temperatures(temperatures) => {
                let mut runs = Vec::new();
                for (i, &t) in temperatures.iter().enumerate() {
                    let mut c = config.clone();
                    c.name = format!("{}-t{t}", config.name);
                    c.distill.temperature = t;
                    c.student.baseline = i == 0;
                    runs.push(self.run(&c)?);
                }
                Ok(runs)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::experiments::EXPERIMENTS;
    use crate::reproduce::options::Budget;

    /// `--set` overrides change every experiment's configuration after the experiment's own
    /// changes (the jittered run keeps its override), and a bad one is named.
    #[test]
    fn overrides_apply_after_each_experiments_own_changes() {
        let mut options = Options {
            budget: Budget::Quick,
            split: Split::Test,
            seeds: 1,
            overrides: vec!["transfer.jitter_px=0".into(), "student.epochs=3".into()],
        };
        let teacher = Path::new("teacher.safetensors");
        for experiment in EXPERIMENTS {
            let c = configure(experiment, &options, Some(teacher)).unwrap();
            assert_eq!((c.transfer.jitter_px, c.student.epochs), (0, 3));
        }
        options.overrides = vec!["student.nope=1".into()];
        let error = configure(&EXPERIMENTS[0], &options, None).unwrap_err();
        assert!(
            format!("{error:#}").contains("--set student.nope=1"),
            "{error:#}"
        );
    }

    /// A rerun reuses a finished run of the same configuration (no training: its model file
    /// is not rewritten), retrains an interrupted one, and never mixes up two configurations.
    #[test]
    fn runner_reuses_finished_runs_of_the_same_config_only() {
        let mut config = RunConfig {
            name: "tiny".into(),
            ..RunConfig::default()
        };
        config.data.train_limit = Some(300);
        config.data.test_limit = Some(100);
        config.teacher.hidden = vec![16];
        config.teacher.epochs = 1;
        config.student.hidden = vec![8];
        config.student.epochs = 1;
        config.probes.samples = Vec::new();
        let out = tempfile::tempdir().unwrap();
        let mut runner = Runner {
            runs_dir: out.path().join("runs"),
            sink: &|_| {},
            reused: 0,
        };
        let first = runner.run(&config).unwrap();
        assert_eq!(first.dir, run_folder(&runner.runs_dir, &config));
        let model = first.dir.join("student.safetensors");
        let written = std::fs::metadata(&model).unwrap().modified().unwrap();

        let again = runner.run(&config).unwrap();
        assert_eq!(runner.reused, 1);
        assert_eq!(again.student.test_errors, first.student.test_errors);
        assert_eq!(
            std::fs::metadata(&model).unwrap().modified().unwrap(),
            written
        );

        // Another configuration gets its own folder and trains.
        let mut other = config.clone();
        other.student.epochs = 2;
        let second = runner.run(&other).unwrap();
        assert_ne!(second.dir, first.dir);
        assert_eq!(runner.reused, 1);

        // A run that never finished (no status: crashed or interrupted) is trained again.
        std::fs::remove_file(first.dir.join(crate::runs::status::STATUS_FILE)).unwrap();
        std::fs::remove_file(first.dir.join("summary.json")).unwrap();
        let retrained = runner.run(&config).unwrap();
        assert_eq!(runner.reused, 1);
        assert_eq!(retrained.student.test_errors, first.student.test_errors);
    }
}
