//! The command line: bad input ends with a non-zero status and one `error:` line naming the
//! field or file, never a panic; good input produces the documented JSON.

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn distillery() -> Command {
    Command::cargo_bin("distillery").unwrap()
}

/// Runs `cmd`, checks that it succeeded (showing its stderr if not) and returns its stdout.
fn succeeds(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `train --preset quick --runs-dir RUNS --set S…`: the quick preset made small by `sets`.
fn quick_train<'a>(runs: &'a str, sets: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--preset", "quick", "--runs-dir", runs];
    for set in sets {
        args.extend(["--set", *set]);
    }
    args
}

/// The shipped student.
const STUDENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/student.safetensors");

/// `distillery export --weights STUDENT --format FORMAT --out OUT`, which must succeed.
fn export_student(format: &str, out: &str) {
    succeeds(distillery().args([
        "export",
        "--weights",
        STUDENT,
        "--format",
        format,
        "--out",
        out,
    ]));
}

/// Runs `args` and checks failure with a one-line error containing `needle`.
fn fails_with(args: &[&str], needle: &str) {
    let output = distillery().args(args).output().unwrap();
    assert!(!output.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(!stderr.contains("stack backtrace"), "{args:?}: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{args:?}: no error line in {stderr}"));
    // The reason appears once, not repeated by the error's source chain.
    let reason = line.rsplit(": ").next().unwrap_or_default();
    assert_eq!(
        line.matches(reason).count(),
        1,
        "{args:?}: repeated reason in `{line}`"
    );
    assert!(
        line.contains(needle),
        "{args:?}: `{line}` does not mention `{needle}`"
    );
}

/// The headless build (`--no-default-features`, no `gui` feature) has no window: without a
/// command it says so and fails. Only that build's CLI pass of `.ci/run` runs this.
#[cfg(not(feature = "gui"))]
#[test]
fn the_headless_build_without_a_command_says_it_has_no_window() {
    fails_with(&[], "this build has no window");
}

#[test]
fn bad_configuration_values_name_the_field() {
    let runs = tempfile::tempdir().unwrap();
    let runs = runs.path().to_str().unwrap();
    let cases = [
        ("distill.temperature=0", "distill.temperature"),
        ("distill.temperature=-3", "distill.temperature"),
        ("distill.temperature=nan", "distill.temperature"),
        ("distill.temperature=inf", "distill.temperature"),
        ("distill.alpha=1.5", "distill.alpha"),
        ("distill.alpha=-0.1", "distill.alpha"),
        ("student.hidden=[0]", "student.hidden"),
        ("teacher.hidden=[100,0]", "teacher.hidden"),
        ("student.epochs=0", "student.epochs"),
        ("teacher.epochs=0", "teacher.epochs"),
        ("student.optim.lr=0", "student.optim.lr"),
        ("teacher.optim.lr=-1", "teacher.optim.lr"),
        ("distill.bogus=1", "distill.bogus"),
        ("distill.method=magic", "distill.method"),
    ];
    for (set, needle) in cases {
        fails_with(
            &[
                "train",
                "--preset",
                "quick",
                "--set",
                set,
                "--runs-dir",
                runs,
            ],
            needle,
        );
    }
    fails_with(
        &["train", "--preset", "nonsense", "--runs-dir", runs],
        "unknown preset `nonsense`",
    );
    fails_with(
        &["train", "--config", "/no/such/config.toml"],
        "/no/such/config.toml",
    );
    fails_with(
        &[
            "sweep",
            "--temperatures",
            "1,0",
            "--preset",
            "quick",
            "--runs-dir",
            runs,
        ],
        "temperatures",
    );
}

fn write_gz(path: &Path, bytes: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap();
}

/// A folder of MNIST-format files whose test images file holds `file_bytes`.
fn data_dir_with_test_file(file_bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bundled = distillery::data::dataset::bundled_mnist_dir();
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(bundled.join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte.gz"), file_bytes).unwrap();
    dir
}

/// The same, with `images` gzipped like the real files.
fn data_dir_with_test_images(images: &[u8]) -> tempfile::TempDir {
    let gz = tempfile::NamedTempFile::new().unwrap();
    write_gz(gz.path(), images);
    data_dir_with_test_file(&std::fs::read(gz.path()).unwrap())
}

fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes
}

