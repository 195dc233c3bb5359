//! Will a run fit in memory? An estimate of the bytes a configuration needs at its peak, and
//! the memory this machine has available, so that [`check_fits`] rejects widths, batch sizes
//! and transfer sets that cannot fit *before* anything is allocated, naming the field that asks
//! for most of it. It is not part of [`RunConfig::validate`], which reads nothing from the
//! machine: the training session asks it once, on the shape of the data it loaded, and the
//! launcher shows the [`estimate`] as information.
//!
//! The estimate follows what the trainer holds (`train/session.rs`, `train/epoch.rs`): the
//! training and test images as `f32`, a copy of the training set while the teacher trains,
//! each model's parameters with their gradients and optimiser state, a batch's activations,
//! the transfer set (grown `k`-fold by MUNGE, with the copies MUNGE makes on the way), and the
//! teacher's cached logits. It is deliberately an estimate of the peak, not a sum of everything
//! ever allocated: phases run one after another.
//!
//! Checked against the peak RSS of `distillery train` (shipped teacher, one student epoch; the
//! process itself adds some 40–60 MB): full MNIST 598 MB estimated / 649 MB measured; MUNGE
//! k = 2 on 20k examples 555 / 597 MB; a 784-4000-4000-10 student on 5k examples 448 / 391 MB.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::data::DataSource;
use super::error::{invalid, ConfigError};
use super::optim::OptimizerKind;
use super::run::RunConfig;

/// The size of the data a run trains and is tested on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataShape {
    /// Training examples (after `data.train_limit`).
    pub train: usize,
    /// Test examples (after `data.test_limit`).
    pub test: usize,
    /// Features per example (pixels).
    pub features: usize,
    /// Output classes.
    pub classes: usize,
}

impl DataShape {
    /// The bundled MNIST: 60,000 training and 10,000 test images of 28×28 pixels, 10 classes.
    pub const MNIST: DataShape = DataShape {
        train: 60_000,
        test: 10_000,
        features: 784,
        classes: 10,
    };

    /// The shape assumed before any data is loaded: MNIST's (or the configured plane
    /// dataset's), cut to the configuration's limits. What the launcher estimates; a session
    /// knows the real shape (a custom data folder may differ).
    pub fn assumed(config: &RunConfig) -> DataShape {
        let full = if config.data.source == DataSource::Plane {
            let plane = &config.data.plane;
            DataShape {
                train: plane.train,
                test: plane.test,
                features: 2,
                classes: config.data.classes(),
            }
        } else {
            DataShape::MNIST
        };
        let cut = |limit: Option<usize>, n: usize| limit.map_or(n, |l| l.min(n));
        DataShape {
            train: cut(config.data.train_limit, full.train),
            test: cut(config.data.test_limit, full.test),
            ..full
        }
    }
}

/// Bytes of an `f32`.
const F32: f64 = 4.0;
/// Rows the trainer evaluates at once (`Mlp::logits`).
const EVAL_ROWS: f64 = 2000.0;
/// Queries per chunk of MUNGE's nearest-neighbour search (`data::transfer`).
const MUNGE_CHUNK: f64 = 512.0;
/// Memory assumed available where it cannot be read (not Linux): enough for every preset,
/// small enough that an absurd configuration is still refused.
const FALLBACK_AVAILABLE_BYTES: u64 = 8_000_000_000;

/// The estimated peak memory of a run, and the field that asks for most of it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// Estimated peak bytes.
    pub bytes: f64,
    /// The `--set` path of the largest contribution (e.g. `student.hidden`).
    pub field: &'static str,
}

