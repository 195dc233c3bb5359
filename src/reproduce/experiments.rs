//! The paper's MNIST table as data: one entry per experiment, saying which preset it starts
//! from, where its teacher comes from, what it changes, how its runs are planned, and which
//! rows of the table it reports. `reproduce` runs the entries in this order with one loop;
//! adding a row to the table is adding an entry here.

use super::options::{Budget, Options};
use crate::config::RunConfig;

/// The temperatures of the 2×30 student's sweep (the paper finds 2.5–4 best at this size).
pub const SMALL_TEMPERATURES: [f64; 7] = [1.0, 2.0, 2.5, 3.0, 4.0, 8.0, 20.0];

/// The run whose teacher every experiment that uses it in the paper reuses, and whose
/// configuration the table's recipe describes.
pub(super) const MAIN: &str = "hinton-mnist";

/// The jittered distilled student, whose transfer set the recipe describes.
pub(super) const JITTERED: &str = "hinton-mnist-jittered";

/// Where an experiment's teacher comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Teacher {
    /// Trains the teacher that the later [`Teacher::Shared`] experiments load.
    TrainsShared,
    /// Loads the shared teacher (and trains no hard-label baseline).
    Shared,
    /// Trains a teacher of its own (the ensemble's members).
    Own,
}

/// How an experiment's configuration becomes runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Plan {
    /// One run.
    Once,
    /// On the test split, when the preset searches the bias shift: first a run on the
    /// validation split (`<name>-validation`) searches it, then the test run applies that
    /// shift. The shift is a hyperparameter, so it is never chosen on the test set.
    BiasFromValidation,
    /// One run per `--seeds`: the configuration itself, then `<name>-seed<s>` for each further
    /// seed `s`, each with its hard-label baseline (same teacher).
    Seeds,
    /// One run `<name>-t<T>` per temperature, the hard-label baseline with the first only.
    Temperatures(&'static [f64]),
}

/// Which figure of an experiment's runs a row reports (in the `ours` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Measure {
    /// The teacher's test errors.
    Teacher,
    /// The hard-label baseline's test errors (no row when the run has none).
    Baseline,
    /// The distilled student's test errors.
    Student,
    /// The student's errors and, in brackets, those on one class.
    StudentOnClass(usize),
    /// The same after the bias shift (no row without one).
    BiasOnClass(usize),
    /// The student's errors as a percentage of the test images.
    StudentPercent,
    /// The same after the bias shift (no row without one).
    BiasPercent,
    /// `mean [min–max]` of the shared run's baseline and every further seed's (no row with
    /// one seed).
    SeedBaselines,
    /// `mean [min–max]` of every seed's distilled student (no row with one seed).
    SeedStudents,
    /// The temperature whose student makes the fewest errors.
    BestTemperature,
}

/// What a row's epochs column says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Epochs {
    /// The shared teacher's epochs.
    Teacher,
    /// The baseline's epochs.
    Baseline,
    /// `teacher / student`: the shared teacher's epochs, the row's student's.
    TeacherStudent,
    /// `members × teacher / student`, for an ensemble that trains its own teacher.
    Members,
    /// The configuration's student epochs (a row over several seeds).
    Student,
}

/// One row of the table: its text with placeholders, the paper's figure, ours.
///
/// Placeholders in `label`: `{T}` the run's temperature, `{jitter}` the transfer set's
/// shifts in pixels, `{shift}` the bias shift as the paper prints it, `{n}` the number of
/// values a mean is over, `{members}` the ensemble's size, `{listing}` every temperature's
/// errors.
#[derive(Clone, Copy, Debug)]
pub(super) struct Report {
    /// The experiment column.
    pub label: &'static str,
    /// The paper's figure, as text (`"67"`, `"47.3 %"`, `"—"`).
    pub paper: &'static str,
    /// Our figure.
    pub measure: Measure,
    /// The epochs column.
    pub epochs: Epochs,
}

/// One experiment of the table.
pub(super) struct Experiment {
    /// The preset it starts from (after the budget and the split).
    pub preset: &'static str,
    /// The run's name, when it is not the preset's.
    pub name: Option<&'static str>,
    /// Where its teacher comes from.
    pub teacher: Teacher,
    /// Its own changes to the configuration, after the teacher's.
    pub change: fn(&mut RunConfig, &Options),
    /// How its configuration becomes runs.
    pub plan: Plan,
    /// The rows it reports, in the table's order.
    pub rows: &'static [Report],
}

/// No change beyond the preset's.
fn unchanged(_: &mut RunConfig, _: &Options) {}

/// The student on the jittered transfer set, with consistent teacher targets: the teacher's
/// own shifts (at most ±1 px on the quick budget).
fn jitter_like_the_teacher(config: &mut RunConfig, options: &Options) {
    config.transfer.jitter_px = config.teacher.jitter_px;
    if options.budget == Budget::Quick {
        config.transfer.jitter_px = config.transfer.jitter_px.min(1);
    }
}

/// The ensemble's students are compared with the shared baseline: none of their own.
fn no_baseline(config: &mut RunConfig, _: &Options) {
    config.student.baseline = false;
}

