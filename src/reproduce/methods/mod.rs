//! `distillery reproduce --paper methods`: the nine methods of the registry side by side on
//! MNIST, with the same students, epochs and teacher.
//!
//! The teacher is the shipped one (`@assets/teacher.safetensors`), loaded and never trained
//! (DML trains students that learn from each other and uses none). For each student size
//! ([`grids::STUDENTS`]) and each method ([`grids::GRIDS`]), every candidate setting of the
//! method's grid is run once on the validation split (the last 10,000 training images held
//! out) with the first seed; the candidate with the fewest validation errors (the first of a
//! tie) is then run on the test split once per seed. The first method's test runs also train
//! the hard-label baseline, the table's first row. Every run is an ordinary run folder named
//! after its configuration (the Hinton table's runner), so a rerun reuses what finished.

mod grids;
mod report;
mod select;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context, Result};

use crate::assets;
use crate::config::{BiasConfig, RunConfig};
use crate::events::{EventSink, RunSummary};
use crate::files::write_atomic;
use crate::presets;
use crate::reproduce::options::{Budget, Options, Split};
use crate::reproduce::runner::Runner;
use crate::reproduce::table::describe_optim;
use grids::{Grid, Student, GRIDS, STUDENTS};
use report::{Candidate, MethodRow, RunLine, StudentTable};

/// The preset whose students (AdamW lr 1e-3, cosine to 0, batch 128, no dropout) every run
/// of the table uses.
const RECIPE_PRESET: &str = "hinton-mnist";

/// Runs both tables and writes `results.md` and `results.csv` into `out_dir`.
pub fn methods(options: &Options, out_dir: &Path, sink: &dyn EventSink) -> Result<PathBuf> {
    ensure!(options.seeds >= 1, "--seeds must be ≥ 1");
    ensure!(
        options.split == Split::Test,
        "--split: the methods table chooses each setting on the validation split and reports \
         the test split itself"
    );
    let mut runner = Runner {
        runs_dir: out_dir.join("runs"),
        sink,
        reused: 0,
    };
    let started = Instant::now();
    let mut tables = Vec::new();
    let mut facts = None;
    for student in STUDENTS {
        let base = recipe_config(student, options)?;
        let mut rows = Vec::new();
        for (i, grid) in GRIDS.iter().enumerate() {
            let ran = run_grid(&mut runner, &base, grid, student, options.seeds, i == 0)?;
            if i == 0 {
                rows.push(ran.baseline_row()?);
                facts.get_or_insert_with(|| Facts::of(&ran));
            }
            rows.push(ran.method_row(grid));
        }
        tables.push(StudentTable {
            student: student.name,
            epochs: base.student.epochs,
            rows,
        });
    }
    let facts = facts.context("the methods table has no method")?;
    let header = report::Header {
        command: format!(
            "distillery reproduce --paper methods --budget {} --seeds {}{}",
            options.budget.key(),
            options.seeds,
            options.overrides_args()
        ),
        seeds: facts.seeds(options.seeds),
        total_secs: started.elapsed().as_secs_f64(),
        reused: runner.reused,
        recipe: facts.recipe(),
    };
    std::fs::create_dir_all(out_dir).with_context(|| out_dir.display().to_string())?;
    let markdown = report::markdown(&tables, &header);
    write_atomic(&out_dir.join("results.md"), markdown.as_bytes())?;
    write_atomic(
        &out_dir.join("results.csv"),
        report::csv(&tables).as_bytes(),
    )?;
    Ok(out_dir.join("results.md"))
}

/// Every run's configuration before its method: the preset's students at `student`'s size,
/// the shipped teacher, an unjittered transfer set, no bias search, the budget's epochs and
/// limits, then the `--set` overrides.
fn recipe_config(student: Student, options: &Options) -> Result<RunConfig> {
    let mut c = presets::find(RECIPE_PRESET)
        .with_context(|| format!("preset {RECIPE_PRESET}"))?
        .config();
    c.name = "methods".into();
    c.teacher.weights = Some(PathBuf::from(assets::MARKER).join(assets::TEACHER));
    c.student.hidden = student.hidden.to_vec();
    c.student.baseline = false;
    c.transfer.jitter_px = 0;
    c.bias = BiasConfig::default();
    // No probe images: they would have to lie inside the quick budget's test images.
    c.probes.samples = Vec::new();
    match options.budget {
        Budget::Full => c.student.epochs = student.full_epochs,
        Budget::Quick => {
            // Fewer epochs leave the students short of their one warm-up epoch's worth of
            // training: at 2, the logit-matching students were near chance.
            c.student.epochs = 5;
            c.transfer.limit = Some(5_000);
            c.data.test_limit = Some(2_000);
        }
    }
    options.apply_overrides(&mut c)?;
    Ok(c)
}

/// `base` with `grid`'s method, its shared settings and `candidate`, on `split`, with `seed`.
fn candidate_config(
    base: &RunConfig,
    grid: &Grid,
    candidate: &[&str],
    split: Split,
    seed: u64,
    name: String,
) -> Result<RunConfig> {
    let mut c = base.clone();
    c.name = name;
    c.seed = seed;
    c.distill.method = grid.method;
    for assignment in grid.fixed.iter().chain(candidate) {
        c.set(assignment)
            .with_context(|| format!("{}: {assignment}", grid.method.key()))?;
    }
    split.apply(&mut c);
    Ok(c)
}

