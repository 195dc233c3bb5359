//! From an experiment's runs to the table's rows: what each [`Report`] of the table measures,
//! its label with the placeholders filled in, its epochs, wall time and run folder.

use std::path::{Path, PathBuf};

use super::experiments::{Epochs, Measure, Report};
use crate::config::RunConfig;
use crate::events::RunSummary;

/// One row of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    /// What was measured.
    pub experiment: String,
    /// The paper's figure, as text (`"67"`, `"47.3 %"`, `"—"`).
    pub paper: String,
    /// Our figure, as text.
    pub ours: String,
    /// Epochs trained (teacher / student).
    pub epochs: String,
    /// Wall time of the run that produced it.
    pub seconds: f64,
    /// The run folder.
    pub dir: PathBuf,
}

/// What one experiment ran, with what its rows need from the rest of the table.
pub(super) struct Outcome<'a> {
    /// Its configuration (before its plan's per-run changes).
    pub config: &'a RunConfig,
    /// Its runs, in its plan's order (never empty).
    pub runs: &'a [RunSummary],
    /// The temperatures of a temperature plan, one per run (else empty).
    pub temperatures: &'a [f64],
    /// The run that trained the shared teacher (this experiment's own, for the first).
    pub shared: &'a RunSummary,
    /// The folder of every run folder, for the rows over several runs.
    pub runs_dir: &'a Path,
}

/// A measured figure, with the run it comes from and what the label may quote.
struct Measured<'a> {
    ours: String,
    run: &'a RunSummary,
    seconds: f64,
    dir: PathBuf,
    /// How many values a mean is over (`{n}`).
    count: usize,
    /// The bias shift applied (`{shift}`).
    shift: Option<f64>,
}

fn errors_pct(errors: usize, n: usize) -> String {
    format!("{:.1} %", 100.0 * errors as f64 / n.max(1) as f64)
}

fn on_class(per_class: &[usize], class: usize) -> usize {
    per_class.get(class).copied().unwrap_or(0)
}

/// A signed figure (a bias shift, a difference of errors) as the paper prints one: `+0.9`,
/// `−2.8` (a minus sign, not a hyphen).
pub(super) fn signed(shift: f64) -> String {
    format!("{shift:+.1}").replace('-', "−")
}

/// `mean [min–max]` of error counts.
pub(super) fn mean_range(values: &[usize]) -> String {
    let mean = values.iter().sum::<usize>() as f64 / values.len().max(1) as f64;
    let min = values.iter().min().copied().unwrap_or(0);
    let max = values.iter().max().copied().unwrap_or(0);
    format!("{mean:.1} [{min}–{max}]")
}

impl<'a> Outcome<'a> {
    /// The experiment's rows, in order; a row whose figure does not exist here (no baseline,
    /// no bias search, a single seed) is left out.
    pub fn rows(&self, reports: &[Report]) -> Vec<Row> {
        reports.iter().filter_map(|r| self.row(r)).collect()
    }

    fn row(&self, report: &Report) -> Option<Row> {
        let m = self.measure(report.measure)?;
        Some(Row {
            experiment: self.label(report.label, &m),
            paper: report.paper.to_owned(),
            ours: m.ours.clone(),
            epochs: self.epochs(report.epochs, m.run),
            seconds: m.seconds,
            dir: m.dir.clone(),
        })
    }

