//! The plane view, driven with egui_kittest (no GPU): Train fills the three panels through
//! the real worker, the temperature slider re-colours them in the frame it moves, MUNGE shows
//! its synthetic points, and a panel exports its files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use distillery::config::Method;
use distillery::ui::app::{AppOptions, DistilleryApp};
use distillery::ui::live_run::{RunKind, RunStatus};
use distillery::ui::state::{State, Tab};
use distillery::ui::tasks::Dialogs;

/// Dialogs that answer with a file in a fixed folder.
struct FixedDialogs {
    folder: PathBuf,
}

impl Dialogs for FixedDialogs {
    fn save_file(&self, default_name: &str) -> Option<PathBuf> {
        Some(self.folder.join(default_name))
    }

    fn open_weights(&self) -> Option<PathBuf> {
        None
    }
}

/// The window on the plane view, with a small, quick plane configuration.
fn harness(dir: &Path) -> Harness<'static, DistilleryApp> {
    let mut state = State {
        tab: Tab::Plane,
        ..State::default()
    };
    let c = &mut state.views.plane.config;
    c.data.plane.train = 300;
    c.data.plane.test = 300;
    c.data.plane.grid = 50;
    c.teacher.epochs = 30;
    c.student.epochs = 40;
    let options = AppOptions {
        state: Some(state),
        runs_dir: Some(dir.join("runs")),
        data_dir: None,
        dialogs: Arc::new(FixedDialogs {
            folder: dir.to_owned(),
        }),
    };
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| DistilleryApp::new(&cc.egui_ctx, options).unwrap())
}

