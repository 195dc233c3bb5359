//! `metrics.csv`: one row per epoch of every phase, written and read through the csv crate.

use std::path::Path;

use crate::events::{DistillationGap, EpochMetrics, Phase};
use crate::files::{csv_text, read_csv, FileError as RunsError};

/// Header of `metrics.csv`. The last three columns, the distillation gap, are empty for the
/// teacher (and absent from files written before they existed).
pub const METRICS_HEADER: &str =
    "phase,member,epoch,loss,soft_loss,hard_loss,lr,test_errors,test_n,elapsed_secs,per_class_errors,kl_t,kl_1,agreement";

/// The CSV text of a list of epoch metrics (through [`csv_text`]).
pub fn metrics_csv(rows: &[EpochMetrics]) -> String {
    let header: Vec<String> = METRICS_HEADER.split(',').map(str::to_owned).collect();
    csv_text(std::iter::once(header).chain(rows.iter().map(|m| {
        let per_class: Vec<String> = m.per_class_errors.iter().map(usize::to_string).collect();
        vec![
            m.phase.key().to_owned(),
            m.member.to_string(),
            m.epoch.to_string(),
            format!("{:.6}", m.loss),
            format!("{:.6}", m.soft_loss),
            format!("{:.6}", m.hard_loss),
            format!("{:.6}", m.lr),
            m.test_errors.to_string(),
            m.test_n.to_string(),
            format!("{:.3}", m.elapsed_secs),
            per_class.join(";"),
            gap(m.gap.map(|g| g.kl_t)),
            gap(m.gap.map(|g| g.kl_1)),
            gap(m.gap.map(|g| g.agreement)),
        ]
    })))
}

/// One line of `metrics.csv` as read: the columns of [`METRICS_HEADER`], the per-class errors
/// still `;`-separated.
#[derive(serde::Deserialize)]
struct MetricsRow {
    phase: Phase,
    member: usize,
    epoch: usize,
    loss: f64,
    soft_loss: f64,
    hard_loss: f64,
    lr: f64,
    test_errors: usize,
    test_n: usize,
    elapsed_secs: f64,
    per_class_errors: String,
    /// The distillation gap (students only; absent in files from before it existed).
    #[serde(default)]
    kl_t: Option<f64>,
    #[serde(default)]
    kl_1: Option<f64>,
    #[serde(default)]
    agreement: Option<f64>,
}

/// A gap value as written: six decimals, or empty for a model without a teacher to compare.
fn gap(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.6}"))
}

/// Parses `metrics.csv` back into rows (through [`read_csv`]).
pub fn parse_metrics_csv(path: &Path, text: &str) -> Result<Vec<EpochMetrics>, RunsError> {
    read_csv::<MetricsRow>(path, text)?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let per_class_errors = row
                .per_class_errors
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    RunsError::invalid(
                        path,
                        format!(
                            "row {}: per_class_errors is not a ;-separated list of counts: {}",
                            i + 1,
                            row.per_class_errors
                        ),
                    )
                })?;
            Ok(EpochMetrics {
                phase: row.phase,
                member: row.member,
                epoch: row.epoch,
                loss: row.loss,
                soft_loss: row.soft_loss,
                hard_loss: row.hard_loss,
                lr: row.lr,
                test_errors: row.test_errors,
                test_n: row.test_n,
                elapsed_secs: row.elapsed_secs,
                per_class_errors,
                gap: match (row.kl_t, row.kl_1, row.agreement) {
                    (Some(kl_t), Some(kl_1), Some(agreement)) => Some(DistillationGap {
                        kl_t,
                        kl_1,
                        agreement,
                    }),
                    _ => None,
                },
            })
        })
        .collect()
}
