//! What the plane view knows of a run, folded from its [`Event::PlanePoints`] and
//! [`Event::PlaneGrid`] events: the points and each model's latest grid logits, with a
//! version number that changes whenever something new arrived, so the view re-colours only
//! then (or when T changes). Plain data, no egui.

use crate::events::{Event, Phase};

/// One model's latest grid logits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelGrid {
    /// `[grid², classes]` logits per ensemble member (students have one member); `None`
    /// for members not seen yet.
    pub members: Vec<Option<Vec<f32>>>,
    /// The epoch of the latest update.
    pub epoch: usize,
    /// Changes whenever this model's logits arrive.
    pub version: u64,
}

impl ModelGrid {
    /// The members' logits that have arrived.
    pub fn available(&self) -> Vec<&[f32]> {
        self.members.iter().flatten().map(Vec::as_slice).collect()
    }

    /// Whether any member's logits have arrived.
    pub fn is_empty(&self) -> bool {
        self.members.iter().all(Option::is_none)
    }
}

/// The plane run's points and grids as far as they have arrived.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlaneLive {
    /// Number of classes (0 until the first event).
    pub classes: usize,
    /// Cells per side of the grid (0 until the first grid).
    pub grid: usize,
    /// Training points, `[n, 2]`.
    pub train: Vec<f32>,
    /// Their labels.
    pub train_labels: Vec<u8>,
    /// How many training points (a prefix) the students see with labels.
    pub labelled: usize,
    /// Test points, `[n, 2]`.
    pub test: Vec<f32>,
    /// Their labels.
    pub test_labels: Vec<u8>,
    /// MUNGE points, `[n, 2]`.
    pub synthetic: Vec<f32>,
    /// The teacher's labels of the MUNGE points.
    pub synthetic_labels: Vec<u8>,
    /// Teacher, baseline and distilled student, in that order.
    pub models: [ModelGrid; 3],
    /// Changes whenever points or a grid arrive.
    pub version: u64,
}

/// Index in [`PlaneLive::models`] of the panel that shows member `member` of `phase`: every
/// member of an ensemble teacher (combined in its panel), but only the first student (DML's
/// other students are peers, not members of one model, and the panel shows the run's
/// distilled student). The transfer set, FitNets' hint stage (whose outputs are a teacher
/// layer, not classes) and TAKD's assistant have no panel.
pub fn model_index(phase: Phase, member: usize) -> Option<usize> {
    match (phase, member) {
        (Phase::Teacher, _) => Some(0),
        (Phase::Baseline, 0) => Some(1),
        (Phase::Student, 0) => Some(2),
        (Phase::Baseline | Phase::Student, _)
        | (Phase::Transfer | Phase::Hint | Phase::Assistant, _) => None,
    }
}

impl PlaneLive {
    /// Folds one event in (events of other kinds are ignored).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PlanePoints {
                classes,
                train,
                train_labels,
                labelled,
                test,
                test_labels,
                synthetic,
                synthetic_labels,
                ..
            } => {
                self.classes = *classes;
                self.train.clone_from(train);
                self.train_labels.clone_from(train_labels);
                self.labelled = *labelled;
                self.test.clone_from(test);
                self.test_labels.clone_from(test_labels);
                self.synthetic.clone_from(synthetic);
                self.synthetic_labels.clone_from(synthetic_labels);
                self.version += 1;
            }
            Event::PlaneGrid {
                phase,
                member,
                epoch,
                grid,
                classes,
                logits,
                ..
            } => {
                let Some(index) = model_index(*phase, *member) else {
                    return;
                };
                if *grid != self.grid || *classes != self.classes {
                    // A new grid size invalidates every model's logits.
                    self.models = Default::default();
                    self.grid = *grid;
                    self.classes = *classes;
                }
                let model = &mut self.models[index];
                if model.members.len() <= *member {
                    model.members.resize(member + 1, None);
                }
                model.members[*member] = Some(logits.clone());
                model.epoch = *epoch;
                self.version += 1;
                model.version = self.version;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(phase: Phase, member: usize, epoch: usize, value: f32) -> Event {
        Event::PlaneGrid {
            run: 1,
            phase,
            member,
            epoch,
            grid: 2,
            classes: 2,
            logits: vec![value; 8],
        }
    }

    #[test]
    fn grids_land_in_their_model_and_member_and_bump_the_version() {
        let mut live = PlaneLive::default();
        live.apply(&grid(Phase::Teacher, 1, 3, 1.0));
        assert_eq!(live.version, 1);
        assert_eq!(live.models[0].members.len(), 2);
        assert!(live.models[0].members[0].is_none());
        assert_eq!(live.models[0].available(), vec![&[1.0f32; 8][..]]);
        live.apply(&grid(Phase::Student, 0, 7, 2.0));
        assert_eq!(live.models[2].epoch, 7);
        assert_eq!(live.models[2].version, 2);
        assert_eq!(live.models[0].version, 1, "only the updated model changes");
        assert!(live.models[1].is_empty());
        live.apply(&grid(Phase::Transfer, 0, 1, 3.0));
        assert_eq!(live.version, 2, "transfer has no grid");
        // DML's second student, the hint stage and TAKD's assistant leave the panels alone.
        live.apply(&grid(Phase::Student, 1, 8, 4.0));
        live.apply(&grid(Phase::Hint, 0, 1, 5.0));
        live.apply(&grid(Phase::Assistant, 0, 1, 6.0));
        assert_eq!(live.version, 2);
        assert_eq!(live.models[2].available(), vec![&[2.0f32; 8][..]]);
        live.apply(&Event::RunCancelled { run: 1 });
        assert_eq!(live.version, 2);
    }
}
