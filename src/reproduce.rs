//! `distillery reproduce`: the paper's MNIST table, one row per experiment, with our numbers.
//!
//! One teacher is trained (the `hinton-mnist` preset's) and reused by every experiment that
//! uses it in the paper (distilled, omit-3, only-7-8, logit-l2, noisy-teacher, munge); the
//! ensemble trains its own members. Each experiment is an ordinary run (same trainer, same run
//! folders); the table is written as `results.md` and `results.csv` beside them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::RunConfig;
use crate::events::{EventSink, RunSummary};
use crate::export::csv_field;
use crate::files::write_atomic;
use crate::presets;
use crate::train::trainer::{self, CancelToken};

/// How much compute the reproduction may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Budget {
    /// About 10 minutes on 2 cores: the same story with short training.
    Quick,
    /// The presets as tuned, aiming at the paper's numbers (about half an hour on 2 cores).
    Full,
}

impl Budget {
    fn key(self) -> &'static str {
        match self {
            Budget::Quick => "quick",
            Budget::Full => "full",
        }
    }

    /// Shrinks a preset's epochs for the quick budget.
    fn apply(self, config: &mut RunConfig) {
        if self == Budget::Quick {
            config.teacher.epochs = config.teacher.epochs.min(8);
            config.student.epochs = config.student.epochs.min(4);
            if config.teacher.ensemble > 1 {
                config.teacher.epochs = config.teacher.epochs.min(3);
            }
        }
    }
}

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

/// Runs the whole table and writes `results.md` and `results.csv` into `out_dir`.
pub fn reproduce(budget: Budget, out_dir: &Path, sink: &dyn EventSink) -> Result<PathBuf> {
    let runs_dir = out_dir.join("runs");
    let started = Instant::now();
    let mut rows = Vec::new();
    let config_of = |name: &str| -> Result<RunConfig> {
        let mut c = presets::find(name)
            .with_context(|| format!("preset {name}"))?
            .config();
        budget.apply(&mut c);
        Ok(c)
    };
    let run = |config: &RunConfig| -> Result<RunSummary> {
        eprintln!("== {} ==", config.name);
        let summary = trainer::run(config, &runs_dir, 0, sink, CancelToken::new())?;
        eprintln!("{}: {}", config.name, summary.describe());
        Ok(summary)
    };

    // The paper's main experiment: teacher, baseline, distilled at T = 20.
    let main = run(&config_of("hinton-mnist")?)?;
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
        "student 2×800 distilled, T = 20",
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

    let omit = run(&reuse_teacher("omit-3")?)?;
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
            &format!("… after {:+.1} bias on class 3 (paper +3.5)", b.shift),
            "109 (14 on 3s)",
            format!("{} ({} on 3s)", b.test_errors, threes(&b.per_class_errors)),
            &omit,
        ));
    }

    let only = run(&reuse_teacher("only-7-8")?)?;
    rows.push(row(
        "distilled, transfer set only 7s and 8s",
        "47.3 %",
        errors_pct(only.student.test_errors, only.student.test_n),
        &only,
    ));
    if let Some(b) = &only.bias {
        rows.push(row(
            &format!("… after {:+.1} bias on 7 and 8 (paper −7.6)", b.shift),
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
        let s = run(&reuse_teacher(name)?)?;
        rows.push(row(label, "—", s.student.test_errors.to_string(), &s));
    }

    let mut ens_config = config_of("ensemble")?;
    ens_config.student.baseline = false;
    let ens = run(&ens_config)?;
    rows.push(Row {
        epochs: format!(
            "{} × {} / {}",
            ens_config.teacher.ensemble, ens.teacher.epochs, ens.student.epochs
        ),
        ..row(
            &format!(
                "ensemble of {} teachers (2×800)",
                ens_config.teacher.ensemble
            ),
            "—",
            ens.teacher.test_errors.to_string(),
            &ens,
        )
    });
    rows.push(Row {
        epochs: format!(
            "{} × {} / {}",
            ens_config.teacher.ensemble, ens.teacher.epochs, ens.student.epochs
        ),
        ..row(
            "student 2×800 distilled from the ensemble",
            "—",
            ens.student.test_errors.to_string(),
            &ens,
        )
    });

    let mut small = config_of("small-30")?;
    small.teacher.weights = Some(teacher_path.clone());
    eprintln!("== small-30 sweep ==");
    let temperatures = [1.0, 2.5, 4.0, 8.0, 20.0];
    let (sweep, points) = trainer::sweep(
        &small,
        &temperatures,
        &runs_dir,
        0,
        sink,
        CancelToken::new(),
    )?;
    let listing: Vec<String> = points
        .iter()
        .map(|p| format!("T={}: {}", p.temperature, p.test_errors))
        .collect();
    rows.push(row(
        &format!("2×30 student: best T ({})", listing.join(", ")),
        "2.5 – 4",
        format!("T = {}", sweep.temperature),
        &sweep,
    ));
    if let Some(b) = &sweep.baseline {
        rows.push(row(
            "2×30 student, hard labels",
            "—",
            b.test_errors.to_string(),
            &sweep,
        ));
    }

    let total = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    let seed = main.seed;
    write_atomic(
        &out_dir.join("results.md"),
        markdown(&rows, budget, seed, total).as_bytes(),
    )?;
    write_atomic(&out_dir.join("results.csv"), csv(&rows, seed).as_bytes())?;
    Ok(out_dir.join("results.md"))
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

fn markdown(rows: &[Row], budget: Budget, seed: u64, total_secs: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Hinton et al. (2015) MNIST table, reproduced\n");
    let _ = writeln!(
        out,
        "`distillery reproduce --budget {}` · seed {seed} · {} · total {:.1} min\n",
        budget.key(),
        machine(),
        total_secs / 60.0
    );
    let _ = writeln!(out, "Test errors out of 10,000 unless marked %.\n");
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

fn csv(rows: &[Row], seed: u64) -> String {
    let mut out = String::from("experiment,paper,ours,epochs,wall_secs,seed,run_dir\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{:.1},{seed},{}",
            csv_field(&r.experiment),
            csv_field(&r.paper),
            csv_field(&r.ours),
            csv_field(&r.epochs),
            r.seconds,
            csv_field(&r.dir.display().to_string())
        );
    }
    out
}
