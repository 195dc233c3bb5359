//! `distillery reproduce`: the paper's MNIST table, one row per experiment, with our numbers.
//!
//! One teacher is trained (the `hinton-mnist` preset's) and reused by every experiment that
//! uses it in the paper (distilled, omit-3, only-7-8, logit-l2, noisy-teacher, munge, the 2×30
//! temperature sweep); the ensemble trains its own members. Each experiment is an ordinary run
//! (same trainer, same run folders) in a folder named after its configuration, so a rerun
//! after a crash or Ctrl-C reuses every run that finished with the same configuration. The
//! table is written as `results.md` and `results.csv` beside them.
//!
//! `--split validation` runs the same table with the last 10,000 training images held out as
//! the evaluation set: how the presets' hyperparameters were chosen, without the test set.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::{OptimConfig, RunConfig};
use crate::events::{EventSink, RunSummary};
use crate::files::{csv_text, write_atomic};
use crate::presets;
use crate::runs::{load_run, RunStatus};
use crate::train::trainer::{self, CancelToken};

/// How much compute the reproduction may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Budget {
    /// A few minutes on 2 cores: the same story with short training.
    Quick,
    /// The presets as tuned, aiming at the paper's numbers (under half an hour on 2 cores).
    Full,
}

impl Budget {
    fn key(self) -> &'static str {
        match self {
            Budget::Quick => "quick",
            Budget::Full => "full",
        }
    }

    /// Shrinks a preset's epochs (and the jittered transfer set's shifts) for the quick budget.
    fn apply(self, config: &mut RunConfig) {
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
    fn key(self) -> &'static str {
        match self {
            Split::Test => "test",
            Split::Validation => "validation",
        }
    }

    fn apply(self, config: &mut RunConfig) {
        if self == Split::Validation {
            config.data.validation = Some(VALIDATION_SIZE);
        }
    }
}

/// What `distillery reproduce` was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Epoch budget.
    pub budget: Budget,
    /// Test or validation errors.
    pub split: Split,
    /// Seeds for the baseline and the distilled student (the teacher is trained once).
    pub seeds: usize,
}

/// The temperatures of the 2×30 student's sweep (the paper finds 2.5–4 best at this size).
pub const SMALL_TEMPERATURES: [f64; 7] = [1.0, 2.0, 2.5, 3.0, 4.0, 8.0, 20.0];

/// One row of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    /// What was measured.
    pub experiment: String,
    /// The paper's figure, as text (`"67"`, `"47.3 %"`, `"—"`).
    pub paper: String,
    /// Our figure, as text.
    pub ours: String,
    /// Epochs trained (teacher / student).
    pub epochs: String,
    /// Wall time of the run that produced it.
    pub seconds: f64,
    /// The run folder.
    pub dir: PathBuf,
}

fn errors_pct(errors: usize, n: usize) -> String {
    format!("{:.1} %", 100.0 * errors as f64 / n.max(1) as f64)
}

fn on_class(per_class: &[usize], class: usize) -> usize {
    per_class.get(class).copied().unwrap_or(0)
}

/// A shift with its sign as the paper prints it: `+0.9`, `−2.8` (a minus sign, not a hyphen).
fn signed(shift: f64) -> String {
    format!("{shift:+.1}").replace('-', "−")
}

/// `mean [min–max]` of error counts.
fn mean_range(values: &[usize]) -> String {
    let mean = values.iter().sum::<usize>() as f64 / values.len().max(1) as f64;
    let min = values.iter().min().copied().unwrap_or(0);
    let max = values.iter().max().copied().unwrap_or(0);
    format!("{mean:.1} [{min}–{max}]")
}

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

/// Runs configurations in `runs_dir`, reusing the ones that already finished.
struct Runner<'a> {
    runs_dir: PathBuf,
    sink: &'a dyn EventSink,
    reused: usize,
}

