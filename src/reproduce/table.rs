//! The table as text: `results.md` (a header saying how it was made, the recipe, the rows)
//! and `results.csv` (the same rows with the seed and each run folder).

use std::fmt::Write as _;

use super::options::{Options, Split, VALIDATION_SIZE};
use super::rows::Row;
use crate::config::{OptimConfig, RunConfig};
use crate::files::csv_text;

/// `adamw lr 0.001, cosine to 0, warm-up 2 epochs, batch 128`.
pub(super) fn describe_optim(o: &OptimConfig) -> String {
    let mut text = format!("{:?} lr {}", o.kind, o.lr).to_lowercase();
    if o.kind == crate::config::OptimizerKind::Sgd {
        let _ = write!(text, " momentum {}", o.momentum);
    }
    if o.weight_decay > 0.0 {
        let _ = write!(text, " weight decay {}", o.weight_decay);
    }
    let schedule = format!("{:?}", o.schedule).to_lowercase();
    if o.final_lr_fraction > 0.0 {
        let _ = write!(text, ", {schedule} to {}× lr", o.final_lr_fraction);
    } else {
        let _ = write!(text, ", {schedule} to 0");
    }
    let _ = write!(
        text,
        ", warm-up {} epoch{}, batch {}",
        o.warmup_epochs,
        if o.warmup_epochs == 1.0 { "" } else { "s" },
        o.batch_size
    );
    if o.ema_decay > 0.0 {
        let _ = write!(
            text,
            "; the weights' moving average (decay {}) evaluated",
            o.ema_decay
        );
    }
    text
}

/// The recipe of the main run, as the table's readers need it.
pub(super) fn recipe(main: &RunConfig, jittered: &RunConfig) -> Vec<String> {
    let t = &main.teacher;
    let s = &main.student;
    vec![
        format!(
            "teacher {:?}: {} epochs, {}; dropout {} input / {} hidden, max-norm {}, ±{} px shifts",
            t.hidden,
            t.epochs,
            describe_optim(&t.optim),
            t.dropout_input,
            t.dropout_hidden,
            t.max_norm,
            t.jitter_px
        ),
        format!(
            "students {:?} (baseline and distilled): {} epochs, {}; no dropout, no max-norm",
            s.hidden,
            s.epochs,
            describe_optim(&s.optim)
        ),
        format!(
            "distilled: T = {}, α = {} (soft term × T²); jittered transfer set: ±{} px, the teacher's logits cached for each shift",
            main.distill.temperature, main.distill.alpha, jittered.transfer.jitter_px
        ),
    ]
}

/// What the table's header says about how it was made.
pub(super) struct Header {
    /// What was asked for.
    pub options: Options,
    /// The main run's seed.
    pub seed: u64,
    /// Wall time of the whole table.
    pub total_secs: f64,
    /// Runs reused from an earlier attempt.
    pub reused: usize,
    /// The main run's recipe, one line each.
    pub recipe: Vec<String>,
}

/// A one-line description of this machine (CPU model and core count).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

/// How a table was made, as its header's first line: the command in backticks, `facts` (the
/// seeds), this machine and the total wall time, joined by ` · `, e.g. ``"`distillery
/// reproduce --budget quick --split test` · seed 42 · AMD EPYC, 2 cores, x86_64 · total 3.1
/// min"``, with how many runs were reused from an earlier attempt.
pub(super) fn provenance(
    command: &str,
    facts: &[String],
    total_secs: f64,
    reused: usize,
) -> String {
    let mut parts = vec![format!("`{command}`")];
    parts.extend(facts.iter().cloned());
    parts.push(machine());
    parts.push(format!("total {:.1} min", total_secs / 60.0));
    let mut line = parts.join(" · ");
    if reused > 0 {
        let _ = write!(line, " ({reused} runs reused from an earlier attempt)");
    }
    line
}

