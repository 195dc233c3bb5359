//! Helpers shared by the integration tests: small real MNIST configurations, an event sink
//! that keeps what it is sent, and waiting for a worker's run to end.
//!
//! Each test binary compiles this module (`mod common;`) and uses only part of it, so unused
//! helpers are allowed here rather than warned about once per binary.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use distillery::config::RunConfig;
use distillery::events::{EpochMetrics, Event};
use distillery::worker::Worker;

/// A small but real experiment on the first `train` training and `test` test images of the
/// bundled MNIST: a teacher and a student of these hidden widths, `epochs` epochs each.
/// Seconds per run; each test then sets what it is about.
pub fn small_mnist(
    name: &str,
    (train, test): (usize, usize),
    (teacher, student): (&[usize], &[usize]),
    epochs: usize,
) -> RunConfig {
    let mut c = RunConfig {
        name: name.into(),
        ..RunConfig::default()
    };
    c.data.train_limit = Some(train);
    c.data.test_limit = Some(test);
    c.teacher.hidden = teacher.to_vec();
    c.teacher.epochs = epochs;
    c.student.hidden = student.to_vec();
    c.student.epochs = epochs;
    c
}

/// A sink that keeps every event it is sent, and the events kept so far.
pub fn collect() -> (Arc<Mutex<Vec<Event>>>, impl Fn(Event)) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = events.clone();
    (events, move |e: Event| sink_events.lock().unwrap().push(e))
}

/// The metrics of every `EpochEnded` event, in order.
pub fn epochs(events: &[Event]) -> Vec<EpochMetrics> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::EpochEnded { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `event` ends a run (exactly one of these ends each run).
pub fn is_terminal(event: &Event) -> bool {
    matches!(
        event,
        Event::RunFinished { .. } | Event::RunFailed { .. } | Event::RunCancelled { .. }
    )
}

/// The worker's events up to and including the next terminal one; panics after `timeout`.
pub fn wait_for_terminal(worker: &Worker, timeout: Duration) -> Vec<Event> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = worker.recv_timeout(Duration::from_millis(100)) {
            let terminal = is_terminal(&event);
            seen.push(event);
            if terminal {
                return seen;
            }
        }
    }
    panic!(
        "no terminal event within {timeout:?}; saw {} events",
        seen.len()
    );
}
