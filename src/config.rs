//! Run configuration: everything needed to rerun an experiment, seed included.
//!
//! A [`RunConfig`] is written to every run folder as `config.toml`, read back by
//! `distillery train --config`, edited field by field with `--set key=value`, and filled in by the
//! GUI's launcher. [`RunConfig::validate`] is the one place where bad values are rejected, so the
//! CLI and the GUI report the same message for the same mistake.

pub mod memory;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use memory::DataShape;

/// The most epochs a phase may train: the longest schedules in the literature (dropout nets,
/// 3,000 epochs) fit, a typo like `epochs = 1000000` (weeks of training) does not.
pub const MAX_EPOCHS: usize = 10_000;

/// A configuration value that cannot be used, naming the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    /// A field holds a value outside its allowed range.
    #[error("{field}: {problem}")]
    Invalid {
        /// Dotted path of the field, as used by `--set` (e.g. `distill.temperature`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `--set` named a key the configuration does not have.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// A `--set` argument is not of the form `key=value`.
    #[error("`{0}` is not of the form key=value")]
    BadAssignment(String),
    /// The TOML text could not be parsed into a configuration.
    #[error("{}", describe_parse_error(.field.as_deref(), *.position, .problem))]
    Parse {
        /// Dotted path of the field the error is in, when known (e.g. `student.epochs`).
        field: Option<String>,
        /// 1-based line and column in the text, when known.
        position: Option<(usize, usize)>,
        /// What is wrong, e.g. `expected a whole number ≥ 0, found string "ten"`.
        problem: String,
    },
}

/// `line 3, column 10: student.epochs: problem`, leaving out what is unknown.
fn describe_parse_error(
    field: Option<&str>,
    position: Option<(usize, usize)>,
    problem: &str,
) -> String {
    let mut out = String::new();
    if let Some((line, column)) = position {
        out.push_str(&format!("line {line}, column {column}: "));
    }
    if let Some(field) = field.filter(|f| !f.is_empty()) {
        out.push_str(&format!("{field}: "));
    }
    out.push_str(problem);
    out
}

fn invalid(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// The four ways of transferring knowledge from teacher to student.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Hinton, Vinyals & Dean (2015): soft targets at temperature T plus hard labels.
    #[default]
    Hinton,
    /// Ba & Caruana (2014): L2 regression of the student's logits on the teacher's.
    LogitL2,
    /// Sau & Balasubramanian (2016): logit matching with noise on the teacher's logits.
    NoisyTeacher,
    /// Buciluă, Caruana & Niculescu-Mizil (2006): MUNGE synthetic data labelled by the teacher.
    ModelCompression,
}

impl Method {
    /// Every method, in the order the UI lists them.
    pub const ALL: [Method; 4] = [
        Method::Hinton,
        Method::LogitL2,
        Method::NoisyTeacher,
        Method::ModelCompression,
    ];

    /// The name used in configs, file metadata and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Method::Hinton => "hinton",
            Method::LogitL2 => "logit-l2",
            Method::NoisyTeacher => "noisy-teacher",
            Method::ModelCompression => "model-compression",
        }
    }

    /// A human-readable name with the paper it comes from.
    pub fn label(self) -> &'static str {
        match self {
            Method::Hinton => "Soft targets (Hinton 2015)",
            Method::LogitL2 => "Logit matching L2 (Ba & Caruana 2014)",
            Method::NoisyTeacher => "Noisy teacher (Sau & Balasubramanian 2016)",
            Method::ModelCompression => "Model compression / MUNGE (Buciluă 2006)",
        }
    }
}

/// How an ensemble's members are combined into one soft target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EnsembleCombine {
    /// Mean of the members' `softmax(v_m / T)` (the paper's choice).
    #[default]
    MeanProbs,
    /// `softmax(mean_m(v_m) / T)`.
    MeanLogits,
}

/// Which form of noise the noisy teacher adds to its logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// `v' = v · (1 + σ·ε)` (KD_Lib's form).
    #[default]
    Multiplicative,
    /// `v' = v + σ·ε`.
    Additive,
}

/// The optimiser used for one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with (PyTorch-style) momentum.
    #[default]
    Sgd,
    /// AdamW (decoupled weight decay).
    Adamw,
}

/// Learning-rate schedule over the epochs of a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same learning rate every epoch.
    Constant,
    /// Cosine decay from `lr` to `lr · final_lr_fraction`.
    #[default]
    Cosine,
    /// Exponential decay from `lr` to `lr · final_lr_fraction`.
    Exponential,
}

