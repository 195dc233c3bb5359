//! The plane playground's engine: on a 2-D dataset the same trainer distils a teacher into a
//! tiny student, the grid shows it (the distilled student agrees with the teacher on more of
//! the plane than the baseline does), and the run folder and live events carry the grid.

mod common;

use distillery::config::{Method, PlaneKind, RunConfig};
use distillery::events::{Event, Phase};
use distillery::plane::{self, PlaneSummary};
use distillery::train::CancelToken;

fn run(config: &RunConfig) -> PlaneSummary {
    let runs = tempfile::tempdir().unwrap();
    plane::run(config, runs.path(), 1, &|_| {}, CancelToken::new(), false).unwrap()
}

/// Spirals with 5 % of the teacher's points labelled for the students.
fn few_labels(method: Method) -> RunConfig {
    let mut c = plane::default_config();
    c.transfer.limit = Some(50);
    c.distill.method = method;
    c.transfer.munge = true;
    c.transfer.munge_params.k = 10;
    c
}

#[test]
fn distillation_brings_the_student_closer_to_the_teacher_than_hard_labels() {
    let s = run(&few_labels(Method::Hinton));
    let baseline = s.baseline_agreement.unwrap();
    assert!(s.teacher_accuracy > 0.95, "teacher {}", s.teacher_accuracy);
    assert!(
        s.student_agreement > baseline + 0.05,
        "grid agreement: distilled {} vs baseline {baseline}",
        s.student_agreement
    );
    assert!(
        s.student_accuracy > s.baseline_accuracy.unwrap(),
        "test accuracy: distilled {} vs baseline {:?}",
        s.student_accuracy,
        s.baseline_accuracy
    );
    assert_eq!(s.labelled, 50);
    assert_eq!(
        s.transfer_size,
        50 * 11,
        "50 labelled + 10 × 50 MUNGE points"
    );
}

#[test]
fn every_method_trains_on_every_shape() {
    for (kind, method) in [
        (PlaneKind::Moons, Method::LogitL2),
        (PlaneKind::Blobs, Method::NoisyTeacher),
        (PlaneKind::Xor, Method::ModelCompression),
        (PlaneKind::Checkerboard, Method::Hinton),
    ] {
        let mut c = plane::default_config();
        c.data.plane.kind = kind;
        c.data.plane.classes = 4;
        c.data.plane.grid = 40;
        c.data.plane.train = 500;
        c.teacher.epochs = 50;
        c.student.epochs = 60;
        c.distill.method = method;
        let s = run(&c);
        let chance = 1.0 / s.classes as f64;
        assert!(
            s.student_accuracy > chance + 0.15,
            "{kind:?} {method:?}: {}",
            s.student_accuracy
        );
        assert_eq!(s.classes, if kind == PlaneKind::Blobs { 4 } else { 2 });
    }
}

#[test]
fn live_run_sends_points_and_grids_and_writes_the_grid_files() {
    let mut c = plane::default_config();
    c.data.plane.grid = 30;
    c.distill.method = Method::ModelCompression;
    c.transfer.limit = Some(100);
    c.transfer.munge_params.k = 2;
    let runs = tempfile::tempdir().unwrap();
    let (events, sink) = common::collect();
    let s = plane::run(&c, runs.path(), 9, &sink, CancelToken::new(), true).unwrap();
    let events = events.lock().unwrap();
    let points: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::PlanePoints {
                synthetic,
                synthetic_labels,
                labelled,
                train,
                ..
            } => Some((
                synthetic.len(),
                synthetic_labels.len(),
                *labelled,
                train.len(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(points, vec![(0, 0, 100, 2000), (400, 200, 100, 2000)]);
    for phase in [Phase::Teacher, Phase::Baseline, Phase::Student] {
        let grids: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                Event::PlaneGrid {
                    phase: p,
                    epoch,
                    logits,
                    grid,
                    classes,
                    ..
                } if *p == phase => {
                    assert_eq!(logits.len(), grid * grid * classes);
                    Some(*epoch)
                }
                _ => None,
            })
            .collect();
        // The first epoch at once, the last when the phase ends, possibly some between.
        assert!(grids.len() >= 2, "{phase:?}: {grids:?}");
        assert_eq!(grids[0], 1, "{phase:?}");
        let last = if phase == Phase::Teacher { 100 } else { 200 };
        assert_eq!(*grids.last().unwrap(), last, "{phase:?}");
    }
    let dir = &s.run.dir;
    let grid = std::fs::read_to_string(dir.join("grid.csv")).unwrap();
    assert_eq!(grid.lines().count(), 30 * 30 + 1);
    assert!(grid.starts_with("x,y,teacher_p0,teacher_p1,teacher_p2,baseline_p0"));
    let pts = std::fs::read_to_string(dir.join("points.csv")).unwrap();
    assert_eq!(pts.lines().count(), 1 + 1000 + 1000 + 200);
    assert_eq!(
        pts.lines().filter(|l| l.ends_with(",synthetic")).count(),
        200
    );
    let stored: PlaneSummary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plane.json")).unwrap()).unwrap();
    assert_eq!(stored.student_agreement, s.student_agreement);
    assert_eq!(stored.baseline_accuracy, s.baseline_accuracy);
    assert_eq!(stored.run.dir, s.run.dir);
    let config =
        RunConfig::from_toml(&std::fs::read_to_string(dir.join("config.toml")).unwrap()).unwrap();
    assert_eq!(config, c, "config.toml reruns the same plane run");
    for file in [
        "teacher.safetensors",
        "baseline.safetensors",
        "student.safetensors",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
}

#[test]
fn same_seed_same_plane_run() {
    let mut c = plane::default_config();
    c.data.plane.grid = 20;
    c.teacher.epochs = 10;
    c.student.epochs = 10;
    let (a, b) = (run(&c), run(&c));
    assert_eq!(a.student_accuracy, b.student_accuracy);
    assert_eq!(a.student_agreement, b.student_agreement);
    c.seed += 1;
    let other = run(&c);
    assert_ne!(
        (a.student_accuracy, a.student_agreement),
        (other.student_accuracy, other.student_agreement)
    );
}

#[test]
fn a_student_whose_relus_die_stops_as_diverged_naming_the_learning_rate() {
    // Measured: at lr 0.3 the 2-16-16-2 student on the checkerboard loses every ReLU within a
    // few epochs for seeds 0-3 (every grid point gets the same output). The run must stop as
    // diverged with advice, not finish at chance level.
    let mut c = plane::default_config();
    c.data.plane.kind = PlaneKind::Checkerboard;
    c.data.plane.grid = 20;
    c.student.optim.lr = 0.3;
    let runs = tempfile::tempdir().unwrap();
    let message = match plane::run(&c, runs.path(), 1, &|_| {}, CancelToken::new(), false) {
        Ok(s) => panic!("expected divergence, got accuracy {}", s.student_accuracy),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("training diverged"), "{message}");
    assert!(message.contains("student.optim.lr = 0.3"), "{message}");
}
