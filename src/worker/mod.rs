//! The background worker: owns all candle work so the UI thread never trains or blocks.
//!
//! A dispatcher thread (`distillery-worker`) receives [`Command`]s. Runs and sweeps train on
//! their own thread (`distillery-run`) so that `Cancel` and `ComputeLogits` are answered while
//! a run is going; one run at a time. Every run ends in exactly one terminal event
//! (`RunFinished`, `RunFailed` or `RunCancelled`), a panic included. After each event the
//! injected waker is called so the UI repaints; the worker knows nothing of egui.

pub mod protocol;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::data::dataset::{bundled_mnist_dir, Mnist, CLASSES};
use crate::events::{Event, EventSink, RunId, RunSummary};
use crate::model::weights;
use crate::train::trainer::{self, CancelToken, TrainError};
use protocol::Command;

/// Called after every event so the consumer wakes up (the GUI passes `ctx.request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Events waiting for the UI. Bounded so a stalled UI cannot grow memory without limit;
/// progress events are dropped when it is full, every other event waits for room.
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
        if matches!(event, Event::Progress { .. }) {
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
    /// Starts the worker threads.
    pub fn spawn(waker: Waker) -> std::io::Result<Self> {
        // Commands are unbounded: the UI must never block on sending one.
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let sink = ChannelSink {
            events: event_tx,
            waker,
        };
        let dispatcher = std::thread::Builder::new()
            .name("distillery-worker".into())
            .spawn(move || dispatch(&command_rx, &sink))?;
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
}

fn dispatch(commands: &Receiver<Command>, sink: &ChannelSink) {
    let mut active: HashMap<RunId, ActiveRun> = HashMap::new();
    while let Ok(command) = commands.recv() {
        active.retain(|_, run| !run.thread.is_finished());
        match command {
            Command::StartRun {
                run,
                config,
                runs_dir,
            } => start(&mut active, sink, run, move |sink, cancel| {
                trainer::run(&config, &runs_dir, run, sink, cancel)
            }),
            Command::StartSweep {
                run,
                config,
                temperatures,
                runs_dir,
            } => start(&mut active, sink, run, move |sink, cancel| {
                trainer::sweep(&config, &temperatures, &runs_dir, run, sink, cancel).map(|(s, _)| s)
            }),
            Command::Cancel { run } => {
                if let Some(active) = active.get(&run) {
                    active.cancel.cancel();
                }
            }
            Command::ComputeLogits {
                slot,
                weights,
                data_dir,
            } => sink.send(compute_logits(slot, &weights, data_dir.as_deref())),
            Command::Shutdown => break,
            Command::StartPlane {
                run,
                config,
                runs_dir,
            } => start(&mut active, sink, run, move |sink, cancel| {
                crate::plane::run(&config, &runs_dir, run, sink, cancel, true).map(|s| s.run)
            }),
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
    run: RunId,
    train: impl FnOnce(&ChannelSink, CancelToken) -> Result<RunSummary, TrainError> + Send + 'static,
) {
    if !active.is_empty() {
        sink.send(Event::RunFailed {
            run,
            message: "another run is in progress: cancel it or wait for it to finish".into(),
        });
        return;
    }
    let cancel = CancelToken::new();
    let thread_sink = sink.clone();
    let thread_cancel = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("distillery-run".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| train(&thread_sink, thread_cancel)));
            thread_sink.send(terminal_event(run, outcome));
        });
    match spawned {
        Ok(thread) => {
            active.insert(run, ActiveRun { cancel, thread });
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
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Event::RunFailed {
                run,
                message: format!("internal error (panic): {text}"),
            }
        }
    }
}

fn compute_logits(slot: String, path: &Path, data_dir: Option<&Path>) -> Event {
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
            slot: slot.clone(),
            weights: path.to_owned(),
            layers: model.mlp.layers.clone(),
            classes: model.mlp.classes(),
            logits,
        })
    })();
    result.unwrap_or_else(|message| Event::Error {
        message: format!("{slot}: {message}"),
    })
}
