//! Background jobs for work that must not run on the UI thread: listing and loading the run
//! folders, deleting a run, searching the best bias shift. Each job runs on its own named
//! thread and its result comes back through a channel; the UI is woken to apply it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::distill::bias::best_shift;
use crate::runs::{delete_run, list_runs};

use super::ctx::{ModelLogits, RunRow};

/// A finished job's result.
#[derive(Debug)]
pub enum JobDone {
    /// The runs folder was read.
    RunsListed {
        /// The listing request this answers (older answers are dropped).
        generation: u64,
        /// The runs found.
        runs: Vec<RunRow>,
    },
    /// A run folder was deleted (or could not be).
    RunDeleted {
        /// The folder.
        dir: PathBuf,
        /// Why it could not be deleted.
        result: Result<(), String>,
    },
    /// The bias shift with the fewest test errors.
    BestShift {
        /// The shift.
        shift: f64,
        /// Test errors at that shift.
        errors: usize,
    },
}

/// Starts jobs and collects their results.
pub struct Jobs {
    sender: Sender<JobDone>,
    receiver: Receiver<JobDone>,
    waker: Arc<dyn Fn() + Send + Sync>,
    generation: u64,
}

impl Jobs {
    /// A job runner that calls `waker` when a job finishes.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Self {
            sender,
            receiver,
            waker,
            generation: 0,
        }
    }

    /// A finished job's result, if any (never blocks).
    pub fn try_recv(&self) -> Option<JobDone> {
        self.receiver.try_recv().ok()
    }

    /// Whether `generation` is the newest listing asked for.
    pub fn is_current(&self, generation: u64) -> bool {
        generation == self.generation
    }

    fn spawn(
        &self,
        name: &str,
        job: impl FnOnce() -> JobDone + Send + 'static,
    ) -> Result<(), String> {
        let sender = self.sender.clone();
        let waker = self.waker.clone();
        std::thread::Builder::new()
            .name(format!("distillery-{name}"))
            .spawn(move || {
                let _ = sender.send(job());
                waker();
            })
            .map(|_| ())
            .map_err(|e| format!("could not start a background job: {e}"))
    }

    /// Reads every run folder under `runs_dir`.
    pub fn list_runs(&mut self, runs_dir: &Path) -> Result<(), String> {
        self.generation += 1;
        let generation = self.generation;
        let dir = runs_dir.to_owned();
        self.spawn("list-runs", move || JobDone::RunsListed {
            generation,
            runs: list_runs(&dir)
                .into_iter()
                .map(|entry| {
                    let student = entry.dir().join("student.safetensors");
                    RunRow {
                        student: student.is_file().then_some(student),
                        entry,
                    }
                })
                .collect(),
        })
    }

    /// Deletes a run folder ([`delete_run`] refuses anything that is not one).
    pub fn delete_run(&self, dir: PathBuf) -> Result<(), String> {
        self.spawn("delete-run", move || {
            let result = delete_run(&dir).map_err(|e| e.to_string());
            JobDone::RunDeleted { dir, result }
        })
    }

    /// Searches the bias shift of `classes` with the fewest test errors.
    pub fn best_shift(
        &self,
        student: Arc<ModelLogits>,
        labels: Arc<Vec<u8>>,
        classes: Vec<u8>,
    ) -> Result<(), String> {
        self.spawn("best-shift", move || {
            let (shift, eval) = best_shift(&student.logits, &labels, student.classes, &classes);
            JobDone::BestShift {
                shift,
                errors: eval.errors,
            }
        })
    }
}
