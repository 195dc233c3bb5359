//! Where a run's results go. The trainer emits events and hands over finished files; a
//! [`RunRecorder`] (the run folder's, in `crate::runs`) writes them. So training never touches
//! the disk itself.

use std::path::Path;

use crate::events::{Event, RunSummary};
use crate::files::FileError;

/// Consumes what a run produces: its events (metrics rows, probe snapshots), its files
/// (weights, the plane's grids) and its summary.
pub trait RunRecorder {
    /// The folder the run's files go to (announced in `RunStarted` and the summary).
    fn dir(&self) -> &Path;
    /// Records one event the trainer emits, before the event's consumer sees it.
    fn record(&mut self, event: &Event) -> Result<(), FileError>;
    /// Stores a file of the run: a model's weights, the plane's grid.
    fn store(&mut self, name: &str, bytes: &[u8]) -> Result<(), FileError>;
    /// References a weights file the run did not train (a loaded teacher) instead of copying it.
    fn reference_teacher(&mut self, source: &Path) -> Result<(), FileError>;
    /// Records the finished run's summary.
    fn summary(&mut self, summary: &RunSummary) -> Result<(), FileError>;
}