    fn first(&self) -> &'a RunSummary {
        &self.runs[0]
    }

    /// A figure of the first run, with that run's time and folder.
    fn of_first(&self, ours: String) -> Measured<'a> {
        let run = self.first();
        Measured {
            ours,
            run,
            seconds: run.duration_secs,
            dir: run.dir.clone(),
            count: 1,
            shift: None,
        }
    }

    /// `mean [min–max]` of `values`, timed over the further seeds' runs.
    fn over_seeds(&self, values: Vec<usize>) -> Option<Measured<'a>> {
        let further = self.runs.get(1..).filter(|r| !r.is_empty())?;
        Some(Measured {
            ours: mean_range(&values),
            run: self.first(),
            seconds: further.iter().map(|s| s.duration_secs).sum(),
            dir: self.runs_dir.to_owned(),
            count: values.len(),
            shift: None,
        })
    }

    fn measure(&self, measure: Measure) -> Option<Measured<'a>> {
        let first = self.first();
        let student = &first.student;
        let with_shift = |m: Measured<'a>| Measured {
            shift: first.bias.as_ref().map(|b| b.shift),
            ..m
        };
        Some(match measure {
            Measure::Teacher => self.of_first(first.teacher.test_errors.to_string()),
            Measure::Baseline => self.of_first(first.baseline.as_ref()?.test_errors.to_string()),
            Measure::Student => self.of_first(student.test_errors.to_string()),
            Measure::StudentOnClass(class) => self.of_first(format!(
                "{} ({} on {class}s)",
                student.test_errors,
                on_class(&student.per_class_errors, class)
            )),
            Measure::BiasOnClass(class) => {
                let b = first.bias.as_ref()?;
                with_shift(self.of_first(format!(
                    "{} ({} on {class}s)",
                    b.test_errors,
                    on_class(&b.per_class_errors, class)
                )))
            }
            Measure::StudentPercent => {
                self.of_first(errors_pct(student.test_errors, student.test_n))
            }
            Measure::BiasPercent => {
                let b = first.bias.as_ref()?;
                with_shift(self.of_first(errors_pct(b.test_errors, student.test_n)))
            }
            Measure::SeedBaselines => {
                let shared = self.shared.baseline.iter();
                let further = self.runs[1..].iter().filter_map(|s| s.baseline.as_ref());
                let values = shared.chain(further).map(|b| b.test_errors).collect();
                self.over_seeds(values)?
            }
            Measure::SeedStudents => {
                self.over_seeds(self.runs.iter().map(|s| s.student.test_errors).collect())?
            }
            Measure::BestTemperature => {
                let (t, best) = self
                    .temperatures
                    .iter()
                    .zip(self.runs)
                    .min_by_key(|(_, s)| s.student.test_errors)?;
                Measured {
                    ours: format!("T = {t}"),
                    run: best,
                    seconds: self.runs.iter().map(|s| s.duration_secs).sum(),
                    dir: best.dir.clone(),
                    count: 1,
                    shift: None,
                }
            }
        })
    }

    /// `label` with its placeholders (see [`Report`]) filled in.
    fn label(&self, label: &str, m: &Measured<'_>) -> String {
        let mut text = label
            .replace("{T}", &m.run.temperature.to_string())
            .replace("{jitter}", &self.config.transfer.jitter_px.to_string())
            .replace("{n}", &m.count.to_string())
            .replace("{members}", &self.config.teacher.ensemble.to_string());
        if let Some(shift) = m.shift {
            text = text.replace("{shift}", &signed(shift));
        }
        if text.contains("{listing}") {
            let listing: Vec<String> = self
                .temperatures
                .iter()
                .zip(self.runs)
                .map(|(t, s)| format!("T={t}: {}", s.student.test_errors))
                .collect();
            text = text.replace("{listing}", &listing.join(", "));
        }
        text
    }

    fn epochs(&self, epochs: Epochs, run: &RunSummary) -> String {
        let teacher = self.shared.teacher.epochs;
        match epochs {
            Epochs::Teacher => format!("{teacher}"),
            Epochs::Baseline => run
                .baseline
                .as_ref()
                .map_or_else(String::new, |b| format!("{}", b.epochs)),
            Epochs::TeacherStudent => format!("{teacher} / {}", run.student.epochs),
            Epochs::Members => format!(
                "{} × {} / {}",
                self.config.teacher.ensemble, run.teacher.epochs, run.student.epochs
            ),
            Epochs::Student => format!("{}", self.config.student.epochs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::events::{BiasResult, PhaseResult};

    fn summary(dir: &str, student_errors: usize, baseline: Option<usize>) -> RunSummary {
        let phase = |errors: usize, epochs: usize| PhaseResult {
            test_errors: errors,
            per_class_errors: vec![errors / 2, 0, 0, errors - errors / 2],
            test_n: 10_000,
            epochs,
            ..PhaseResult::default()
        };
        RunSummary {
            name: dir.into(),
            dir: dir.into(),
            method: "hinton".into(),
            temperature: 20.0,
            alpha: 0.9,
            seed: 42,
            teacher: phase(70, 100),
            baseline: baseline.map(|b| phase(b, 60)),
            student: phase(student_errors, 60),
            bias: None,
            assistant: None,
            peers: Vec::new(),
            transfer_size: 60_000,
            duration_secs: 10.0,
            started: String::new(),
        }
    }

    fn report(label: &'static str, measure: Measure, epochs: Epochs) -> Report {
        Report {
            label,
            paper: "p",
            measure,
            epochs,
        }
    }

    /// The placeholders are filled from the right runs, a mean over seeds covers the shared
    /// baseline and every further seed, and a figure that does not exist leaves its row out.
    #[test]
    fn rows_fill_their_labels_from_the_runs_and_skip_missing_figures() {
        let shared = summary("main", 74, Some(146));
        let mut config = RunConfig::default();
        config.transfer.jitter_px = 2;
        config.student.epochs = 60;
        let mut jittered = summary("jit", 67, None);
        jittered.bias = Some(BiasResult {
            classes: vec![3],
            shift: -2.84,
            test_errors: 60,
            per_class_errors: vec![0, 0, 0, 9],
        });
        let runs = [
            jittered,
            summary("s43", 70, Some(140)),
            summary("s44", 64, Some(150)),
        ];
        let outcome = Outcome {
            config: &config,
            runs: &runs,
            temperatures: &[],
            shared: &shared,
            runs_dir: Path::new("runs"),
        };
        let rows = outcome.rows(&[
            report(
                "T = {T}, ±{jitter} px",
                Measure::Student,
                Epochs::TeacherStudent,
            ),
            report("hard: {n} seeds", Measure::SeedBaselines, Epochs::Student),
            report(
                "distilled: {n} seeds",
                Measure::SeedStudents,
                Epochs::Student,
            ),
            report(
                "after {shift}",
                Measure::BiasOnClass(3),
                Epochs::TeacherStudent,
            ),
            report("own baseline", Measure::Baseline, Epochs::Baseline),
        ]);
        let text: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.experiment.as_str(), r.ours.as_str(), r.epochs.as_str()))
            .collect();
        assert_eq!(
            text,
            [
                ("T = 20, ±2 px", "67", "100 / 60"),
                ("hard: 3 seeds", "145.3 [140–150]", "60"),
                ("distilled: 3 seeds", "67.0 [64–70]", "60"),
                ("after −2.8", "60 (9 on 3s)", "100 / 60"),
            ]
        );
        assert_eq!(rows[1].seconds, 20.0, "the further seeds' time");
        assert_eq!(rows[1].dir, Path::new("runs"));
        assert_eq!(rows[0].dir, Path::new("jit"));

        // One seed: no mean rows.
        let one = Outcome {
            runs: &runs[..1],
            ..outcome
        };
        let means = [
            report("mean", Measure::SeedBaselines, Epochs::Student),
            report("mean", Measure::SeedStudents, Epochs::Student),
        ];
        assert!(one.rows(&means).is_empty());

        // A temperature sweep: the best (the first of a tie) with the whole sweep's time.
        let points = [
            summary("t1", 9, Some(12)),
            summary("t2", 7, None),
            summary("t3", 7, None),
        ];
        let sweep = Outcome {
            runs: &points,
            temperatures: &[1.0, 2.5, 4.0],
            ..outcome
        };
        let rows = sweep.rows(&[
            report(
                "best ({listing})",
                Measure::BestTemperature,
                Epochs::TeacherStudent,
            ),
            report("hard", Measure::Baseline, Epochs::TeacherStudent),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].experiment, "best (T=1: 9, T=2.5: 7, T=4: 7)");
        assert_eq!((rows[0].ours.as_str(), rows[0].seconds), ("T = 2.5", 30.0));
        assert_eq!(rows[0].dir, Path::new("t2"));
        assert_eq!(
            (rows[1].ours.as_str(), rows[1].dir.as_path()),
            ("12", Path::new("t1"))
        );
    }

    #[test]
    fn mean_range_of_error_counts() {
        assert_eq!(mean_range(&[70, 64, 67]), "67.0 [64–70]");
        assert_eq!(mean_range(&[5]), "5.0 [5–5]");
    }

    #[test]
    fn shifts_are_signed_as_the_paper_prints_them() {
        assert_eq!(signed(3.46), "+3.5");
        assert_eq!(signed(-7.6), "−7.6");
    }
}
