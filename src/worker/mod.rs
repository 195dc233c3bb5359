//! The background worker: owns all candle work so the UI thread never trains or blocks.
//!
//! A dispatcher thread (`distillery-worker`) receives [`Command`]s. Runs and sweeps train on
//! their own thread (`distillery-run`) so that `Cancel` and `ComputeLogits` are answered while
//! a run is going; one run at a time. Every run ends in exactly one terminal event
//! (`RunFinished`, `RunFailed` or `RunCancelled`), a panic included. After each event the
//! injected waker is called so the UI repaints; the worker knows nothing of egui.
//!
//! The worker owns threads and the command protocol only: what a run does is the injected
//! [`Trainer`] (by default [`runs::run`](crate::runs::run) and [`run_streamed`]), so tests can drive the
//! thread handling with a trainer that fails or panics.

pub mod protocol;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::config::RunConfig;
use crate::data::dataset::{bundled_mnist_dir, Mnist, CLASSES};
use crate::events::{Event, EventSink, RunId, RunSummary, Slot};
use crate::model::weights;
use crate::runs;
use crate::runs::{mark_run, RunStatus};
use crate::sweep::local::run_streamed;
use crate::sweep::{SweepError, SweepPlan};
use crate::train::{CancelToken, TrainError};
use protocol::Command;

/// Called after every event so the consumer wakes up (the GUI passes `ctx.request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What one run or sweep asks the trainer for.
#[derive(Clone, Debug)]
pub enum Job {
    /// Teacher → baseline → distilled student.
    Run {
        /// The configuration.
        config: Box<RunConfig>,
        /// Parent folder of run folders.
        runs_dir: PathBuf,
    },
    /// A sweep run here (see [`crate::sweep::local::run_streamed`]).
    Sweep {
        /// The planned sweep.
        plan: Box<SweepPlan>,
        /// The sweep folder.
        dir: PathBuf,
        /// Points trained at a time.
        jobs: usize,
    },
    /// The plane playground: teacher, baseline and student with live grids.
    Plane {
        /// The configuration (`data.source` is `plane`).
        config: Box<RunConfig>,
        /// Parent folder of run folders.
        runs_dir: PathBuf,
    },
}

/// Runs a job on the run thread, sending its events; the worker turns the result (or a panic)
/// into the run's one terminal event.
pub type Trainer = Arc<
    dyn Fn(&Job, RunId, &dyn EventSink, CancelToken) -> Result<RunSummary, TrainError>
        + Send
        + Sync,
>;

/// The engine's trainer: [`runs::run`](crate::runs::run), [`run_streamed`] and [`crate::plane::run`].
pub fn engine_trainer() -> Trainer {
    Arc::new(|job, run, sink, cancel| match job {
        Job::Run { config, runs_dir } => runs::run(config, runs_dir, run, sink, cancel),
        Job::Sweep { plan, dir, jobs } => run_streamed(plan, dir, *jobs, run, sink, &cancel)
            .map_err(|e| match e {
                SweepError::Cancelled => TrainError::Cancelled,
                other => TrainError::Other(other.to_string()),
            }),
        Job::Plane { config, runs_dir } => {
            crate::plane::run(config, runs_dir, run, sink, cancel, true).map(|s| s.run)
        }
    })
}

/// Events waiting for the UI. Bounded so a stalled UI cannot grow memory without limit;
/// progress events and mid-epoch probes are dropped when it is full (newer ones follow), every
/// other event waits for room.
const EVENT_CAPACITY: usize = 4096;

/// The UI's handle on the worker.
pub struct Worker {
    commands: Sender<Command>,
    events: Receiver<Event>,
    dispatcher: Option<JoinHandle<()>>,
}

/// Sends events to the UI and wakes it.
#[derive(Clone)]
struct ChannelSink {
    events: Sender<Event>,
    waker: Waker,
}

