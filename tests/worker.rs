//! The worker's thread handling, driven through its channels with injected trainers: a panic
//! becomes `RunFailed` and the worker keeps answering; a run started right after the previous
//! one finished is never refused; a bad weights file is an `Error` event, not a dead worker.

mod common;

use std::sync::Arc;
use std::time::Duration;

use distillery::config::RunConfig;
use distillery::events::{Event, PhaseResult, RunSummary, Slot};
use distillery::train::TrainError;
use distillery::worker::protocol::Command;
use distillery::worker::{Logits, Trainer, Worker};

fn start(worker: &Worker, run: u64) {
    worker.send(Command::StartRun {
        run,
        config: Box::new(RunConfig::default()),
        runs_dir: std::env::temp_dir(),
    });
}

/// Waits for the terminal event of `run`, skipping others.
fn terminal(worker: &Worker, run: u64) -> Event {
    loop {
        let event = worker
            .recv_timeout(Duration::from_secs(10))
            .expect("the worker answers within 10 s");
        if event.run() == Some(run) && common::is_terminal(&event) {
            return event;
        }
    }
}

fn summary() -> RunSummary {
    RunSummary {
        name: "fake".into(),
        dir: "/tmp/fake".into(),
        method: "hinton".into(),
        temperature: 4.0,
        alpha: 0.9,
        seed: 1,
        teacher: PhaseResult::default(),
        baseline: None,
        student: PhaseResult::default(),
        bias: None,
        assistant: None,
        peers: Vec::new(),
        transfer_size: 0,
        duration_secs: 0.0,
        started: String::new(),
    }
}

#[test]
fn a_panicking_run_ends_in_run_failed_and_the_worker_keeps_going() {
    let trainer: Trainer = Arc::new(|job, _, _, _| match job {
        distillery::worker::Job::Run { config, .. } if config.seed == 42 => {
            panic!("kaboom in the trainer")
        }
        _ => Ok(summary()),
    });
    let worker = Worker::spawn_with(Arc::new(|| {}), trainer).unwrap();
    start(&worker, 1);
    match terminal(&worker, 1) {
        Event::RunFailed { message, .. } => {
            assert!(
                message.contains("panic") && message.contains("kaboom"),
                "{message}"
            )
        }
        other => panic!("expected RunFailed, got {other:?}"),
    }
    // The next run (another seed) is accepted and finishes.
    worker.send(Command::StartRun {
        run: 2,
        config: Box::new(RunConfig {
            seed: 7,
            ..RunConfig::default()
        }),
        runs_dir: std::env::temp_dir(),
    });
    assert!(matches!(terminal(&worker, 2), Event::RunFinished { .. }));
}

#[test]
fn a_run_that_panics_after_creating_its_folder_is_marked_failed_there() {
    let runs = tempfile::tempdir().unwrap();
    let folder = runs.path().join("20261130-000000-crash");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("config.toml"), RunConfig::default().to_toml()).unwrap();
    let dir = folder.clone();
    let trainer: Trainer = Arc::new(move |_, run, sink, _| {
        sink.send(Event::RunStarted {
            run,
            dir: dir.clone(),
        });
        panic!("index out of bounds")
    });
    let worker = Worker::spawn_with(Arc::new(|| {}), trainer).unwrap();
    start(&worker, 1);
    assert!(matches!(terminal(&worker, 1), Event::RunFailed { .. }));
    let stored = distillery::runs::load_run(&folder).unwrap();
    assert_eq!(stored.status, distillery::runs::RunStatus::Failed);
    assert!(
        stored
            .status_message
            .is_some_and(|m| m.contains("index out of bounds")),
        "the reason is kept"
    );
}

#[test]
fn a_run_started_right_after_the_last_one_finished_is_never_refused() {
    // The trainer returns at once, so the run thread is still winding down when the terminal
    // event arrives: exactly the race that refused a new run before.
    let trainer: Trainer = Arc::new(|_, _, _, _| Ok(summary()));
    let worker = Worker::spawn_with(Arc::new(|| {}), trainer).unwrap();
    for run in 1..=50 {
        start(&worker, run);
        match terminal(&worker, run) {
            Event::RunFinished { .. } => {}
            other => panic!("run {run} was refused: {other:?}"),
        }
    }
}

#[test]
fn a_second_run_while_one_trains_is_refused_with_a_reason() {
    let trainer: Trainer = Arc::new(|_, _, _, cancel| {
        while !cancel.is_cancelled() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(TrainError::Cancelled)
    });
    let worker = Worker::spawn_with(Arc::new(|| {}), trainer).unwrap();
    start(&worker, 1);
    start(&worker, 2);
    match terminal(&worker, 2) {
        Event::RunFailed { message, .. } => assert!(message.contains("in progress"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    worker.send(Command::Cancel { run: 1 });
    assert!(matches!(terminal(&worker, 1), Event::RunCancelled { .. }));
}

#[test]
fn logits_of_a_missing_file_are_an_error_event() {
    let worker = Worker::spawn(Arc::new(|| {})).unwrap();
    worker.send(Command::ComputeLogits {
        slot: Slot::Teacher,
        weights: "/no/such/teacher.safetensors".into(),
        data_dir: None,
    });
    match worker.recv_timeout(Duration::from_secs(30)) {
        Some(Event::Error { message }) => {
            assert!(
                message.starts_with("teacher: /no/such/teacher.safetensors"),
                "{message}"
            )
        }
        other => panic!("expected an error event, got {other:?}"),
    }
}

/// A Cancel is answered while a model's logits are being computed: the logits are computed
/// beside the dispatcher, not on it (they were on it, so a Cancel waited behind an MNIST
/// load). The injected computation holds back until the test releases it, so the order is
/// certain: the run's cancellation must arrive while the logits are still held.
#[test]
fn a_cancel_is_answered_while_logits_are_being_computed() {
    let (started_tx, started_rx) = crossbeam_channel::bounded::<()>(1);
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
    let logits: Logits = Arc::new(move |slot, weights, _| {
        let _ = started_tx.send(());
        // Released by the test, or by its end (the sender dropped) if it fails first.
        let _ = release_rx.recv();
        Event::LogitsReady {
            slot,
            weights: weights.to_owned(),
            layers: vec![784, 10],
            classes: 10,
            logits: vec![0.0; 10],
        }
    });
    let trainer: Trainer = Arc::new(|_, _, _, cancel| {
        while !cancel.is_cancelled() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(TrainError::Cancelled)
    });
    let worker = Worker::spawn_with_logits(Arc::new(|| {}), trainer, logits).unwrap();
    // Bound after the worker, so a failing assertion drops it first: the held computation
    // ends and the worker's shutdown can join its threads instead of waiting forever.
    let release = release_tx;
    start(&worker, 1);
    worker.send(Command::ComputeLogits {
        slot: Slot::Teacher,
        weights: "/slow/teacher.safetensors".into(),
        data_dir: None,
    });
    started_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the logits computation starts");
    worker.send(Command::Cancel { run: 1 });
    assert!(matches!(terminal(&worker, 1), Event::RunCancelled { .. }));
    release.send(()).unwrap();
    match worker.recv_timeout(Duration::from_secs(10)) {
        Some(Event::LogitsReady { slot, weights, .. }) => {
            assert_eq!(slot, Slot::Teacher);
            assert_eq!(weights, std::path::Path::new("/slow/teacher.safetensors"));
        }
        other => panic!("expected the logits after the cancel, got {other:?}"),
    }
}