#[test]
fn missing_truncated_and_corrupt_data_files_are_named() {
    let weights = tempfile::tempdir().unwrap();
    let weights_path = weights.path().join("m.safetensors");
    let mlp = distillery::model::mlp::Mlp::new(&[784, 10], 1, &candle_core::Device::Cpu).unwrap();
    let bytes = distillery::model::weights::to_bytes(&mlp, &Default::default()).unwrap();
    std::fs::write(&weights_path, bytes).unwrap();
    let w = weights_path.to_str().unwrap();

    // A header that claims more data than the file holds.
    let mut truncated = header(2051, &[10_000, 28, 28]);
    truncated.extend(vec![0u8; 1000]);
    let dir = data_dir_with_test_images(&truncated);
    let d = dir.path().to_str().unwrap();
    fails_with(
        &["eval", "--weights", w, "--data-dir", d],
        "t10k-images-idx3-ubyte.gz",
    );
    fails_with(&["eval", "--weights", w, "--data-dir", d], "truncated");

    // Wrong magic number.
    let mut wrong = header(2049, &[10_000]);
    wrong.extend(vec![0u8; 10_000]);
    let dir = data_dir_with_test_images(&wrong);
    let d = dir.path().to_str().unwrap();
    fails_with(&["eval", "--weights", w, "--data-dir", d], "magic");

    // A header declaring 0×0-pixel images: the file is blamed, not the model.
    let dir = data_dir_with_test_images(&header(2051, &[10_000, 0, 0]));
    let d = dir.path().to_str().unwrap();
    fails_with(
        &["eval", "--weights", w, "--data-dir", d],
        "t10k-images-idx3-ubyte.gz: the header declares 0×0-pixel images",
    );

    // A gzip stream cut in half.
    let src = distillery::data::dataset::bundled_mnist_dir().join("t10k-images-idx3-ubyte.gz");
    let full = std::fs::read(src).unwrap();
    let dir = data_dir_with_test_file(&full[..full.len() / 2]);
    let d = dir.path().to_str().unwrap();
    fails_with(&["eval", "--weights", w, "--data-dir", d], "gzip");

    // A missing folder, a missing weights file, a file that is not weights.
    fails_with(
        &["eval", "--weights", w, "--data-dir", "/no/such/dir"],
        "/no/such/dir",
    );
    fails_with(
        &["eval", "--weights", "/no/such.safetensors"],
        "/no/such.safetensors",
    );
    let junk = weights.path().join("junk.safetensors");
    std::fs::write(&junk, b"junk").unwrap();
    fails_with(
        &["eval", "--weights", junk.to_str().unwrap()],
        "junk.safetensors",
    );

    // Training on a missing data folder fails before creating anything.
    let runs = tempfile::tempdir().unwrap();
    fails_with(
        &[
            "train",
            "--preset",
            "quick",
            "--data-dir",
            "/no/such/dir",
            "--runs-dir",
            runs.path().to_str().unwrap(),
        ],
        "/no/such/dir",
    );

    // Soft targets: bad temperature and out-of-range sample.
    fails_with(
        &[
            "soft-targets",
            "--weights",
            w,
            "--sample",
            "0",
            "--temperature",
            "0",
        ],
        "--temperature",
    );
    fails_with(
        &[
            "soft-targets",
            "--weights",
            w,
            "--sample",
            "0",
            "--temperature",
            "-1",
        ],
        "--temperature",
    );
    fails_with(
        &["soft-targets", "--weights", w, "--sample", "10000"],
        "--sample",
    );
}

