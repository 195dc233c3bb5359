//! `distillery deploy`: what each model costs to serve and what it keeps of the teacher.
//!
//! The point of distillation is deployment (Hinton et al. 2015, §1): the cumbersome model is
//! accurate but too big and slow to serve, the student is cheap. For each model this measures
//! what serving it costs — parameters, bytes on disk, CPU latency of one image (median and p99
//! over many calls after a warm-up) and throughput at batch 256 — beside what it is worth:
//! test errors, top-1 agreement with the teacher, calibration (ECE over 15 bins and NLL) and
//! the share of the teacher's gain it keeps, `(baseline − model) / (baseline − teacher)` in
//! errors. An ensemble is one model whose cost is the sum of its members' (they all run for
//! every image) and whose prediction is the mean of their probabilities, as when it teaches.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::bench::{flops, Machine};
use crate::config::EnsembleCombine;
use crate::data::dataset::Dataset;
use crate::distill::soft::{ensemble_soft_targets, softmax_rows};
use crate::eval::{agreement, calibration, evaluate_logits, Calibration};
use crate::model::gemm;
use crate::model::served::Served;

/// Bins of the expected calibration error (Guo et al. 2017).
pub const ECE_BINS: usize = 15;
/// Batch of the throughput measurement.
pub const THROUGHPUT_BATCH: usize = 256;
/// Untimed single-image calls before the latency is measured.
const WARMUP_CALLS: usize = 100;

/// What a model is to the others in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The model every other is compared with (agreement, share of the gain).
    Teacher,
    /// The student trained on hard labels alone: the zero of the gain.
    Baseline,
    /// Any other model (a distilled student).
    Student,
}

/// A model to measure: one weights file, or several (an ensemble).
#[derive(Clone, Debug)]
pub struct Candidate {
    /// How the report names it.
    pub name: String,
    pub role: Role,
    /// Its weights files (more than one: an ensemble).
    pub files: Vec<PathBuf>,
}

impl Candidate {
    /// The teacher, from one file or several (an ensemble, named so).
    pub fn teacher(files: Vec<PathBuf>) -> Self {
        let name = if files.len() > 1 {
            format!("ensemble of {}", files.len())
        } else {
            "teacher".to_owned()
        };
        Self {
            name,
            role: Role::Teacher,
            files,
        }
    }
}

/// One model's card.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelCard {
    pub name: String,
    pub role: Role,
    /// The files it was read from.
    pub files: Vec<PathBuf>,
    /// Each member's layer widths, input first (one entry unless an ensemble).
    pub architecture: Vec<Vec<usize>>,
    /// `f32`, or `int8` for a quantised student (its members' if an ensemble).
    pub precision: String,
    /// Weights and biases, all members.
    pub parameters: usize,
    /// Bytes on disk, all members.
    pub bytes: u64,
    /// Median latency of one image, µs.
    pub latency_us_median: f64,
    /// 99th percentile of the same calls, µs.
    pub latency_us_p99: f64,
    /// Images per second at batch [`THROUGHPUT_BATCH`].
    pub throughput: f64,
    /// Misclassified test images.
    pub test_errors: usize,
    /// Test images.
    pub test_n: usize,
    /// Fraction of test images whose top-1 class is the teacher's (`None` without a teacher).
    pub agreement: Option<f64>,
    /// ECE, NLL and the reliability diagram's bins.
    pub calibration: Calibration,
    /// `(baseline − model) / (baseline − teacher)` in errors (`None` without both, or when
    /// they make the same errors).
    pub gain_kept: Option<f64>,
}

/// `distillery deploy`'s report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeployReport {
    /// Where it was measured, as `bench` reports it.
    pub machine: Machine,
    /// Single-image calls timed per model.
    pub calls: usize,
    pub models: Vec<ModelCard>,
}

/// A loaded candidate.
struct Loaded {
    candidate: Candidate,
    members: Vec<Served>,
    bytes: u64,
}

