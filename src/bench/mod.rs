//! `distillery bench`: training and evaluation speed on the bundled MNIST, in the units of the
//! PyTorch reference (`benches/pytorch_bench.py`): samples per second for one epoch of 60,000
//! examples at batch 128 with SGD + momentum, and milliseconds to evaluate the 10,000 test
//! images.
//!
//! Every workload runs the real training code: the per-batch body is
//! [`batch_input`] + [`train_step`], the functions `Session::train_phase` calls for every batch,
//! so what is measured is what `distillery train` and the GUI run. Only the epoch loop around it
//! (shuffle, learning rate) is repeated here, without the progress events, test evaluation and
//! metric files that `train_phase` adds once per epoch. Each workload first trains a few warm-up
//! batches (page faults, allocator pools, thread pools), then one timed epoch.
//!
//! `kd_cached_probes` is `kd_cached` with the live probes on (the default probe set and
//! interval, through the trainer's [`ProbeSet`]): the two should be within noise, and
//! `probe_overhead` is the measured share of that epoch spent in probe forward passes.
//!
//! The report says where it was measured (CPU model, logical CPUs, candle's thread count) and
//! how many cores each training workload kept busy (CPU time ÷ wall time of its timed epoch):
//! the portable check that the cores are used, whatever the vendor.
//!
//! It also says how close each workload comes to the machine's limit: the GFLOP/s it achieved
//! (counted from the layer shapes, [`flops`]), the peak GFLOP/s of the vector width the
//! matrix products run in (measured at start, [`gemm::peak`](crate::model::gemm)), and the
//! share; and the speed of the step's matrix products alone ([`products`]). `--gemm avx2` runs
//! the AVX2 kernels even on an AVX-512 machine.

pub mod flops;
mod machine;
pub mod products;

use machine::process_cpu_secs;
pub use machine::Machine;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::Device;
use serde::Serialize;

use crate::config::{EnsembleCombine, OptimConfig, ProbeConfig};
use crate::data::dataset::{bundled_mnist_dir, Dataset, Mnist, CLASSES};
use crate::distill::loss;
use crate::distill::soft::{ensemble_soft_targets, softmax_rows};
use crate::distill::targets::{HardLabels, SoftTargets, Targets};
use crate::model::gemm::{self, Backend};
use crate::model::mlp::{Dropout, Mlp};
use crate::rng::FastRng;
use crate::train::optim::Optimizer;
use crate::train::probes::ProbeSet;
use crate::train::step::{train_step, StepSettings};
use crate::train::views::batch_input;

/// Examples per batch (the paper's and the PyTorch reference's).
pub const BATCH: usize = 128;
/// Batches trained before the clock starts.
const WARMUP_BATCHES: usize = 20;
/// Timed repetitions of a test-set evaluation (the median is reported).
const EVAL_REPEATS: usize = 5;
/// Distillation temperature of the KD workloads.
const TEMPERATURE: f64 = 4.0;
/// Weight of the soft term of the KD workloads.
const ALPHA: f64 = 0.9;

/// The measured speeds, with the JSON keys of `benches/pytorch_bench.py`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// Where it was measured.
    pub machine: Machine,
    /// Cores busy during each training workload's timed epoch (CPU time ÷ wall time; 2.0 is
    /// both cores of a 2-core machine all the time). Absent where CPU time is not available.
    pub cores_used: std::collections::BTreeMap<String, f64>,
    /// Teacher 784-1200-1200-10, dropout 0.2 / 0.5, cross-entropy: samples/s.
    pub teacher: f64,
    /// Student 784-800-800-10, cross-entropy on hard labels: samples/s.
    pub student_ce: f64,
    /// Student distilled from cached teacher soft targets (Hinton loss): samples/s.
    pub kd_cached: f64,
    /// Student distilled with a teacher forward pass on every batch: samples/s.
    pub kd_online: f64,
    /// `kd_cached` with the live probes on: samples/s.
    pub kd_cached_probes: f64,
    /// Fraction of the `kd_cached_probes` epoch spent in probe forward passes.
    pub probe_overhead: f64,
    /// Logits of the 10,000 test images, teacher: ms.
    pub eval_teacher_ms: f64,
    /// Logits of the 10,000 test images, student: ms.
    pub eval_student_ms: f64,
    /// GFLOP/s each workload achieved ([`flops`]; 0 for one not run).
    pub gflops: BTreeMap<String, f64>,
    /// Each workload's GFLOP/s as a share of [`Machine::peak_gflops`].
    pub peak_share: BTreeMap<String, f64>,
    /// The training step's matrix products alone.
    pub products: Vec<products::ProductSpeed>,
}