impl Runner<'_> {
    fn run(&mut self, config: &RunConfig) -> Result<RunSummary> {
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
        let summary = trainer::run_at(config, &dir, 0, self.sink, CancelToken::new())?;
        eprintln!("{}: {}", config.name, summary.describe());
        Ok(summary)
    }
}

/// `adamw lr 0.001, cosine to 0, warm-up 2 epochs, batch 128`.
fn describe_optim(o: &OptimConfig) -> String {
    let mut text = format!("{:?} lr {}", o.kind, o.lr).to_lowercase();
    if o.kind == crate::config::OptimizerKind::Sgd {
        let _ = write!(text, " momentum {}", o.momentum);
    }
    if o.weight_decay > 0.0 {
        let _ = write!(text, " weight decay {}", o.weight_decay);
    }
    let schedule = format!("{:?}", o.schedule).to_lowercase();
    if o.final_lr_fraction > 0.0 {
        let _ = write!(text, ", {schedule} to {}× lr", o.final_lr_fraction);
    } else {
        let _ = write!(text, ", {schedule} to 0");
    }
    let _ = write!(
        text,
        ", warm-up {} epoch{}, batch {}",
        o.warmup_epochs,
        if o.warmup_epochs == 1.0 { "" } else { "s" },
        o.batch_size
    );
    if o.ema_decay > 0.0 {
        let _ = write!(
            text,
            "; the weights' moving average (decay {}) evaluated",
            o.ema_decay
        );
    }
    text
}

/// The recipe of the main run, as the table's readers need it.
fn recipe(main: &RunConfig, jittered: &RunConfig) -> Vec<String> {
    let t = &main.teacher;
    let s = &main.student;
    vec![
        format!(
            "teacher {:?}: {} epochs, {}; dropout {} input / {} hidden, max-norm {}, ±{} px shifts",
            t.hidden,
            t.epochs,
            describe_optim(&t.optim),
            t.dropout_input,
            t.dropout_hidden,
            t.max_norm,
            t.jitter_px
        ),
        format!(
            "students {:?} (baseline and distilled): {} epochs, {}; no dropout, no max-norm",
            s.hidden,
            s.epochs,
            describe_optim(&s.optim)
        ),
        format!(
            "distilled: T = {}, α = {} (soft term × T²); jittered transfer set: ±{} px, the teacher's logits cached for each shift",
            main.distill.temperature, main.distill.alpha, jittered.transfer.jitter_px
        ),
    ]
}

