//! `distillery sweep` and `distillery collect`: general sweeps run here (`--jobs` at a time),
//! or planned for a cluster scheduler (`--plan`) and read back afterwards.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use super::config_args::{print_json, resolve_config, ConfigArgs};
use super::progress::ProgressSink;
use crate::events::Event;
use crate::sweep::local::{default_jobs, run_local, Hooks};
use crate::sweep::table::{best, collect, Collected};
use crate::sweep::{axis_keys, presets, Axis, Layout, PointStatus, SweepPlan, SweepRow};
use crate::train::CancelToken;

/// The arguments of `distillery sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// A setting and its values, e.g. `distill.temperature=1,2,4` or
    /// `student.hidden=[30,30],[100,100]` (repeat for a second axis: a map).
    #[arg(long = "axis", value_name = "KEY=V1,V2,…")]
    pub axes: Vec<String>,
    /// Shorthand for `--axis distill.temperature=…`.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub temperatures: Vec<f64>,
    /// A built-in sweep (t-alpha, transfer-size, student-width): its axes, and its base
    /// preset unless --preset or --config is given.
    #[arg(long = "sweep", value_name = "NAME")]
    pub sweep_preset: Option<String>,
    /// Points trained at a time (default: half the cores, at least 1).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The sweep folder (default: `<runs-dir>/<timestamp>-<name>-sweep`). Rerunning a sweep
    /// into the same folder resumes it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only write the plan (configs, Slurm job array, GNU parallel line); run nothing.
    #[arg(long)]
    pub plan: bool,
    /// Configuration.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The sweep's plan from the command line.
fn plan_from(args: &SweepArgs) -> Result<SweepPlan> {
    let preset = match &args.sweep_preset {
        Some(name) => Some(
            presets::find(name)
                .with_context(|| format!("unknown sweep `{name}` (known: {})", presets::names()))?,
        ),
        None => None,
    };
    let mut config_args_base = None;
    if let (Some(p), None, None) = (preset, &args.config.preset, &args.config.config) {
        config_args_base = Some(p.base.to_owned());
    }
    let base = if let Some(name) = config_args_base {
        let with_base = ConfigArgs {
            preset: Some(name),
            config: None,
            overrides: args.config.overrides.clone(),
            runs_dir: args.config.runs_dir.clone(),
            data_dir: args.config.data_dir.clone(),
            json: args.config.json,
            probes: args.config.probes.clone(),
        };
        resolve_config(&with_base)?
    } else {
        resolve_config(&args.config)?
    };
    let mut axes: Vec<Axis> = args
        .axes
        .iter()
        .map(|spec| Axis::parse(spec, &base))
        .collect::<Result<_, _>>()?;
    if !args.temperatures.is_empty() {
        let values = args.temperatures.iter().map(f64::to_string).collect();
        axes.push(
            Axis::new("distill.temperature", values, &base)
                .map_err(|e| anyhow::anyhow!("--temperatures: {e}"))?,
        );
    }
    if axes.is_empty() {
        match preset {
            Some(p) => axes = p.axes(&base)?,
            None => anyhow::bail!("give --axis KEY=V1,V2,… (or --temperatures, or --sweep NAME)"),
        }
    }
    Ok(SweepPlan::new(base, axes)?)
}

fn default_out(args: &SweepArgs, plan: &SweepPlan) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    args.config
        .runs_dir
        .join(format!("{stamp}-{}-sweep", plan.base.name))
}

/// One line per point for stderr: its values, status and errors.
fn describe(plan_keys: &[String], row: &SweepRow, total: usize) -> String {
    let values: Vec<String> = plan_keys
        .iter()
        .zip(&row.values)
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect();
    let errors = match &row.status {
        PointStatus::Done => format!(
            "student {} (baseline {}, teacher {})",
            row.student_errors.map_or("-".into(), |e| e.to_string()),
            row.baseline_errors.map_or("-".into(), |e| e.to_string()),
            row.teacher_errors.map_or("-".into(), |e| e.to_string()),
        ),
        PointStatus::Failed(reason) => format!("FAILED: {reason}"),
        other => other.key().to_owned(),
    };
    format!(
        "point {:>width$} of {total}  {}  {errors}",
        row.point,
        values.join(" "),
        width = total.to_string().len()
    )
}