/// What the model is fitted to in a workload.
enum Loss<'a> {
    /// A per-example target set indexed like the training set (hard labels, cached soft targets).
    Targets(&'a dyn Targets),
    /// Soft targets from a teacher forward pass on each batch (Hinton loss).
    OnlineTeacher(&'a Mlp),
}

/// One workload: a model, its dropout, and its loss.
struct Workload<'a> {
    layers: &'a [usize],
    dropout: Dropout,
    loss: Loss<'a>,
    /// The live probes, reported as often as `train_phase` reports them (`None`: off).
    probes: Option<&'a ProbeSet>,
}

/// SGD with momentum at a constant rate, like the PyTorch reference.
fn optim() -> OptimConfig {
    OptimConfig {
        lr: 0.05,
        momentum: 0.9,
        ..OptimConfig::default()
    }
}

/// Trains `batches` batches of `order` (a shuffled index list, cycled) and returns the seconds.
fn train_batches(
    work: &Workload<'_>,
    model: &mut Mlp,
    opt: &mut Optimizer,
    set: &Dataset,
    order: &[usize],
    batches: usize,
    rng: &mut BenchRngs,
) -> Result<f64> {
    let device = Device::Cpu;
    let mut pixels = vec![0f32; BATCH * set.dim()];
    let mut views = Vec::with_capacity(BATCH);
    let step = StepSettings {
        dropout: work.dropout,
        max_norm: 0.0,
        lr: optim().lr,
        feature_layer: None,
    };
    let started = Instant::now();
    let mut probe_secs = 0.0;
    for batch in order.chunks(BATCH).cycle().take(batches) {
        let x = batch_input(
            set,
            batch,
            0,
            &mut rng.jitter,
            &mut pixels,
            &mut views,
            &device,
        )?;
        let parts = match work.loss {
            Loss::Targets(targets) => train_step(model, opt, &x, &step, &mut rng.dropout, |s| {
                targets.loss(s, batch, CLASSES, &mut rng.noise)
            })?,
            Loss::OnlineTeacher(teacher) => {
                let v: Vec<f32> = teacher.forward(&x)?.flatten_all()?.to_vec1()?;
                let q = softmax_rows(&v, CLASSES, TEMPERATURE);
                let labels: Vec<u8> = batch.iter().map(|&i| set.labels[i]).collect();
                train_step(model, opt, &x, &step, &mut rng.dropout, |s| {
                    loss::hinton(s.logits, &q, &labels, CLASSES, TEMPERATURE, ALPHA, true)
                })?
            }
        };
        if !parts.total.is_finite() {
            anyhow::bail!("the benchmark's loss diverged ({})", parts.total);
        }
        if let Some(probes) = rng.probes.as_mut().filter(|p| p.due()) {
            let probe_started = Instant::now();
            std::hint::black_box(probes.logits(model, &device)?);
            probe_secs += probe_started.elapsed().as_secs_f64();
        }
    }
    rng.probe_secs = probe_secs;
    Ok(started.elapsed().as_secs_f64())
}

/// What `train_phase` keeps per phase, here per workload: the random streams and the probes'
/// clock (with the seconds the last timed run spent in probes).
struct BenchRngs {
    jitter: FastRng,
    dropout: FastRng,
    noise: FastRng,
    probes: Option<ProbeSet>,
    probe_secs: f64,
}

/// Whether the workload `name` runs: all of them, or those listed (comma-separated) in the
/// `DISTILLERY_BENCH_ONLY` environment variable (a profiling aid; the others report 0).
fn selected(name: &str) -> bool {
    std::env::var("DISTILLERY_BENCH_ONLY")
        .map_or(true, |only| only.split(',').any(|n| n.trim() == name))
}

/// One workload's timed epoch.
#[derive(Clone, Copy, Debug, Default)]
struct Timing {
    /// Samples per second.
    rate: f64,
    /// Fraction of the epoch spent in probes.
    probe_share: f64,
    /// CPU time ÷ wall time, if known.
    cores_used: Option<f64>,
}

