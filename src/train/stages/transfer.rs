//! The transfer-set stage: the students' examples (class filter, MUNGE synthetic examples)
//! with the teacher's logits computed once per run and cached for every shift view, so the
//! distilled student's epochs never run the teacher again.

use crate::data::dataset::Dataset;
use crate::data::transfer::{filter_classes, munge};
use crate::distill::methods;
use crate::distill::targets::TeacherOutputs;
use crate::events::{Event, Phase};
use crate::model::mlp::Mlp;
use crate::train::error::TrainError;
use crate::train::session::Session;
use crate::train::stages::teacher::Teacher;
use crate::train::views::{shift_views, view_shift};

/// The transfer set with the teacher's cached logits on it.
pub struct TransferSet {
    /// The examples (real, then MUNGE synthetic).
    pub set: Dataset,
    /// How many of them are real training examples.
    pub real: usize,
    /// The students see each example shifted by up to this many pixels (`transfer.jitter_px`),
    /// and the teacher's logits are cached for every such shift.
    pub jitter_px: usize,
    /// Each member's logits, `[views · n, classes]`: row `view · n + i` is example `i` under
    /// shift `view` ([`crate::train::views::shift_view`]); one view (the unshifted images)
    /// when `jitter_px` is 0.
    pub member_logits: Vec<Vec<f32>>,
    /// Each member's output of the hidden layer the method reads
    /// ([`crate::distill::methods::DistillMethod::teacher_layer`]) on the same rows,
    /// `[views · n, width]`; empty when it reads none.
    pub member_features: Vec<Vec<f32>>,
    /// The teacher's hidden widths (its first member's).
    pub teacher_hidden: Vec<usize>,
}

impl TransferSet {
    /// Number of shift views the logits are cached for.
    pub fn views(&self) -> usize {
        shift_views(self.jitter_px)
    }

    /// Number of target rows: one per example and view.
    pub fn rows(&self) -> usize {
        self.views() * self.set.len()
    }

    /// Number of classes of the teacher's logits.
    pub fn classes(&self) -> usize {
        self.member_logits
            .first()
            .map_or(0, |logits| logits.len() / self.rows().max(1))
    }

    /// What a distillation method builds its targets from.
    pub fn teacher_outputs(&self, combine: crate::config::EnsembleCombine) -> TeacherOutputs<'_> {
        TeacherOutputs {
            member_logits: &self.member_logits,
            combine,
            classes: self.classes(),
            labels: &self.set.labels,
            real: self.real,
            member_features: &self.member_features,
        }
    }
}

/// Refuses a teacher layer the teacher does not have, naming the method that asked for it.
fn check_hidden_layer(teacher: &Mlp, layer: usize, method: &str) -> Result<(), TrainError> {
    let hidden = teacher.depth() - 1;
    if layer == 0 || layer > hidden {
        return Err(TrainError::Other(format!(
            "distill.method = {method} reads the teacher's hidden layer {layer}, but the \
             teacher {:?} has hidden layers 1 to {hidden}",
            teacher.layers
        )));
    }
    Ok(())
}

/// Refuses a cache of `values` teacher features that does not fit in the memory this
/// machine has available (the config's estimate, checked at the start, cannot know a loaded
/// teacher's widths), naming what makes it large.
fn check_feature_cache(values: usize) -> Result<(), TrainError> {
    let bytes = values as u64 * 4;
    let available = crate::config::memory::available_bytes();
    if bytes > available {
        return Err(TrainError::Other(format!(
            "transfer.jitter_px: caching the teacher's hidden layer on every shift view needs \
             {:.1} GB, this machine has {:.1} GB available (use fewer shifts or transfer.limit)",
            bytes as f64 / 1e9,
            available as f64 / 1e9
        )));
    }
    Ok(())
}

impl Session<'_> {
    /// Builds the transfer set (class filter, MUNGE) and caches the teacher's logits on it.
    pub fn transfer(&mut self, teacher: &Teacher) -> Result<TransferSet, TrainError> {
        self.notify(Event::PhaseStarted {
            run: self.run,
            phase: Phase::Transfer,
            member: 0,
            epochs: 0,
            batches: 0,
            detail: if self.config.uses_munge() {
                "growing MUNGE set".into()
            } else {
                "caching teacher logits".into()
            },
        });
        let mut set = filter_classes(&self.student_examples(), &self.config.transfer);
        if set.is_empty() {
            return Err(TrainError::Other(
                "transfer.classes: the transfer set is empty (no training example has those classes)".into(),
            ));
        }
        let real = set.len();
        if self.config.uses_munge() {
            let cancel = self.cancel.clone();
            let synthetic = munge(
                &set,
                &self.config.transfer.munge_params,
                self.config.seed,
                &self.device,
                &move || cancel.is_cancelled(),
            )?
            .ok_or(TrainError::Cancelled)?;
            set.images.extend_from_slice(&synthetic.images);
            set.labels.extend_from_slice(&synthetic.labels);
        }
        self.check_cancel()?;
        let jitter_px = self.config.transfer.jitter_px;
        let member_logits = self.cache_outputs(&teacher.members, &set, jitter_px, None)?;
        let first = &teacher.members[0];
        let method = methods::get(self.config.distill.method);
        let member_features = match method.teacher_layer(&self.config, first.depth() - 1) {
            Some(layer) => {
                check_hidden_layer(first, layer, self.config.distill.method.key())?;
                let rows = shift_views(jitter_px) * set.len();
                check_feature_cache(rows * first.layers[layer] * teacher.members.len())?;
                self.cache_outputs(&teacher.members, &set, jitter_px, Some(layer))?
            }
            None => Vec::new(),
        };
        let teacher_hidden = first.layers[1..first.depth()].to_vec();
        Ok(TransferSet {
            set,
            real,
            jitter_px,
            member_logits,
            member_features,
            teacher_hidden,
        })
    }

    /// Every model's logits (or, with `hidden`, that hidden layer's outputs) on every shift
    /// view of `set`, `[views · n, width]` each.
    pub(crate) fn cache_outputs(
        &self,
        models: &[Mlp],
        set: &Dataset,
        jitter_px: usize,
        hidden: Option<usize>,
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        let mut member_logits = vec![Vec::new(); models.len()];
        // One shifted copy of the set at a time; the unshifted view (the only one without
        // jitter) reads the set itself.
        let mut shifted = Vec::new();
        for view in 0..shift_views(jitter_px) {
            let (dx, dy) = view_shift(view, jitter_px);
            let images = if (dx, dy) == (0, 0) {
                &set.images
            } else {
                shifted.resize(set.images.len(), 0.0);
                for (i, out) in shifted.chunks_exact_mut(set.dim()).enumerate() {
                    set.write_shifted(i, dx, dy, out);
                }
                &shifted
            };
            for (logits, member) in member_logits.iter_mut().zip(models) {
                logits.extend(match hidden {
                    Some(layer) => member.hidden_outputs(images, layer, &self.device)?,
                    None => member.logits(images, &self.device)?,
                });
            }
            self.check_cancel()?;
        }
        Ok(member_logits)
    }

    /// The training examples the students may see: the whole training set, or its first
    /// `transfer.limit` examples (the teacher always trains on the whole set).
    pub(crate) fn student_examples(&self) -> Dataset {
        match self.config.transfer.limit {
            Some(n) => self.data.train.take(n),
            None => self.data.train.clone(),
        }
    }
}