/// Runs the whole table and writes `results.md` and `results.csv` into `out_dir`.
pub fn reproduce(options: &Options, out_dir: &Path, sink: &dyn EventSink) -> Result<PathBuf> {
    anyhow::ensure!(options.seeds >= 1, "--seeds must be ≥ 1");
    let mut runner = Runner {
        runs_dir: out_dir.join("runs"),
        sink,
        reused: 0,
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    let config_of = |name: &str| -> Result<RunConfig> {
        let mut c = presets::find(name)
            .with_context(|| format!("preset {name}"))?
            .config();
        options.budget.apply(&mut c);
        options.split.apply(&mut c);
        Ok(c)
    };

    // The paper's main experiment: teacher, baseline, distilled at T = 20.
    let main_config = config_of("hinton-mnist")?;
    let main = runner.run(&main_config)?;
    let teacher_path = main.dir.join("teacher.safetensors");
    let t_epochs = main.teacher.epochs;
    let epochs = |s: &RunSummary| format!("{t_epochs} / {}", s.student.epochs);
    let row = |experiment: &str, paper: &str, ours: String, s: &RunSummary| Row {
        experiment: experiment.to_owned(),
        paper: paper.to_owned(),
        ours,
        epochs: epochs(s),
        seconds: s.duration_secs,
        dir: s.dir.clone(),
    };
    rows.push(Row {
        epochs: format!("{t_epochs}"),
        ..row(
            "teacher 2×1200, dropout + jitter",
            "67",
            main.teacher.test_errors.to_string(),
            &main,
        )
    });
    if let Some(b) = &main.baseline {
        rows.push(Row {
            epochs: format!("{}", b.epochs),
            ..row(
                "student 2×800, hard labels",
                "146",
                b.test_errors.to_string(),
                &main,
            )
        });
    }
    rows.push(row(
        &format!(
            "student 2×800 distilled, T = {}, unjittered transfer set (the paper's)",
            main.temperature
        ),
        "74",
        main.student.test_errors.to_string(),
        &main,
    ));

    let reuse_teacher = |name: &str| -> Result<RunConfig> {
        let mut c = config_of(name)?;
        c.teacher.weights = Some(teacher_path.clone());
        c.student.baseline = false;
        Ok(c)
    };

    // The same student on the jittered transfer set, with consistent teacher targets.
    let mut jittered_config = reuse_teacher("hinton-mnist")?;
    jittered_config.name = "hinton-mnist-jittered".into();
    jittered_config.transfer.jitter_px = main_config.teacher.jitter_px;
    if options.budget == Budget::Quick {
        jittered_config.transfer.jitter_px = jittered_config.transfer.jitter_px.min(1);
    }
    let jittered = runner.run(&jittered_config)?;
    rows.push(row(
        &format!(
            "student 2×800 distilled, T = {}, transfer set jittered ±{} px (teacher on the same shift)",
            jittered.temperature, jittered_config.transfer.jitter_px
        ),
        "74",
        jittered.student.test_errors.to_string(),
        &jittered,
    ));

    // More seeds for the baseline and the jittered distilled student, same teacher.
    if options.seeds > 1 {
        let mut baselines: Vec<usize> = main.baseline.iter().map(|b| b.test_errors).collect();
        let mut distilled = vec![jittered.student.test_errors];
        let mut seconds = 0.0;
        for i in 1..options.seeds {
            let mut c = jittered_config.clone();
            c.name = format!("hinton-mnist-jittered-seed{}", c.seed + i as u64);
            c.seed += i as u64;
            c.student.baseline = true;
            let s = runner.run(&c)?;
            baselines.extend(s.baseline.iter().map(|b| b.test_errors));
            distilled.push(s.student.test_errors);
            seconds += s.duration_secs;
        }
        let seeds_row = |experiment: String, values: &[usize]| Row {
            experiment,
            paper: "—".into(),
            ours: mean_range(values),
            epochs: format!("{}", jittered_config.student.epochs),
            seconds,
            dir: runner.runs_dir.clone(),
        };
        rows.push(seeds_row(
            format!(
                "student 2×800, hard labels: mean [range] over {} seeds",
                baselines.len()
            ),
            &baselines,
        ));
        rows.push(seeds_row(
            format!(
                "student 2×800 distilled, jittered: mean [range] over {} seeds",
                distilled.len()
            ),
            &distilled,
        ));
    }

    // The bias shift is a hyperparameter: a run on the validation split (same teacher, the
    // student trained on the first 50,000 training images) searches it on the held-out 10,000,
    // and the test run applies that shift.
    let mut bias_experiment = |name: &str| -> Result<RunSummary> {
        let mut c = reuse_teacher(name)?;
        if options.split == Split::Test && c.bias.search {
            let mut v = c.clone();
            v.name = format!("{name}-validation");
            Split::Validation.apply(&mut v);
            if let Some(b) = runner.run(&v)?.bias {
                c.bias.search = false;
                c.bias.shift = b.shift;
            }
        }
        runner.run(&c)
    };
    let omit = bias_experiment("omit-3")?;
    let threes = |per_class: &[usize]| on_class(per_class, 3);
    rows.push(row(
        "distilled, all 3s omitted from transfer set",
        "206 (133 on 3s)",
        format!(
            "{} ({} on 3s)",
            omit.student.test_errors,
            threes(&omit.student.per_class_errors)
        ),
        &omit,
    ));
    if let Some(b) = &omit.bias {
        rows.push(row(
            &format!(
                "… after {} bias on class 3, chosen on the validation split (paper +3.5)",
                signed(b.shift)
            ),
            "109 (14 on 3s)",
            format!("{} ({} on 3s)", b.test_errors, threes(&b.per_class_errors)),
            &omit,
        ));
    }

    let only = bias_experiment("only-7-8")?;
    rows.push(row(
        "distilled, transfer set only 7s and 8s",
        "47.3 %",
        errors_pct(only.student.test_errors, only.student.test_n),
        &only,
    ));
    if let Some(b) = &only.bias {
        rows.push(row(
            &format!(
                "… after {} bias on 7 and 8, chosen on the validation split (paper −7.6)",
                signed(b.shift)
            ),
            "13.2 %",
            errors_pct(b.test_errors, only.student.test_n),
            &only,
        ));
    }

    for (name, label) in [
        (
            "logit-l2",
            "student 2×800, logit matching L2 (Ba & Caruana)",
        ),
        (
            "noisy-teacher",
            "student 2×800, noisy teacher (Sau & Balasubramanian)",
        ),
        ("munge", "student 2×800, MUNGE model compression (Buciluă)"),
    ] {
        let s = runner.run(&reuse_teacher(name)?)?;
        rows.push(row(label, "—", s.student.test_errors.to_string(), &s));
    }

    let mut ens_config = config_of("ensemble")?;
    ens_config.student.baseline = false;
    let ens = runner.run(&ens_config)?;
    let ens_epochs = format!(
        "{} × {} / {}",
        ens_config.teacher.ensemble, ens.teacher.epochs, ens.student.epochs
    );
    let members = ens_config.teacher.ensemble;
    rows.push(Row {
        epochs: ens_epochs.clone(),
        ..row(
            &format!("ensemble of {members} teachers (2×800)"),
            "—",
            ens.teacher.test_errors.to_string(),
            &ens,
        )
    });
    rows.push(Row {
        epochs: ens_epochs,
        ..row(
            "student 2×800 distilled from the ensemble",
            "—",
            ens.student.test_errors.to_string(),
            &ens,
        )
    });

    // The 2×30 student at each temperature (its hard-label baseline once, with the first).
    let mut points = Vec::new();
    for (i, &t) in SMALL_TEMPERATURES.iter().enumerate() {
        let mut c = reuse_teacher("small-30")?;
        c.name = format!("small-30-t{t}");
        c.distill.temperature = t;
        c.student.baseline = i == 0;
        points.push((t, runner.run(&c)?));
    }
    let listing: Vec<String> = points
        .iter()
        .map(|(t, s)| format!("T={t}: {}", s.student.test_errors))
        .collect();
    let best = points
        .iter()
        .min_by_key(|(_, s)| s.student.test_errors)
        .context("no temperature point")?;
    rows.push(Row {
        seconds: points.iter().map(|(_, s)| s.duration_secs).sum(),
        ..row(
            &format!("2×30 student: best T ({})", listing.join(", ")),
            "2.5 – 4",
            format!("T = {}", best.0),
            &best.1,
        )
    });
    if let Some((_, first)) = points.first() {
        if let Some(b) = &first.baseline {
            rows.push(row(
                "2×30 student, hard labels",
                "—",
                b.test_errors.to_string(),
                first,
            ));
        }
    }

    let total = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    let seed = main.seed;
    let header = Header {
        options: *options,
        seed,
        total_secs: total,
        reused: runner.reused,
        recipe: recipe(&main_config, &jittered_config),
    };
    write_atomic(
        &out_dir.join("results.md"),
        markdown(&rows, &header).as_bytes(),
    )?;
    write_atomic(&out_dir.join("results.csv"), csv(&rows, seed).as_bytes())?;
    Ok(out_dir.join("results.md"))
}

/// What the table's header says about how it was made.
struct Header {
    options: Options,
    seed: u64,
    total_secs: f64,
    reused: usize,
    recipe: Vec<String>,
}

/// A one-line description of this machine (CPU model and core count).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

fn markdown(rows: &[Row], h: &Header) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Hinton et al. (2015) MNIST table, reproduced\n");
    let seeds = if h.options.seeds > 1 {
        format!(" --seeds {}", h.options.seeds)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "`distillery reproduce --budget {} --split {}{seeds}` · seed {} · {} · total {:.1} min{}\n",
        h.options.budget.key(),
        h.options.split.key(),
        h.seed,
        machine(),
        h.total_secs / 60.0,
        if h.reused > 0 {
            format!(" ({} runs reused from an earlier attempt)", h.reused)
        } else {
            String::new()
        }
    );
    let _ = match h.options.split {
        Split::Test => writeln!(
            out,
            "Errors on the 10,000 test images (out of 10,000 unless marked %), each model as it \
             stands after its last epoch. Every hyperparameter was chosen with `--split \
             validation` (trained on the first 50,000 training images, errors counted on the \
             last 10,000), never on the test set.\n"
        ),
        Split::Validation => writeln!(
            out,
            "Errors on the validation split: trained on the first 50,000 training images, \
             errors counted on the last {VALIDATION_SIZE} (out of 10,000 unless marked %), \
             after the last epoch. This is the table the hyperparameters are chosen on; the \
             test images are not used.\n"
        ),
    };
    let _ = writeln!(out, "Recipe:\n");
    for line in &h.recipe {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| experiment | paper | ours | epochs (teacher / student) | wall time |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} s |",
            r.experiment, r.paper, r.ours, r.epochs, r.seconds
        );
    }
    out
}