impl Loaded {
    fn read(candidate: Candidate, test: &Dataset, classes: usize) -> Result<Self> {
        if candidate.files.is_empty() {
            bail!("{}: no weights file", candidate.name);
        }
        let mut members = Vec::new();
        let mut bytes = 0;
        for file in &candidate.files {
            let (model, _) = Served::load_fitting(file, test.dim(), classes)?;
            let resolved = crate::assets::resolve(file, None);
            bytes += std::fs::metadata(&resolved)
                .with_context(|| format!("{}", file.display()))?
                .len();
            members.push(model);
        }
        Ok(Self {
            candidate,
            members,
            bytes,
        })
    }

    /// Class probabilities of `[n, dim]` images: the softmax, or the mean of the members'.
    fn probabilities(&self, images: &[f32], classes: usize) -> Result<Vec<f32>> {
        let logits: Vec<Vec<f32>> = self
            .members
            .iter()
            .map(|m| m.logits(images))
            .collect::<candle_core::Result<_>>()?;
        Ok(match logits.as_slice() {
            [one] => softmax_rows(one, classes, 1.0),
            many => {
                let refs: Vec<&[f32]> = many.iter().map(Vec::as_slice).collect();
                ensemble_soft_targets(&refs, classes, 1.0, EnsembleCombine::MeanProbs)
            }
        })
    }

    /// One forward pass of every member over the flat `[rows, dim]` images.
    fn serve(&self, images: &[f32]) -> Result<()> {
        for member in &self.members {
            std::hint::black_box(member.serve(images)?);
        }
        Ok(())
    }
}

/// Median and 99th percentile of `calls` single-image calls (cycling through the test images),
/// in µs, after [`WARMUP_CALLS`] untimed ones.
fn latency(model: &Loaded, test: &Dataset, calls: usize) -> Result<(f64, f64)> {
    let dim = test.dim();
    let image = |i: usize| {
        let i = i % test.len();
        &test.images[i * dim..(i + 1) * dim]
    };
    for i in 0..WARMUP_CALLS {
        model.serve(image(i))?;
    }
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let x = image(i);
        let started = Instant::now();
        model.serve(x)?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.99)))
}

