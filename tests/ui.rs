//! The window, driven with egui_kittest (no GPU): the slider changes the soft targets, Start
//! trains through the real worker and the live view follows, Cancel cancels, exports write
//! their files, and a failing run shows its message.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use distillery::distill::soft::entropy;
use distillery::model::{mlp::Mlp, weights};
use distillery::ui::app::{AppOptions, DistilleryApp, RunStatus};
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

    fn pick_folder(&self) -> Option<PathBuf> {
        Some(self.folder.join("sweep"))
    }
}

/// A random model; `sharpness` scales its output layer so its softmax is far from uniform.
fn write_model(dir: &Path, name: &str, layers: &[usize], seed: u64, sharpness: f64) -> PathBuf {
    let mut mlp = Mlp::new(layers, seed, &candle_core::Device::Cpu).unwrap();
    let last = mlp.weights.len() - 1;
    mlp.weights[last] = mlp.weights[last].affine(sharpness, 0.0).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, weights::to_bytes(&mlp, &Default::default()).unwrap()).unwrap();
    path
}

/// A window on a temp folder, with small random teacher and student and a tiny run config.
fn harness(dir: &Path) -> Harness<'static, DistilleryApp> {
    harness_with(
        dir,
        Arc::new(FixedDialogs {
            folder: dir.to_owned(),
        }),
    )
}

/// [`harness`] with other file dialogs.
fn harness_with(dir: &Path, dialogs: Arc<dyn Dialogs>) -> Harness<'static, DistilleryApp> {
    let mut state = State {
        teacher_weights: write_model(dir, "teacher.safetensors", &[784, 32, 10], 1, 60.0),
        student_weights: write_model(dir, "student.safetensors", &[784, 16, 10], 2, 30.0),
        sample: 0,
        ..State::default()
    };
    let c = &mut state.config;
    c.data.train_limit = Some(1000);
    c.data.test_limit = Some(500);
    c.teacher.hidden = vec![32];
    c.teacher.epochs = 1;
    c.student.hidden = vec![16];
    c.student.epochs = 1;
    c.teacher.weights = None;
    let options = AppOptions {
        state: Some(state),
        runs_dir: Some(dir.join("runs")),
        data_dir: None,
        dialogs,
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

fn soft_targets(app: &DistilleryApp) -> distillery::export::PlotSpec {
    distillery::ui::soft_target_spec(
        app.test.as_deref(),
        app.teacher.as_deref(),
        app.student.as_deref(),
        app.state.sample,
        app.state.views.playground.temperature,
    )
}

fn teacher_entropy(app: &DistilleryApp) -> f64 {
    let spec = soft_targets(app);
    let teacher = spec
        .series
        .iter()
        .find(|s| s.name == "teacher")
        .expect("teacher bars");
    let probs: Vec<f32> = teacher.points.iter().map(|p| p[1] as f32).collect();
    entropy(&probs)
}

#[test]
fn dragging_the_temperature_slider_flattens_the_soft_targets() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    step_until(&mut h, Duration::from_secs(30), |a| {
        a.teacher.is_some() && a.student.is_some()
    });
    let before = teacher_entropy(h.state());

    let slider = h.get_by_role_and_label(Role::Slider, "Temperature T");
    let rect = slider.rect();
    h.drag_at(egui::pos2(rect.left() + 30.0, rect.center().y));
    h.step();
    h.hover_at(egui::pos2(rect.right() - 5.0, rect.center().y));
    h.step();
    h.drop_at(egui::pos2(rect.right() - 5.0, rect.center().y));
    h.step();
    h.step();

    let t = h.state().state.views.playground.temperature;
    assert!(t > 10.0, "dragging right raises T, got {t}");
    let after = teacher_entropy(h.state());
    assert!(after > before + 0.1, "entropy {before} -> {after}");
    // The bars' title shows the new temperature in the same frame.
    h.get_by_label_contains(&format!("T = {t:.2}"));

    // Keyboard: right arrow steps to the next image.
    h.key_press(egui::Key::Escape);
    h.step();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().state.sample, 1);
}