/// Optimiser settings of one training phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// SGD with momentum or AdamW.
    pub kind: OptimizerKind,
    /// Initial learning rate.
    pub lr: f64,
    /// Momentum (SGD) or β1 (AdamW).
    pub momentum: f64,
    /// L2 weight decay (SGD) or decoupled weight decay (AdamW).
    pub weight_decay: f64,
    /// Schedule shape.
    pub schedule: Schedule,
    /// The learning rate at the last epoch, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// Examples per batch.
    pub batch_size: usize,
    /// Linear learning-rate warm-up over this many epochs (0 = off).
    pub warmup_epochs: f64,
    /// Per-step decay of an exponential moving average of the weights, which the phase then
    /// evaluates and keeps instead of the last weights (0 = off; e.g. 0.9995).
    pub ema_decay: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            schedule: Schedule::Cosine,
            final_lr_fraction: 0.02,
            batch_size: 128,
            warmup_epochs: 1.0,
            ema_decay: 0.0,
        }
    }
}

/// Which training examples the student sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransferKind {
    /// The whole training set.
    #[default]
    Full,
    /// The training set without the listed classes (paper: omit all 3s).
    Omit,
    /// Only the listed classes (paper: only 7s and 8s).
    Only,
}

/// MUNGE parameters (Buciluă et al. 2006).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MungeConfig {
    /// Probability of swapping each feature with the nearest neighbour's.
    pub p: f64,
    /// Local variance parameter: the swap draws from `N(e', |e − e'| / s)`.
    pub s: f64,
    /// How many synthetic copies of the training set to grow.
    pub k: usize,
}

impl Default for MungeConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            s: 1.0,
            k: 4,
        }
    }
}

/// The transfer set: what the distilled student is trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// Full, omit classes or keep only classes.
    pub kind: TransferKind,
    /// The classes omitted or kept (ignored for `full`).
    pub classes: Vec<u8>,
    /// Grow the set with MUNGE synthetic examples (always on for model compression).
    pub munge: bool,
    /// MUNGE parameters.
    pub munge_params: MungeConfig,
    /// Give the students (baseline and distilled) only the first N training examples, while
    /// the teacher learns from all of them: soft targets as a regulariser (Hinton et al. §6).
    pub limit: Option<usize>,
    /// Shift the distilled student's images by up to ±N pixels, with the teacher's targets
    /// computed on the same shifted image (cached for all `(2N + 1)²` shifts when the transfer
    /// set is built). 0: the paper's unjittered transfer set.
    pub jitter_px: usize,
}

/// Number of classes of MNIST-format datasets.
pub const MNIST_CLASSES: usize = 10;

/// Where a run's examples come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// MNIST-format IDX files (`data.dir`, or the bundled MNIST).
    #[default]
    Mnist,
    /// A synthetic two-feature dataset drawn from `data.plane` (the plane playground).
    Plane,
}

/// The shapes of the synthetic two-feature datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum PlaneKind {
    /// Two interleaved half circles (2 classes).
    Moons,
    /// `classes` interleaved spiral arms (2–5).
    #[default]
    Spirals,
    /// `classes` Gaussian blobs (3–6).
    Blobs,
    /// The four quadrants, diagonal ones sharing a class (2 classes).
    Xor,
    /// A 3×3 checkerboard (2 classes).
    Checkerboard,
}

impl PlaneKind {
    /// Every shape, in the order the UI lists them.
    pub const ALL: [PlaneKind; 5] = [
        PlaneKind::Moons,
        PlaneKind::Spirals,
        PlaneKind::Blobs,
        PlaneKind::Xor,
        PlaneKind::Checkerboard,
    ];

    /// The name used in configs and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            PlaneKind::Moons => "moons",
            PlaneKind::Spirals => "spirals",
            PlaneKind::Blobs => "blobs",
            PlaneKind::Xor => "xor",
            PlaneKind::Checkerboard => "checkerboard",
        }
    }

    /// The class counts this shape can have (`data.plane.classes` is read only when there is
    /// a choice).
    pub fn class_range(self) -> std::ops::RangeInclusive<usize> {
        match self {
            PlaneKind::Spirals => 2..=5,
            PlaneKind::Blobs => 3..=6,
            PlaneKind::Moons | PlaneKind::Xor | PlaneKind::Checkerboard => 2..=2,
        }
    }
}

