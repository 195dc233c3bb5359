//! What a sweep found: one [`SweepRow`] per point, read back from its run folder, and
//! `sweep.csv`. The same reading serves the local runner (as points finish), `collect` (after
//! a cluster job array) and the GUI (opening a sweep folder).

use std::path::Path;

use super::axis::axis_keys;
use super::error::SweepError;
use super::plan::{read_manifest, value_index, Layout, Manifest};
use crate::events::RunSummary;
pub use crate::events::{PointStatus, SweepRow};
use crate::files::write_atomic;
use crate::runs::status::read_status;
use crate::runs::RunStatus;

/// What a run folder holds: its status and, when finished, its summary.
pub fn read_run_folder(dir: &Path) -> (PointStatus, Option<RunSummary>) {
    let summary = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<RunSummary>(&text).ok());
    if let Some(summary) = summary {
        return (PointStatus::Done, Some(summary));
    }
    // How the run ended, from its `status.json`; an unreadable one is itself the failure.
    match read_status(dir) {
        Ok(Some(record))
            if matches!(
                record.status,
                RunStatus::Failed | RunStatus::Diverged | RunStatus::Cancelled
            ) =>
        {
            let reason = record.message.lines().next().unwrap_or_default().trim();
            let reason = if reason.is_empty() {
                record.status.key()
            } else {
                reason
            };
            return (PointStatus::Failed(reason.to_owned()), None);
        }
        Err(e) => return (PointStatus::Failed(e.to_string()), None),
        Ok(_) => {}
    }
    if dir.join("config.toml").is_file() {
        (PointStatus::Unfinished, None)
    } else {
        (PointStatus::Missing, None)
    }
}

impl SweepRow {
    /// The row of a point from its run folder's state; a baseline or teacher the point did not
    /// train itself is taken from the reference run.
    pub fn from_run(
        point: usize,
        values: Vec<String>,
        dir: &Path,
        status: PointStatus,
        summary: Option<&RunSummary>,
        reference: Option<&RunSummary>,
    ) -> Self {
        let baseline = |s: &RunSummary| s.baseline.as_ref().map(|b| b.test_errors);
        Self {
            point,
            values,
            status,
            teacher_errors: summary.or(reference).map(|s| s.teacher.test_errors),
            baseline_errors: summary.and_then(baseline).or(reference.and_then(baseline)),
            student_errors: summary.map(|s| {
                s.bias
                    .as_ref()
                    .map_or(s.student.test_errors, |b| b.test_errors)
            }),
            test_n: summary.or(reference).map(|s| s.student.test_n),
            run_dir: dir.to_owned(),
        }
    }

    /// Reads point `point` of a sweep folder.
    pub fn read(
        layout: &Layout,
        point: usize,
        values: Vec<String>,
        reference: Option<&RunSummary>,
    ) -> Self {
        let dir = layout.point_dir(point);
        let (status, summary) = read_run_folder(&dir);
        Self::from_run(point, values, &dir, status, summary.as_ref(), reference)
    }
}

/// The `sweep.csv` text: `point`, one column per axis, `status`, the three error counts,
/// `test_n`, `run_dir` and `message` (a failed point's reason).
pub fn sweep_csv(axis_keys: &[String], rows: &[SweepRow]) -> String {
    let header = std::iter::once("point".to_owned())
        .chain(axis_keys.iter().cloned())
        .chain(
            [
                "status",
                "teacher_errors",
                "baseline_errors",
                "student_errors",
                "test_n",
                "run_dir",
                "message",
            ]
            .map(str::to_owned),
        )
        .collect::<Vec<_>>();
    let opt = |v: Option<usize>| v.map_or(String::new(), |v| v.to_string());
    let records = rows.iter().map(|row| {
        let message = match &row.status {
            PointStatus::Failed(reason) => reason.clone(),
            _ => String::new(),
        };
        std::iter::once(row.point.to_string())
            .chain(row.values.iter().cloned())
            .chain([
                row.status.key().to_owned(),
                opt(row.teacher_errors),
                opt(row.baseline_errors),
                opt(row.student_errors),
                opt(row.test_n),
                row.run_dir.to_string_lossy().into_owned(),
                message,
            ])
            .collect::<Vec<_>>()
    });
    crate::files::csv_text(std::iter::once(header).chain(records))
}

/// The finished point with the fewest student errors (the first of equals).
pub fn best(rows: &[SweepRow]) -> Option<&SweepRow> {
    rows.iter()
        .filter(|r| r.status == PointStatus::Done)
        .filter_map(|r| r.student_errors.map(|e| (e, r)))
        .min_by_key(|(e, r)| (*e, r.point))
        .map(|(_, r)| r)
}

/// A sweep folder read back.
#[derive(Clone, Debug)]
pub struct Collected {
    /// `sweep.toml`.
    pub manifest: Manifest,
    /// The reference run's status.
    pub reference_status: PointStatus,
    /// The reference run's summary, if it finished.
    pub reference: Option<RunSummary>,
    /// One row per planned point, in order.
    pub rows: Vec<SweepRow>,
}

impl Collected {
    /// How many points are in each status, e.g. "7 done, 1 failed, 1 missing".
    pub fn counts(&self) -> String {
        let mut parts = Vec::new();
        for key in ["done", "failed", "unfinished", "missing"] {
            let n = self.rows.iter().filter(|r| r.status.key() == key).count();
            if n > 0 || key == "done" {
                parts.push(format!("{n} {key}"));
            }
        }
        parts.join(", ")
    }
}

/// Reads a sweep folder (its manifest and every planned point's run folder), without writing.
pub fn read_sweep(dir: &Path) -> Result<Collected, SweepError> {
    let layout = Layout::new(dir);
    let manifest = read_manifest(&layout)?;
    let (reference_status, reference) = if manifest.shares_teacher {
        read_run_folder(&layout.reference_dir())
    } else {
        (PointStatus::Missing, None)
    };
    let sizes: Vec<usize> = manifest.axes.iter().map(|a| a.values.len()).collect();
    if sizes.iter().product::<usize>() != manifest.points || sizes.contains(&0) {
        return Err(SweepError::Plan(format!(
            "{}: {} points do not match the axes' {sizes:?} values",
            layout.manifest().display(),
            manifest.points
        )));
    }
    let rows = (0..manifest.points)
        .map(|point| {
            let values = value_index(&manifest.axes, point)
                .iter()
                .zip(&manifest.axes)
                .map(|(&v, axis)| axis.values[v].clone())
                .collect();
            SweepRow::read(&layout, point, values, reference.as_ref())
        })
        .collect();
    Ok(Collected {
        manifest,
        reference_status,
        reference,
        rows,
    })
}

/// Reads a sweep folder back and writes its `sweep.csv`: what `distillery collect` does after
/// a cluster job array. Missing, failed and unfinished points are rows with that status.
pub fn collect(dir: &Path) -> Result<Collected, SweepError> {
    let collected = read_sweep(dir)?;
    let keys = axis_keys(&collected.manifest.axes);
    write_atomic(
        &Layout::new(dir).csv(),
        sweep_csv(&keys, &collected.rows).as_bytes(),
    )?;
    Ok(collected)
}