#[test]
fn start_trains_through_the_worker_and_the_live_view_follows() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.step();
    h.get_by_label("Start run").click();
    h.step();
    assert_eq!(h.state().state.tab, Tab::Live);
    step_until(&mut h, Duration::from_secs(180), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    let live = h.state().live.clone().unwrap();
    match &live.status {
        RunStatus::Finished(summary) => assert_eq!(summary.student.test_n, 500),
        other => panic!("run did not finish: {other:?}"),
    }
    assert!(
        live.metrics.len() >= 3,
        "an epoch each for teacher, baseline, student"
    );
    h.get_by_label("Test errors per epoch");
    h.get_by_label_contains("run finished");
    // The finished run is listed in the runs view (read in the background).
    step_until(&mut h, Duration::from_secs(10), |a| {
        !a.runs.loading && a.runs.runs.len() == 1
    });
}

#[test]
fn cancel_ends_the_run_with_a_cancelled_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.state_mut().state.config.teacher.epochs = 500;
    h.step();
    h.get_by_label("Start run").click();
    step_until(&mut h, Duration::from_secs(60), |a| {
        a.live.as_ref().is_some_and(|l| l.batch > 0)
    });
    h.get_by_label("Cancel").click();
    let asked = Instant::now();
    step_until(&mut h, Duration::from_secs(10), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "cancel took {:?}",
        asked.elapsed()
    );
    assert_eq!(
        h.state().live.as_ref().unwrap().status,
        RunStatus::Cancelled
    );
    h.get_by_label("Run cancelled.");
}

#[test]
fn a_failing_run_shows_its_message_and_invalid_fields_block_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.state_mut().state.config.distill.temperature = -1.0;
    h.step();
    h.get_by_label_contains("distill.temperature");
    h.get_by_label("Start run").click();
    h.step();
    assert!(
        h.state().live.is_none(),
        "an invalid configuration cannot be launched"
    );

    // A valid configuration whose data folder is missing fails in the worker; the window
    // stays up and shows why.
    h.state_mut().state.config.distill.temperature = 4.0;
    h.state_mut().state.config.data.dir = Some("/no/such/mnist".into());
    h.step();
    h.get_by_label("Start run").click();
    step_until(&mut h, Duration::from_secs(60), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    h.get_by_label_contains("Run failed: /no/such/mnist");
}

#[test]
fn exporting_a_plot_writes_png_svg_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    step_until(&mut h, Duration::from_secs(30), |a| {
        a.teacher.is_some() && a.student.is_some()
    });
    h.get_by_label("Export…").click();
    let base = dir.path().join("soft-targets");
    step_until(&mut h, Duration::from_secs(20), |a| {
        a.messages
            .iter()
            .any(|(_, m)| m.contains("plot saved") || m.contains("export failed"))
    });
    // Headless there is no rendered frame to capture, so the PNG must be the plotters
    // rendering of the same spec, at its fixed size (a screen capture would be cropped to the
    // plot's on-screen rectangle instead).
    let saved = h
        .state()
        .messages
        .iter()
        .find(|(_, m)| m.contains("plot saved"))
        .map(|(_, m)| m.clone())
        .expect("a plot-saved message");
    assert!(saved.contains("(rendered)"), "{saved}");
    let png = image::open(base.with_extension("png")).unwrap();
    assert_eq!((png.width(), png.height()), (1000, 600));
    for ext in ["svg", "csv"] {
        assert!(
            base.with_extension(ext).is_file(),
            "{ext} missing; messages {:?}",
            h.state().messages
        );
    }
    let csv = std::fs::read_to_string(base.with_extension("csv")).unwrap();
    assert!(
        csv.lines().filter(|l| l.starts_with("teacher,")).count() == 10,
        "{csv}"
    );
}

/// Dialogs as on a desktop with neither an XDG portal nor zenity.
struct NoDialogs;

impl Dialogs for NoDialogs {
    fn save_file(&self, _: &str) -> Option<PathBuf> {
        None
    }