impl EventSink for ChannelSink {
    fn send(&self, event: Event) {
        let droppable = match &event {
            Event::Progress { .. } => true,
            Event::Probes { snapshot, .. } => !snapshot.epoch_end,
            _ => false,
        };
        if droppable {
            match self.events.try_send(event) {
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return,
            }
        } else if self.events.send(event).is_err() {
            return;
        }
        (self.waker)();
    }
}

impl Worker {
    /// Starts the worker threads with the engine's trainer.
    pub fn spawn(waker: Waker) -> std::io::Result<Self> {
        Self::spawn_with(waker, engine_trainer())
    }

    /// Starts the worker threads with another trainer (tests).
    pub fn spawn_with(waker: Waker, trainer: Trainer) -> std::io::Result<Self> {
        // Commands are unbounded: the UI must never block on sending one.
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let sink = ChannelSink {
            events: event_tx,
            waker,
        };
        let dispatcher = std::thread::Builder::new()
            .name("distillery-worker".into())
            .spawn(move || dispatch(&command_rx, &sink, &trainer))?;
        Ok(Self {
            commands: command_tx,
            events: event_rx,
            dispatcher: Some(dispatcher),
        })
    }

    /// Queues a command (never blocks).
    pub fn send(&self, command: Command) {
        // The dispatcher only stops after Shutdown; a failed send then has nobody to tell.
        let _ = self.commands.send(command);
    }

    /// The next waiting event, if any (never blocks).
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event (for tests and the CLI).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(handle) = self.dispatcher.take() {
            let _ = handle.join();
        }
    }
}

struct ActiveRun {
    cancel: CancelToken,
    thread: JoinHandle<()>,
    /// Set before the terminal event is sent, so a consumer that has seen that event and starts
    /// the next run is never refused because the thread has not quite returned yet.
    done: Arc<AtomicBool>,
}

/// Forgets (and joins) the runs that have sent their terminal event.
fn reap(active: &mut HashMap<RunId, ActiveRun>) {
    let finished: Vec<RunId> = active
        .iter()
        .filter(|(_, run)| run.done.load(Ordering::SeqCst))
        .map(|(id, _)| *id)
        .collect();
    for id in finished {
        if let Some(run) = active.remove(&id) {
            let _ = run.thread.join();
        }
    }
}

fn dispatch(commands: &Receiver<Command>, sink: &ChannelSink, trainer: &Trainer) {
    let mut active: HashMap<RunId, ActiveRun> = HashMap::new();
    while let Ok(command) = commands.recv() {
        reap(&mut active);
        match command {
            Command::StartRun {
                run,
                config,
                runs_dir,
            } => start(
                &mut active,
                sink,
                trainer,
                run,
                Job::Run { config, runs_dir },
            ),
            Command::StartSweep {
                run,
                plan,
                dir,
                jobs,
            } => start(
                &mut active,
                sink,
                trainer,
                run,
                Job::Sweep { plan, dir, jobs },
            ),
            Command::Cancel { run } => {
                if let Some(active) = active.get(&run) {
                    active.cancel.cancel();
                }
            }
            Command::ComputeLogits {
                slot,
                weights,
                data_dir,
            } => {
                // A panic here must not end the dispatcher: every later command would go unanswered.
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    compute_logits(slot, &weights, data_dir.as_deref())
                }));
                sink.send(outcome.unwrap_or_else(|panic| Event::Error {
                    message: format!(
                        "{}: internal error (panic): {}",
                        slot.key(),
                        panic_text(&*panic)
                    ),
                }));
            }
            Command::Shutdown => break,
            Command::StartPlane {
                run,
                config,
                runs_dir,
            } => start(
                &mut active,
                sink,
                trainer,
                run,
                Job::Plane { config, runs_dir },
            ),
        }
    }
    for (_, run) in active.drain() {
        run.cancel.cancel();
        let _ = run.thread.join();
    }
}