/// Warm-up, then one timed epoch over `set`.
fn samples_per_sec(name: &str, work: &Workload<'_>, set: &Dataset) -> Result<Timing> {
    if !selected(name) {
        return Ok(Timing::default());
    }
    let mut model = Mlp::new(work.layers, 1, &Device::Cpu)?;
    let mut opt = Optimizer::new(&optim());
    let mut rng = BenchRngs {
        jitter: FastRng::fork(0, "bench-jitter"),
        dropout: FastRng::fork(0, "bench-dropout"),
        noise: FastRng::fork(0, "bench-noise"),
        probes: work.probes.cloned(),
        probe_secs: 0.0,
    };
    let mut order: Vec<usize> = (0..set.len()).collect();
    let mut shuffle = FastRng::fork(0, "bench-shuffle");
    shuffle.shuffle(&mut order);
    train_batches(
        work,
        &mut model,
        &mut opt,
        set,
        &order,
        WARMUP_BATCHES,
        &mut rng,
    )
    .with_context(|| format!("{name}: warm-up"))?;
    shuffle.shuffle(&mut order);
    let batches = set.len().div_ceil(BATCH);
    let cpu_before = process_cpu_secs();
    let secs = train_batches(work, &mut model, &mut opt, set, &order, batches, &mut rng)
        .with_context(|| format!("{name}: epoch"))?;
    let cores_used = cpu_before
        .zip(process_cpu_secs())
        .map(|(before, after)| (after - before) / secs);
    let rate = set.len() as f64 / secs;
    eprintln!(
        "{name:<11} {rate:>9.0} samples/s  ({secs:.2} s per epoch of {}; {} cores busy)",
        set.len(),
        cores_used.map_or("?".to_owned(), |c| format!("{c:.2}"))
    );
    Ok(Timing {
        rate,
        probe_share: rng.probe_secs / secs,
        cores_used,
    })
}

/// Median milliseconds of `Mlp::logits` on the test set, after one warm-up pass.
fn eval_ms(name: &str, model: &Mlp, test: &Dataset) -> Result<f64> {
    if !selected(name) {
        return Ok(0.0);
    }
    let device = Device::Cpu;
    model.logits(&test.images, &device)?;
    let mut times = Vec::with_capacity(EVAL_REPEATS);
    for _ in 0..EVAL_REPEATS {
        let started = Instant::now();
        let logits = model.logits(&test.images, &device)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(logits);
    }
    times.sort_by(f64::total_cmp);
    let ms = times[times.len() / 2];
    eprintln!(
        "{name:<11} {ms:>9.1} ms for {} test images (median of {EVAL_REPEATS})",
        test.len()
    );
    Ok(ms)
}