/// One contribution to the estimate, blamed on a field.
type Part = (&'static str, f64);

/// Parameter count of an MLP with these layer widths (weights and biases).
fn parameters(layers: &[f64]) -> f64 {
    layers.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

/// Training one model: parameters, gradients and optimiser state (one buffer for SGD's
/// momentum, two for AdamW), a batch's activations and their gradients, and an evaluation
/// chunk's activations.
fn training_parts(
    hidden_field: &'static str,
    batch_field: &'static str,
    layers: &[f64],
    optimizer: OptimizerKind,
    batch: f64,
) -> [Part; 2] {
    let state = match optimizer {
        OptimizerKind::Sgd => 1.0,
        OptimizerKind::Adamw => 2.0,
    };
    let widths: f64 = layers.iter().sum();
    let widest = layers.iter().copied().fold(0.0, f64::max);
    [
        (
            hidden_field,
            (2.0 + state) * parameters(layers) * F32 + 2.0 * EVAL_ROWS * widest * F32,
        ),
        // Forward activations kept for backward, their gradients, the dropout copy of the
        // input and the pixel buffer: about three values per unit and example.
        (batch_field, 3.0 * batch * widths * F32),
    ]
}

fn layers(features: usize, hidden: &[usize], classes: usize) -> Vec<f64> {
    std::iter::once(features)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(classes))
        .map(|w| w as f64)
        .collect()
}

/// Estimates the peak memory of `config` on data of `shape`.
pub fn estimate(config: &RunConfig, shape: &DataShape) -> MemoryEstimate {
    let d = shape.features as f64;
    let classes = shape.classes as f64;
    let (train, test) = (shape.train as f64, shape.test as f64);
    let students = config
        .transfer
        .limit
        .map_or(train, |n| (n as f64).min(train));
    let t = &config.teacher;
    let s = &config.student;
    let members = t.ensemble as f64;
    let teacher_layers = layers(shape.features, &t.hidden, shape.classes);
    let student_layers = layers(shape.features, &s.hidden, shape.classes);
    // A teacher loaded from a file is one model of unknown size; it is small next to data.
    let trains_teacher = t.weights.is_none();
    let kept_teachers = if trains_teacher {
        members * parameters(&teacher_layers) * F32
    } else {
        0.0
    };
    let (copies, transfer_size) = if config.uses_munge() {
        let k = config.transfer.munge_params.k as f64;
        (k, students * (1.0 + k))
    } else {
        (0.0, students)
    };

    // Held throughout: the data, and the trained teacher(s).
    let resident: Vec<Part> = vec![
        ("data.train_limit", (train + test) * d * F32),
        ("teacher.ensemble", kept_teachers),
    ];
    let mut teacher_phase: Vec<Part> = Vec::new();
    if trains_teacher {
        teacher_phase.push(("data.train_limit", train * d * F32));
        teacher_phase.extend(training_parts(
            "teacher.hidden",
            "teacher.optim.batch_size",
            &teacher_layers,
            t.optim.kind,
            (t.optim.batch_size as f64).min(train),
        ));
    }
    // Each member's cached logits on the transfer set, for every shift view.
    let views = ((2 * config.transfer.jitter_px + 1) as f64).powi(2);
    let logits = (
        if views > 1.0 {
            "transfer.jitter_px"
        } else {
            "teacher.ensemble"
        },
        members.max(1.0) * views * transfer_size * classes * F32,
    );
    let set_field = if copies > 0.0 {
        "transfer.munge_params.k"
    } else {
        "data.train_limit"
    };
    let transfer_phase: Vec<Part> = vec![
        // The students' examples, and the class-filtered set made from them; with MUNGE, the
        // `k` synthetic copies and the grown set they are appended to, and a chunk of
        // nearest-neighbour distances.
        // With jitter, one shifted copy of the set at a time.
        (
            "data.train_limit",
            students * d * F32 * if views > 1.0 { 2.0 } else { 1.0 },
        ),
        (
            set_field,
            copies * students * d * F32 + transfer_size * d * F32,
        ),
        (
            set_field,
            if copies > 0.0 {
                2.0 * MUNGE_CHUNK * students * F32
            } else {
                0.0
            },
        ),
        logits,
    ];
    let mut student_phase: Vec<Part> = vec![
        (set_field, transfer_size * d * F32),
        logits,
        // The targets made from the logits (soft targets or logits, and labels), per view.
        (set_field, views * transfer_size * (classes * F32 + 1.0)),
        // The distilled student is kept for the bias adjustment.
        ("student.hidden", parameters(&student_layers) * F32),
    ];
    student_phase.extend(training_parts(
        "student.hidden",
        "student.optim.batch_size",
        &student_layers,
        s.optim.kind,
        (s.optim.batch_size as f64).min(transfer_size.max(1.0)),
    ));
    peak(&resident, [teacher_phase, transfer_phase, student_phase])
}

/// The estimate of a run that holds `resident` throughout and runs `phases` one after another:
/// the resident bytes plus the largest phase's, blamed on the field that asks for most of them.
fn peak(resident: &[Part], phases: [Vec<Part>; 3]) -> MemoryEstimate {
    let total = |parts: &[Part]| parts.iter().map(|(_, b)| b).sum::<f64>();
    let peak_phase = phases
        .into_iter()
        .max_by(|a, b| total(a).total_cmp(&total(b)))
        .unwrap_or_default();
    let mut blame: Vec<Part> = Vec::new();
    for (field, bytes) in resident.iter().chain(&peak_phase) {
        match blame.iter_mut().find(|(f, _)| f == field) {
            Some((_, sum)) => *sum += bytes,
            None => blame.push((field, *bytes)),
        }
    }
    let field = blame
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("data.train_limit", |(f, _)| f);
    MemoryEstimate {
        bytes: total(resident) + total(&peak_phase),
        field,
    }
}

/// Rejects `config` when its estimated peak on `shape` exceeds `available_bytes`, naming the
/// field that asks for most and both sizes.
pub fn check_fits(
    config: &RunConfig,
    shape: &DataShape,
    available_bytes: u64,
) -> Result<(), ConfigError> {
    let need = estimate(config, shape);
    if need.bytes > available_bytes as f64 {
        return Err(invalid(
            need.field,
            format!(
                "the run needs ~{}, this machine has {} available",
                format_bytes(need.bytes),
                format_bytes(available_bytes as f64)
            ),
        ));
    }
    Ok(())
}

/// `14.9 TB`, `22 GB`, `512 MB`: decimal units, three significant digits at most.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == UNITS.len() - 1 && value >= 999.5 {
        return format!("more than 999 {}", UNITS[unit]);
    }
    let digits = if unit == 0 || value >= 99.95 {
        0
    } else if value >= 9.995 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text} {}", UNITS[unit])
}