fn start(
    active: &mut HashMap<RunId, ActiveRun>,
    sink: &ChannelSink,
    trainer: &Trainer,
    run: RunId,
    job: Job,
) {
    if !active.is_empty() {
        sink.send(Event::RunFailed {
            run,
            message: "another run is in progress: cancel it or wait for it to finish".into(),
        });
        return;
    }
    let cancel = CancelToken::new();
    let done = Arc::new(AtomicBool::new(false));
    let thread_sink = sink.clone();
    let thread_cancel = cancel.clone();
    let thread_done = done.clone();
    let trainer = trainer.clone();
    let spawned = std::thread::Builder::new()
        .name("distillery-run".into())
        .spawn(move || {
            let folder = FolderSink {
                inner: &thread_sink,
                dir: std::sync::Mutex::new(None),
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                trainer(&job, run, &folder, thread_cancel)
            }));
            let event = terminal_event(run, outcome);
            if let (Event::RunFailed { message, .. }, Some(dir)) =
                (&event, folder.dir.lock().ok().and_then(|mut d| d.take()))
            {
                // The trainer marks the folder itself when it returns an error; after a panic
                // nobody has, so the Runs view would call the run "unfinished".
                if message.starts_with(PANIC_PREFIX) {
                    let _ = mark_run(&dir, RunStatus::Failed, message);
                }
            }
            thread_done.store(true, Ordering::SeqCst);
            thread_sink.send(event);
        });
    match spawned {
        Ok(thread) => {
            active.insert(
                run,
                ActiveRun {
                    cancel,
                    thread,
                    done,
                },
            );
        }
        Err(e) => sink.send(Event::RunFailed {
            run,
            message: format!("could not start a training thread: {e}"),
        }),
    }
}

/// The one terminal event of a run, whatever its outcome.
fn terminal_event(
    run: RunId,
    outcome: std::thread::Result<Result<RunSummary, TrainError>>,
) -> Event {
    match outcome {
        Ok(Ok(summary)) => Event::RunFinished {
            run,
            summary: Box::new(summary),
        },
        Ok(Err(TrainError::Cancelled)) => Event::RunCancelled { run },
        Ok(Err(e)) => Event::RunFailed {
            run,
            message: e.to_string(),
        },
        Err(panic) => Event::RunFailed {
            run,
            message: format!("{PANIC_PREFIX}{}", panic_text(&*panic)),
        },
    }
}

/// How the message of a run that panicked begins.
const PANIC_PREFIX: &str = "internal error (panic): ";

/// Forwards a run's events and remembers its folder (from `RunStarted`), so the folder can be
/// marked failed if the run panics.
struct FolderSink<'a> {
    inner: &'a ChannelSink,
    // A Mutex, not a RefCell: sinks are shared by a sweep's point threads.
    dir: std::sync::Mutex<Option<PathBuf>>,
}

impl EventSink for FolderSink<'_> {
    fn send(&self, event: Event) {
        if let Event::RunStarted { dir, .. } = &event {
            if let Ok(mut slot) = self.dir.lock() {
                *slot = Some(dir.clone());
            }
        }
        self.inner.send(event);
    }
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn compute_logits(slot: Slot, path: &Path, data_dir: Option<&Path>) -> Event {
    let result = (|| -> Result<Event, String> {
        let dir = data_dir.map_or_else(bundled_mnist_dir, Path::to_owned);
        let test = Mnist::load_test(&dir).map_err(|e| e.to_string())?;
        let device = candle_core::Device::Cpu;
        let model =
            weights::load_fitting(path, &device, test.dim(), CLASSES).map_err(|e| e.to_string())?;
        let logits = model
            .mlp
            .logits(&test.images, &device)
            .map_err(|e| e.to_string())?;
        Ok(Event::LogitsReady {
            slot,
            weights: path.to_owned(),
            layers: model.mlp.layers.clone(),
            classes: model.mlp.classes(),
            logits,
        })
    })();
    result.unwrap_or_else(|message| Event::Error {
        message: format!("{}: {message}", slot.key()),
    })
}
