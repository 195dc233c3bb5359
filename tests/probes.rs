//! Live probes and the distillation gap on real MNIST subsets: the trainer reports the probe
//! images' logits during every phase and at every epoch end, writes them to `probes.csv`, and
//! adds KL / agreement with the teacher to every student epoch; the worker forwards them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use candle_core::Device;
use distillery::config::RunConfig;
use distillery::data::dataset::{bundled_mnist_dir, Mnist};
use distillery::events::{Event, Phase, ProbeSnapshot};
use distillery::model::weights;
use distillery::runs;
use distillery::runs::load_run;
use distillery::train::CancelToken;
use distillery::worker::protocol::Command;
use distillery::worker::Worker;

/// A small real run: 2,000 training images (16 batches of 128), 500 test images.
fn config() -> RunConfig {
    let mut c = common::small_mnist("probes", (2000, 500), (&[64], &[16]), 2);
    c.teacher.jitter_px = 0;
    c.student.epochs = 3;
    c.distill.temperature = 4.0;
    c.probes.samples = vec![7, 0, 42];
    c
}

fn probes(events: &[Event]) -> Vec<ProbeSnapshot> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Probes { snapshot, .. } => Some(snapshot.clone()),
            _ => None,
        })
        .collect()
}

/// `KL(q ‖ p)` averaged over rows, written out from the definition in f64.
fn reference_kl(teacher: &[f32], student: &[f32], t: f64) -> f64 {
    let softmax = |row: &[f32]| -> Vec<f64> {
        let e: Vec<f64> = row.iter().map(|v| (f64::from(*v) / t).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|v| v / sum).collect()
    };
    let rows = teacher.len() / 10;
    let mut total = 0.0;
    for (q, p) in teacher.chunks(10).zip(student.chunks(10)) {
        let (q, p) = (softmax(q), softmax(p));
        total += q
            .iter()
            .zip(&p)
            .map(|(q, p)| if *q > 0.0 { q * (q / p).ln() } else { 0.0 })
            .sum::<f64>();
    }
    total / rows as f64
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}

