//! Sweeps on real MNIST subsets: one teacher shared by every point, points run two at a time,
//! a sweep resumes where it stopped, and a planned sweep read back reports missing and failed
//! points as such.

mod common;

use std::path::Path;
use std::sync::Mutex;

use distillery::config::RunConfig;
use distillery::events::{Event, Phase};
use distillery::runs;
use distillery::runs::{load_run, mark_run, RunStatus};
use distillery::sweep::local::{run_local, Hooks};
use distillery::sweep::table::{collect, read_run_folder};
use distillery::sweep::{Axis, Layout, PointStatus, SweepPlan, SweepRow};
use distillery::train::CancelToken;

/// A tiny but real experiment: 1,500 training and 500 test images, seconds per run.
fn tiny() -> RunConfig {
    common::small_mnist("tiny", (1500, 500), (&[64], &[32]), 2)
}

fn plan(specs: &[&str]) -> SweepPlan {
    let base = tiny();
    let axes = specs
        .iter()
        .map(|s| Axis::parse(s, &base).unwrap())
        .collect();
    SweepPlan::new(base, axes).unwrap()
}

/// Runs `plan` into `dir` two points at a time; returns the rows reported and the number of
/// runs that started (reference included).
fn run(plan: &SweepPlan, dir: &Path) -> (Vec<SweepRow>, usize) {
    let started = Mutex::new(0usize);
    let count = |e: Event| {
        if matches!(e, Event::RunStarted { .. }) {
            *started.lock().unwrap() += 1;
        }
    };
    let reported = Mutex::new(Vec::new());
    let on_row = |row: &SweepRow| reported.lock().unwrap().push(row.clone());
    let hooks = Hooks {
        run: 1,
        reference_events: &count,
        point_events: &count,
        on_row: &on_row,
    };
    let outcome = run_local(
        plan,
        dir,
        Path::new("distillery"),
        2,
        &hooks,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(reported.into_inner().unwrap().len(), outcome.rows.len());
    let n = *started.lock().unwrap();
    (outcome.rows, n)
}

#[test]
fn points_share_one_teacher_resume_and_collect_back() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sweep");
    let plan = plan(&["distill.temperature=1,8", "distill.alpha=0.2,0.9"]);
    let (rows, started) = run(&plan, &dir);
    assert_eq!(started, 5, "the reference run and four points");
    assert_eq!(rows.len(), 4);
    let layout = Layout::new(&dir);
    let reference = load_run(&layout.reference_dir()).unwrap();
    let teacher = reference.summary.as_ref().unwrap().teacher.test_errors;
    let baseline = reference
        .summary
        .as_ref()
        .unwrap()
        .baseline
        .as_ref()
        .unwrap()
        .test_errors;
    for row in &rows {
        assert_eq!(row.status, PointStatus::Done);
        assert_eq!(row.teacher_errors, Some(teacher), "the reference's teacher");
        assert_eq!(
            row.baseline_errors,
            Some(baseline),
            "the reference's baseline"
        );
        // Nothing trained the teacher or the baseline again.
        let point = load_run(&row.run_dir).unwrap();
        assert!(
            point.metrics.iter().all(|m| m.phase == Phase::Student),
            "point {}",
            row.point
        );
    }
    assert_eq!(rows[1].values, ["1", "0.9"]);
    // α = 0.9 at T = 8 and α = 0.2 at T = 1 are different students.
    assert_ne!(rows[0].student_errors, rows[3].student_errors);
    let csv = std::fs::read_to_string(layout.csv()).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.starts_with("point,distill.temperature,distill.alpha,status,"));

    // A point that never ran and one that failed are reported as such.
    std::fs::remove_dir_all(layout.point_dir(1)).unwrap();
    std::fs::remove_file(layout.point_dir(2).join("summary.json")).unwrap();
    mark_run(&layout.point_dir(2), RunStatus::Failed, "node lost").unwrap();
    let collected = collect(&dir).unwrap();
    let statuses: Vec<PointStatus> = collected.rows.iter().map(|r| r.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            PointStatus::Done,
            PointStatus::Missing,
            PointStatus::Failed("node lost".into()),
            PointStatus::Done
        ]
    );
    assert_eq!(collected.counts(), "2 done, 1 failed, 1 missing");
    let csv = std::fs::read_to_string(layout.csv()).unwrap();
    assert!(
        csv.contains(",missing,") && csv.contains(",failed,"),
        "{csv}"
    );
    assert!(csv.lines().nth(3).unwrap().ends_with("node lost"), "{csv}");

    // Rerunning resumes: only the missing and the failed point train.
    let (again, started) = run(&plan, &dir);
    assert_eq!(started, 2);
    assert_eq!(again[0].student_errors, rows[0].student_errors);
    assert_eq!(
        again[1].student_errors, rows[1].student_errors,
        "deterministic"
    );
    assert!(collect(&dir)
        .unwrap()
        .rows
        .iter()
        .all(|r| r.status == PointStatus::Done));
}