/// Images per second at batch [`THROUGHPUT_BATCH`] over the test set: the best of 3 passes.
fn throughput(model: &Loaded, test: &Dataset) -> Result<f64> {
    let batches: Vec<&[f32]> = test.images.chunks(THROUGHPUT_BATCH * test.dim()).collect();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        for x in &batches {
            model.serve(x)?;
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(test.len() as f64 / best)
}

/// Measures every candidate on `test` (`calls` ≥ 1 single-image calls each). At most one may
/// be the teacher and one the baseline.
pub fn measure(candidates: Vec<Candidate>, test: &Dataset, calls: usize) -> Result<DeployReport> {
    let classes = crate::data::dataset::CLASSES;
    if candidates.is_empty() {
        bail!("nothing to measure: give --weights FILE, --teacher FILE or --run FOLDER");
    }
    if calls == 0 {
        bail!("--calls must be at least 1");
    }
    for role in [Role::Teacher, Role::Baseline] {
        if candidates.iter().filter(|c| c.role == role).count() > 1 {
            bail!("more than one {role:?} to compare with");
        }
    }
    let machine = Machine::here(gemm::backend());
    let loaded: Vec<Loaded> = candidates
        .into_iter()
        .map(|c| Loaded::read(c, test, classes))
        .collect::<Result<_>>()?;
    let probs: Vec<Vec<f32>> = loaded
        .iter()
        .map(|m| m.probabilities(&test.images, classes))
        .collect::<Result<_>>()?;
    let errors: Vec<usize> = probs
        .iter()
        .map(|p| evaluate_logits(p, &test.labels, classes).errors)
        .collect();
    let index_of = |role| loaded.iter().position(|m| m.candidate.role == role);
    let (teacher, baseline) = (index_of(Role::Teacher), index_of(Role::Baseline));
    let mut models = Vec::with_capacity(loaded.len());
    for (i, model) in loaded.iter().enumerate() {
        eprintln!("measuring {} ...", model.candidate.name);
        let (latency_us_median, latency_us_p99) = latency(model, test, calls)?;
        let gain_kept = teacher.zip(baseline).and_then(|(t, b)| {
            let gain = errors[b] as f64 - errors[t] as f64;
            (gain != 0.0).then(|| (errors[b] as f64 - errors[i] as f64) / gain)
        });
        let architecture: Vec<Vec<usize>> =
            model.members.iter().map(|m| m.layers().to_vec()).collect();
        let precision = model.members[0].precision().to_owned();
        models.push(ModelCard {
            name: model.candidate.name.clone(),
            role: model.candidate.role,
            files: model.candidate.files.clone(),
            parameters: architecture.iter().map(|l| flops::parameters(l)).sum(),
            architecture,
            precision,
            bytes: model.bytes,
            latency_us_median,
            latency_us_p99,
            throughput: throughput(model, test)?,
            test_errors: errors[i],
            test_n: test.len(),
            agreement: teacher.map(|t| agreement(&probs[i], &probs[t], classes)),
            calibration: calibration(&probs[i], &test.labels, classes, ECE_BINS),
            gain_kept,
        });
    }
    Ok(DeployReport {
        machine,
        calls,
        models,
    })
}

/// The candidates of a run folder: its teacher (every member of an ensemble), its baseline
/// and its distilled student, those of them whose files exist.
pub fn run_candidates(dir: &Path) -> Result<Vec<Candidate>> {
    let run = crate::runs::load_run(dir)?;
    let members = run.config.teacher.ensemble.max(1);
    let teacher_files: Vec<PathBuf> = if members > 1 {
        (1..=members)
            .map(|k| dir.join(format!("teacher-{k}.safetensors")))
            .filter(|p| p.exists())
            .collect()
    } else {
        run.teacher_weights.into_iter().collect()
    };
    let mut out = Vec::new();
    if !teacher_files.is_empty() {
        out.push(Candidate::teacher(teacher_files));
    }
    for (file, name, role) in [
        ("baseline.safetensors", "baseline", Role::Baseline),
        ("student.safetensors", "student", Role::Student),
    ] {
        let path = dir.join(file);
        if path.exists() {
            out.push(Candidate {
                name: name.to_owned(),
                role,
                files: vec![path],
            });
        }
    }
    if out.is_empty() {
        bail!("{}: the run folder holds no model", dir.display());
    }
    Ok(out)
}

/// The report as a table, the machine line first.
pub fn describe(report: &DeployReport) -> String {
    let mut out = format!(
        "{} · batch-1 latency over {} calls, {} threads\n",
        report.machine.describe(),
        report.calls,
        report.machine.threads
    );
    out.push_str(&format!(
        "{:<16} {:>10} {:>10} {:>9} {:>9} {:>11} {:>7} {:>9} {:>7} {:>6} {:>9}\n",
        "model",
        "params",
        "bytes",
        "µs p50",
        "µs p99",
        "img/s@256",
        "errors",
        "agree",
        "ECE",
        "NLL",
        "gain kept"
    ));
    let percent = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{:.1} %", 100.0 * v));
    for m in &report.models {
        out.push_str(&format!(
            "{:<16} {:>10} {:>10} {:>9.1} {:>9.1} {:>11.0} {:>7} {:>9} {:>7.4} {:>6.3} {:>9}\n",
            m.name,
            m.parameters,
            m.bytes,
            m.latency_us_median,
            m.latency_us_p99,
            m.throughput,
            m.test_errors,
            percent(m.agreement),
            m.calibration.ece,
            m.calibration.nll,
            percent(m.gain_kept)
        ));
    }
    out
}
