//! The background worker: owns all candle work so the UI thread never trains or blocks.
//!
//! A dispatcher thread (`distillery-worker`) receives [`Command`]s. Runs and sweeps train on
//! their own thread (`distillery-run`) so that `Cancel` and `ComputeLogits` are answered while
//! a run is going; one run at a time. `ComputeLogits` (an MNIST load and a forward pass, a
//! second or more) is queued to a thread of its own (`distillery-logits`), so a `Cancel` sent
//! meanwhile does not wait behind it; requests are answered one at a time, in order. Every run
//! ends in exactly one terminal event (`RunFinished`, `RunFailed` or `RunCancelled`), a panic
//! included. After each event the injected waker is called so the UI repaints; the worker
//! knows nothing of egui.
//!
//! The worker owns threads and the command protocol only: what a run does is the injected
//! [`Trainer`] (by default [`runs::run`](crate::runs::run) and [`run_streamed`]), so tests can drive the
//! thread handling with a trainer that fails or panics.

mod logits;
mod panic;
pub mod protocol;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::config::RunConfig;
use crate::events::{Event, EventSink, RunId, RunSummary};
use crate::runs;
use crate::runs::{mark_run, RunStatus};
use crate::sweep::local::run_streamed;
use crate::sweep::{SweepError, SweepPlan};
use crate::train::{CancelToken, TrainError};
use logits::{answer_logits, LogitsRequest};
pub use logits::{engine_logits, Logits};
use panic::{panic_text, PANIC_PREFIX};
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
    logits: Option<JoinHandle<()>>,
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
        Self::spawn_with_logits(waker, trainer, engine_logits())
    }

    /// Starts the worker threads with another trainer and another logits computation (tests).
    pub fn spawn_with_logits(
        waker: Waker,
        trainer: Trainer,
        logits: Logits,
    ) -> std::io::Result<Self> {
        // Commands are unbounded: the UI must never block on sending one.
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let sink = ChannelSink {
            events: event_tx,
            waker,
        };
        // Unbounded like the commands, which it relays: the dispatcher never waits on it.
        let (logits_tx, logits_rx) = crossbeam_channel::unbounded();
        let logits_sink = sink.clone();
        let logits_thread = std::thread::Builder::new()
            .name("distillery-logits".into())
            .spawn(move || answer_logits(&logits_rx, &logits_sink, &logits))?;
        let dispatcher = std::thread::Builder::new()
            .name("distillery-worker".into())
            .spawn(move || dispatch(&command_rx, &sink, &trainer, &logits_tx))?;
        Ok(Self {
            commands: command_tx,
            events: event_rx,
            dispatcher: Some(dispatcher),
            logits: Some(logits_thread),
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
        // The dispatcher drops its end of the logits queue when it stops, which ends the
        // logits thread once the requests already queued are answered.
        for handle in [self.dispatcher.take(), self.logits.take()]
            .into_iter()
            .flatten()
        {
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

fn dispatch(
    commands: &Receiver<Command>,
    sink: &ChannelSink,
    trainer: &Trainer,
    logits: &Sender<LogitsRequest>,
) {
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
                let request = LogitsRequest {
                    slot,
                    weights,
                    data_dir,
                };
                if logits.send(request).is_err() {
                    sink.send(Event::Error {
                        message: format!("{}: the logits thread has stopped", slot.key()),
                    });
                }
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
