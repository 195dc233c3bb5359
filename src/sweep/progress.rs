//! A sweep's progress as plain data: the planned axes and the points known so far, folded
//! from the worker's events or read back from a sweep folder. The window's Sweeps view draws
//! it; nothing here knows how.

use std::path::PathBuf;

use super::axis::Axis;
use crate::events::{PointStatus, SweepRow};

use super::table::Collected;

/// A sweep as the view draws it: planned axes and the rows known so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepTable {
    /// The sweep folder.
    pub dir: PathBuf,
    /// The axes, first outermost.
    pub axes: Vec<Axis>,
    /// The points known so far (any order).
    pub rows: Vec<SweepRow>,
}

impl SweepTable {
    /// A table for a planned sweep, before any point is known.
    pub fn planned(dir: PathBuf, axes: &[(String, Vec<String>)]) -> Self {
        Self {
            dir,
            axes: axes
                .iter()
                .map(|(key, values)| Axis {
                    key: key.clone(),
                    values: values.clone(),
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    /// A sweep folder read back (see [`crate::sweep::table::read_sweep`]).
    pub fn from_collected(dir: PathBuf, collected: &Collected) -> Self {
        Self {
            dir,
            axes: collected.manifest.axes.clone(),
            rows: collected.rows.clone(),
        }
    }

    /// Adds or replaces a point's row.
    pub fn upsert(&mut self, row: SweepRow) {
        match self.rows.iter_mut().find(|r| r.point == row.point) {
            Some(existing) => *existing = row,
            None => self.rows.push(row),
        }
    }

    /// Number of planned points.
    pub fn planned_points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Points done so far.
    pub fn done(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == PointStatus::Done)
            .count()
    }

    /// The finished point at these value indices (one per axis, first axis first), if known.
    pub fn row_at(&self, value_index: &[usize]) -> Option<&SweepRow> {
        self.rows.iter().find(|r| {
            r.status == PointStatus::Done
                && self
                    .axes
                    .iter()
                    .zip(value_index)
                    .zip(&r.values)
                    .all(|((axis, &i), v)| axis.values.get(i) == Some(v))
        })
    }

    /// The teacher's test errors (every point loads the reference run's teacher), once known.
    pub fn teacher_errors(&self) -> Option<usize> {
        self.rows.iter().find_map(|r| r.teacher_errors)
    }
}
