//! The commands on a weights file: `eval`, `soft-targets`, `deploy` and `export`, each
//! scoring or converting a model (f32 or int8) on the test set.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde_json::json;

use super::config_args::print_json;
use crate::data::dataset::{bundled_mnist_dir, Mnist, CLASSES};
use crate::distill::soft::softmax_t;
use crate::eval::evaluate_logits;
use crate::model::weights;

/// What `distillery export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// ONNX (opset 13): Gemm + Relu per layer, input `pixels`, output `logits`.
    Onnx,
    /// int8 weights with a scale per output unit, in a safetensors file.
    Int8,
}

/// The test set of `--data-dir`, else the bundled MNIST's.
fn load_test(data_dir: &Option<PathBuf>) -> Result<crate::data::dataset::Dataset> {
    let dir = data_dir.clone().unwrap_or_else(bundled_mnist_dir);
    Ok(Mnist::load_test(&dir)?)
}

/// `distillery export`: `weights` written as `format` to `out`.
pub fn export(weights: &Path, format: ExportFormat, out: &Path) -> Result<()> {
    let model = weights::load(weights, &candle_core::Device::Cpu)?;
    let bytes = match format {
        ExportFormat::Onnx => crate::model::onnx::to_onnx(
            &model.mlp,
            crate::model::onnx::MNIST_SCALING,
            &model.metadata,
        )?,
        ExportFormat::Int8 => crate::model::int8::Int8Mlp::quantize(&model.mlp)?
            .to_bytes(&model.metadata)
            .map_err(anyhow::Error::msg)?,
    };
    crate::files::write_atomic(out, &bytes)?;
    eprintln!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

/// `distillery eval`.
pub fn eval(path: &Path, data_dir: &Option<PathBuf>, as_json: bool) -> Result<()> {
    let test = load_test(data_dir)?;
    let (model, _) = crate::model::served::Served::load_fitting(path, test.dim(), CLASSES)?;
    let logits = model.logits(&test.images)?;
    let eval = evaluate_logits(&logits, &test.labels, CLASSES);
    if as_json {
        print_json(&json!({
            "test_errors": eval.errors,
            "per_class_errors": eval.per_class_errors,
            "n": eval.n,
            "confusion": eval.confusion,
        }))
    } else {
        println!("test errors: {} / {}", eval.errors, eval.n);
        println!("per class:   {:?}", eval.per_class_errors);
        println!("confusion (rows: true class, columns: predicted):");
        for (class, row) in eval.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:>5}")).collect();
            println!("  {class}: {}", cells.join(""));
        }
        Ok(())
    }
}

/// `distillery deploy`.
pub fn deploy(
    weights: Vec<PathBuf>,
    teacher: Vec<PathBuf>,
    baseline: Option<PathBuf>,
    run: Option<PathBuf>,
    calls: usize,
    data_dir: &Option<PathBuf>,
    as_json: bool,
) -> Result<()> {
    use crate::deploy::{Candidate, Role};
    let mut candidates = match &run {
        Some(dir) => crate::deploy::run_candidates(dir)?,
        None => Vec::new(),
    };
    if !teacher.is_empty() {
        candidates.push(Candidate::teacher(teacher));
    }
    if let Some(file) = baseline {
        candidates.push(Candidate {
            name: "baseline".to_owned(),
            role: Role::Baseline,
            files: vec![file],
        });
    }
    for file in weights {
        let name = file.file_stem().map_or_else(
            || file.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        candidates.push(Candidate {
            name,
            role: Role::Student,
            files: vec![file],
        });
    }
    let test = load_test(data_dir)?;
    let report = crate::deploy::measure(candidates, &test, calls)?;
    if as_json {
        print_json(&serde_json::to_value(&report)?)
    } else {
        print!("{}", crate::deploy::describe(&report));
        Ok(())
    }
}

/// `distillery soft-targets`.
pub fn soft_targets(
    path: &Path,
    sample: usize,
    temperature: f64,
    data_dir: &Option<PathBuf>,
    as_json: bool,
) -> Result<()> {
    if !temperature.is_finite() || temperature <= 0.0 {
        bail!("--temperature: must be finite and > 0, got {temperature}");
    }
    let test = load_test(data_dir)?;
    if sample >= test.len() {
        bail!(
            "--sample: the test set has {} images (0–{}), got {sample}",
            test.len(),
            test.len() - 1
        );
    }
    let (model, _) = crate::model::served::Served::load_fitting(path, test.dim(), CLASSES)?;
    let logits = model.logits(test.image(sample))?;
    let probs = softmax_t(&logits, temperature);
    let label = test.labels[sample];
    if as_json {
        print_json(&json!({
            "sample": sample,
            "label": label,
            "temperature": temperature,
            "logits": logits,
            "probs": probs,
        }))
    } else {
        println!("test image {sample}, label {label}, T = {temperature}");
        for (c, (z, p)) in logits.iter().zip(&probs).enumerate() {
            println!("  {c}: logit {z:>9.4}  p {p:.6}");
        }
        Ok(())
    }
}