#[test]
fn eval_and_soft_targets_print_the_documented_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mlp =
        distillery::model::mlp::Mlp::new(&[784, 16, 10], 3, &candle_core::Device::Cpu).unwrap();
    std::fs::write(
        &path,
        distillery::model::weights::to_bytes(&mlp, &Default::default()).unwrap(),
    )
    .unwrap();
    let p = path.to_str().unwrap();

    let out = succeeds(distillery().args(["eval", "--weights", p, "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["n"], 10_000);
    let per_class: Vec<u64> = serde_json::from_value(json["per_class_errors"].clone()).unwrap();
    assert_eq!(per_class.len(), 10);
    assert_eq!(
        per_class.iter().sum::<u64>(),
        json["test_errors"].as_u64().unwrap()
    );
    let confusion: Vec<Vec<u64>> = serde_json::from_value(json["confusion"].clone()).unwrap();
    let total: u64 = confusion.iter().flatten().sum();
    let diagonal: u64 = (0..10).map(|c| confusion[c][c]).sum();
    assert_eq!(total, 10_000);
    assert_eq!(total - diagonal, json["test_errors"].as_u64().unwrap());

    let out = succeeds(distillery().args([
        "soft-targets",
        "--weights",
        p,
        "--sample",
        "0",
        "--temperature",
        "5",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["sample"], 0);
    assert_eq!(json["label"], 7, "the first MNIST test image is a 7");
    let probs: Vec<f64> = serde_json::from_value(json["probs"].clone()).unwrap();
    let logits: Vec<f64> = serde_json::from_value(json["logits"].clone()).unwrap();
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    // probs = softmax(logits / 5), checked here independently of the library.
    let exps: Vec<f64> = logits.iter().map(|z| (z / 5.0).exp()).collect();
    let total: f64 = exps.iter().sum();
    for (p, e) in probs.iter().zip(&exps) {
        assert!((p - e / total).abs() < 1e-5);
    }
}

#[test]
fn presets_lists_every_required_preset() {
    let assert = distillery().arg("presets").assert().success();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for name in [
        "quick",
        "hinton-mnist",
        "logit-l2",
        "noisy-teacher",
        "munge",
        "ensemble",
        "omit-3",
        "only-7-8",
        "small-30",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{out}"
        );
    }
    distillery()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("soft-targets"));
}

#[test]
fn bad_sweep_axes_name_the_key_and_value() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let cases = [
        (
            "distill.temprature=1,2",
            "--axis distill.temprature: value `1`: unknown key",
        ),
        (
            "distill.temperature=1,warm",
            "--axis distill.temperature: value `warm`",
        ),
        (
            "student.hidden=[30,30],[x]",
            "--axis student.hidden: value `[x]`",
        ),
        ("distill.alpha=", "--axis distill.alpha: no values"),
        (
            "distill.alpha=0.5,2",
            "--axis distill.alpha: value `2`: distill.alpha: must be in [0, 1]",
        ),
    ];
    for (axis, needle) in cases {
        fails_with(
            &[
                "sweep", "--preset", "quick", "--axis", axis, "--plan", "--out", out,
            ],
            needle,
        );
    }
    fails_with(&["sweep", "--preset", "quick", "--plan"], "give --axis");
    fails_with(&["collect", "/no/such/sweep"], "/no/such/sweep/sweep.toml");
}

#[test]
fn a_planned_sweep_writes_configs_and_a_job_array_and_collects_as_missing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("plan");
    let dir_text = dir.to_str().unwrap();
    distillery()
        .args(["sweep", "--sweep", "t-alpha", "--plan", "--out", dir_text])
        .assert()
        .success()
        .stdout(predicate::str::contains(dir_text));
    for i in [0, 14] {
        let text = std::fs::read_to_string(dir.join(format!("points/{i}.toml"))).unwrap();
        let config = distillery::config::RunConfig::from_toml(&text).unwrap();
        assert_eq!(
            config.teacher.weights.unwrap(),
            dir.join("reference/teacher.safetensors")
        );
    }
    assert!(!dir.join("points/15.toml").exists());
    let sbatch = std::fs::read_to_string(dir.join("slurm-points.sbatch")).unwrap();
    assert!(sbatch.contains("#SBATCH --array=0-14"), "{sbatch}");
    let submit = std::fs::read_to_string(dir.join("slurm-submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:$ref"), "{submit}");
    let parallel = std::fs::read_to_string(dir.join("parallel.sh")).unwrap();
    assert!(parallel.contains("::: $(seq 0 14)"), "{parallel}");
    fails_with(
        &["collect", dir_text],
        "15 of 15 points are not done: 0 done, 15 missing",
    );
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.matches(",missing,").count(), 15, "{csv}");
}

#[test]
fn config_file_errors_name_the_field_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "name = \"x\"\n\n[student]\nepochs = \"ten\"\n").unwrap();
    let p = path.to_str().unwrap();
    let runs = dir.path().join("runs");
    let r = runs.to_str().unwrap();
    fails_with(
        &["train", "--config", p, "--runs-dir", r],
        &format!("{p}: line 4, column 10: student.epochs: invalid type: string \"ten\", expected a whole number ≥ 0"),
    );
    fails_with(
        &[
            "train",
            "--preset",
            "quick",
            "--set",
            "student.epochs=ten",
            "--runs-dir",
            r,
        ],
        "--set student.epochs=ten: student.epochs: invalid type",
    );
    assert!(!runs.exists(), "nothing was created");
}

