//! The probe snapshots of one run, as the soft-targets panel reads them: the latest logits of
//! every model (for the live bars) and every epoch end (for the scrubber). Built from the
//! worker's events while a run trains, or from `probes.csv` for a finished run. Plain data.

use std::collections::BTreeMap;

use crate::events::{Phase, ProbeSnapshot};

/// A model of a run: its phase and its ensemble member (or sweep point).
pub type ModelKey = (Phase, usize);

/// Every probe snapshot of a run worth keeping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeHistory {
    /// Epoch-end snapshots, in arrival order.
    epoch_ends: Vec<ProbeSnapshot>,
    /// The newest snapshot of each model, mid-epoch ones included.
    latest: BTreeMap<ModelKey, ProbeSnapshot>,
}

impl ProbeHistory {
    /// A history of stored (epoch-end) snapshots.
    pub fn from_snapshots(snapshots: Vec<ProbeSnapshot>) -> Self {
        let mut history = Self::default();
        for s in snapshots {
            history.push(s);
        }
        history
    }

    /// Adds a snapshot; mid-epoch ones only replace the model's latest.
    pub fn push(&mut self, snapshot: ProbeSnapshot) {
        let key = (snapshot.phase, snapshot.member);
        if snapshot.epoch_end {
            self.epoch_ends.push(snapshot.clone());
        }
        self.latest.insert(key, snapshot);
    }

    /// Whether nothing has arrived.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// The probe images (test-set indices), in the order of the first snapshot that has them.
    pub fn samples(&self) -> Vec<usize> {
        let mut samples: Vec<usize> = Vec::new();
        for s in self.epoch_ends.iter().chain(self.latest.values()) {
            for i in &s.samples {
                if !samples.contains(i) {
                    samples.push(*i);
                }
            }
        }
        samples
    }

    /// The models with snapshots, ordered by phase then member.
    pub fn models(&self) -> Vec<ModelKey> {
        self.latest.keys().copied().collect()
    }

    /// The last epoch any model has finished (the scrubber's range is `0..=last_epoch`).
    pub fn last_epoch(&self) -> usize {
        self.epoch_ends.iter().map(|s| s.epoch).max().unwrap_or(0)
    }

    /// The snapshot of `model` to show: its newest one (`at: None`), or its state after epoch
    /// `at` (its last epoch end at or before `at`, so a teacher that trained fewer epochs than
    /// the students shows as finished).
    pub fn snapshot(&self, model: ModelKey, at: Option<usize>) -> Option<&ProbeSnapshot> {
        match at {
            None => self.latest.get(&model),
            Some(epoch) => self
                .epoch_ends
                .iter()
                .filter(|s| (s.phase, s.member) == model && s.epoch <= epoch)
                .max_by_key(|s| s.epoch),
        }
    }

    /// The logits of test image `sample` under `model` (see [`snapshot`](Self::snapshot)).
    pub fn logits(&self, model: ModelKey, sample: usize, at: Option<usize>) -> Option<&[f32]> {
        self.snapshot(model, at).and_then(|s| s.row(sample))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(phase: Phase, epoch: usize, batch: usize, end: bool, v: f32) -> ProbeSnapshot {
        ProbeSnapshot {
            phase,
            member: 0,
            epoch,
            batch,
            epoch_end: end,
            samples: vec![5, 9],
            logits: vec![v, 0.0, 0.0, v],
        }
    }

    #[test]
    fn latest_follows_every_snapshot_and_the_scrubber_only_epoch_ends() {
        let mut h = ProbeHistory::default();
        h.push(snap(Phase::Teacher, 0, 0, true, 1.0));
        h.push(snap(Phase::Teacher, 1, 10, true, 2.0));
        h.push(snap(Phase::Student, 0, 0, true, 3.0));
        h.push(snap(Phase::Student, 1, 10, true, 4.0));
        h.push(snap(Phase::Student, 2, 5, false, 5.0));
        let teacher = (Phase::Teacher, 0);
        let student = (Phase::Student, 0);
        assert_eq!(h.samples(), vec![5, 9]);
        assert_eq!(h.models(), vec![teacher, student]);
        assert_eq!(h.last_epoch(), 1);
        assert_eq!(h.logits(student, 5, None), Some(&[5.0, 0.0][..]));
        assert_eq!(h.logits(student, 9, None), Some(&[0.0, 5.0][..]));
        assert_eq!(h.logits(student, 5, Some(0)), Some(&[3.0, 0.0][..]));
        assert_eq!(h.logits(student, 5, Some(1)), Some(&[4.0, 0.0][..]));
        // The teacher finished at epoch 1: later epochs show it as finished.
        assert_eq!(h.logits(teacher, 5, Some(7)), Some(&[2.0, 0.0][..]));
        assert_eq!(h.logits(student, 4, None), None, "not a probe");
        let stored = ProbeHistory::from_snapshots(
            h.epoch_ends
                .iter()
                .filter(|s| s.epoch_end)
                .cloned()
                .collect(),
        );
        assert_eq!(stored.logits(student, 5, None), Some(&[4.0, 0.0][..]));
    }
}
