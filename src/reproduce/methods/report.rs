//! The methods table as text: `results.md` (how it was made, the recipe, then one table per
//! student size: each method's chosen setting with every candidate's validation errors, its
//! test errors over the seeds, the difference from the hard-label baseline and its wall time)
//! and `results.csv` (one line per run, validation and test alike).

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::files::csv_text;
use crate::reproduce::rows::{mean_range, signed};
use crate::reproduce::table::provenance;

/// One run as the table reports it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RunLine {
    /// Its seed.
    pub seed: u64,
    /// Errors after the last epoch, on the run's evaluation images.
    pub errors: usize,
    /// Wall time of the method's part of the run.
    pub seconds: f64,
    /// The run folder.
    pub dir: PathBuf,
}

/// One candidate setting and its validation run.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    /// The setting, as printed (`temperature=4`).
    pub setting: String,
    /// Its run on the validation split.
    pub run: RunLine,
}

/// One row: a method (or the baseline) on one student size.
#[derive(Clone, Debug)]
pub(super) struct MethodRow {
    /// The method's key (`hinton`), `baseline` for the hard-label student.
    pub method: String,
    /// What it is (`soft targets (Hinton et al. 2015)`).
    pub label: String,
    /// Every candidate with its validation run, in the grid's order (none for the baseline).
    pub candidates: Vec<Candidate>,
    /// The index of the chosen candidate (`None` for the baseline).
    pub chosen: Option<usize>,
    /// The chosen setting's test runs, one per seed.
    pub tests: Vec<RunLine>,
}

impl MethodRow {
    /// The setting the test runs used.
    fn setting(&self) -> &str {
        self.chosen
            .and_then(|i| self.candidates.get(i))
            .map_or("hard labels", |c| c.setting.as_str())
    }

    fn test_errors(&self) -> Vec<usize> {
        self.tests.iter().map(|r| r.errors).collect()
    }

    fn mean_errors(&self) -> f64 {
        let errors = self.test_errors();
        errors.iter().sum::<usize>() as f64 / errors.len().max(1) as f64
    }
}

/// The rows of one student size; the first is the baseline.
#[derive(Clone, Debug)]
pub(super) struct StudentTable {
    /// The student's name (`2×800`).
    pub student: &'static str,
    /// Every run's student epochs.
    pub epochs: usize,
    /// The baseline, then the methods in the grid's order.
    pub rows: Vec<MethodRow>,
}

/// What the header says about how the tables were made.
pub(super) struct Header {
    /// The command line, as typed.
    pub command: String,
    /// The test runs' seeds.
    pub seeds: Vec<u64>,
    /// Wall time of everything.
    pub total_secs: f64,
    /// Runs reused from an earlier attempt.
    pub reused: usize,
    /// The recipe, one line each.
    pub recipe: Vec<String>,
}

/// The text of `results.md`.
pub(super) fn markdown(tables: &[StudentTable], h: &Header) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Nine ways to distil, side by side on MNIST\n");
    let seeds: Vec<String> = h.seeds.iter().map(u64::to_string).collect();
    let facts = [format!("test seeds {}", seeds.join(", "))];
    let _ = writeln!(
        out,
        "{}\n",
        provenance(&h.command, &facts, h.total_secs, h.reused)
    );
    let _ = writeln!(
        out,
        "Each method's setting is chosen on the validation split (trained on the first 50,000 \
         training images, errors counted on the last 10,000), one run per candidate with the \
         first seed; the candidate with the fewest validation errors (the first of a tie) is \
         then run on the test split once per seed. Errors are those of the model as it stands \
         after its last epoch. The wall time is that of the test runs (the baseline's part of \
         the runs it shares with the first method counted as the baseline's).\n"
    );
    let _ = writeln!(out, "Recipe:\n");
    for line in &h.recipe {
        let _ = writeln!(out, "- {line}");
    }
    for table in tables {
        student_markdown(&mut out, table, h.seeds.len());
    }
    out
}

