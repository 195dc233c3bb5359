//! Sweeps over any setting: a base configuration times one or two [`Axis`]es gives one full
//! configuration per point. One teacher, trained once by a *reference* run of the base
//! configuration, is loaded by every point; each point keeps its own baseline only where an
//! axis changes it (student widths, transfer-set size).
//!
//! The same folder layout ([`plan::Layout`]) serves a sweep run here ([`local::run_local`],
//! `--jobs` points at a time, resumable) and one fanned out on a cluster scheduler (the Slurm
//! job array and GNU parallel line that [`SweepPlan::write`] leaves beside the configs), read
//! back by [`table::collect`].
//!
//! Sits above `train` and `runs`, below `worker` and `cli`.

pub mod axis;
pub mod error;
pub mod local;
pub mod plan;
pub mod presets;
pub mod progress;
pub mod table;

pub use axis::{axis_keys, Axis};
pub use error::SweepError;
pub use plan::{Layout, SweepPlan};
pub use table::{PointStatus, SweepRow};