/// The text of `results.md`.
pub(super) fn markdown(rows: &[Row], h: &Header) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Hinton et al. (2015) MNIST table, reproduced\n");
    let seeds = if h.options.seeds > 1 {
        format!(" --seeds {}", h.options.seeds)
    } else {
        String::new()
    };
    let command = format!(
        "distillery reproduce --budget {} --split {}{seeds}{}",
        h.options.budget.key(),
        h.options.split.key(),
        h.options.overrides_args()
    );
    let facts = [format!("seed {}", h.seed)];
    let _ = writeln!(
        out,
        "{}\n",
        provenance(&command, &facts, h.total_secs, h.reused)
    );
    let _ = match h.options.split {
        Split::Test => writeln!(
            out,
            "Errors on the 10,000 test images (out of 10,000 unless marked %), each model as it \
             stands after its last epoch. Every hyperparameter was chosen with `--split \
             validation` (trained on the first 50,000 training images, errors counted on the \
             last 10,000), never on the test set.\n"
        ),
        Split::Validation => writeln!(
            out,
            "Errors on the validation split: trained on the first 50,000 training images, \
             errors counted on the last {VALIDATION_SIZE} (out of 10,000 unless marked %), \
             after the last epoch. This is the table the hyperparameters are chosen on; the \
             test images are not used.\n"
        ),
    };
    let _ = writeln!(out, "Recipe:\n");
    for line in &h.recipe {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| experiment | paper | ours | epochs (teacher / student) | wall time |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} s |",
            r.experiment, r.paper, r.ours, r.epochs, r.seconds
        );
    }
    out
}

/// The text of `results.csv`: one row per experiment, the seed and the run folder.
pub(super) fn csv(rows: &[Row], seed: u64) -> String {
    let header = [
        "experiment",
        "paper",
        "ours",
        "epochs",
        "wall_secs",
        "seed",
        "run_dir",
    ]
    .map(str::to_owned);
    csv_text(std::iter::once(header).chain(rows.iter().map(|r| {
        [
            r.experiment.clone(),
            r.paper.clone(),
            r.ours.clone(),
            r.epochs.clone(),
            format!("{:.1}", r.seconds),
            seed.to_string(),
            r.dir.display().to_string(),
        ]
    })))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The table's cells (commas, quotes, the en dash and the multiplication sign of the
    /// experiment names) come back unchanged when `results.csv` is read as CSV.
    #[test]
    fn results_csv_round_trips_through_a_csv_reader() {
        #[derive(serde::Deserialize)]
        struct Read {
            experiment: String,
            paper: String,
            ours: String,
            epochs: String,
            wall_secs: f64,
            seed: u64,
            run_dir: PathBuf,
        }
        let rows = [
            Row {
                experiment: "distilled, all 3s omitted".into(),
                paper: "206 (133 on 3s)".into(),
                ours: "210 (140 on 3s)".into(),
                epochs: "8 / 4".into(),
                seconds: 12.34,
                dir: PathBuf::from("/runs/a,b \"c\""),
            },
            Row {
                experiment: "2×30 student: best T (T=1: 9, T=2.5: 7)".into(),
                paper: "2.5 – 4".into(),
                ours: "T = 2.5".into(),
                epochs: "8 / 4".into(),
                seconds: 3.0,
                dir: PathBuf::from("/runs/plain"),
            },
        ];
        let read: Vec<Read> =
            crate::files::read_csv(Path::new("results.csv"), &csv(&rows, 42)).unwrap();
        assert_eq!(read.len(), rows.len());
        for (r, row) in read.iter().zip(&rows) {
            assert_eq!(
                (&r.experiment, &r.paper, &r.ours, &r.epochs, &r.run_dir),
                (
                    &row.experiment,
                    &row.paper,
                    &row.ours,
                    &row.epochs,
                    &row.dir
                )
            );
            assert_eq!(r.seed, 42);
            assert!((r.wall_secs - row.seconds).abs() <= 0.05);
        }
    }
}