    fn open_weights(&self) -> Option<PathBuf> {
        None
    }

    fn available(&self) -> bool {
        false
    }
}

#[test]
fn without_a_file_dialog_exports_ask_for_a_path_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_with(dir.path(), Arc::new(NoDialogs));
    step_until(&mut h, Duration::from_secs(30), |a| a.teacher.is_some());
    h.get_by_label("Export…").click();
    // One frame applies the click, the next shows the window (egui sizes a new window
    // invisibly on its first frame).
    for _ in 0..4 {
        h.step();
    }
    // The field suggests the exports folder beside the runs folder.
    let expected = dir.path().join("exports").join("soft-targets.png");
    let prompt = h.state().prompt.as_ref().expect("a path field");
    assert_eq!(PathBuf::from(&prompt.text), expected);
    h.get_by_label("Save").click();
    step_until(&mut h, Duration::from_secs(20), |a| {
        a.messages.iter().any(|(_, m)| m.contains("plot saved"))
    });
    assert!(h.state().prompt.is_none());
    for ext in ["png", "svg", "csv"] {
        assert!(expected.with_extension(ext).is_file(), "{ext} missing");
    }
    h.get_by_label_contains(&expected.display().to_string());
}

#[test]
fn best_shift_runs_in_the_background_and_sets_the_slider() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    step_until(&mut h, Duration::from_secs(30), |a| a.student.is_some());
    h.get_by_label("Per-class & bias").click();
    h.step();
    h.step();
    h.get_by_label("Best shift").click();
    h.step();
    step_until(&mut h, Duration::from_secs(20), |a| {
        !a.state.views.per_class.searching
            && a.messages.iter().any(|(_, m)| m.starts_with("best shift"))
    });
    // The slider now holds the searched shift, and the message its error count.
    let shift = h.state().state.views.per_class.bias_shift;
    let student = h.state().student.clone().unwrap();
    let labels = h.state().test.as_ref().unwrap().labels.clone();
    let (best, eval) =
        distillery::distill::bias::best_shift(&student.logits, &labels, student.classes, &[3]);
    assert_eq!(shift, best);
    h.get_by_label_contains(&format!("{} test errors", eval.errors));
}

#[test]
fn a_run_is_deleted_from_the_runs_view_after_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.step();
    h.get_by_label("Start run").click();
    step_until(&mut h, Duration::from_secs(180), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    h.get_by_label("Runs").click();
    step_until(&mut h, Duration::from_secs(10), |a| a.runs.runs.len() == 1);
    h.step();
    let run_dir = h.state().runs.runs[0].entry.dir().to_owned();
    h.get_by_label("Delete…").click();
    h.step();
    h.step();
    assert!(run_dir.is_dir(), "nothing is deleted before confirming");
    h.get_by_label("Delete").click();
    step_until(&mut h, Duration::from_secs(10), |a| {
        a.runs.runs.is_empty() && !a.runs.loading
    });
    assert!(!run_dir.exists());
    // A second run starts at once after the first finished.
    h.get_by_label("Start run").click();
    step_until(&mut h, Duration::from_secs(180), |a| {
        a.live
            .as_ref()
            .is_some_and(|l| l.id == 2 && !l.is_running())
    });
    assert!(
        matches!(
            h.state().live.as_ref().unwrap().status,
            RunStatus::Finished(_)
        ),
        "{:?}",
        h.state().live.as_ref().unwrap().status
    );
}