/// A synthetic two-feature dataset: its shape, size, noise and seed, and the grid the plane
/// playground evaluates models on. Points lie in the unit square, like pixels in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaneDataConfig {
    /// Moons, spirals, blobs, XOR or checkerboard.
    pub kind: PlaneKind,
    /// Spiral arms or blobs (fixed at 2 for the other shapes).
    pub classes: usize,
    /// Training points (what the teacher learns from).
    pub train: usize,
    /// Held-out test points, drawn from the same distribution.
    pub test: usize,
    /// Noise as a fraction of the shape's scale (0 = points exactly on the shape).
    pub noise: f64,
    /// Seed of the points (separate from the run's seed, so the same data can be trained on
    /// with other seeds).
    pub seed: u64,
    /// Cells per side of the grid the models are evaluated on (`grid²` points).
    pub grid: usize,
}

impl Default for PlaneDataConfig {
    fn default() -> Self {
        Self {
            kind: PlaneKind::Spirals,
            classes: 3,
            train: 1000,
            test: 1000,
            noise: 0.15,
            seed: 1,
            grid: 200,
        }
    }
}

impl PlaneDataConfig {
    /// Number of classes of the configured shape.
    pub fn class_count(&self) -> usize {
        let range = self.kind.class_range();
        self.classes.clamp(*range.start(), *range.end())
    }
}

/// Which data to load and how much of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// MNIST-format files or a synthetic plane dataset.
    pub source: DataSource,
    /// Folder of MNIST-format IDX files; `None` uses the bundled MNIST.
    pub dir: Option<std::path::PathBuf>,
    /// Use only the first N training examples (for quick experiments and tests).
    pub train_limit: Option<usize>,
    /// Use only the first N test examples.
    pub test_limit: Option<usize>,
    /// Hold out the last N training examples as a validation split and evaluate on them
    /// *instead of* the test set (the run never sees a test image): how hyperparameters are
    /// chosen honestly. Applied before `train_limit` and `test_limit`.
    pub validation: Option<usize>,
    /// The synthetic dataset (read when `source` is `plane`).
    pub plane: PlaneDataConfig,
}

impl DataConfig {
    /// Number of classes of the configured data.
    pub fn classes(&self) -> usize {
        match self.source {
            DataSource::Mnist => MNIST_CLASSES,
            DataSource::Plane => self.plane.class_count(),
        }
    }
}

/// The teacher: one MLP with dropout, or an ensemble of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Dropout probability on the input pixels.
    pub dropout_input: f64,
    /// Dropout probability on hidden units.
    pub dropout_hidden: f64,
    /// Max-norm constraint on each unit's incoming weight vector (0 = off).
    pub max_norm: f64,
    /// Random translation of up to ± this many pixels.
    pub jitter_px: usize,
    /// Number of ensemble members (1 = a single teacher).
    pub ensemble: usize,
    /// How ensemble members are combined.
    pub combine: EnsembleCombine,
    /// Training epochs.
    pub epochs: usize,
    /// Optimiser.
    pub optim: OptimConfig,
    /// Load a trained teacher from this safetensors file instead of training one.
    pub weights: Option<std::path::PathBuf>,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        Self {
            hidden: vec![1200, 1200],
            dropout_input: 0.2,
            dropout_hidden: 0.5,
            max_norm: 3.5,
            jitter_px: 2,
            ensemble: 1,
            combine: EnsembleCombine::MeanProbs,
            epochs: 60,
            optim: OptimConfig {
                lr: 0.1,
                momentum: 0.9,
                ..OptimConfig::default()
            },
            weights: None,
        }
    }
}

/// The student: a small MLP without regularisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudentConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Training epochs (baseline and distilled student alike).
    pub epochs: usize,
    /// Optimiser.
    pub optim: OptimConfig,
    /// Also train the same student on hard labels only, as the baseline.
    pub baseline: bool,
}

impl Default for StudentConfig {
    fn default() -> Self {
        Self {
            hidden: vec![800, 800],
            epochs: 30,
            optim: OptimConfig::default(),
            baseline: true,
        }
    }
}

/// Distillation settings: the method and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// Which of the four methods.
    pub method: Method,
    /// Softmax temperature T (Hinton).
    pub temperature: f64,
    /// Weight of the *soft* term (Hinton); `1 − α` weights the hard-label term.
    pub alpha: f64,
    /// Multiply the soft term by T² so its gradients keep their scale as T changes.
    pub t_squared: bool,
    /// Zero-mean each example's logits before the L2 match (logit matching, noisy teacher).
    pub zero_mean_logits: bool,
    /// Noise scale σ (noisy teacher).
    pub noise_sigma: f64,
    /// Probability that an example's teacher logits get noise (noisy teacher).
    pub noise_p: f64,
    /// Multiplicative or additive noise.
    pub noise_kind: NoiseKind,
    /// Model compression: label synthetic data with the teacher's probabilities instead of its
    /// hard labels.
    pub soft_labels: bool,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self {
            method: Method::Hinton,
            temperature: 20.0,
            alpha: 0.9,
            t_squared: true,
            zero_mean_logits: false,
            noise_sigma: 0.1f64.sqrt(),
            noise_p: 0.5,
            noise_kind: NoiseKind::Multiplicative,
            soft_labels: false,
        }
    }
}