/// The text of `results.csv`: one row per experiment, the seed and the run folder.
fn csv(rows: &[Row], seed: u64) -> String {
    let header = [
        "experiment",
        "paper",
        "ours",
        "epochs",
        "wall_secs",
        "seed",
        "run_dir",
    ]
    .map(str::to_owned);
    csv_text(std::iter::once(header).chain(rows.iter().map(|r| {
        [
            r.experiment.clone(),
            r.paper.clone(),
            r.ours.clone(),
            r.epochs.clone(),
            format!("{:.1}", r.seconds),
            seed.to_string(),
            r.dir.display().to_string(),
        ]
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn mean_range_of_error_counts() {
        assert_eq!(mean_range(&[70, 64, 67]), "67.0 [64–70]");
        assert_eq!(mean_range(&[5]), "5.0 [5–5]");
    }

    /// The table's cells (commas, quotes, the en dash and the multiplication sign of the
    /// experiment names) come back unchanged when `results.csv` is read as CSV.
    #[test]
    fn results_csv_round_trips_through_a_csv_reader() {
        #[derive(serde::Deserialize)]
        struct Read {
            experiment: String,
            paper: String,
            ours: String,
            epochs: String,
            wall_secs: f64,
            seed: u64,
            run_dir: PathBuf,
        }
        let rows = [
            Row {
                experiment: "distilled, all 3s omitted".into(),
                paper: "206 (133 on 3s)".into(),
                ours: "210 (140 on 3s)".into(),
                epochs: "8 / 4".into(),
                seconds: 12.34,
                dir: PathBuf::from("/runs/a,b \"c\""),
            },
            Row {
                experiment: "2×30 student: best T (T=1: 9, T=2.5: 7)".into(),
                paper: "2.5 – 4".into(),
                ours: "T = 2.5".into(),
                epochs: "8 / 4".into(),
                seconds: 3.0,
                dir: PathBuf::from("/runs/plain"),
            },
        ];
        let read: Vec<Read> =
            crate::files::read_csv(Path::new("results.csv"), &csv(&rows, 42)).unwrap();
        assert_eq!(read.len(), rows.len());
        for (r, row) in read.iter().zip(&rows) {
            assert_eq!(
                (&r.experiment, &r.paper, &r.ours, &r.epochs, &r.run_dir),
                (
                    &row.experiment,
                    &row.paper,
                    &row.ours,
                    &row.epochs,
                    &row.dir
                )
            );
            assert_eq!(r.seed, 42);
            assert!((r.wall_secs - row.seconds).abs() <= 0.05);
        }
    }
}