#[test]
fn runs_that_cannot_fit_in_memory_or_time_are_refused_with_the_estimate() {
    let runs = tempfile::tempdir().unwrap();
    let r = runs.path().to_str().unwrap();
    for (set, needle) in [
        (
            "student.hidden=[2000000000]",
            "student.hidden: the run needs ~60.5 TB, this machine has",
        ),
        (
            "transfer.munge_params.k=100000",
            "transfer.munge_params.k: the run needs ~",
        ),
        (
            "teacher.epochs=100000000",
            "teacher.epochs: must be ≤ 10000",
        ),
    ] {
        let mut args = quick_train(r, &[set]);
        if set.contains("munge") {
            args.extend(["--set", "transfer.munge=true"]);
        }
        fails_with(&args, needle);
    }
    assert_eq!(std::fs::read_dir(runs.path()).unwrap().count(), 0);
}

#[test]
fn a_run_whose_relus_all_die_fails_as_diverged_and_its_folder_says_so() {
    let runs = tempfile::tempdir().unwrap();
    let args = quick_train(
        runs.path().to_str().unwrap(),
        &[
            "data.train_limit=2000",
            "data.test_limit=1000",
            "transfer.limit=2000",
            "teacher.epochs=1",
            "teacher.hidden=[64]",
            "student.hidden=[32]",
            "student.epochs=2",
            "student.optim.lr=1e6",
        ],
    );
    fails_with(&args, "training diverged after epoch 1: ");
    fails_with(
        &args,
        "lower the learning rate (student.optim.lr = 1000000)",
    );
    let folders: Vec<_> = std::fs::read_dir(runs.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 2);
    for folder in folders {
        let status: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("status.json")).unwrap())
                .unwrap();
        assert_eq!(status["status"], "diverged");
        assert!(status["message"]
            .as_str()
            .unwrap()
            .contains("no better than always answering"));
        assert!(!folder.join("summary.json").exists());
    }
}

#[test]
fn the_shipped_teacher_is_named_portably_and_found_wherever_the_bundle_is() {
    // What the window's launcher starts with: `teacher.weights = "@assets/teacher.safetensors"`.
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let args = quick_train(
        runs.to_str().unwrap(),
        &[
            "teacher.weights=\"@assets/teacher.safetensors\"",
            "data.train_limit=300",
            "data.test_limit=200",
            "transfer.limit=300",
            "student.hidden=[8]",
            "student.epochs=1",
            "student.baseline=false",
        ],
    );
    let out = succeeds(distillery().args(&args));
    let run = String::from_utf8(out).unwrap().trim().to_owned();
    // The run's config keeps the portable name, so it reruns on another machine.
    let config = std::fs::read_to_string(Path::new(&run).join("config.toml")).unwrap();
    assert!(
        config.contains("weights = \"@assets/teacher.safetensors\""),
        "{config}"
    );
    succeeds(distillery().args(["eval", "--run", &run, "--model", "teacher", "--json"]));
}