/// One method's runs on one student size.
struct GridRuns {
    /// Each candidate's validation run, in the grid's order.
    validation: Vec<RunSummary>,
    /// The chosen candidate.
    chosen: usize,
    /// Its test runs, one per seed.
    tests: Vec<RunSummary>,
    /// The test runs' configuration (the first seed's).
    test_config: RunConfig,
}

/// Runs `grid`'s candidates on the validation split, then the best one on the test split
/// for `seeds` seeds (training the hard-label baseline alongside when `with_baseline`).
fn run_grid(
    runner: &mut Runner<'_>,
    base: &RunConfig,
    grid: &Grid,
    student: Student,
    seeds: usize,
    with_baseline: bool,
) -> Result<GridRuns> {
    let prefix = format!("methods-{}-{}", student.tag(), grid.method.key());
    let mut validation = Vec::new();
    for (i, candidate) in grid.candidates.iter().enumerate() {
        let name = format!("{prefix}-val{i}");
        let c = candidate_config(base, grid, candidate, Split::Validation, base.seed, name)?;
        validation.push(runner.run(&c)?);
    }
    let errors: Vec<usize> = validation.iter().map(|s| s.student.test_errors).collect();
    let chosen = select::fewest_errors(&errors)
        .with_context(|| format!("{}: no candidates", grid.method.key()))?;
    let mut tests = Vec::new();
    let mut test_config = None;
    for seed in (0..seeds as u64).map(|i| base.seed + i) {
        let name = format!("{prefix}-seed{seed}");
        let candidate = grid.candidates[chosen];
        let mut c = candidate_config(base, grid, candidate, Split::Test, seed, name)?;
        c.student.baseline = with_baseline;
        tests.push(runner.run(&c)?);
        test_config.get_or_insert(c);
    }
    Ok(GridRuns {
        validation,
        chosen,
        tests,
        test_config: test_config.context("no seeds")?,
    })
}

/// The method's share of a run's wall time: all of it but the baseline's phase.
fn method_seconds(s: &RunSummary) -> f64 {
    s.duration_secs - s.baseline.as_ref().map_or(0.0, |b| b.seconds)
}

fn line(s: &RunSummary, errors: usize, seconds: f64) -> RunLine {
    RunLine {
        seed: s.seed,
        errors,
        seconds,
        dir: s.dir.clone(),
    }
}

impl GridRuns {
    /// The method's row.
    fn method_row(&self, grid: &Grid) -> MethodRow {
        let candidates = grid
            .candidates
            .iter()
            .zip(&self.validation)
            .map(|(candidate, s)| Candidate {
                setting: Grid::setting(candidate),
                run: line(s, s.student.test_errors, method_seconds(s)),
            })
            .collect();
        MethodRow {
            method: grid.method.key().to_owned(),
            label: grid.label.to_owned(),
            candidates,
            chosen: Some(self.chosen),
            tests: self
                .tests
                .iter()
                .map(|s| line(s, s.student.test_errors, method_seconds(s)))
                .collect(),
        }
    }

    /// The hard-label baseline's row, from the test runs that trained it.
    fn baseline_row(&self) -> Result<MethodRow> {
        let tests =
            self.tests
                .iter()
                .map(|s| {
                    let b = s.baseline.as_ref().with_context(|| {
                        format!("{}: the run trained no baseline", s.dir.display())
                    })?;
                    Ok(line(s, b.test_errors, b.seconds))
                })
                .collect::<Result<_>>()?;
        Ok(MethodRow {
            method: "baseline".into(),
            label: "hard labels only (trained in the first method's test runs)".into(),
            candidates: Vec::new(),
            chosen: None,
            tests,
        })
    }
}

/// What the header says, from the first table's first method.
struct Facts {
    /// A test run's configuration.
    config: RunConfig,
    /// A test run (the teacher's errors, the test images).
    test: RunSummary,
    /// Images of the validation split counted.
    validation_n: usize,
}

impl Facts {
    fn of(ran: &GridRuns) -> Facts {
        Facts {
            config: ran.test_config.clone(),
            test: ran.tests[0].clone(),
            validation_n: ran.validation.first().map_or(0, |s| s.student.test_n),
        }
    }

    /// The test runs' seeds.
    fn seeds(&self, count: usize) -> Vec<u64> {
        (0..count as u64).map(|i| self.config.seed + i).collect()
    }

    /// The recipe, one line each.
    fn recipe(&self) -> Vec<String> {
        let c = &self.config;
        let layers = &self.test.teacher.layers;
        let hidden = layers.get(1..layers.len().saturating_sub(1)).unwrap_or(&[]);
        let sizes: Vec<&str> = STUDENTS.iter().map(|s| s.name).collect();
        let transfer = c.transfer.limit.map_or_else(
            || "all training images".to_owned(),
            |n| format!("the first {n} training images"),
        );
        vec![
            format!(
                "teacher: the shipped {hidden:?} (`@assets/teacher.safetensors`), loaded and never trained: {} errors on the {} test images; DML uses no teacher",
                self.test.teacher.test_errors, self.test.student.test_n
            ),
            format!(
                "students {} (the baseline and every method alike, each table's epochs in its title): {}; no dropout, no max-norm",
                sizes.join(" and "),
                describe_optim(&c.student.optim)
            ),
            format!(
                "transfer set: {transfer}, unjittered; no bias search; errors counted on {} test images, {} validation images",
                self.test.student.test_n, self.validation_n
            ),
        ]
    }
}