/// Per-class bias adjustment of the distilled student after training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BiasConfig {
    /// The classes whose output bias is shifted.
    pub classes: Vec<u8>,
    /// A fixed shift (used when `search` is off).
    pub shift: f64,
    /// Search the shift that minimises errors on the held-out images of a validation run
    /// (`data.validation`), else on the training images (all classes, whatever the transfer
    /// set kept); never on the test set. The test errors at that shift are reported.
    pub search: bool,
}

/// The probe set: a few test images whose logits the trainer reports while it trains, so the
/// soft targets of every model can be watched converging (and replayed from `probes.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// Test-set indices, at most [`MAX_PROBES`]; empty turns probes off.
    pub samples: Vec<usize>,
    /// Minimum seconds between two reports within an epoch (every epoch end is reported too).
    pub interval_secs: f64,
}

/// Most probe images per run: one forward pass of this many images costs far less than a
/// training batch, so probing never slows training measurably.
pub const MAX_PROBES: usize = 16;

/// The default probes, indices into the MNIST test set chosen among the first 100 images, so
/// that small `data.test_limit` subsets keep them: #32, a clear digit, then three uncertain
/// ones. Under the shipped teacher (`assets/teacher.safetensors`, 2026-11-30) #32 (a 3) has an
/// entropy of 5.5e-7 nats at T = 1, and #18 (a 3, 0.44 nats) and #65 (a 4, 0.23) are its two
/// most uncertain of the hundred, #62 (a 9, 0.10) its seventh; they were picked as the three
/// most uncertain under the first shipped teacher.
pub const DEFAULT_PROBES: [usize; 4] = [32, 18, 62, 65];

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            samples: DEFAULT_PROBES.to_vec(),
            interval_secs: 0.25,
        }
    }
}

/// Everything that defines one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Short name, used in the run folder's name.
    pub name: String,
    /// One seed for everything: init, shuffling, dropout, jitter, noise, MUNGE.
    pub seed: u64,
    /// Data source and subsets.
    pub data: DataConfig,
    /// The teacher.
    pub teacher: TeacherConfig,
    /// The student.
    pub student: StudentConfig,
    /// The distillation method.
    pub distill: DistillConfig,
    /// The transfer set.
    pub transfer: TransferConfig,
    /// Bias adjustment after training.
    pub bias: BiasConfig,
    /// Test images whose logits are reported while training.
    pub probes: ProbeConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: "run".to_owned(),
            seed: 42,
            data: DataConfig::default(),
            teacher: TeacherConfig::default(),
            student: StudentConfig::default(),
            distill: DistillConfig::default(),
            transfer: TransferConfig::default(),
            bias: BiasConfig::default(),
            probes: ProbeConfig::default(),
        }
    }
}

fn check_finite_positive(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() {
        return Err(invalid(
            field,
            format!("must be a finite number, got {value}"),
        ));
    }
    if value <= 0.0 {
        return Err(invalid(field, format!("must be > 0, got {value}")));
    }
    Ok(())
}

fn check_probability(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || !(0.0..=1.0).contains(&value) {
        return Err(invalid(field, format!("must be in [0, 1], got {value}")));
    }
    Ok(())
}

fn check_dropout(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || !(0.0..1.0).contains(&value) {
        return Err(invalid(field, format!("must be in [0, 1), got {value}")));
    }
    Ok(())
}

fn check_widths(field: &str, widths: &[usize]) -> Result<(), ConfigError> {
    if let Some(w) = widths.iter().find(|w| **w == 0) {
        return Err(invalid(field, format!("layer widths must be ≥ 1, got {w}")));
    }
    Ok(())
}

fn check_at_most(field: &str, value: usize, max: usize) -> Result<(), ConfigError> {
    if value > max {
        return Err(invalid(field, format!("must be ≤ {max}, got {value}")));
    }
    Ok(())
}

fn check_classes(field: &str, classes: &[u8], count: usize) -> Result<(), ConfigError> {
    if let Some(c) = classes.iter().find(|c| usize::from(**c) >= count) {
        return Err(invalid(
            field,
            format!("classes are 0–{}, got {c}", count.saturating_sub(1)),
        ));
    }
    Ok(())
}

