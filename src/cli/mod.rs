//! The headless command line. It drives the same trainer as the GUI and prints its events as
//! progress bars on stderr; results go to stdout (as JSON with `--json`).

mod config_args;
mod models;
mod progress;
mod sweep;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::RunConfig;
use crate::presets;
use crate::runs;
use crate::train::CancelToken;
use config_args::print_json;
pub use config_args::{resolve_config, ConfigArgs};
pub use models::ExportFormat;

/// Distillery: knowledge distillation on real MNIST. With no command, opens the GUI.
#[derive(Debug, Parser)]
#[command(name = "distillery", version, about)]
pub struct Cli {
    /// What to do (none: open the GUI).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of `distillery plane`.
#[derive(Debug, Args)]
pub struct PlaneArgs {
    /// Dataset shape: moons, spirals, blobs, xor or checkerboard (sets `data.plane.kind`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Method: hinton, logit-l2, noisy-teacher, model-compression, fitnets, dkd, dml, takd or
    /// rkd (sets `distill.method`).
    #[arg(long)]
    pub method: Option<String>,
    /// A config.toml to start from (e.g. a plane run folder's); default: the playground's.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override one field, e.g. `--set data.plane.classes=4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Folder for run folders.
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train teacher, baseline and distilled student; prints the run folder.
    Train {
        /// Configuration.
        #[command(flatten)]
        config: ConfigArgs,
        /// Write the run folder exactly here (instead of a new folder under --runs-dir), as
        /// sweep points and cluster jobs do.
        #[arg(long)]
        run_dir: Option<PathBuf>,
    },
    /// A sweep over one or two settings (a curve or a map) sharing one teacher; runs the
    /// points --jobs at a time and writes sweep.csv, or with --plan writes a Slurm job array.
    Sweep(Box<sweep::SweepArgs>),
    /// Read a planned sweep's run folders back into sweep.csv (after a cluster job array).
    Collect {
        /// The sweep folder.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Test errors of a weights file, or of a run's model, on the test set.
    Eval {
        /// A safetensors file in Distillery's format.
        #[arg(long, required_unless_present = "run", conflicts_with = "run")]
        weights: Option<PathBuf>,
        /// A run folder: evaluates its `--model` (its teacher may be a file it references).
        #[arg(long)]
        run: Option<PathBuf>,
        /// Which of the run's models.
        #[arg(long, value_enum, default_value = "student", requires = "run")]
        model: RunModel,
        /// Folder of MNIST-format IDX files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// What each model costs to serve and keeps of the teacher: parameters, bytes, batch-1
    /// latency (median, p99), throughput at batch 256, test errors, agreement with the
    /// teacher, calibration (ECE, NLL) and the share of the teacher's gain it keeps.
    Deploy {
        /// A model to measure (repeatable).
        #[arg(long)]
        weights: Vec<PathBuf>,
        /// The teacher the others are compared with (repeat for an ensemble: its cost is the
        /// sum of its members').
        #[arg(long)]
        teacher: Vec<PathBuf>,
        /// The student trained on hard labels alone: the zero of "gain kept".
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// A run folder: its teacher (or ensemble), baseline and student.
        #[arg(long, conflicts_with_all = ["teacher", "baseline"])]
        run: Option<PathBuf>,
        /// Single-image calls timed per model (after 100 untimed ones).
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// Folder of MNIST-format IDX files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a model in another format: `onnx` (an ONNX graph, opset 13, for onnxruntime and
    /// other runtimes) or `int8` (per-unit int8 weights, run with integer products by `eval`
    /// and `deploy`).
    Export {
        /// A safetensors file in Distillery's format.
        #[arg(long)]
        weights: PathBuf,
        /// The format to write.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// A model's logits and softmax at temperature T for one test image.
    SoftTargets {
        /// A safetensors file in Distillery's format.
        #[arg(long)]
        weights: PathBuf,
        /// Test-set index.
        #[arg(long)]
        sample: usize,
        /// Temperature T > 0.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        temperature: f64,
        /// Folder of MNIST-format IDX files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the presets.
    Presets,
    /// Training and evaluation speed on the bundled MNIST (samples/s, ms), comparable with
    /// `benches/pytorch_bench.py`.
    Bench {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Who computes the matrix products: auto (the CPU's best), avx2 (Distillery's AVX2
        /// kernels, also on AVX-512 CPUs) or gemm (the gemm crate's own choice). Default:
        /// the DISTILLERY_GEMM environment variable, else auto.
        #[arg(long, value_name = "auto|avx2|gemm")]
        gemm: Option<String>,
    },
    /// The 2-D playground headless: teacher, baseline and distilled student on a synthetic
    /// plane dataset; writes a run folder with grid.csv, points.csv and plane.json.
    Plane(PlaneArgs),
    /// Run the paper's MNIST table (or, with `--paper methods`, the nine methods side by side)
    /// and write results.md / results.csv.
    Reproduce(ReproduceArgs),
}

/// Options of `distillery reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Which table: `hinton` (the paper's) or `methods` (the nine methods of the registry on
    /// the shipped teacher, each setting chosen on the validation split).
    #[arg(long, value_enum, default_value = "hinton")]
    pub paper: crate::reproduce::Paper,
    /// `quick` (a few minutes on 2 cores) or `full` (aims at the paper's numbers).
    #[arg(long, value_enum, default_value = "quick")]
    pub budget: crate::reproduce::Budget,
    /// Count errors on the `test` images (the default), or on the `validation` split (the
    /// last 10,000 training images, held out from training), where hyperparameters are
    /// chosen. The Hinton table only: the methods table uses both by itself.
    #[arg(long, value_enum)]
    pub split: Option<crate::reproduce::Split>,
    /// Repeat the test runs over this many seeds and report mean and range (default: 1 for
    /// the Hinton table, 3 for the methods table).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub seeds: Option<u64>,
    /// Override one field of every run, e.g. `--set data.test_limit=500` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Folder for the table and its run folders.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// A model of a run folder, for `eval --run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RunModel {
    /// The teacher (trained by the run, or the file it was loaded from).
    Teacher,
    /// The baseline student, trained on hard labels.
    Baseline,
    /// The distilled student.
    Student,
}

/// The weights file of `model` in the run folder `dir`.
fn run_model_path(dir: &Path, model: RunModel) -> Result<PathBuf> {
    let file = match model {
        RunModel::Teacher => {
            let run = crate::runs::load_run(dir)?;
            return run.teacher_weights.with_context(|| {
                format!(
                    "{}: the run's teacher is gone (neither its teacher.safetensors nor the file it was loaded from exists)",
                    dir.display()
                )
            });
        }
        RunModel::Baseline => "baseline.safetensors",
        RunModel::Student => "student.safetensors",
    };
    Ok(dir.join(file))
}

/// Runs a parsed command line (the GUI case is handled by `main`).
pub fn execute(command: Command) -> Result<()> {
    match command {
        Command::Presets => {
            for p in presets::PRESETS {
                println!("{:<14} {}", p.name, p.description);
            }
            Ok(())
        }
        Command::Train { config, run_dir } => {
            let args = config;
            let config = resolve_config(&args)?;
            let sink = progress::ProgressSink::new();
            let summary = match &run_dir {
                Some(dir) => runs::run_at(&config, dir, 1, &sink, CancelToken::new()),
                None => runs::run(&config, &args.runs_dir, 1, &sink, CancelToken::new()),
            }?;
            sink.finish();
            eprintln!("{}", summary.describe());
            if args.json {
                print_json(&serde_json::to_value(&summary)?)?;
            } else {
                println!("{}", summary.dir.display());
            }
            Ok(())
        }
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Collect { dir, json } => sweep::collect_dir(&dir, json),
        Command::Eval {
            weights,
            run,
            model,
            data_dir,
            json,
        } => {
            let path = match (weights, run) {
                (Some(weights), _) => weights,
                (None, Some(run)) => run_model_path(&run, model)?,
                (None, None) => bail!("give --weights FILE or --run FOLDER"),
            };
            models::eval(&path, &data_dir, json)
        }
        Command::Bench { json, gemm } => crate::bench::run(json, gemm.as_deref()),
        Command::Export {
            weights,
            format,
            out,
        } => models::export(&weights, format, &out),
        Command::Deploy {
            weights,
            teacher,
            baseline,
            run,
            calls,
            data_dir,
            json,
        } => models::deploy(weights, teacher, baseline, run, calls, &data_dir, json),
        Command::Plane(args) => plane(&args),
        Command::Reproduce(args) => reproduce(args),
        Command::SoftTargets {
            weights,
            sample,
            temperature,
            data_dir,
            json,
        } => models::soft_targets(&weights, sample, temperature, &data_dir, json),
    }
}

fn reproduce(args: ReproduceArgs) -> Result<()> {
    use crate::reproduce::{Options, Paper, Split};
    let default_seeds = match args.paper {
        Paper::Hinton => 1,
        Paper::Methods => 3,
    };
    if args.paper == Paper::Methods && args.split.is_some() {
        bail!("--split: the methods table chooses on the validation split and reports the test split by itself");
    }
    let options = Options {
        budget: args.budget,
        split: args.split.unwrap_or(Split::Test),
        seeds: args.seeds.unwrap_or(default_seeds) as usize,
        overrides: args.overrides,
    };
    let sink = progress::ProgressSink::new();
    let table = match args.paper {
        Paper::Hinton => crate::reproduce::reproduce(&options, &args.out, &sink),
        Paper::Methods => crate::reproduce::methods(&options, &args.out, &sink),
    }?;
    sink.finish();
    println!("{}", std::fs::read_to_string(&table)?);
    eprintln!("written to {}", table.display());
    Ok(())
}

/// Builds a plane run's configuration: the playground's defaults (or `--config`), then
/// `--dataset`, `--method` and the `--set` overrides.
pub fn resolve_plane_config(args: &PlaneArgs) -> Result<RunConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            RunConfig::from_toml(&text).with_context(|| format!("{}", path.display()))?
        }
        None => crate::plane::default_config(),
    };
    if let Some(kind) = &args.dataset {
        config
            .set(&format!("data.plane.kind=\"{kind}\""))
            .with_context(|| format!("--dataset {kind}"))?;
    }
    if let Some(method) = &args.method {
        config
            .set(&format!("distill.method=\"{method}\""))
            .with_context(|| format!("--method {method}"))?;
    }
    for assignment in &args.overrides {
        config
            .set(assignment)
            .with_context(|| format!("--set {assignment}"))?;
    }
    config.validate()?;
    Ok(config)
}

fn plane(args: &PlaneArgs) -> Result<()> {
    let config = resolve_plane_config(args)?;
    let sink = progress::ProgressSink::new();
    let summary = crate::plane::run(&config, &args.runs_dir, 1, &sink, CancelToken::new(), false)?;
    sink.finish();
    let pct = |v: f64| format!("{:.1} %", 100.0 * v);
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), pct);
    eprintln!(
        "{} ({} classes, {} of {} points labelled): test accuracy teacher {}, baseline {}, \
         distilled {}; grid agreement with the teacher: baseline {}, distilled {} [{:.2} s]",
        summary.dataset,
        summary.classes,
        summary.labelled,
        summary.train,
        pct(summary.teacher_accuracy),
        opt(summary.baseline_accuracy),
        pct(summary.student_accuracy),
        opt(summary.baseline_agreement),
        pct(summary.student_agreement),
        summary.seconds
    );
    if args.json {
        print_json(&serde_json::to_value(&summary)?)
    } else {
        println!("{}", summary.run.dir.display());
        Ok(())
    }
}