const fn row(label: &'static str, paper: &'static str, measure: Measure) -> Report {
    Report {
        label,
        paper,
        measure,
        epochs: Epochs::TeacherStudent,
    }
}

const fn once(preset: &'static str, rows: &'static [Report]) -> Experiment {
    Experiment {
        preset,
        name: None,
        teacher: Teacher::Shared,
        change: unchanged,
        plan: Plan::Once,
        rows,
    }
}

/// The table, in the order its experiments run and its rows print.
pub(super) const EXPERIMENTS: &[Experiment] = &[
    // The paper's main experiment: teacher, baseline, distilled at T = 20.
    Experiment {
        teacher: Teacher::TrainsShared,
        ..once(
            MAIN,
            &[
                Report {
                    epochs: Epochs::Teacher,
                    ..row("teacher 2×1200, dropout + jitter", "67", Measure::Teacher)
                },
                Report {
                    epochs: Epochs::Baseline,
                    ..row("student 2×800, hard labels", "146", Measure::Baseline)
                },
                row(
                    "student 2×800 distilled, T = {T}, unjittered transfer set (the paper's)",
                    "74",
                    Measure::Student,
                ),
            ],
        )
    },
    // The same student on the jittered transfer set, then more seeds of it and its baseline.
    Experiment {
        name: Some(JITTERED),
        change: jitter_like_the_teacher,
        plan: Plan::Seeds,
        ..once(
            MAIN,
            &[
                row(
                    "student 2×800 distilled, T = {T}, transfer set jittered ±{jitter} px (teacher on the same shift)",
                    "74",
                    Measure::Student,
                ),
                Report {
                    epochs: Epochs::Student,
                    ..row(
                        "student 2×800, hard labels: mean [range] over {n} seeds",
                        "—",
                        Measure::SeedBaselines,
                    )
                },
                Report {
                    epochs: Epochs::Student,
                    ..row(
                        "student 2×800 distilled, jittered: mean [range] over {n} seeds",
                        "—",
                        Measure::SeedStudents,
                    )
                },
            ],
        )
    },
    Experiment {
        plan: Plan::BiasFromValidation,
        ..once(
            "omit-3",
            &[
                row(
                    "distilled, all 3s omitted from transfer set",
                    "206 (133 on 3s)",
                    Measure::StudentOnClass(3),
                ),
                row(
                    "… after {shift} bias on class 3, chosen on the validation split (paper +3.5)",
                    "109 (14 on 3s)",
                    Measure::BiasOnClass(3),
                ),
            ],
        )
    },
    Experiment {
        plan: Plan::BiasFromValidation,
        ..once(
            "only-7-8",
            &[
                row(
                    "distilled, transfer set only 7s and 8s",
                    "47.3 %",
                    Measure::StudentPercent,
                ),
                row(
                    "… after {shift} bias on 7 and 8, chosen on the validation split (paper −7.6)",
                    "13.2 %",
                    Measure::BiasPercent,
                ),
            ],
        )
    },
    once(
        "logit-l2",
        &[row(
            "student 2×800, logit matching L2 (Ba & Caruana)",
            "—",
            Measure::Student,
        )],
    ),
    once(
        "noisy-teacher",
        &[row(
            "student 2×800, noisy teacher (Sau & Balasubramanian)",
            "—",
            Measure::Student,
        )],
    ),
    once(
        "munge",
        &[row(
            "student 2×800, MUNGE model compression (Buciluă)",
            "—",
            Measure::Student,
        )],
    ),
    Experiment {
        teacher: Teacher::Own,
        change: no_baseline,
        ..once(
            "ensemble",
            &[
                Report {
                    epochs: Epochs::Members,
                    ..row("ensemble of {members} teachers (2×800)", "—", Measure::Teacher)
                },
                Report {
                    epochs: Epochs::Members,
                    ..row(
                        "student 2×800 distilled from the ensemble",
                        "—",
                        Measure::Student,
                    )
                },
            ],
        )
    },
    // The 2×30 student at each temperature (its hard-label baseline once, with the first).
    Experiment {
        plan: Plan::Temperatures(&SMALL_TEMPERATURES),
        ..once(
            "small-30",
            &[
                row(
                    "2×30 student: best T ({listing})",
                    "2.5 – 4",
                    Measure::BestTemperature,
                ),
                row("2×30 student, hard labels", "—", Measure::Baseline),
            ],
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preset named exists, the shared teacher is trained before anything loads it,
    /// and the recipe's two runs are in the table.
    #[test]
    fn the_table_names_real_presets_and_trains_the_shared_teacher_first() {
        for e in EXPERIMENTS {
            assert!(crate::presets::find(e.preset).is_some(), "{}", e.preset);
        }
        assert_eq!(EXPERIMENTS[0].teacher, Teacher::TrainsShared);
        assert_eq!(EXPERIMENTS[0].preset, MAIN);
        assert!(EXPERIMENTS[1..]
            .iter()
            .all(|e| e.teacher != Teacher::TrainsShared));
        assert!(EXPERIMENTS.iter().any(|e| e.name == Some(JITTERED)));
    }
}