#[test]
fn the_trainer_reports_probes_during_and_after_every_epoch_and_the_gap_per_epoch() {
    let runs = tempfile::tempdir().unwrap();
    let (events, sink) = common::collect();
    let mut config = config();
    // Every batch is due: mid-epoch reports are certain, not a matter of timing.
    config.probes.interval_secs = 0.0;
    let summary = runs::run(&config, runs.path(), 3, &sink, CancelToken::new()).unwrap();
    let events = events.lock().unwrap().clone();
    let snapshots = probes(&events);

    for (phase, epochs) in [
        (Phase::Teacher, 2),
        (Phase::Baseline, 3),
        (Phase::Student, 3),
    ] {
        let of_phase: Vec<&ProbeSnapshot> = snapshots.iter().filter(|s| s.phase == phase).collect();
        let ends: Vec<(usize, usize)> = of_phase
            .iter()
            .filter(|s| s.epoch_end)
            .map(|s| (s.epoch, s.batch))
            .collect();
        let expected: Vec<(usize, usize)> = (0..=epochs)
            .map(|e| (e, if e == 0 { 0 } else { 16 }))
            .collect();
        assert_eq!(
            ends, expected,
            "{phase:?}: one report before training and at each epoch end"
        );
        let during = of_phase.iter().filter(|s| !s.epoch_end).count();
        assert_eq!(
            during,
            epochs * 15,
            "{phase:?}: one per batch but the last of each epoch"
        );
        for s in &of_phase {
            assert_eq!(s.samples, vec![7, 0, 42]);
            assert_eq!(s.logits.len(), 30);
        }
    }
    // Each epoch's end report comes right after its EpochEnded event.
    for (i, e) in events.iter().enumerate() {
        if let Event::EpochEnded { metrics, .. } = e {
            match &events[i + 1] {
                Event::Probes { snapshot, .. } => {
                    assert!(snapshot.epoch_end);
                    assert_eq!(
                        (snapshot.phase, snapshot.epoch),
                        (metrics.phase, metrics.epoch)
                    );
                }
                other => panic!("expected probes after {metrics:?}, got {other:?}"),
            }
        }
    }

    // The last report is the trained student's real logits on those test images.
    let test = Mnist::load_test(&bundled_mnist_dir()).unwrap().take(500);
    let load = |file: &str| {
        let model = weights::load(&summary.dir.join(file), &Device::Cpu).unwrap();
        model.mlp.logits(&test.images, &Device::Cpu).unwrap()
    };
    let (teacher, baseline, student) = (
        load("teacher.safetensors"),
        load("baseline.safetensors"),
        load("student.safetensors"),
    );
    let last = snapshots.last().unwrap();
    assert_eq!(last.phase, Phase::Student);
    for (k, &i) in last.samples.iter().enumerate() {
        for c in 0..10 {
            let (a, b) = (last.logits[k * 10 + c], student[i * 10 + c]);
            assert!((a - b).abs() < 1e-4, "sample {i} class {c}: {a} vs {b}");
        }
    }

    // probes.csv holds exactly the epoch-end reports and reads back to them.
    let stored = load_run(&summary.dir).unwrap();
    let ends: Vec<ProbeSnapshot> = snapshots.iter().filter(|s| s.epoch_end).cloned().collect();
    assert_eq!(ends.len(), 3 + 4 + 4);
    assert_eq!(stored.probes, ends);

    // The gap: none for the teacher; for the students, recomputed from the saved weights.
    let metrics = common::epochs(&events);
    assert!(metrics
        .iter()
        .filter(|m| m.phase == Phase::Teacher)
        .all(|m| m.gap.is_none()));
    for (phase, logits) in [(Phase::Baseline, &baseline), (Phase::Student, &student)] {
        let last = metrics.iter().rfind(|m| m.phase == phase).unwrap();
        let gap = last.gap.expect("a student epoch has a gap");
        let kl_4 = reference_kl(&teacher, logits, 4.0);
        let kl_1 = reference_kl(&teacher, logits, 1.0);
        let agree = teacher
            .chunks(10)
            .zip(logits.chunks(10))
            .filter(|(a, b)| argmax(a) == argmax(b))
            .count() as f64
            / 500.0;
        assert!(
            (gap.kl_t - kl_4).abs() < 1e-5,
            "{phase:?} KL at T=4 {} vs {kl_4}",
            gap.kl_t
        );
        assert!(
            (gap.kl_1 - kl_1).abs() < 1e-5,
            "{phase:?} KL at T=1 {} vs {kl_1}",
            gap.kl_1
        );
        assert_eq!(gap.agreement, agree, "{phase:?}");
        assert!(gap.kl_t > 0.0 && gap.kl_1 > gap.kl_t, "{phase:?} {gap:?}");
        // metrics.csv keeps the gap, to its six decimals.
        let row = stored.metrics.iter().rfind(|m| m.phase == phase).unwrap();
        let read = row.gap.unwrap();
        assert!(
            (read.kl_1 - gap.kl_1).abs() < 1e-6 && (read.agreement - gap.agreement).abs() < 1e-6
        );
    }
}

#[test]
fn the_worker_forwards_probes_and_a_bad_probe_fails_the_run() {
    let worker = Worker::spawn(Arc::new(|| {})).unwrap();
    let runs = tempfile::tempdir().unwrap();
    let mut config = config();
    config.teacher.epochs = 1;
    config.student.epochs = 1;
    config.probes.interval_secs = 0.0;
    worker.send(Command::StartRun {
        run: 1,
        config: Box::new(config.clone()),
        runs_dir: runs.path().to_owned(),
    });
    let seen = common::wait_for_terminal(&worker, Duration::from_secs(120));
    assert!(
        matches!(seen.last(), Some(Event::RunFinished { .. })),
        "{:?}",
        seen.last()
    );
    let snapshots = probes(&seen);
    for phase in [Phase::Teacher, Phase::Baseline, Phase::Student] {
        let ends = snapshots
            .iter()
            .filter(|s| s.phase == phase && s.epoch_end)
            .count();
        assert_eq!(
            ends, 2,
            "{phase:?}: before training and after its one epoch"
        );
        assert!(
            snapshots.iter().any(|s| s.phase == phase && !s.epoch_end),
            "{phase:?}: during the epoch"
        );
    }

    // A probe outside the (full) test set stops the run before it starts, naming the field.
    config.data.test_limit = None;
    config.probes.samples = vec![3, 10_000];
    worker.send(Command::StartRun {
        run: 2,
        config: Box::new(config),
        runs_dir: runs.path().to_owned(),
    });
    match worker.recv_timeout(Duration::from_secs(60)) {
        Some(Event::RunFailed { run: 2, message }) => assert_eq!(
            message,
            "probes.samples: test image 10000 is outside the test set (10000 images)"
        ),
        other => panic!("expected RunFailed, got {other:?}"),
    }
}