/// Steps frames until `done` holds (the worker runs on its own thread meanwhile).
fn step_until(
    h: &mut Harness<'static, DistilleryApp>,
    timeout: Duration,
    done: impl Fn(&DistilleryApp) -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !done(h.state()) {
        assert!(
            Instant::now() < deadline,
            "condition not reached within {timeout:?}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

fn train(h: &mut Harness<'static, DistilleryApp>) {
    h.step();
    h.get_by_role_and_label(Role::Button, "Train").click();
    h.step();
    step_until(h, Duration::from_secs(120), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    let live = h.state().live.as_ref().unwrap();
    assert_eq!(live.kind, RunKind::Plane);
    assert!(
        matches!(live.status, RunStatus::Finished(_)),
        "{:?}",
        live.status
    );
}

#[test]
fn training_fills_the_panels_and_the_slider_recolours_them_in_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    train(&mut h);
    let view = &h.state().state.views.plane;
    for i in 0..3 {
        assert_eq!(
            view.panel_pixels(i).len(),
            50 * 50 * 4,
            "panel {i} coloured"
        );
    }
    let live = h.state().live.as_ref().unwrap();
    assert!(live.plane.models.iter().all(|m| !m.is_empty()));
    let before: Vec<Vec<u8>> = (0..3).map(|i| view.panel_pixels(i).to_vec()).collect();
    let recolours = view.recolours;

    let slider = h.get_by_role_and_label(Role::Slider, "Display temperature T");
    let rect = slider.rect();
    h.drag_at(egui::pos2(rect.left() + 2.0, rect.center().y));
    h.step();
    h.hover_at(egui::pos2(rect.right() - 2.0, rect.center().y));
    h.step();
    h.drop_at(egui::pos2(rect.right() - 2.0, rect.center().y));
    h.step();

    let view = &h.state().state.views.plane;
    assert!(
        view.temperature > 10.0,
        "dragged right: T = {}",
        view.temperature
    );
    assert!(
        view.recolours > recolours,
        "the slider re-coloured the panels"
    );
    // One re-colouring of all three 50×50 panels; a frame is 16 ms (loose: shared CPUs).
    assert!(view.last_recolour_ms < 16.0, "{} ms", view.last_recolour_ms);
    for (i, old) in before.iter().enumerate() {
        assert_ne!(view.panel_pixels(i), &old[..], "panel {i} changed with T");
    }
    // At a high T the teacher's colours spread less: neighbouring regions look alike.
    let spread = |px: &[u8]| {
        let reds: Vec<u8> = px.chunks_exact(4).map(|p| p[0]).collect();
        reds.iter().max().unwrap() - reds.iter().min().unwrap()
    };
    assert!(spread(view.panel_pixels(0)) < spread(&before[0]));
}

#[test]
fn munge_draws_the_teachers_synthetic_points_in_the_student_panel() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.state_mut().state.views.plane.config.transfer.limit = Some(30);
    h.step();
    h.get_by_label("MUNGE").click();
    h.step();
    assert_eq!(
        h.state().state.views.plane.config.distill.method,
        Method::ModelCompression
    );
    train(&mut h);
    let plane = &h.state().live.as_ref().unwrap().plane;
    let k = h.state().state.views.plane.config.transfer.munge_params.k;
    assert_eq!(plane.synthetic.len(), 2 * k * 30);
    assert_eq!(plane.synthetic_labels.len(), k * 30);
    assert!(plane
        .synthetic_labels
        .iter()
        .all(|l| usize::from(*l) < plane.classes));
    assert_eq!(plane.labelled, 30);
}

#[test]
fn a_panel_exports_png_svg_and_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    train(&mut h);
    // The first "Export…" is the teacher panel's (the curves' come after the panels).
    h.get_all_by_label("Export…").next().unwrap().click();
    step_until(&mut h, Duration::from_secs(20), |a| {
        a.messages
            .iter()
            .any(|(_, m)| m.contains("panel saved") || m.contains("export failed"))
    });
    let base = dir.path().join("plane-teacher");
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", base.display()));
    // Headless there is no frame to capture: the PNG is the grid itself, a pixel per cell.
    let png = image::open(with(".png")).unwrap();
    assert_eq!((png.width(), png.height()), (50, 50));
    let svg = std::fs::read_to_string(with(".svg")).unwrap();
    assert_eq!(
        svg.matches("<circle").count(),
        300,
        "one per training point"
    );
    let grid = std::fs::read_to_string(with(".csv")).unwrap();
    assert_eq!(grid.lines().count(), 50 * 50 + 1);
    assert!(grid.starts_with("x,y,plane-teacher_p0,"));
    let points = std::fs::read_to_string(with("-points.csv")).unwrap();
    assert_eq!(points.lines().count(), 301);
}

/// Every method of the registry can be picked in the plane view and trains there (the plane
/// runs through the same pipeline): FitNets' hint stage and TAKD's assistant leave the three
/// panels alone, and DML's second student does not overwrite the student panel.
#[test]
fn every_registry_method_trains_in_the_plane_view() {
    use distillery::distill::methods::REGISTRY;
    use distillery::events::Phase;
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    {
        let c = &mut h.state_mut().state.views.plane.config;
        c.teacher.epochs = 10;
        c.student.epochs = 10;
    }
    for method in REGISTRY {
        h.step();
        h.get_by_role_and_label(Role::Button, method.name()).click();
        h.step();
        let config = &h.state().state.views.plane.config;
        assert_eq!(config.distill.method, method.method(), "{}", method.name());
        train(&mut h);
        let live = h.state().live.as_ref().unwrap();
        let plane = &live.plane;
        assert!(
            plane.models.iter().all(|m| !m.is_empty()),
            "{}: a panel is empty",
            method.name()
        );
        assert_eq!(
            plane.models[2].members.len(),
            1,
            "{}: one student in the student panel",
            method.name()
        );
        let view = &h.state().state.views.plane;
        assert_eq!(view.panel_pixels(2).len(), 50 * 50 * 4, "{}", method.name());
        let students = live
            .metrics
            .iter()
            .filter(|m| m.phase == Phase::Student)
            .map(|m| m.member)
            .max();
        let has = |phase| live.metrics.iter().any(|m| m.phase == phase);
        match method.method() {
            Method::Dml => assert_eq!(students, Some(1), "two students learn together"),
            Method::Takd => assert!(has(Phase::Assistant), "TAKD trains an assistant"),
            Method::Fitnets => assert!(
                live.metrics
                    .iter()
                    .any(|m| m.phase == Phase::Hint && m.test_n == 0),
                "FitNets fits a hint first"
            ),
            _ => assert_eq!(students, Some(0)),
        }
    }
}