#[test]
fn a_width_sweep_keeps_a_baseline_per_point() {
    let root = tempfile::tempdir().unwrap();
    let (rows, _) = run(&plan(&["student.hidden=[8],[64]"]), root.path());
    let baselines: Vec<_> = rows.iter().map(|r| r.baseline_errors.unwrap()).collect();
    assert_ne!(
        baselines[0], baselines[1],
        "each width has its own baseline"
    );
    for row in &rows {
        let point = load_run(&row.run_dir).unwrap();
        assert!(point.metrics.iter().any(|m| m.phase == Phase::Baseline));
        assert!(!point.metrics.iter().any(|m| m.phase == Phase::Teacher));
    }
}

#[test]
fn a_run_that_fails_in_its_folder_leaves_its_reason() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("run");
    let mut config = tiny();
    config.teacher.weights = Some("/no/such/teacher.safetensors".into());
    let sink = |_: Event| {};
    let error = runs::run_at(&config, &dir, 1, &sink, CancelToken::new()).unwrap_err();
    let (status, _) = read_run_folder(&dir);
    match status {
        PointStatus::Failed(reason) => {
            assert!(reason.contains("/no/such/teacher.safetensors"), "{reason}");
            assert_eq!(reason, error.to_string());
        }
        other => panic!("expected a failed run, got {other:?}"),
    }
    assert_eq!(
        read_run_folder(&root.path().join("nothing")).0,
        PointStatus::Missing
    );
}

#[test]
fn a_sweep_through_the_worker_announces_its_plan_then_one_cell_per_point() {
    use distillery::worker::protocol::Command;
    use distillery::worker::Worker;
    use std::time::Duration;

    let root = tempfile::tempdir().unwrap();
    let worker = Worker::spawn(std::sync::Arc::new(|| {})).unwrap();
    worker.send(Command::StartSweep {
        run: 9,
        plan: Box::new(plan(&["distill.temperature=1,8"])),
        dir: root.path().join("s"),
        jobs: 2,
    });
    let mut events = Vec::new();
    loop {
        let event = worker
            .recv_timeout(Duration::from_secs(120))
            .expect("the sweep ends within 2 minutes");
        let last = matches!(
            event,
            Event::RunFinished { .. } | Event::RunFailed { .. } | Event::RunCancelled { .. }
        );
        events.push(event);
        if last {
            break;
        }
    }
    let others: Vec<&Event> = events.iter().filter(|e| e.run() != Some(9)).collect();
    assert!(others.is_empty(), "{others:?}");
    assert!(matches!(&events[0], Event::SweepPlanned { axes, .. } if axes.len() == 1));
    // The reference run's phases come through (the shared teacher, then the baseline).
    for phase in [Phase::Teacher, Phase::Baseline] {
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::PhaseStarted { phase: p, .. } if *p == phase)),
            "no {phase:?} phase"
        );
    }
    let cells: Vec<&SweepRow> = events
        .iter()
        .filter_map(|e| match e {
            Event::SweepCell { row, .. } => Some(&**row),
            _ => None,
        })
        .collect();
    assert_eq!(cells.len(), 2);
    assert!(cells.iter().all(|r| r.status == PointStatus::Done));
    match events.last() {
        Some(Event::RunFinished { summary, .. }) => {
            let best = cells.iter().filter_map(|r| r.student_errors).min();
            assert_eq!(
                Some(summary.student.test_errors),
                best,
                "the best point's summary"
            );
            assert_eq!(
                summary.baseline.as_ref().map(|b| b.test_errors),
                cells[0].baseline_errors,
                "with the reference run's baseline"
            );
        }
        other => panic!("expected RunFinished, got {other:?}"),
    }
}
