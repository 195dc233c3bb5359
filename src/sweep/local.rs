//! Runs a planned sweep on this machine: the reference run (the shared teacher) first, then the
//! points `jobs` at a time on threads, each appended to `sweep.csv` as it finishes. A point
//! whose run folder already holds a summary for the same configuration is reused, so a sweep
//! resumes after a crash or a cancel where it stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::axis::axis_keys;
use super::error::SweepError;
use super::plan::{Layout, Point, SweepPlan};
use super::table::{read_run_folder, sweep_csv, PointStatus, SweepRow};
use crate::config::RunConfig;
use crate::events::{Event, EventSink, RunId, RunSummary};
use crate::files::write_atomic;
use crate::runs;
use crate::train::{CancelToken, TrainError};

/// Points run at a time by default: half the cores, so that each run's matrix products keep
/// two cores (candle spreads one product over the cores; two runs per core slow each other).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Where a local sweep reports as it goes.
pub struct Hooks<'a> {
    /// The id the runs' events carry.
    pub run: RunId,
    /// The reference run's events (the shared teacher's training).
    pub reference_events: &'a dyn EventSink,
    /// Every point's events (from several threads at once when `jobs` > 1).
    pub point_events: &'a dyn EventSink,
    /// Called once per point as its row is known: finished, reused or failed.
    pub on_row: &'a (dyn Fn(&SweepRow) + Sync),
}

/// A local sweep's outcome.
#[derive(Clone, Debug)]
pub struct LocalOutcome {
    /// The reference run's summary (`None` when every point trains its own teacher).
    pub reference: Option<RunSummary>,
    /// One row per point, in point order.
    pub rows: Vec<SweepRow>,
}

/// The summary of a run folder that finished with exactly `config`, if there is one.
fn finished_with(dir: &Path, config: &RunConfig) -> Option<RunSummary> {
    let (status, summary) = read_run_folder(dir);
    let stored = std::fs::read_to_string(dir.join("config.toml")).ok()?;
    let stored = RunConfig::from_toml(&stored).ok()?;
    // Compare as written, so that what TOML normalises (paths, float text) compares equal.
    let planned = RunConfig::from_toml(&config.to_toml()).ok()?;
    (status == PointStatus::Done && stored == planned)
        .then_some(summary)
        .flatten()
}

/// Plans the sweep into `dir` (see [`SweepPlan::write`]) and runs it here, `jobs` points at a
/// time. A failed point is a row with its reason, and the others go on; a failed reference run
/// (no teacher to share) or a cancel ends the sweep with an error.
pub fn run_local(
    plan: &SweepPlan,
    dir: &Path,
    binary: &Path,
    jobs: usize,
    hooks: &Hooks<'_>,
    cancel: &CancelToken,
) -> Result<LocalOutcome, SweepError> {
    let dir = std::path::absolute(dir).map_err(crate::files::FileError::io(dir))?;
    let layout = Layout::new(&dir);
    let points = plan.write(&layout, binary)?;
    let reference = if plan.shares_teacher() {
        let ref_dir = layout.reference_dir();
        match finished_with(&ref_dir, &plan.base) {
            Some(summary) => Some(summary),
            None => Some(
                runs::run_at(
                    &plan.base,
                    &ref_dir,
                    hooks.run,
                    hooks.reference_events,
                    cancel.clone(),
                )
                .map_err(|e| match e {
                    TrainError::Cancelled => SweepError::Cancelled,
                    other => SweepError::Reference(other.to_string()),
                })?,
            ),
        }
    } else {
        None
    };
    let keys = axis_keys(&plan.axes);
    let rows: Mutex<Vec<Option<SweepRow>>> = Mutex::new(vec![None; points.len()]);
    let next = AtomicUsize::new(0);
    let csv_error: Mutex<Option<SweepError>> = Mutex::new(None);
    let worker = || {
        while !cancel.is_cancelled() {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(point) = points.get(i) else { break };
            let Some(row) = run_point(point, &layout, reference.as_ref(), hooks, cancel) else {
                break;
            };
            (hooks.on_row)(&row);
            let Ok(mut rows) = rows.lock() else { break };
            rows[i] = Some(row);
            let done: Vec<SweepRow> = rows.iter().flatten().cloned().collect();
            if let Err(e) = write_atomic(&layout.csv(), sweep_csv(&keys, &done).as_bytes()) {
                if let Ok(mut slot) = csv_error.lock() {
                    slot.get_or_insert(e.into());
                }
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, points.len().max(1)) {
            scope.spawn(worker);
        }
    });
    if cancel.is_cancelled() {
        return Err(SweepError::Cancelled);
    }
    if let Some(e) = csv_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let rows = rows
        .into_inner()
        .map_err(|_| SweepError::Plan("a point's thread panicked".into()))?;
    Ok(LocalOutcome {
        reference,
        rows: rows.into_iter().flatten().collect(),
    })
}

/// Runs (or reuses) one point; `None` when it was cancelled.
fn run_point(
    point: &Point,
    layout: &Layout,
    reference: Option<&RunSummary>,
    hooks: &Hooks<'_>,
    cancel: &CancelToken,
) -> Option<SweepRow> {
    let dir: PathBuf = layout.point_dir(point.index);
    let (status, summary) = match finished_with(&dir, &point.config) {
        Some(summary) => (PointStatus::Done, Some(summary)),
        None => {
            match runs::run_at(
                &point.config,
                &dir,
                hooks.run,
                hooks.point_events,
                cancel.clone(),
            ) {
                Ok(summary) => (PointStatus::Done, Some(summary)),
                Err(TrainError::Cancelled) => return None,
                Err(e) => (PointStatus::Failed(e.to_string()), None),
            }
        }
    };
    Some(SweepRow::from_run(
        point.index,
        point.values.clone(),
        &dir,
        status,
        summary.as_ref(),
        reference,
    ))
}

/// A local sweep reported entirely as events, for the GUI's worker: [`Event::SweepPlanned`]
/// first, the reference run's own events, then one [`Event::SweepCell`] per point (the points'
/// training events are not forwarded: several run at once). Returns the best point's summary.
pub fn run_streamed(
    plan: &SweepPlan,
    dir: &Path,
    jobs: usize,
    run: RunId,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Result<RunSummary, SweepError> {
    let dir = std::path::absolute(dir).map_err(crate::files::FileError::io(dir))?;
    sink.send(Event::SweepPlanned {
        run,
        dir: dir.clone(),
        axes: plan
            .axes
            .iter()
            .map(|a| (a.key.clone(), a.values.clone()))
            .collect(),
    });
    let quiet = |_: Event| {};
    let on_row = |row: &SweepRow| {
        sink.send(Event::SweepCell {
            run,
            row: Box::new(row.clone()),
        })
    };
    let hooks = Hooks {
        run,
        reference_events: sink,
        point_events: &quiet,
        on_row: &on_row,
    };
    let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("distillery"));
    let outcome = run_local(plan, &dir, &binary, jobs, &hooks, cancel)?;
    let best = super::table::best(&outcome.rows)
        .ok_or_else(|| SweepError::Plan("no sweep point finished".into()))?;
    let mut summary = read_run_folder(&best.run_dir)
        .1
        .ok_or_else(|| SweepError::Plan(format!("{}: no summary", best.run_dir.display())))?;
    // A point that shares the reference's baseline did not train one: report that one.
    if summary.baseline.is_none() {
        summary.baseline = outcome.reference.and_then(|r| r.baseline);
    }
    Ok(summary)
}