/// One student size's section.
fn student_markdown(out: &mut String, table: &StudentTable, seeds: usize) {
    let _ = writeln!(
        out,
        "\n## Student {}, {} epoch{}\n",
        table.student,
        table.epochs,
        if table.epochs == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "| method | setting: validation errors (chosen in bold) | test errors: mean [min–max] over {seeds} seed{} | vs baseline | wall time: test runs (per run) |",
        if seeds == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let baseline = table.rows.first().map(MethodRow::mean_errors);
    for row in &table.rows {
        let versus = match (baseline, row.chosen) {
            (Some(b), Some(_)) => signed(row.mean_errors() - b),
            _ => "—".to_owned(),
        };
        let seconds: f64 = row.tests.iter().map(|r| r.seconds).sum();
        let _ = writeln!(
            out,
            "| {}: {} | {} | {} | {versus} | {} ({}) |",
            row.method,
            row.label,
            candidates_cell(row),
            mean_range(&row.test_errors()),
            duration(seconds),
            duration(seconds / row.tests.len().max(1) as f64)
        );
    }
    let _ = writeln!(out, "\n{}", verdict(table));
}

/// `12 s`, or `0.4 s` below ten seconds (the narrow student's runs), so no time reads as 0.
fn duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else {
        format!("{seconds:.0} s")
    }
}

/// `**temperature=4**: 120 · temperature=20: 131`, or `—` for the baseline.
fn candidates_cell(row: &MethodRow) -> String {
    if row.candidates.is_empty() {
        return "—".to_owned();
    }
    let cells: Vec<String> = row
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if Some(i) == row.chosen {
                format!("**{}**: {}", c.setting, c.run.errors)
            } else {
                format!("{}: {}", c.setting, c.run.errors)
            }
        })
        .collect();
    cells.join(" · ")
}

/// Which methods' means beat the baseline's, and which beat soft targets' (the first method).
fn verdict(table: &StudentTable) -> String {
    let Some((baseline, methods)) = table.rows.split_first() else {
        return String::new();
    };
    let names = |keep: &dyn Fn(&MethodRow) -> bool| {
        let kept: Vec<&str> = methods
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.method.as_str())
            .collect();
        if kept.is_empty() {
            "none".to_owned()
        } else {
            kept.join(", ")
        }
    };
    let b = baseline.mean_errors();
    let mut text = format!(
        "Mean below the baseline's: {}; not below: {}.",
        names(&|r| r.mean_errors() < b),
        names(&|r| r.mean_errors() >= b)
    );
    if let Some((soft, others)) = methods.split_first() {
        let s = soft.mean_errors();
        let beat: Vec<&str> = others
            .iter()
            .filter(|r| r.mean_errors() < s)
            .map(|r| r.method.as_str())
            .collect();
        let _ = write!(
            text,
            " Mean below {}'s: {}.",
            soft.method,
            if beat.is_empty() {
                "none".to_owned()
            } else {
                beat.join(", ")
            }
        );
    }
    text
}