#[test]
fn a_t_alpha_sweep_fills_its_heatmap_cell_by_cell_exports_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    {
        let view = &mut h.state_mut().state.views.sweep;
        view.axis1 = "distill.temperature=1,4".into();
        view.axis2 = "distill.alpha=0.5,0.9".into();
        view.jobs = 2;
    }
    h.get_by_label("Sweeps").click();
    h.step();
    h.step();
    h.get_by_label("Launch sweep").click();
    // Cells arrive one by one: record how many were known at each frame.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    while h.state().live.as_ref().is_none_or(|l| l.is_running()) {
        assert!(Instant::now() < deadline, "the sweep did not finish");
        if let Some(table) = h.state().live.as_ref().and_then(|l| l.sweep.as_ref()) {
            let spec = distillery::ui::sweep_spec(table);
            let known = spec
                .heatmap
                .unwrap()
                .values
                .iter()
                .flatten()
                .flatten()
                .count();
            seen.insert(known);
        }
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    let live = h.state().live.clone().unwrap();
    assert!(
        matches!(live.status, RunStatus::Finished(_)),
        "{:?}",
        live.status
    );
    assert!(
        seen.contains(&0) && seen.len() >= 2,
        "cells filled one at a time: {seen:?}"
    );
    let table = live.sweep.clone().unwrap();
    let map = distillery::ui::sweep_spec(&table).heatmap.unwrap();
    assert_eq!(map.x_labels, ["1", "4"]);
    assert_eq!(map.y_labels, ["0.5", "0.9"]);
    assert!(map.values.iter().flatten().all(Option::is_some), "{map:?}");
    assert!(map.best().is_some());
    h.get_by_label("Distilled student test errors: temperature × alpha (best outlined)");
    h.get_by_label_contains("4 of 4 points done");

    // Export: PNG, SVG and the cells as CSV.
    h.get_by_label("Export…").click();
    step_until(&mut h, Duration::from_secs(20), |a| {
        a.messages.iter().any(|(_, m)| m.contains("plot saved"))
    });
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert!(
        csv.starts_with("distill.temperature,distill.alpha,value\n1,0.5,"),
        "{csv}"
    );
    assert!(dir.path().join("sweep.png").is_file() && dir.path().join("sweep.svg").is_file());

    // The same folder, moved elsewhere, opens into the view.
    std::fs::rename(&table.dir, dir.path().join("sweep")).unwrap();
    h.get_by_label("Open sweep folder…").click();
    step_until(&mut h, Duration::from_secs(20), |a| {
        a.state.views.sweep.opened.is_some()
    });
    let opened = h.state().state.views.sweep.opened.clone().unwrap();
    let reopened = distillery::ui::sweep_spec(&opened).heatmap.unwrap();
    assert_eq!(reopened.values, map.values);
}

/// Dialogs that pick `folder` for any folder question.
struct FolderDialogs {
    folder: PathBuf,
}

impl Dialogs for FolderDialogs {
    fn save_file(&self, _: &str) -> Option<PathBuf> {
        None
    }

    fn open_weights(&self) -> Option<PathBuf> {
        None
    }

    fn pick_folder(&self) -> Option<PathBuf> {
        Some(self.folder.clone())
    }
}

#[test]
fn a_data_folder_picked_in_the_window_is_loaded_and_named_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    // Any MNIST-format folder: here a copy of the bundled files under another name.
    let data = dir.path().join("fashion-mnist");
    std::fs::create_dir(&data).unwrap();
    let bundled = distillery::data::dataset::bundled_mnist_dir();
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("ubyte") {
            std::fs::copy(&path, data.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut h = harness_with(
        dir.path(),
        Arc::new(FolderDialogs {
            folder: data.clone(),
        }),
    );
    h.step();
    h.get_by_label("Data: MNIST (bundled)");
    h.get_by_label("Data folder…").click();
    step_until(&mut h, Duration::from_secs(30), |a| {
        a.messages.iter().any(|(_, m)| m.starts_with("data: "))
    });
    h.get_by_label("Data: fashion-mnist");
    assert_eq!(h.state().test.as_ref().map(|t| t.len()), Some(10_000));
}

/// A folder of MNIST-format test files (uncompressed IDX): image `i` is 28×28 pixels of
/// `shades[i]`, labelled `(i + label_offset) % 10`.
fn write_test_set(dir: &Path, shades: &[u8], label_offset: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let n = shades.len();
    let header = |magic: u32, dims: &[u32]| -> Vec<u8> {
        std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect()
    };
    let mut images = header(2051, &[n as u32, 28, 28]);
    for shade in shades {
        images.extend(std::iter::repeat_n(*shade, 28 * 28));
    }
    let mut labels = header(2049, &[n as u32]);
    labels.extend((0..n).map(|i| ((i + label_offset) % 10) as u8));
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), images).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels).unwrap();
}