/// The memory available to a new run: `MemAvailable` of `/proc/meminfo` on Linux, a fixed
/// 8 GB elsewhere. Read at most once a second: the GUI may show it every frame.
pub fn available_bytes() -> u64 {
    static CACHE: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    const REFRESH: Duration = Duration::from_secs(1);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match *cache {
        Some((read, bytes)) if read.elapsed() < REFRESH => bytes,
        _ => {
            let bytes = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|text| parse_mem_available(&text))
                .unwrap_or(FALLBACK_AVAILABLE_BYTES);
            *cache = Some((Instant::now(), bytes));
            bytes
        }
    }
}

/// The `MemAvailable:  123456 kB` line of `/proc/meminfo`, in bytes.
fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    let factor = match words.next() {
        Some("kB") | None => 1024,
        Some("B") => 1,
        Some(_) => return None,
    };
    value.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1_000_000_000;

    #[test]
    fn bytes_are_written_in_decimal_units() {
        assert_eq!(format_bytes(0.0), "0 bytes");
        assert_eq!(format_bytes(999.0), "999 bytes");
        assert_eq!(format_bytes(1500.0), "1.5 kB");
        assert_eq!(format_bytes(22.4e9), "22.4 GB");
        assert_eq!(format_bytes(14.93e12), "14.9 TB");
        assert_eq!(format_bytes(512e6), "512 MB");
        assert_eq!(format_bytes(1e30), "more than 999 EB");
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(parse_mem_available(meminfo), Some(22_528_000_000));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn the_default_run_peaks_while_building_the_transfer_set() {
        // Independent arithmetic for the default run (teacher 784-1200-1200-10 with SGD,
        // student 784-800-800-10, full MNIST, no MUNGE):
        //   held throughout: images (60k + 10k) · 784 · 4 = 219.52 MB, and the trained
        //   teacher, 2,395,210 parameters · 4 = 9.58 MB;
        //   the largest phase, the transfer set: the students' examples and the filtered copy,
        //   2 · 60k · 784 · 4 = 376.32 MB, and the teacher's logits 60k · 10 · 4 = 2.4 MB.
        //   (teacher phase: 188.16 + 28.74 + 19.2 + 4.91 = 241.0 MB; student phase 229.9 MB.)
        let default = estimate(&RunConfig::default(), &DataShape::MNIST);
        let expected = 219.52e6 + 9.58e6 + 376.32e6 + 2.4e6;
        assert!(
            (default.bytes - expected).abs() < 0.001 * expected,
            "{} vs {expected}",
            default.bytes
        );
        check_fits(&RunConfig::default(), &DataShape::MNIST, GB).unwrap();
        // MUNGE with k = 4: the set grows to 5 · 60k examples, with the 4 synthetic copies
        // and the original still alive while the grown set is filled: (2 + 2·4) · 60k · 784
        // · 4 = 1.88 GB in that phase, plus 4 · 60k · 10 · 4 bytes more logits.
        let mut munge = RunConfig::default();
        munge.transfer.munge = true;
        let grown = estimate(&munge, &DataShape::MNIST);
        let expected = 219.52e6 + 9.58e6 + 1881.6e6 + 2.0 * 512.0 * 60e3 * 4.0 + 12e6;
        assert!(
            (grown.bytes - expected).abs() < 0.001 * expected,
            "{}",
            grown.bytes
        );
        assert_eq!(grown.field, "transfer.munge_params.k");
    }

    #[test]
    fn what_cannot_fit_is_blamed_on_its_field() {
        let cases: [(&str, &str); 5] = [
            ("student.hidden=[2000000000]", "student.hidden"),
            ("teacher.hidden=[100000, 100000]", "teacher.hidden"),
            ("transfer.munge_params.k=1000", "transfer.munge_params.k"),
            ("teacher.ensemble=100000", "teacher.ensemble"),
            ("student.optim.batch_size=60000", "student.optim.batch_size"),
        ];
        for (assignment, field) in cases {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            if assignment.contains("munge") {
                config.transfer.munge = true;
            }
            if assignment.ends_with("=60000") {
                // A full-batch step of a 20,000-unit student: 3 · 60k · 20,794 · 4 = 15 GB.
                config.student.hidden = vec![20_000];
            }
            match check_fits(&config, &DataShape::MNIST, 8 * GB) {
                Err(ConfigError::Invalid { field: f, problem }) => {
                    assert_eq!(f, field, "{assignment}: {problem}");
                    assert!(problem.contains("8 GB available"), "{problem}");
                }
                other => panic!("{assignment}: expected {field} to be refused, got {other:?}"),
            }
        }
        // A batch larger than the training set is cut to it, so it costs no more than that.
        let mut huge = RunConfig::default();
        huge.student.optim.batch_size = usize::MAX;
        let mut full = RunConfig::default();
        full.student.optim.batch_size = 60_000;
        assert_eq!(
            estimate(&huge, &DataShape::MNIST),
            estimate(&full, &DataShape::MNIST)
        );
    }

    #[test]
    fn a_student_two_billion_units_wide_needs_terabytes() {
        let mut config = RunConfig::default();
        config.student.hidden = vec![2_000_000_000];
        // 2e9 · (784 + 1 + 10) parameters · 4 bytes · 4 (kept, weights, gradients, momentum)
        // = 25.4 TB, plus the evaluation chunk 2 · 2000 · 2e9 · 4 = 32 TB and a batch of
        // activations 3 · 128 · 2e9 · 4 = 3.07 TB: 60.5 TB.
        let wide = estimate(&config, &DataShape::MNIST);
        assert_eq!(wide.field, "student.hidden");
        assert!((wide.bytes / 60.5e12 - 1.0).abs() < 0.01, "{}", wide.bytes);
        let err = check_fits(&config, &DataShape::MNIST, 22 * GB).unwrap_err();
        assert_eq!(
            err.to_string(),
            "student.hidden: the run needs ~60.5 TB, this machine has 22 GB available"
        );
    }
}