/// The text of `results.csv`: one line per run, validation candidates first, then each
/// row's test runs.
pub(super) fn csv(tables: &[StudentTable]) -> String {
    let header = [
        "method", "student", "split", "seed", "setting", "errors", "seconds", "run_dir",
    ]
    .map(str::to_owned);
    let line = |table: &StudentTable, row: &MethodRow, split: &str, setting: &str, r: &RunLine| {
        [
            row.method.clone(),
            table.student.to_owned(),
            split.to_owned(),
            r.seed.to_string(),
            setting.to_owned(),
            r.errors.to_string(),
            format!("{:.1}", r.seconds),
            r.dir.display().to_string(),
        ]
    };
    let mut lines = vec![header];
    for table in tables {
        for row in &table.rows {
            for c in &row.candidates {
                lines.push(line(table, row, "validation", &c.setting, &c.run));
            }
            for r in &row.tests {
                lines.push(line(table, row, "test", row.setting(), r));
            }
        }
    }
    csv_text(lines)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn run(seed: u64, errors: usize) -> RunLine {
        RunLine {
            seed,
            errors,
            seconds: 10.0,
            dir: PathBuf::from(format!("/runs/r{seed}-{errors}, \"q\"")),
        }
    }

    fn table() -> StudentTable {
        let row = |method: &str, val: [usize; 2], chosen: usize, tests: [usize; 2]| MethodRow {
            method: method.into(),
            label: format!("{method}, α 0.9"),
            candidates: val
                .iter()
                .enumerate()
                .map(|(i, &e)| Candidate {
                    setting: format!("temperature={}", 4 * (i + 1)),
                    run: run(42, e),
                })
                .collect(),
            chosen: Some(chosen),
            tests: vec![run(42, tests[0]), run(43, tests[1])],
        };
        StudentTable {
            student: "2×800",
            epochs: 10,
            rows: vec![
                MethodRow {
                    method: "baseline".into(),
                    label: "hard labels".into(),
                    candidates: Vec::new(),
                    chosen: None,
                    tests: vec![run(42, 140), run(43, 150)],
                },
                row("hinton", [120, 130], 0, [80, 90]),
                row("dkd", [125, 118], 1, [70, 76]),
                row("dml", [150, 150], 0, [150, 152]),
            ],
        }
    }

    /// Each row says its chosen setting in bold beside every candidate's validation errors,
    /// its mean and range over seeds, its signed difference from the baseline's mean, and
    /// which methods beat the baseline and soft targets.
    #[test]
    fn the_markdown_table_has_a_row_per_method_with_its_choice_and_difference() {
        let header = Header {
            command: "distillery reproduce --paper methods --budget quick --seeds 2".into(),
            seeds: vec![42, 43],
            total_secs: 90.0,
            reused: 0,
            recipe: vec!["students: AdamW".into()],
        };
        let mut table = table();
        table.rows[3].tests[0].seconds = 0.25;
        let text = markdown(&[table], &header);
        assert!(text.contains("`distillery reproduce --paper methods --budget quick --seeds 2` · test seeds 42, 43 · "), "{text}");
        assert!(text.contains("total 1.5 min"), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 1 + 4, "{text}");
        assert_eq!(
            rows[1],
            "| baseline: hard labels | — | 145.0 [140–150] | — | 20 s (10 s) |"
        );
        assert_eq!(
            rows[2],
            "| hinton: hinton, α 0.9 | **temperature=4**: 120 · temperature=8: 130 | 85.0 [80–90] | −60.0 | 20 s (10 s) |"
        );
        assert!(
            rows[3].contains("temperature=4: 125 · **temperature=8**: 118 | 73.0 [70–76] | −72.0")
        );
        assert!(rows[4].ends_with("| +6.0 | 10 s (5.1 s) |"), "{}", rows[4]);
        assert!(text.contains(
            "Mean below the baseline's: hinton, dkd; not below: dml. Mean below hinton's: dkd."
        ));
    }

    /// `results.csv` has one line per run (2 validation and 2 test runs per method, 2 test
    /// runs of the baseline), and its cells come back unchanged through a CSV reader.
    #[test]
    fn results_csv_has_a_line_per_run_and_round_trips() {
        #[derive(serde::Deserialize)]
        struct Read {
            method: String,
            student: String,
            split: String,
            seed: u64,
            setting: String,
            errors: usize,
            seconds: f64,
            run_dir: PathBuf,
        }
        let text = csv(&[table()]);
        let read: Vec<Read> = crate::files::read_csv(Path::new("results.csv"), &text).unwrap();
        assert_eq!(read.len(), 2 + 3 * 4);
        let b = &read[0];
        assert_eq!(
            (b.method.as_str(), b.split.as_str(), b.setting.as_str()),
            ("baseline", "test", "hard labels")
        );
        let dkd: Vec<&Read> = read.iter().filter(|r| r.method == "dkd").collect();
        assert_eq!(
            dkd.iter()
                .map(|r| (r.split.as_str(), r.setting.as_str(), r.seed, r.errors))
                .collect::<Vec<_>>(),
            [
                ("validation", "temperature=4", 42, 125),
                ("validation", "temperature=8", 42, 118),
                ("test", "temperature=8", 42, 70),
                ("test", "temperature=8", 43, 76),
            ]
        );
        assert!(read
            .iter()
            .all(|r| r.student == "2×800" && r.seconds == 10.0));
        assert_eq!(dkd[0].run_dir, Path::new("/runs/r42-125, \"q\""));
    }
}
