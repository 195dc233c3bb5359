//! What every command that runs training shares: how its configuration is chosen (a preset
//! or a config.toml plus `--set` overrides) and how it prints JSON.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::config::RunConfig;
use crate::presets;

/// How a run's configuration is chosen.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// A named preset (see `distillery presets`).
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// A config.toml (e.g. from a run folder).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override one field, e.g. `--set distill.temperature=8` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Folder for run folders.
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Folder of MNIST-format IDX files (default: the bundled MNIST).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Probe images whose logits go to probes.csv at every epoch end, as test-set indices,
    /// e.g. `--probe 0,42,4205` (at most 16; default: the config's `probes.samples`).
    #[arg(long = "probe", value_name = "INDICES", value_delimiter = ',')]
    pub probes: Option<Vec<usize>>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Builds the configuration from a preset or file plus `--set` overrides.
pub fn resolve_config(args: &ConfigArgs) -> Result<RunConfig> {
    let mut config = match (&args.preset, &args.config) {
        (Some(name), _) => presets::find(name)
            .with_context(|| format!("unknown preset `{name}` (known: {})", presets::names()))?
            .config(),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            RunConfig::from_toml(&text).with_context(|| format!("{}", path.display()))?
        }
        (None, None) => bail!("give --preset NAME or --config FILE"),
    };
    for assignment in &args.overrides {
        config
            .set(assignment)
            .with_context(|| format!("--set {assignment}"))?;
    }
    if let Some(dir) = &args.data_dir {
        config.data.dir = Some(dir.clone());
    }
    if let Some(samples) = &args.probes {
        config.probes.samples = samples.clone();
    }
    config.validate()?;
    Ok(config)
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
