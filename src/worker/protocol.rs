//! The commands the UI sends to the training worker; the worker answers with the
//! [`Event`](crate::events::Event)s of [`crate::events`], the same stream the trainer sends the CLI.
//!
//! Only plain data crosses threads: numbers, vectors, strings and paths, never tensors.

use std::path::PathBuf;

use crate::config::RunConfig;
pub use crate::events::RunId;
use crate::events::Slot;
use crate::sweep::SweepPlan;

/// A request from the UI to the worker.
#[derive(Clone, Debug)]
pub enum Command {
    /// Train teacher → baseline → distilled student with this configuration.
    StartRun {
        /// Chosen by the sender so it can match events to its request.
        run: RunId,
        /// The run's configuration (validated again by the worker).
        config: Box<RunConfig>,
        /// Parent folder of run folders.
        runs_dir: PathBuf,
    },
    /// Run a sweep here: the reference run (the shared teacher), then the points `jobs` at a
    /// time into the sweep folder `dir` (resuming finished points found there).
    StartSweep {
        /// Chosen by the sender.
        run: RunId,
        /// The planned sweep (base configuration and axes).
        plan: Box<SweepPlan>,
        /// The sweep folder.
        dir: PathBuf,
        /// Points trained at a time.
        jobs: usize,
    },
    /// Stop a run at the next batch; answered by [`Event::RunCancelled`].
    Cancel {
        /// The run to stop.
        run: RunId,
    },
    /// Compute a model's logits on the test set, answered by [`Event::LogitsReady`].
    ComputeLogits {
        /// Which slot the logits are for.
        slot: Slot,
        /// A safetensors file in the engine's format.
        weights: PathBuf,
        /// The data folder (`None`: bundled MNIST).
        data_dir: Option<PathBuf>,
    },
    /// Finish the current batch's work and end the worker thread.
    Shutdown,
    /// Train the plane playground's teacher and students (`config.data.source` is `plane`),
    /// sending each model's grid logits every few epochs.
    StartPlane {
        /// Chosen by the sender.
        run: RunId,
        /// The run's configuration (validated again by the worker).
        config: Box<RunConfig>,
        /// Parent folder of run folders.
        runs_dir: PathBuf,
    },
}