#[test]
fn eval_finds_a_runs_models_and_its_referenced_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = dir.path().join("my-teacher.safetensors");
    let mlp =
        distillery::model::mlp::Mlp::new(&[784, 16, 10], 3, &candle_core::Device::Cpu).unwrap();
    std::fs::write(
        &teacher,
        distillery::model::weights::to_bytes(&mlp, &Default::default()).unwrap(),
    )
    .unwrap();
    let runs = dir.path().join("runs");
    let t = format!("teacher.weights=\"{}\"", teacher.display());
    let args = quick_train(
        runs.to_str().unwrap(),
        &[
            &t,
            "data.train_limit=500",
            "data.test_limit=200",
            "transfer.limit=500",
            "student.hidden=[8]",
            "student.epochs=1",
            "student.baseline=false",
        ],
    );
    let out = succeeds(distillery().args(&args));
    let run = String::from_utf8(out).unwrap().trim().to_owned();
    // Even if the run's own hard link is gone, the referenced file is found.
    let _ = std::fs::remove_file(Path::new(&run).join("teacher.safetensors"));
    let errors = |model: &str| -> u64 {
        let out = succeeds(distillery().args(["eval", "--run", &run, "--model", model, "--json"]));
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        json["test_errors"].as_u64().unwrap()
    };
    let direct = distillery()
        .args(["eval", "--weights", teacher.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert_eq!(errors("teacher"), json["test_errors"].as_u64().unwrap());
    errors("student");
    // `deploy --run` finds the same models (no baseline in this run: no share of the gain).
    let out = succeeds(distillery().args(["deploy", "--run", &run, "--calls", "5", "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let names: Vec<&str> = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["teacher", "student"]);
    assert_eq!(json["models"][0]["test_errors"], errors("teacher"));
    assert_eq!(
        json["models"][1]["architecture"][0],
        serde_json::json!([784, 8, 10])
    );
    assert!(json["models"][1]["gain_kept"].is_null());
    std::fs::remove_file(&teacher).unwrap();
    fails_with(
        &["eval", "--run", &run, "--model", "teacher"],
        "the run's teacher is gone",
    );
    fails_with(
        &["eval", "--run", &run, "--model", "baseline"],
        "baseline.safetensors",
    );
}

#[test]
fn train_with_probes_writes_probes_csv_and_gap_columns() {
    let runs = tempfile::tempdir().unwrap();
    let runs = runs.path().to_str().unwrap();
    let args = quick_train(
        runs,
        &[
            "data.train_limit=500",
            "transfer.limit=500",
            "teacher.hidden=[16]",
            "teacher.epochs=1",
            "student.hidden=[8]",
            "student.epochs=1",
        ],
    );
    let output = succeeds(distillery().args(&args).args(["--probe", "0,42,4205"]));
    let dir = String::from_utf8_lossy(&output).trim().to_owned();
    let stored = distillery::runs::load_run(Path::new(&dir)).unwrap();
    // Before training and after the one epoch, for teacher, baseline and student.
    assert_eq!(stored.probes.len(), 6);
    assert!(stored.probes.iter().all(|p| p.samples == vec![0, 42, 4205]));
    let csv = std::fs::read_to_string(Path::new(&dir).join("metrics.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",kl_t,kl_1,agreement"));
    assert!(stored
        .metrics
        .iter()
        .all(|m| m.gap.is_some() == (m.phase != distillery::events::Phase::Teacher)));

    let probe_args = |probe: &'static str| {
        let mut a = quick_train(runs, &["data.train_limit=500", "teacher.epochs=1"]);
        a.extend(["--probe", probe]);
        a
    };
    fails_with(
        &probe_args("3,10000"),
        "probes.samples: test image 10000 is outside the test set (10000 images)",
    );
    fails_with(
        &probe_args("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"),
        "probes.samples: at most 16 test images, got 17",
    );
    fails_with(&probe_args("3,x"), "--probe");
}

/// `distillery plane` with a small, quick configuration.
fn plane_args<'a>(runs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "plane",
        "--dataset",
        "moons",
        "--method",
        "logit-l2",
        "--set",
        "data.plane.grid=20",
        "--set",
        "teacher.epochs=20",
        "--set",
        "student.epochs=20",
        "--runs-dir",
        runs,
        "--json",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn plane_writes_a_run_folder_that_reruns_to_the_same_numbers() {
    let runs = tempfile::tempdir().unwrap();
    let runs = runs.path().to_str().unwrap();
    let out = succeeds(distillery().args(plane_args(runs, &[])));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["dataset"], "moons");
    assert_eq!(json["classes"], 2);
    assert_eq!(json["run"]["method"], "logit-l2");
    let dir = Path::new(json["run"]["dir"].as_str().unwrap());
    for file in [
        "config.toml",
        "metrics.csv",
        "summary.json",
        "plane.json",
        "grid.csv",
        "points.csv",
        "teacher.safetensors",
        "baseline.safetensors",
        "student.safetensors",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let grid = std::fs::read_to_string(dir.join("grid.csv")).unwrap();
    assert_eq!(grid.lines().count(), 20 * 20 + 1);
    for key in ["teacher_accuracy", "student_accuracy", "student_agreement"] {
        let v = json[key].as_f64().unwrap();
        assert!((0.5..=1.0).contains(&v), "{key} = {v}");
    }

    let config = dir.join("config.toml");
    let again = succeeds(distillery().args([
        "plane",
        "--config",
        config.to_str().unwrap(),
        "--runs-dir",
        runs,
        "--json",
    ]));
    let again: serde_json::Value = serde_json::from_slice(&again).unwrap();
    for key in [
        "student_accuracy",
        "baseline_agreement",
        "student_agreement",
    ] {
        assert_eq!(again[key], json[key], "{key}");
    }
    assert_ne!(again["run"]["dir"], json["run"]["dir"]);
}

#[test]
fn plane_rejects_bad_datasets_and_values_by_name() {
    let runs = tempfile::tempdir().unwrap();
    let runs = runs.path().to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--dataset", "donut"], "data.plane.kind"),
        (&["--method", "magic"], "distill.method"),
        (
            &["--set", "data.plane.classes=9", "--dataset", "spirals"],
            "data.plane.classes",
        ),
        (&["--set", "data.plane.noise=-1"], "data.plane.noise"),
        (
            &[
                "--set",
                "transfer.kind=omit",
                "--set",
                "transfer.classes=[3]",
            ],
            "transfer.classes",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["plane", "--runs-dir", runs];
        args.extend_from_slice(extra);
        fails_with(&args, needle);
    }
}

/// `reproduce --paper methods`, made tiny by `--set` overrides applied to every run: two
/// tables (2×800 and 2×30) of ten rows each (the baseline and the nine methods), every
/// method's test runs on the candidate with the fewest validation errors (the first of a
/// tie), `results.csv` with one line per run, and a rerun that reuses every run.
#[test]
fn reproduce_methods_writes_two_tables_of_ten_rows_and_a_line_per_run() {
    #[derive(serde::Deserialize)]
    struct Line {
        method: String,
        student: String,
        split: String,
        seed: u64,
        setting: String,
        errors: usize,
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("methods");
    let dir = dir.to_str().unwrap();
    let args = [
        "reproduce",
        "--paper",
        "methods",
        "--seeds",
        "2",
        "--set",
        "data.train_limit=300",
        "--set",
        "data.test_limit=100",
        "--set",
        "student.epochs=1",
        "--out",
        dir,
    ];
    succeeds(distillery().args(args));
    let md = std::fs::read_to_string(Path::new(dir).join("results.md")).unwrap();
    let sections: Vec<&str> = md.split("\n## Student ").skip(1).collect();
    assert_eq!(sections.len(), 2, "{md}");
    for (section, student) in sections.iter().zip(["2×800", "2×30"]) {
        assert!(section.starts_with(student), "{section}");
        let rows: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| method"))
            .collect();
        let methods: Vec<&str> = rows
            .iter()
            .map(|r| r[2..].split(':').next().unwrap())
            .collect();
        assert_eq!(
            methods,
            [
                "baseline",
                "hinton",
                "logit-l2",
                "noisy-teacher",
                "model-compression",
                "fitnets",
                "dkd",
                "dml",
                "takd",
                "rkd"
            ],
            "{section}"
        );
    }

    let csv = std::fs::read_to_string(Path::new(dir).join("results.csv")).unwrap();
    let lines: Vec<Line> = distillery::files::read_csv(Path::new("results.csv"), &csv).unwrap();
    // Per student: the baseline's 2 seeds, and each method's 2 candidates and 2 seeds.
    assert_eq!(lines.len(), 2 * (2 + 9 * 4), "{csv}");
    for student in ["2×800", "2×30"] {
        let of = |method: &str, split: &str| -> Vec<&Line> {
            lines
                .iter()
                .filter(|l| l.student == student && l.method == method && l.split == split)
                .collect()
        };
        for method in ["hinton", "dml", "rkd"] {
            let validation = of(method, "validation");
            let best = validation.iter().map(|l| l.errors).min().unwrap();
            let first_best = validation.iter().find(|l| l.errors == best).unwrap();
            let test = of(method, "test");
            assert_eq!(test.iter().map(|l| l.seed).collect::<Vec<_>>(), [42, 43]);
            assert!(test.iter().all(|l| l.setting == first_best.setting));
        }
        assert_eq!(of("baseline", "test").len(), 2);
    }

    // Every run finished before: the rerun trains nothing and says so.
    succeeds(distillery().args(args));
    let again = std::fs::read_to_string(Path::new(dir).join("results.md")).unwrap();
    assert!(
        again.contains("(72 runs reused from an earlier attempt)"),
        "{again}"
    );

    fails_with(
        &["reproduce", "--paper", "methods", "--split", "validation"],
        "--split",
    );
    fails_with(
        &[
            "reproduce",
            "--paper",
            "methods",
            "--set",
            "student.nope=1",
            "--out",
            dir,
        ],
        "student.nope",
    );
}

/// The matrix-product switch: a mistyped `DISTILLERY_GEMM` or `bench --gemm` is refused by
/// name before any work, and every backend this CPU runs scores the shipped student the same
/// (the unit tests of `model::gemm` pin the products bit for bit).
#[test]
fn every_matrix_product_backend_scores_the_shipped_student_the_same() {
    let student = STUDENT;
    let output = distillery()
        .env("DISTILLERY_GEMM", "mkl")
        .args(["eval", "--weights", student])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DISTILLERY_GEMM=mkl") && stderr.contains("expected auto, avx512"),
        "{stderr}"
    );
    fails_with(&["bench", "--gemm", "blas"], "--gemm blas");

    for backend in distillery::model::gemm::Backend::available() {
        let out = succeeds(distillery().env("DISTILLERY_GEMM", backend.key()).args([
            "eval",
            "--weights",
            student,
            "--json",
        ]));
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let confusion: Vec<Vec<u64>> = serde_json::from_value(json["confusion"].clone()).unwrap();
        assert_eq!(json["test_errors"], 67, "{backend:?}: the README's 67");
        let per_class: Vec<u64> = serde_json::from_value(json["per_class_errors"].clone()).unwrap();
        assert_eq!(per_class.iter().sum::<u64>(), 67, "{backend:?}");
        assert_eq!(confusion.len(), 10, "{backend:?}");
    }
}

/// `deploy` on the shipped pair, a baseline and a two-member ensemble: the costs are the
/// layer shapes' and the files', the ensemble costs the sum of its members, the shares and
/// agreements follow from the errors, and bad requests are refused by name.
#[test]
fn deploy_reports_costs_errors_and_the_share_of_the_gain() {
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
    let teacher = format!("{assets}/teacher.safetensors");
    let student = format!("{assets}/student.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("tiny.safetensors");
    let mlp =
        distillery::model::mlp::Mlp::new(&[784, 16, 10], 3, &candle_core::Device::Cpu).unwrap();
    std::fs::write(
        &baseline,
        distillery::model::weights::to_bytes(&mlp, &Default::default()).unwrap(),
    )
    .unwrap();
    let baseline = baseline.to_str().unwrap();
    let out = succeeds(distillery().args([
        "deploy",
        "--teacher",
        &teacher,
        "--teacher",
        &teacher,
        "--baseline",
        baseline,
        "--weights",
        &student,
        "--calls",
        "50",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let models = json["models"].as_array().unwrap();
    let [ensemble, base, distilled] = models.as_slice() else {
        panic!("three models: {models:?}")
    };
    // 784·1200 + 1200 + 1200·1200 + 1200 + 1200·10 + 10, twice.
    assert_eq!(ensemble["parameters"], 2 * 2_395_210);
    assert_eq!(ensemble["name"], "ensemble of 2");
    let teacher_bytes = std::fs::metadata(&teacher).unwrap().len();
    assert_eq!(ensemble["bytes"], 2 * teacher_bytes);
    // Two identical members: the mean of their probabilities is one teacher's (README: 71).
    assert_eq!(ensemble["test_errors"], 71);
    assert_eq!(ensemble["agreement"], 1.0);
    assert_eq!(distilled["test_errors"], 67);
    assert_eq!(
        distilled["parameters"],
        784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10
    );
    let errors = |m: &serde_json::Value| m["test_errors"].as_f64().unwrap();
    let gain = (errors(base) - errors(distilled)) / (errors(base) - errors(ensemble));
    assert!((distilled["gain_kept"].as_f64().unwrap() - gain).abs() < 1e-12);
    assert!(
        gain > 1.0,
        "the shipped student beats the shipped teacher: {gain}"
    );
    assert_eq!(base["gain_kept"], 0.0);
    for m in models {
        let (p50, p99) = (
            m["latency_us_median"].as_f64().unwrap(),
            m["latency_us_p99"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p99 >= p50, "{m}");
        assert!(m["throughput"].as_f64().unwrap() > 0.0);
        let ece = m["calibration"]["ece"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ece), "{m}");
        assert_eq!(m["calibration"]["bins"].as_array().unwrap().len(), 15);
    }
    // The untrained baseline is far less calibrated than the trained pair.
    let ece = |m: &serde_json::Value| m["calibration"]["ece"].as_f64().unwrap();
    assert!(
        ece(base) > 10.0 * ece(distilled),
        "{} vs {}",
        ece(base),
        ece(distilled)
    );

    fails_with(&["deploy"], "nothing to measure");
    fails_with(
        &["deploy", "--weights", &student, "--calls", "0"],
        "--calls",
    );
    fails_with(
        &["deploy", "--weights", "/no/such/model.safetensors"],
        "/no/such/model.safetensors",
    );
    let empty = tempfile::tempdir().unwrap();
    fails_with(
        &["deploy", "--run", empty.path().to_str().unwrap()],
        "config.toml",
    );
}

/// `export --format onnx` writes an ONNX file (its runtime checks are in `model::onnx`'s tests
/// and `scripts/onnx_check.py`); a missing model or an unknown format is refused by name.
#[test]
fn export_writes_onnx_and_refuses_bad_requests() {
    let student = STUDENT;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("student.onnx");
    let o = out.to_str().unwrap();
    export_student("onnx", o);
    let bytes = std::fs::read(&out).unwrap();
    let model =
        <onnx_protobuf::ModelProto as onnx_protobuf::Message>::parse_from_bytes(&bytes).unwrap();
    assert_eq!(model.producer_name, "distillery");
    assert_eq!(model.graph.input[0].name, "pixels");
    assert_eq!(model.graph.output[0].name, "logits");
    fails_with(
        &[
            "export",
            "--weights",
            "/no/such.safetensors",
            "--format",
            "onnx",
            "--out",
            o,
        ],
        "/no/such.safetensors",
    );
    fails_with(
        &[
            "export",
            "--weights",
            student,
            "--format",
            "tflite",
            "--out",
            o,
        ],
        "tflite",
    );
}

/// `export --format int8`: a quarter of the f32 file, within a few errors of it, and run by
/// `eval`, `soft-targets` and `deploy` (which says `int8`) with integer products.
#[test]
fn int8_students_are_small_close_to_f32_and_served_everywhere() {
    let student = STUDENT;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("student-int8.safetensors");
    let o = out.to_str().unwrap();
    export_student("int8", o);
    let (f32_bytes, int8_bytes) = (
        std::fs::metadata(student).unwrap().len(),
        std::fs::metadata(&out).unwrap().len(),
    );
    assert!(
        int8_bytes * 10 <= f32_bytes * 3,
        "{int8_bytes} bytes against {f32_bytes}"
    );
    let eval = |path: &str| -> u64 {
        let out = succeeds(distillery().args(["eval", "--weights", path, "--json"]));
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        json["test_errors"].as_u64().unwrap()
    };
    let (full, quantised) = (eval(student), eval(o));
    assert!(quantised <= full + 5, "int8 {quantised} against f32 {full}");
    succeeds(distillery().args(["soft-targets", "--weights", o, "--sample", "0"]));
    let out = succeeds(distillery().args([
        "deploy",
        "--teacher",
        student,
        "--weights",
        o,
        "--calls",
        "20",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["models"][1]["precision"], "int8");
    assert_eq!(json["models"][1]["test_errors"], quantised);
    assert_eq!(json["models"][1]["bytes"], int8_bytes);
    // A file that says it is int8 but holds f32 weights is refused with its name and why.
    let bad = dir.path().join("bad.safetensors");
    let mlp =
        distillery::model::mlp::Mlp::new(&[784, 16, 10], 3, &candle_core::Device::Cpu).unwrap();
    let extra = std::collections::HashMap::from([(
        "format".to_owned(),
        distillery::model::int8::FORMAT.to_owned(),
    )]);
    std::fs::write(
        &bad,
        distillery::model::weights::to_bytes(&mlp, &extra).unwrap(),
    )
    .unwrap();
    fails_with(&["eval", "--weights", bad.to_str().unwrap()], "expected I8");
}