/// The digit the playground shows as its test set's pixels (as the playground converts them).
fn expected_digit(app: &DistilleryApp) -> Vec<u8> {
    let test = app.test.as_ref().expect("a test set");
    test.image(app.state.sample)
        .iter()
        .map(|p| (p * 255.0) as u8)
        .collect()
}

#[test]
fn another_data_folder_shows_its_own_image_at_the_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    write_test_set(&first, &[0, 255, 0], 0);
    write_test_set(&second, &[255, 0, 255], 5);
    let state = State {
        sample: 1,
        ..State::default()
    };
    let options = AppOptions {
        state: Some(state),
        runs_dir: Some(dir.path().join("runs")),
        data_dir: Some(first.clone()),
        dialogs: Arc::new(FolderDialogs {
            folder: second.clone(),
        }),
    };
    let mut h = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| DistilleryApp::new(&cc.egui_ctx, options).unwrap());
    h.step();
    h.get_by_label("Test image #1 — label 1");
    let before = h
        .state()
        .state
        .views
        .playground
        .shown_digit()
        .map(<[u8]>::to_vec);
    assert_eq!(before, Some(vec![255; 28 * 28]));

    h.get_by_label("Data folder…").click();
    step_until(&mut h, Duration::from_secs(30), |a| {
        a.messages.iter().any(|(_, m)| m.starts_with("data: "))
    });
    h.step();
    // Same index, new data set: its label and its image, not the old set's image.
    h.get_by_label("Test image #1 — label 6");
    let after = h
        .state()
        .state
        .views
        .playground
        .shown_digit()
        .map(<[u8]>::to_vec);
    assert_eq!(after, Some(vec![0; 28 * 28]));
    assert_eq!(after, Some(expected_digit(h.state())));
}

/// The bars the soft-targets panel shows now, by series name.
fn probe_bars(app: &DistilleryApp) -> (String, Vec<(String, Vec<f64>)>) {
    use distillery::ui::soft_targets::probe_soft_targets_spec;
    let live = app.live.as_ref().expect("a live run");
    let panel = &app.state.views.live.soft_targets;
    let sample = panel.shown_sample(&live.probes).expect("a probe");
    let t = panel.shown_temperature(&live.config);
    let spec = probe_soft_targets_spec(live, None, sample, t, panel.epoch);
    let bars = spec
        .series
        .iter()
        .map(|s| (s.name.clone(), s.points.iter().map(|p| p[1]).collect()))
        .collect();
    (spec.title, bars)
}

fn bars_of<'a>(bars: &'a [(String, Vec<f64>)], name: &str) -> &'a [f64] {
    &bars.iter().find(|b| b.0 == name).expect(name).1
}

fn drag_slider(h: &mut Harness<'static, DistilleryApp>, label: &str, to_right: bool) {
    let rect = h.get_by_role_and_label(Role::Slider, label).rect();
    let (from, to) = if to_right {
        (rect.left() + 2.0, rect.right() - 2.0)
    } else {
        (rect.right() - 2.0, rect.left() + 2.0)
    };
    h.drag_at(egui::pos2(from, rect.center().y));
    h.step();
    h.hover_at(egui::pos2(to, rect.center().y));
    h.step();
    h.drop_at(egui::pos2(to, rect.center().y));
    h.step();
    h.step();
}

