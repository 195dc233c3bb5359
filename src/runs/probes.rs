//! `probes.csv`: the probe images' logits under every model at every epoch end, in long form
//! (`phase,epoch,batch,sample,model,class,logit`, one row per logit), so a run's softened
//! distributions can be replotted at any temperature and replayed epoch by epoch.
//!
//! Only epoch-end snapshots are written (epoch 0: before the first batch, or a teacher loaded
//! from a file); the throttled mid-epoch ones are for the live view only. Logits are written
//! with Rust's shortest round-trip formatting, so reading the file back gives the same numbers.

use std::path::Path;

use crate::events::{Phase, ProbeSnapshot};

use super::RunsError;

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
    [
        Phase::Teacher,
        Phase::Transfer,
        Phase::Baseline,
        Phase::Student,
    ]
    .into_iter()
    .find(|p| p.key() == key)
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
