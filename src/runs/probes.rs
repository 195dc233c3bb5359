//! `probes.csv`: the probe images' logits under every model at every epoch end, in long form
//! (`phase,epoch,batch,sample,model,class,logit`, one row per logit), so a run's softened
//! distributions can be replotted at any temperature and replayed epoch by epoch.
//!
//! Only epoch-end snapshots are written (epoch 0: before the first batch, or a teacher loaded
//! from a file); the throttled mid-epoch ones are for the live view only. Logits are written
//! with Rust's shortest round-trip formatting, so reading the file back gives the same numbers.

use std::path::Path;

use crate::events::{Phase, ProbeSnapshot};

use crate::files::FileError as RunsError;

/// Header of `probes.csv`.
pub const PROBES_HEADER: &str = "phase,epoch,batch,sample,model,class,logit";

/// The name of a snapshot's model in `probes.csv`: the phase's key for member 0 (`teacher`,
/// `baseline`, `student`), with the member's number from 2 on (`teacher-2`: the second
/// ensemble member, like `teacher-2.safetensors`; `student-2`: a sweep's second point).
pub fn model_name(phase: Phase, member: usize) -> String {
    if member == 0 {
        phase.key().to_owned()
    } else {
        format!("{}-{}", phase.key(), member + 1)
    }
}

/// The CSV text of a list of snapshots.
pub fn probes_csv(snapshots: &[ProbeSnapshot]) -> String {
    let mut out = format!("{PROBES_HEADER}\n");
    for s in snapshots {
        let model = model_name(s.phase, s.member);
        let classes = s.classes();
        for (i, sample) in s.samples.iter().enumerate() {
            for c in 0..classes {
                let logit = s.logits[i * classes + c];
                out.push_str(&format!(
                    "{},{},{},{sample},{model},{c},{logit}\n",
                    s.phase.key(),
                    s.epoch,
                    s.batch
                ));
            }
        }
    }
    out
}

/// One parsed row.
struct Row {
    phase: Phase,
    member: usize,
    epoch: usize,
    batch: usize,
    sample: usize,
    class: usize,
    logit: f32,
}

fn parse_phase(key: &str) -> Option<Phase> {
    Phase::ALL.into_iter().find(|p| p.key() == key)
}

fn parse_row(line: &str) -> Result<Row, String> {
    let f: Vec<&str> = line.split(',').collect();
    let [phase, epoch, batch, sample, model, class, logit] = f[..] else {
        return Err(format!("expected 7 fields, got {}", f.len()));
    };
    let phase = parse_phase(phase).ok_or_else(|| format!("unknown phase {phase}"))?;
    let int = |s: &str| {
        s.parse::<usize>()
            .map_err(|_| format!("not an integer: {s}"))
    };
    let member = match model.strip_prefix(phase.key()) {
        Some("") => 0,
        Some(n) => n
            .strip_prefix('-')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n >= 2)
            .map(|n| n - 1)
            .ok_or_else(|| format!("model {model} is not {}[-N]", phase.key()))?,
        None => {
            return Err(format!(
                "model {model} does not belong to phase {}",
                phase.key()
            ))
        }
    };
    Ok(Row {
        phase,
        member,
        epoch: int(epoch)?,
        batch: int(batch)?,
        sample: int(sample)?,
        class: int(class)?,
        logit: logit
            .parse::<f32>()
            .map_err(|_| format!("not a number: {logit}"))?,
    })
}