#[test]
fn the_soft_targets_panel_selects_probes_rescales_and_replays_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.state_mut().state.sample = 7;
    h.state_mut().state.config.student.epochs = 2;
    h.state_mut().state.config.teacher.epochs = 5;
    h.step();
    h.get_by_label("Start run").click();
    step_until(&mut h, Duration::from_secs(180), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    let live = h.state().live.clone().unwrap();
    assert!(
        matches!(live.status, RunStatus::Finished(_)),
        "{:?}",
        live.status
    );
    // The playground's image comes first, then the configured probes.
    assert_eq!(live.probes.samples(), vec![7, 32, 18, 62, 65]);
    let (title, bars) = probe_bars(h.state());
    assert!(title.starts_with("softmax(z / T) of probe #7"), "{title}");
    let names: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(names, ["teacher", "baseline", "distilled student"]);

    // Probe selection.
    h.get_by_label("#18 (label 3)").click();
    h.step();
    assert_eq!(h.state().state.views.live.soft_targets.sample, Some(18));
    h.get_by_label_contains("softmax(z / T) of probe #18");

    // The T slider re-renders the bars from cached logits in the same frame.
    let before = entropy(
        &bars_of(&probe_bars(h.state()).1, "teacher")
            .iter()
            .map(|p| *p as f32)
            .collect::<Vec<_>>(),
    );
    // (A small teacher is nearly flat at the run's T = 4: sharpen.)
    drag_slider(&mut h, "Probe temperature T", false);
    let t = h
        .state()
        .state
        .views
        .live
        .soft_targets
        .temperature
        .expect("T chosen");
    assert!(t < 0.6, "dragging left lowers T, got {t}");
    let after = entropy(
        &bars_of(&probe_bars(h.state()).1, "teacher")
            .iter()
            .map(|p| *p as f32)
            .collect::<Vec<_>>(),
    );
    assert!(after < before - 0.1, "teacher entropy {before} -> {after}");
    h.get_by_label_contains(&format!("T = {t:.2}, live"));
    h.get_by_label("run's T = 4").click();
    h.step();
    assert_eq!(h.state().state.views.live.soft_targets.temperature, None);

    // The scrubber: back to before training, where the students are untrained.
    let trained = bars_of(&probe_bars(h.state()).1, "distilled student").to_vec();
    drag_slider(&mut h, "Epoch", false);
    assert_eq!(h.state().state.views.live.soft_targets.epoch, Some(0));
    let (title, bars) = probe_bars(h.state());
    assert!(title.ends_with("before training"), "{title}");
    let untrained = bars_of(&bars, "distilled student");
    assert_ne!(untrained, trained.as_slice());
    h.get_by_label("Replay").click();
    step_until(&mut h, Duration::from_secs(10), |a| {
        a.state.views.live.soft_targets.epoch == Some(2)
    });
    assert_eq!(
        bars_of(&probe_bars(h.state()).1, "distilled student"),
        trained.as_slice()
    );

    // A finished run replays from its folder (probes.csv) through the runs view.
    h.get_by_label("Runs").click();
    step_until(&mut h, Duration::from_secs(10), |a| {
        a.state.tab == Tab::Runs && a.runs.runs.iter().any(|r| matches!(&r.entry, distillery::runs::ListedRun::Run(run) if !run.probes.is_empty()))
    });
    h.get_by_label("Replay").click();
    h.step();
    let replayed = h.state().live.clone().unwrap();
    assert_ne!(replayed.id, live.id, "{:?}", h.state().messages);
    assert_eq!(h.state().state.tab, Tab::Live);
    assert_eq!(replayed.probes.samples(), live.probes.samples());
    assert_eq!(replayed.probes.last_epoch(), 5, "the teacher's five epochs");
    assert_eq!(
        bars_of(&probe_bars(h.state()).1, "distilled student"),
        trained.as_slice()
    );
}

/// Ticking "shift the student's images" in the launcher turns on the jittered transfer set
/// (±2 px by default), and a run started from there trains its student on shifted images.
#[test]
fn the_jittered_transfer_set_is_a_launcher_checkbox() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.step();
    assert_eq!(h.state().state.config.transfer.jitter_px, 0);
    h.get_by_label_contains("shift the student's images")
        .click();
    h.step();
    h.step();
    assert_eq!(h.state().state.config.transfer.jitter_px, 2);
    h.get_by_label("Start run").click();
    h.step();
    step_until(&mut h, Duration::from_secs(180), |a| {
        a.live.as_ref().is_some_and(|l| !l.is_running())
    });
    let live = h.state().live.clone().unwrap();
    let RunStatus::Finished(summary) = &live.status else {
        panic!("run did not finish: {:?}", live.status);
    };
    let config = std::fs::read_to_string(summary.dir.join("config.toml")).unwrap();
    assert!(config.contains("jitter_px = 2\n"), "{config}");
}