/// `distillery sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let plan = plan_from(args)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(args, &plan));
    let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("distillery"));
    let keys = axis_keys(&plan.axes);
    if args.plan {
        let out = std::path::absolute(&out).with_context(|| out.display().to_string())?;
        let points = plan.write(&Layout::new(&out), &binary)?;
        eprintln!(
            "planned {} points in {} (reference run first: {})",
            points.len(),
            out.display(),
            plan.shares_teacher()
        );
        eprintln!(
            "  Slurm:         {}",
            out.join(crate::sweep::plan::SLURM_SUBMIT).display()
        );
        eprintln!(
            "  GNU parallel:  {}",
            out.join(crate::sweep::plan::PARALLEL).display()
        );
        eprintln!("  then:          distillery collect {}", out.display());
        println!("{}", out.display());
        return Ok(());
    }
    let jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    let progress = ProgressSink::new();
    let quiet = |_: Event| {};
    let total = plan.len();
    let on_row = |row: &SweepRow| eprintln!("{}", describe(&keys, row, total));
    let hooks = Hooks {
        run: 1,
        reference_events: &progress,
        point_events: if jobs == 1 { &progress } else { &quiet },
        on_row: &on_row,
    };
    eprintln!(
        "sweep of {total} points into {} ({jobs} at a time)",
        out.display()
    );
    let outcome = run_local(&plan, &out, &binary, jobs, &hooks, &CancelToken::new())?;
    progress.finish();
    if let Some(b) = best(&outcome.rows) {
        eprintln!("best: {}", describe(&keys, b, total));
    }
    let csv = Layout::new(&out).csv();
    if args.config.json {
        print_json(&json!({
            "csv": csv,
            "rows": outcome.rows.iter().map(row_json).collect::<Vec<_>>(),
        }))?;
    } else {
        println!("{}", csv.display());
    }
    let failed = outcome
        .rows
        .iter()
        .filter(|r| r.status != PointStatus::Done)
        .count();
    if failed > 0 {
        anyhow::bail!("{failed} of {total} points failed (see {})", csv.display());
    }
    Ok(())
}

fn row_json(row: &SweepRow) -> serde_json::Value {
    json!({
        "point": row.point,
        "values": row.values,
        "status": row.status.key(),
        "message": match &row.status { PointStatus::Failed(m) => m.as_str(), _ => "" },
        "teacher_errors": row.teacher_errors,
        "baseline_errors": row.baseline_errors,
        "student_errors": row.student_errors,
        "test_n": row.test_n,
        "run_dir": row.run_dir,
    })
}

/// `distillery collect DIR`: reads a sweep folder back, writes its `sweep.csv`, and reports
/// every point that is not done. Fails when a point failed or is missing.
pub fn collect_dir(dir: &Path, as_json: bool) -> Result<()> {
    let collected: Collected = collect(dir)?;
    let keys = axis_keys(&collected.manifest.axes);
    let total = collected.rows.len();
    for row in &collected.rows {
        eprintln!("{}", describe(&keys, row, total));
    }
    if let Some(b) = best(&collected.rows) {
        eprintln!("best: {}", describe(&keys, b, total));
    }
    eprintln!("{}", collected.counts());
    let csv = Layout::new(dir).csv();
    if as_json {
        print_json(&json!({
            "csv": csv,
            "axes": collected.manifest.axes,
            "reference": collected.reference_status.key(),
            "rows": collected.rows.iter().map(row_json).collect::<Vec<_>>(),
        }))?;
    } else {
        println!("{}", csv.display());
    }
    let not_done = collected
        .rows
        .iter()
        .filter(|r| r.status != PointStatus::Done)
        .count();
    if not_done > 0 {
        anyhow::bail!(
            "{not_done} of {total} points are not done: {}",
            collected.counts()
        );
    }
    Ok(())
}