impl PlaneDataConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let range = self.kind.class_range();
        if !range.contains(&self.classes) && range.start() != range.end() {
            return Err(invalid(
                "data.plane.classes",
                format!(
                    "{} have {}–{} classes, got {}",
                    self.kind.key(),
                    range.start(),
                    range.end(),
                    self.classes
                ),
            ));
        }
        if self.train < 2 {
            return Err(invalid(
                "data.plane.train",
                format!("must be ≥ 2, got {}", self.train),
            ));
        }
        if self.test == 0 {
            return Err(invalid("data.plane.test", "must be ≥ 1, got 0"));
        }
        if !self.noise.is_finite() || !(0.0..=1.0).contains(&self.noise) {
            return Err(invalid(
                "data.plane.noise",
                format!("must be in [0, 1], got {}", self.noise),
            ));
        }
        if !(2..=1000).contains(&self.grid) {
            return Err(invalid(
                "data.plane.grid",
                format!("must be in 2–1000, got {}", self.grid),
            ));
        }
        Ok(())
    }
}

impl OptimConfig {
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        check_finite_positive(&format!("{prefix}.lr"), self.lr)?;
        let momentum = format!("{prefix}.momentum");
        if !self.momentum.is_finite() || !(0.0..1.0).contains(&self.momentum) {
            return Err(invalid(
                &momentum,
                format!("must be in [0, 1), got {}", self.momentum),
            ));
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return Err(invalid(
                &format!("{prefix}.weight_decay"),
                format!("must be ≥ 0, got {}", self.weight_decay),
            ));
        }
        check_probability(
            &format!("{prefix}.final_lr_fraction"),
            self.final_lr_fraction,
        )?;
        if !self.warmup_epochs.is_finite() || self.warmup_epochs < 0.0 {
            return Err(invalid(
                &format!("{prefix}.warmup_epochs"),
                format!("must be ≥ 0, got {}", self.warmup_epochs),
            ));
        }
        if !self.ema_decay.is_finite() || !(0.0..1.0).contains(&self.ema_decay) {
            return Err(invalid(
                &format!("{prefix}.ema_decay"),
                format!("must be in [0, 1), got {}", self.ema_decay),
            ));
        }
        if self.batch_size == 0 {
            return Err(invalid(
                &format!("{prefix}.batch_size"),
                "must be ≥ 1, got 0",
            ));
        }
        Ok(())
    }
}

