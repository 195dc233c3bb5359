//! A diverged run is never called a success, however short (issue 18): the shipped teacher,
//! a student at lr 1e6 for two epochs. Before the fix the run ended "finished" with every
//! image called one class and `kl_t` NaN in metrics.csv, because a rising loss was only judged
//! after 100 steps and NaN metrics not at all.

use distillery::config::RunConfig;
use distillery::runs::{self, load_run, RunStatus};
use distillery::train::{CancelToken, TrainError};

#[test]
fn a_short_run_at_lr_1e6_ends_as_diverged_and_its_folder_says_so() {
    let mut config: RunConfig = distillery::presets::find("quick").unwrap().config();
    config.teacher.weights = Some("@assets/teacher.safetensors".into());
    config.student.optim.lr = 1e6;
    config.student.optim.warmup_epochs = 0.0;
    config.student.epochs = 2;
    config.student.baseline = false;
    config.data.train_limit = Some(5000);
    config.data.test_limit = Some(1000);
    config.probes.samples.clear();
    let root = tempfile::tempdir().unwrap();
    let err = runs::run(&config, root.path(), 1, &|_| {}, CancelToken::new()).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Diverged {
                phase: "student",
                ..
            }
        ),
        "{err}"
    );
    let listed = runs::list_runs(root.path());
    let stored = load_run(listed[0].dir()).unwrap();
    assert_eq!(stored.status, RunStatus::Diverged);
    assert!(stored.summary.is_none(), "no summary for a diverged run");
}