/// The launcher draws the chosen method's fields from the method registry: picking the noisy
/// teacher shows its noise fields, and they edit the config the run will use.
#[test]
fn the_launcher_shows_and_edits_the_chosen_methods_own_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.step();
    assert!(
        h.query_by_label("additive").is_none(),
        "soft targets have no noise"
    );
    h.get_by_role_and_label(Role::ComboBox, "Method").click();
    h.step();
    h.step();
    h.get_by_label("Noisy teacher (Sau & Balasubramanian 2016)")
        .click();
    h.step();
    h.step();
    assert_eq!(
        h.state().state.config.distill.method,
        distillery::config::Method::NoisyTeacher
    );
    assert!(h.query_by_label("Noise form").is_some());
    h.get_by_label("additive").click();
    h.step();
    h.step();
    assert_eq!(
        h.state().state.config.distill.noise_kind,
        distillery::config::NoiseKind::Additive
    );
    h.get_by_label("centre each example's logits").click();
    h.step();
    h.step();
    assert!(h.state().state.config.distill.zero_mean_logits);
}

/// The launcher offers every method of the registry, and picking one shows that method's own
/// fields by their labels (and hides the number fields only other methods have): written over
/// the registry, so a method added there is covered here.
#[test]
fn the_launcher_offers_every_registry_method_and_its_fields() {
    use distillery::distill::methods::{FieldKind, REGISTRY};
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    // The Live view without a run: nothing but the launcher has widgets (the playground has
    // its own temperature).
    h.state_mut().state.tab = Tab::Live;
    h.step();
    let shown = |h: &Harness<'static, DistilleryApp>, kind: FieldKind, label: &str| match kind {
        FieldKind::Number { .. } | FieldKind::Count { .. } => h
            .query_all_by_role_and_label(Role::SpinButton, label)
            .next()
            .is_some(),
        FieldKind::Fraction(_) => h
            .query_all_by_role_and_label(Role::Slider, label)
            .next()
            .is_some(),
        FieldKind::Toggle { text, .. } => {
            h.query_all_by_label(label).next().is_some()
                && h.query_all_by_role_and_label(Role::CheckBox, text)
                    .next()
                    .is_some()
        }
        FieldKind::Choice { options, .. } => {
            h.query_all_by_label(label).next().is_some()
                && options
                    .iter()
                    .all(|o| h.query_all_by_label(o).next().is_some())
        }
    };
    let number =
        |kind: FieldKind| matches!(kind, FieldKind::Number { .. } | FieldKind::Count { .. });
    for method in REGISTRY {
        if h.state().state.config.distill.method != method.method() {
            h.get_by_role_and_label(Role::ComboBox, "Method").click();
            h.step();
            h.step();
            h.get_by_label(method.label()).click();
            h.step();
            h.step();
        }
        assert_eq!(
            h.state().state.config.distill.method,
            method.method(),
            "{} could not be picked",
            method.name()
        );
        for field in method.fields() {
            assert!(
                shown(&h, field.kind, field.label),
                "{}: field {:?} ({}) not shown",
                method.name(),
                field.label,
                field.key
            );
        }
        let own = |label: &str| method.fields().iter().any(|f| f.label == label);
        for other in REGISTRY.iter().filter(|o| o.method() != method.method()) {
            for field in other.fields() {
                if number(field.kind) && !own(field.label) {
                    assert!(
                        !shown(&h, field.kind, field.label),
                        "{}: {}'s field {:?} is shown",
                        method.name(),
                        other.name(),
                        field.label
                    );
                }
            }
        }
    }
}