impl RunConfig {
    /// Checks every field; the error names the first bad one by its `--set` path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        let t = &self.teacher;
        check_widths("teacher.hidden", &t.hidden)?;
        check_dropout("teacher.dropout_input", t.dropout_input)?;
        check_dropout("teacher.dropout_hidden", t.dropout_hidden)?;
        if !t.max_norm.is_finite() || t.max_norm < 0.0 {
            return Err(invalid(
                "teacher.max_norm",
                format!("must be ≥ 0, got {}", t.max_norm),
            ));
        }
        if t.jitter_px > 8 {
            return Err(invalid(
                "teacher.jitter_px",
                format!("must be ≤ 8, got {}", t.jitter_px),
            ));
        }
        if self.transfer.jitter_px > 8 {
            return Err(invalid(
                "transfer.jitter_px",
                format!("must be ≤ 8, got {}", self.transfer.jitter_px),
            ));
        }
        if t.ensemble == 0 {
            return Err(invalid("teacher.ensemble", "must be ≥ 1, got 0"));
        }
        if t.epochs == 0 && t.weights.is_none() {
            return Err(invalid("teacher.epochs", "must be ≥ 1, got 0"));
        }
        check_at_most("teacher.epochs", t.epochs, MAX_EPOCHS)?;
        t.optim.validate("teacher.optim")?;
        let s = &self.student;
        check_widths("student.hidden", &s.hidden)?;
        if s.epochs == 0 {
            return Err(invalid("student.epochs", "must be ≥ 1, got 0"));
        }
        check_at_most("student.epochs", s.epochs, MAX_EPOCHS)?;
        s.optim.validate("student.optim")?;
        let d = &self.distill;
        check_finite_positive("distill.temperature", d.temperature)?;
        check_probability("distill.alpha", d.alpha)?;
        if !d.noise_sigma.is_finite() || d.noise_sigma < 0.0 {
            return Err(invalid(
                "distill.noise_sigma",
                format!("must be ≥ 0, got {}", d.noise_sigma),
            ));
        }
        check_probability("distill.noise_p", d.noise_p)?;
        if self.data.source == DataSource::Plane {
            self.data.plane.validate()?;
            if self.transfer.jitter_px > 0 {
                return Err(invalid(
                    "transfer.jitter_px",
                    "shifts images by pixels: plane points have no pixels, use 0",
                ));
            }
        }
        let classes = self.data.classes();
        let tr = &self.transfer;
        check_classes("transfer.classes", &tr.classes, classes)?;
        if tr.kind != TransferKind::Full && tr.classes.is_empty() {
            return Err(invalid(
                "transfer.classes",
                "list the classes to omit or keep",
            ));
        }
        if tr.kind == TransferKind::Omit && tr.classes.len() >= classes {
            return Err(invalid("transfer.classes", "cannot omit every class"));
        }
        if tr.limit == Some(0) {
            return Err(invalid("transfer.limit", "must be ≥ 1, got 0"));
        }
        check_probability("transfer.munge_params.p", tr.munge_params.p)?;
        check_finite_positive("transfer.munge_params.s", tr.munge_params.s)?;
        if tr.munge_params.k == 0 {
            return Err(invalid("transfer.munge_params.k", "must be ≥ 1, got 0"));
        }
        check_classes("bias.classes", &self.bias.classes, classes)?;
        if !self.bias.shift.is_finite() {
            return Err(invalid("bias.shift", "must be a finite number"));
        }
        if self.data.train_limit == Some(0) {
            return Err(invalid("data.train_limit", "must be ≥ 1, got 0"));
        }
        if self.data.test_limit == Some(0) {
            return Err(invalid("data.test_limit", "must be ≥ 1, got 0"));
        }
        if self.data.validation == Some(0) {
            return Err(invalid("data.validation", "must be ≥ 1, got 0"));
        }
        let p = &self.probes;
        if p.samples.len() > MAX_PROBES {
            return Err(invalid(
                "probes.samples",
                format!("at most {MAX_PROBES} test images, got {}", p.samples.len()),
            ));
        }
        if let Some(limit) = self.data.test_limit {
            if let Some(i) = p.samples.iter().find(|i| **i >= limit) {
                return Err(invalid(
                    "probes.samples",
                    format!("test image {i} is outside the test set (data.test_limit = {limit})"),
                ));
            }
        }
        if !p.interval_secs.is_finite() || p.interval_secs < 0.0 {
            return Err(invalid(
                "probes.interval_secs",
                format!("must be ≥ 0, got {}", p.interval_secs),
            ));
        }
        memory::check_fits(self, &DataShape::assumed(self), memory::available_bytes())
    }

    /// Whether the transfer set is grown with MUNGE (always for model compression).
    pub fn uses_munge(&self) -> bool {
        self.transfer.munge || self.distill.method == Method::ModelCompression
    }

    /// Parses a `config.toml` text. Unknown keys are errors, missing keys take defaults. An
    /// error names the field (`student.epochs`), its line and column, and what was expected.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| parse_error(text, None, &e))?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            parse_error(text, Some(field), e.inner())
        })
    }

    /// Serialises to the `config.toml` text written to run folders. A teacher file inside the
    /// bundled assets is written as `@assets/<file>`, so the config reruns on another machine.
    pub fn to_toml(&self) -> String {
        let mut portable = self.clone();
        portable.teacher.weights = self.teacher.weights.as_deref().map(crate::assets::portable);
        toml::to_string_pretty(&portable)
            .unwrap_or_else(|e| format!("# could not serialise: {e}\n"))
    }

    /// Applies one `key=value` override, e.g. `distill.temperature=8` or
    /// `student.hidden=[30,30]`. The value is read as TOML, or as a string if that fails.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (key, raw) = assignment
            .split_once('=')
            .ok_or_else(|| ConfigError::BadAssignment(assignment.to_owned()))?;
        let key = key.trim();
        let raw = raw.trim();
        let mut root = toml::Value::try_from(&*self).map_err(|e| ConfigError::Parse {
            field: None,
            position: None,
            problem: e.to_string(),
        })?;
        let value = parse_toml_value(raw);
        set_path(&mut root, key, value)?;
        // The error names the deepest field that failed (`student.optim.lr` for
        // `--set student.optim={lr="x"}`), and at least the key that was set.
        let updated: RunConfig = serde_path_to_error::deserialize(root).map_err(|e| {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." {
                key.to_owned()
            } else {
                path
            };
            ConfigError::Invalid {
                field,
                problem: friendly_problem(e.inner().message()),
            }
        })?;
        *self = updated;
        Ok(())
    }
}