/// Measures the six numbers on the bundled MNIST, the matrix products computed by `backend`.
pub fn measure(backend: Backend) -> Result<BenchReport> {
    gemm::set_backend(backend);
    let machine = Machine::here(backend);
    eprintln!(
        "matrix products: {} ({}), peak {} GFLOP/s on {} threads",
        machine.gemm,
        machine.isa,
        machine
            .peak_gflops
            .map_or("?".to_owned(), |p| format!("{p:.0}")),
        machine.threads
    );
    let data = Mnist::load(&bundled_mnist_dir()).context("loading the bundled MNIST")?;
    let (train, test) = (&data.train, &data.test);
    let dim = train.dim();
    let teacher_layers = [dim, 1200, 1200, CLASSES];
    let student_layers = [dim, 800, 800, CLASSES];
    let hard = HardLabels {
        labels: train.labels.clone(),
    };
    // Distillation needs a teacher; its speed does not depend on how well it was trained.
    let teacher = Mlp::new(&teacher_layers, 7, &Device::Cpu)?;
    let cached = SoftTargets {
        q: ensemble_soft_targets(
            &[&teacher.logits(&train.images, &Device::Cpu)?],
            CLASSES,
            TEMPERATURE,
            EnsembleCombine::MeanProbs,
        ),
        labels: train.labels.clone(),
        temperature: TEMPERATURE,
        alpha: ALPHA,
        t_squared: true,
    };
    let no_dropout = Dropout::default();
    let teacher_rate = samples_per_sec(
        "teacher",
        &Workload {
            layers: &teacher_layers,
            dropout: Dropout {
                input: 0.2,
                hidden: 0.5,
            },
            loss: Loss::Targets(&hard),
            probes: None,
        },
        train,
    )?;
    let student_ce = samples_per_sec(
        "student_ce",
        &Workload {
            layers: &student_layers,
            dropout: no_dropout,
            loss: Loss::Targets(&hard),
            probes: None,
        },
        train,
    )?;
    let kd_cached = samples_per_sec(
        "kd_cached",
        &Workload {
            layers: &student_layers,
            dropout: no_dropout,
            loss: Loss::Targets(&cached),
            probes: None,
        },
        train,
    )?;
    let kd_online = samples_per_sec(
        "kd_online",
        &Workload {
            layers: &student_layers,
            dropout: no_dropout,
            loss: Loss::OnlineTeacher(&teacher),
            probes: None,
        },
        train,
    )?;
    let probes = ProbeSet::new(&ProbeConfig::default(), test)?;
    let kd_cached_probes = samples_per_sec(
        "kd_cached_probes",
        &Workload {
            layers: &student_layers,
            dropout: no_dropout,
            loss: Loss::Targets(&cached),
            probes: Some(&probes),
        },
        train,
    )?;
    let student = Mlp::new(&student_layers, 1, &Device::Cpu)?;
    let cores_used = [
        ("teacher", &teacher_rate),
        ("student_ce", &student_ce),
        ("kd_cached", &kd_cached),
        ("kd_online", &kd_online),
    ]
    .into_iter()
    .filter_map(|(name, t)| t.cores_used.map(|c| (name.to_owned(), c)))
    .collect();
    let eval_teacher_ms = eval_ms("eval_teacher", &teacher, test)?;
    let eval_student_ms = eval_ms("eval_student", &student, test)?;
    let per_sample_train = flops::train(&student_layers, BATCH);
    let eval_rate = |ms: f64| test.len() as f64 / (ms / 1000.0);
    let gflops: BTreeMap<String, f64> = [
        (
            "teacher",
            teacher_rate.rate * flops::train(&teacher_layers, BATCH),
        ),
        ("student_ce", student_ce.rate * per_sample_train),
        ("kd_cached", kd_cached.rate * per_sample_train),
        (
            "kd_online",
            kd_online.rate * (per_sample_train + flops::forward(&teacher_layers)),
        ),
        (
            "eval_teacher",
            eval_rate(eval_teacher_ms) * flops::forward(&teacher_layers),
        ),
        (
            "eval_student",
            eval_rate(eval_student_ms) * flops::forward(&student_layers),
        ),
    ]
    .into_iter()
    .map(|(name, flop)| {
        (
            name.to_owned(),
            if flop.is_finite() { flop / 1e9 } else { 0.0 },
        )
    })
    .collect();
    let peak_share = machine
        .peak_gflops
        .map(|peak| gflops.iter().map(|(k, g)| (k.clone(), g / peak)).collect())
        .unwrap_or_default();
    let products = if selected("products") {
        products::measure(backend)?
    } else {
        Vec::new()
    };
    Ok(BenchReport {
        machine,
        cores_used,
        teacher: teacher_rate.rate,
        student_ce: student_ce.rate,
        kd_cached: kd_cached.rate,
        kd_online: kd_online.rate,
        kd_cached_probes: kd_cached_probes.rate,
        probe_overhead: kd_cached_probes.probe_share,
        eval_teacher_ms,
        eval_student_ms,
        gflops,
        peak_share,
        products,
    })
}

/// `distillery bench [--json] [--gemm auto|avx2|gemm]`: measures and prints the report
/// (progress on stderr). Without `--gemm`, `DISTILLERY_GEMM` or the CPU's default decides.
pub fn run(json: bool, backend: Option<&str>) -> Result<()> {
    let backend = match backend {
        Some(text) => Backend::parse(text).map_err(|e| anyhow::anyhow!("--gemm {text}: {e}"))?,
        None => gemm::backend(),
    };
    let report = measure(backend)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.machine.describe());
        for (name, cores) in &report.cores_used {
            println!("{name:<12} {cores:>9.2} cores busy");
        }
        println!("teacher      {:>9.0} samples/s", report.teacher);
        println!("student_ce   {:>9.0} samples/s", report.student_ce);
        println!("kd_cached    {:>9.0} samples/s", report.kd_cached);
        println!("kd_online    {:>9.0} samples/s", report.kd_online);
        println!(
            "kd_cached with probes {:>9.0} samples/s ({:+.1} % vs kd_cached; {:.2} % of the epoch in probes)",
            report.kd_cached_probes,
            100.0 * (report.kd_cached_probes / report.kd_cached.max(f64::MIN_POSITIVE) - 1.0),
            100.0 * report.probe_overhead
        );
        println!("eval_teacher {:>9.1} ms", report.eval_teacher_ms);
        println!("eval_student {:>9.1} ms", report.eval_student_ms);
        for (name, g) in &report.gflops {
            let share = report
                .peak_share
                .get(name)
                .map_or(String::new(), |s| format!(" ({:.0} % of peak)", 100.0 * s));
            println!("{name:<12} {g:>9.1} GFLOP/s{share}");
        }
        for p in &report.products {
            println!("{:<52} {:>7.1} GFLOP/s", p.name, p.gflops);
        }
    }
    Ok(())
}