/// Parses `probes.csv` back into snapshots (every one an epoch end). Each snapshot's rows
/// must be together, sample by sample, classes in order from 0, every sample with as many.
pub fn parse_probes_csv(path: &Path, text: &str) -> Result<Vec<ProbeSnapshot>, RunsError> {
    let bad = |line: usize, what: String| RunsError::Invalid {
        path: path.to_owned(),
        problem: format!("line {line}: {what}"),
    };
    let uneven = |line: usize, counts: &[usize]| -> Result<(), RunsError> {
        match counts.iter().find(|c| **c != counts[0]) {
            Some(c) => Err(bad(
                line,
                format!("a sample has {c} classes, the first {}", counts[0]),
            )),
            None => Ok(()),
        }
    };
    let mut snapshots: Vec<ProbeSnapshot> = Vec::new();
    // How many classes each sample of the last snapshot has so far.
    let mut counts: Vec<usize> = Vec::new();
    let mut line_no = 1;
    for (i, line) in text.lines().enumerate().skip(1) {
        line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_row(line).map_err(|e| bad(line_no, e))?;
        let key = (row.phase, row.member, row.epoch, row.batch);
        let snapshot = match snapshots.last_mut() {
            Some(s) if (s.phase, s.member, s.epoch, s.batch) == key => s,
            _ => {
                uneven(line_no, &counts)?;
                counts.clear();
                snapshots.push(ProbeSnapshot {
                    phase: row.phase,
                    member: row.member,
                    epoch: row.epoch,
                    batch: row.batch,
                    epoch_end: true,
                    samples: Vec::new(),
                    logits: Vec::new(),
                });
                let last = snapshots.len() - 1;
                &mut snapshots[last]
            }
        };
        if row.class == 0 {
            snapshot.samples.push(row.sample);
            counts.push(0);
        } else if snapshot.samples.last() != Some(&row.sample) || counts.last() != Some(&row.class)
        {
            return Err(bad(
                line_no,
                format!(
                    "class {} of sample {} is out of order",
                    row.class, row.sample
                ),
            ));
        }
        snapshot.logits.push(row.logit);
        if let Some(count) = counts.last_mut() {
            *count += 1;
        }
    }
    uneven(line_no, &counts)?;
    Ok(snapshots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;
    use crate::runs::dir::RunDir;
    use crate::runs::stored::load_run;

    #[test]
    fn probes_csv_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let mut dir = RunDir::create(root.path(), &RunConfig::default()).unwrap();
        let snapshot = |phase, member, epoch, batch, logits: Vec<f32>| ProbeSnapshot {
            phase,
            member,
            epoch,
            batch,
            epoch_end: true,
            samples: vec![7, 3],
            logits,
        };
        let written = vec![
            snapshot(
                Phase::Teacher,
                0,
                0,
                0,
                vec![0.1, -2.5, 3.0e-7, 1e9, 0.0, -0.0],
            ),
            snapshot(Phase::Teacher, 1, 1, 40, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            snapshot(
                Phase::Student,
                2,
                3,
                40,
                vec![f32::MIN_POSITIVE, 1.0 / 3.0, 7.0, 8.0, 9.0, 1.5],
            ),
        ];
        for s in &written {
            dir.record_probes(s).unwrap();
        }
        let text = std::fs::read_to_string(dir.path.join("probes.csv")).unwrap();
        assert!(text.starts_with("phase,epoch,batch,sample,model,class,logit\n"));
        assert!(text.contains("\nteacher,1,40,7,teacher-2,0,1\n"), "{text}");
        assert!(
            text.contains("\nstudent,3,40,3,student-3,2,1.5\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + 3 * 2 * 3);
        assert_eq!(load_run(&dir.path).unwrap().probes, written);

        // A row out of order, or a sample with a class missing, is an error naming its line.
        let swapped = text.replacen("teacher,0,0,7,teacher,1,", "teacher,0,0,7,teacher,2,", 1);
        let e = parse_probes_csv(Path::new("p.csv"), &swapped).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3: class 2 of sample 7 is out of order"),
            "{e}"
        );
        let short: String = text
            .lines()
            .filter(|l| *l != "teacher,0,0,3,teacher,2,-0")
            .map(|l| format!("{l}\n"))
            .collect();
        let e = parse_probes_csv(Path::new("p.csv"), &short).unwrap_err();
        assert!(
            e.to_string()
                .contains("a sample has 2 classes, the first 3"),
            "{e}"
        );
    }
}