/// The Live view fed with what a run of the new stages sends: a FitNets hint stage (losses,
/// no test errors), TAKD's assistant (its own judged phase) and DML's two students (members
/// 0 and 1 of the student phase). Every model gets its own legend entry, hence its own curve
/// and bars; the hint stage only its loss.
#[test]
fn the_live_view_draws_both_mutual_learners_the_assistant_and_the_hint_loss() {
    use distillery::events::{DistillationGap, EpochMetrics, Event, Phase, ProbeSnapshot};
    use distillery::ui::live_run::{LiveRun, RunKind};
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    h.step();
    let row = |phase, member, epoch, errors: usize, test_n| EpochMetrics {
        phase,
        member,
        epoch,
        loss: 1.0 / epoch as f64,
        soft_loss: 0.5,
        hard_loss: 0.25,
        lr: 0.1,
        test_errors: errors,
        per_class_errors: if test_n > 0 { vec![0; 10] } else { Vec::new() },
        test_n,
        elapsed_secs: 1.0,
        gap: (test_n > 0 && phase != Phase::Teacher).then_some(DistillationGap {
            kl_t: 0.1,
            kl_1: 0.2,
            agreement: 0.9,
        }),
    };
    let started = |phase, member, detail: &str| Event::PhaseStarted {
        run: 50,
        phase,
        member,
        epochs: 2,
        batches: 10,
        detail: detail.into(),
    };
    let probes = |phase, member| Event::Probes {
        run: 50,
        snapshot: ProbeSnapshot {
            phase,
            member,
            epoch: 1,
            batch: 10,
            epoch_end: true,
            samples: vec![3],
            logits: (0..10).map(|c| (c + member) as f32 * 0.3).collect(),
        },
    };
    let mut events = vec![
        started(Phase::Teacher, 0, ""),
        Event::EpochEnded {
            run: 50,
            metrics: row(Phase::Teacher, 0, 1, 120, 500),
        },
        probes(Phase::Teacher, 0),
        started(Phase::Hint, 0, "hint: student layer 1 → teacher layer 1"),
    ];
    for epoch in 1..=2 {
        events.push(Event::EpochEnded {
            run: 50,
            metrics: row(Phase::Hint, 0, epoch, 0, 0),
        });
    }
    events.push(started(Phase::Assistant, 0, "assistant [190]"));
    events.push(Event::EpochEnded {
        run: 50,
        metrics: row(Phase::Assistant, 0, 1, 140, 500),
    });
    events.push(probes(Phase::Assistant, 0));
    events.push(started(Phase::Student, 0, "peer 1 of 2"));
    events.push(started(Phase::Student, 1, "peer 2 of 2"));
    for member in 0..2 {
        events.push(Event::EpochEnded {
            run: 50,
            metrics: row(Phase::Student, member, 1, 150 + member, 500),
        });
        events.push(probes(Phase::Student, member));
    }
    let mut live = LiveRun::new(50, RunKind::Run, h.state().state.config.clone());
    for event in &events {
        live.apply(event);
    }
    h.state_mut().live = Some(live);
    h.state_mut().state.tab = Tab::Live;
    for _ in 0..3 {
        h.step();
    }
    // Legend entries are check boxes named after their series.
    let entries = |h: &Harness<'static, DistilleryApp>, name: &str| {
        h.query_all_by_role_and_label(Role::CheckBox, name).count()
    };
    // Test errors and agreement draw a curve per model, the soft-targets panel a bar series.
    for name in ["student 1", "student 2", "assistant"] {
        assert_eq!(entries(&h, name), 3, "{name}");
    }
    assert_eq!(entries(&h, "distilled student"), 0);
    assert_eq!(entries(&h, "hint"), 0, "no hint curve on the error plots");
    assert_eq!(entries(&h, "hint loss (L2 to teacher layer)"), 1);
    assert_eq!(entries(&h, "loss student 2"), 1);
    h.get_by_label_contains("students 1–2 together");
}