/// A [`ConfigError::Parse`] for a TOML error in `text`, at the error's span when it has one.
fn parse_error(text: &str, field: Option<String>, error: &toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        field: field.filter(|f| !f.is_empty() && f != "."),
        position: error.span().map(|span| line_and_column(text, span.start)),
        problem: friendly_problem(error.message()),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// serde's message with Rust type names replaced by what a user types, e.g.
/// `invalid type: string "ten", expected usize` → `… expected a whole number ≥ 0`.
fn friendly_problem(message: &str) -> String {
    const NAMES: [(&str, &str); 5] = [
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u8", "expected a whole number 0–255"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ];
    let message = message.trim_end();
    NAMES
        .iter()
        .find_map(|(rust, user)| {
            message
                .strip_suffix(rust)
                .map(|head| format!("{head}{user}"))
        })
        .unwrap_or_else(|| message.to_owned())
}

fn parse_toml_value(raw: &str) -> toml::Value {
    let wrapped = format!("v = {raw}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Sets `root[a][b][c] = value` for the key `a.b.c`. Optional fields that are currently unset
/// (absent from the serialised table) are accepted when they are known optional keys.
fn set_path(root: &mut toml::Value, key: &str, value: toml::Value) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| ConfigError::UnknownKey(key.to_owned()))?;
    let mut node = root;
    for part in parents {
        node = node
            .get_mut(*part)
            .filter(|v| v.is_table())
            .ok_or_else(|| ConfigError::UnknownKey(key.to_owned()))?;
    }
    let table = node
        .as_table_mut()
        .ok_or_else(|| ConfigError::UnknownKey(key.to_owned()))?;
    if !table.contains_key(*last) && !OPTIONAL_KEYS.contains(&key) {
        return Err(ConfigError::UnknownKey(key.to_owned()));
    }
    table.insert((*last).to_owned(), value);
    Ok(())
}

/// Keys of `Option` fields, which do not appear in the serialised table while unset.
const OPTIONAL_KEYS: [&str; 6] = [
    "data.dir",
    "data.train_limit",
    "data.test_limit",
    "data.validation",
    "teacher.weights",
    "transfer.limit",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jittered_transfer_sets_are_for_images_only() {
        let mut config = RunConfig::default();
        config.set("transfer.jitter_px=2").unwrap();
        config.validate().unwrap();
        config.set("transfer.jitter_px=9").unwrap();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("transfer.jitter_px"));
        config.set("transfer.jitter_px=1").unwrap();
        config.set("data.source=\"plane\"").unwrap();
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("transfer.jitter_px"), "{error}");
    }

    #[test]
    fn default_config_is_valid_and_round_trips() {
        let config = RunConfig::default();
        config.validate().unwrap();
        let back = RunConfig::from_toml(&config.to_toml()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn set_changes_nested_fields_and_rejects_unknown_keys() {
        let mut config = RunConfig::default();
        config.set("distill.temperature=8").unwrap();
        assert_eq!(config.distill.temperature, 8.0);
        config.set("student.hidden=[30, 30]").unwrap();
        assert_eq!(config.student.hidden, vec![30, 30]);
        config.set("distill.method=logit-l2").unwrap();
        assert_eq!(config.distill.method, Method::LogitL2);
        config.set("data.train_limit=1000").unwrap();
        assert_eq!(config.data.train_limit, Some(1000));
        config.set("name=hello").unwrap();
        assert_eq!(config.name, "hello");
        assert_eq!(
            config.set("distill.temprature=8"),
            Err(ConfigError::UnknownKey("distill.temprature".into()))
        );
        assert!(matches!(
            config.set("distill.method=bogus"),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            config.set("novalue"),
            Err(ConfigError::BadAssignment(_))
        ));
    }

    #[test]
    fn parse_errors_name_the_field_line_and_column() {
        let text = "name = \"x\"\n\n[student]\nhidden = [30]\nepochs = \"ten\"\n";
        let err = RunConfig::from_toml(text).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Parse {
                field: Some("student.epochs".into()),
                position: Some((5, 10)),
                problem: "invalid type: string \"ten\", expected a whole number ≥ 0".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "line 5, column 10: student.epochs: invalid type: string \"ten\", expected a whole \
             number ≥ 0"
        );
        // Nested tables, unknown keys and TOML syntax errors are placed too.
        let err = RunConfig::from_toml("[teacher.optim]\nlr = true\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2, column 6: teacher.optim.lr: invalid type: boolean"),
            "{err}"
        );
        assert!(err.to_string().ends_with("expected a number"), "{err}");
        let err = RunConfig::from_toml("[distill]\ntemprature = 4\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("line 2, column 1: distill.temprature: unknown field `temprature`"),
            "{text}"
        );
        let err = RunConfig::from_toml("seed = 1\nname = \"unclosed\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2, column "), "{err}");
    }

    #[test]
    fn set_errors_name_the_key() {
        let mut config = RunConfig::default();
        let err = config.set("student.epochs=ten").unwrap_err();
        assert_eq!(
            err.to_string(),
            "student.epochs: invalid type: string \"ten\", expected a whole number ≥ 0"
        );
        let err = config.set("student.optim={lr = \"fast\"}").unwrap_err();
        assert!(err.to_string().starts_with("student.optim.lr: "), "{err}");
        assert_eq!(
            config,
            RunConfig::default(),
            "a failed --set changes nothing"
        );
    }

    #[test]
    fn absurd_epochs_and_sizes_are_refused_at_validation() {
        let cases: [(&str, &str, &str); 4] = [
            (
                "student.epochs=1000000",
                "student.epochs",
                "must be ≤ 10000",
            ),
            ("teacher.epochs=10001", "teacher.epochs", "must be ≤ 10000"),
            (
                "student.hidden=[2000000000]",
                "student.hidden",
                "TB, this machine has",
            ),
            (
                "teacher.hidden=[1000000, 1000000]",
                "teacher.hidden",
                "TB, this machine has",
            ),
        ];
        for (assignment, field, needle) in cases {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            match config.validate() {
                Err(ConfigError::Invalid { field: f, problem }) => {
                    assert_eq!(f, field, "{assignment}");
                    assert!(problem.contains(needle), "{assignment}: {problem}");
                }
                other => panic!("{assignment}: expected an error for {field}, got {other:?}"),
            }
        }
        let mut config = RunConfig::default();
        config.set("student.epochs=10000").unwrap();
        config.validate().unwrap();
    }

    #[test]
    fn validate_names_the_bad_field() {
        let cases: [(&str, &str); 10] = [
            ("distill.temperature=0", "distill.temperature"),
            ("distill.temperature=-2", "distill.temperature"),
            ("distill.temperature=nan", "distill.temperature"),
            ("distill.alpha=1.5", "distill.alpha"),
            ("student.hidden=[800, 0]", "student.hidden"),
            ("student.epochs=0", "student.epochs"),
            ("teacher.optim.lr=0", "teacher.optim.lr"),
            ("student.optim.lr=-1", "student.optim.lr"),
            ("teacher.optim.ema_decay=1", "teacher.optim.ema_decay"),
            ("student.optim.ema_decay=nan", "student.optim.ema_decay"),
        ];
        for (assignment, field) in cases {
            let mut config = RunConfig::default();
            config.set(assignment).unwrap();
            match config.validate() {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field, "{assignment}"),
                other => panic!("{assignment}: expected an error for {field}, got {other:?}"),
            }
        }
    }

    /// The `config.toml` text of the default config, a config with every optional field set
    /// and every preset, as written before `src/config.rs` became `src/config/`: run folders
    /// written by older builds read back the same, and new ones are byte-identical.
    const PINNED: [(&str, &str); 11] = [
        ("default", include_str!("config/fixtures/default.toml")),
        (
            "options-set",
            include_str!("config/fixtures/options-set.toml"),
        ),
        ("quick", include_str!("config/fixtures/quick.toml")),
        (
            "hinton-mnist",
            include_str!("config/fixtures/hinton-mnist.toml"),
        ),
        ("logit-l2", include_str!("config/fixtures/logit-l2.toml")),
        (
            "noisy-teacher",
            include_str!("config/fixtures/noisy-teacher.toml"),
        ),
        ("munge", include_str!("config/fixtures/munge.toml")),
        ("ensemble", include_str!("config/fixtures/ensemble.toml")),
        ("omit-3", include_str!("config/fixtures/omit-3.toml")),
        ("only-7-8", include_str!("config/fixtures/only-7-8.toml")),
        ("small-30", include_str!("config/fixtures/small-30.toml")),
    ];

    /// The configuration pinned under `name`.
    fn pinned_config(name: &str) -> RunConfig {
        match name {
            "default" => RunConfig::default(),
            "options-set" => {
                let mut options = RunConfig::default();
                options.data.dir = Some("some/mnist".into());
                options.data.train_limit = Some(1000);
                options.data.test_limit = Some(500);
                options.data.validation = Some(100);
                options.teacher.weights = Some("some/teacher.safetensors".into());
                options.transfer.limit = Some(300);
                options.data.source = DataSource::Plane;
                options
            }
            preset => crate::presets::find(preset).unwrap().config(),
        }
    }

    #[test]
    fn toml_text_is_byte_identical_to_the_pinned_files() {
        assert_eq!(
            PINNED.len(),
            crate::presets::PRESETS.len() + 2,
            "a preset is not pinned"
        );
        for (name, text) in PINNED {
            let config = pinned_config(name);
            assert_eq!(config.to_toml(), text, "{name}: to_toml changed");
            assert_eq!(
                RunConfig::from_toml(text).unwrap(),
                config,
                "{name}: from_toml changed"
            );
        }
    }
}
