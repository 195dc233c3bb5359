//! Relational KD, Park et al. (2019): the student mimics the *structure* of the teacher's
//! embedding space rather than its outputs. Over a batch of penultimate embeddings (the last
//! hidden layers' outputs; the widths may differ): the distance-wise loss matches the
//! pairwise distances, each normalised by its batch mean, and the angle-wise loss the cosines
//! of the angles each triplet forms, both with the Huber (smooth-L1) loss;
//! `L = CE(y, p) + w_d·L_dist + w_a·L_angle` (mdistiller's RKD with its weights 25 and 50).
//! The loss and its gradient with respect to the student's embedding are in
//! [`crate::distill::relational`]; the training step sends that gradient into the student's
//! last hidden layer. An ensemble's members' embeddings are averaged.

use super::method::{DistillMethod, FieldKind, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::loss::{cross_entropy, LossParts};
use crate::distill::relational::rkd;
use crate::distill::targets::{gather, StudentBatch, Targets, TeacherOutputs};
use crate::rng::FastRng;

/// The registry's entry.
pub struct Rkd;

const FIELDS: [MethodField; 2] = [
    MethodField {
        key: "distill.rkd_distance_weight",
        label: "Distance weight",
        tooltip: "Weight of the distance-wise loss: pairwise distances of the batch's \
                  embeddings, normalised by their mean (the paper: 25).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 1000.0,
            speed: 0.5,
            value: |d| &mut d.rkd_distance_weight,
        },
    },
    MethodField {
        key: "distill.rkd_angle_weight",
        label: "Angle weight",
        tooltip: "Weight of the angle-wise loss: the angles every triplet of the batch's \
                  embeddings forms (the paper: 50).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 1000.0,
            speed: 0.5,
            value: |d| &mut d.rkd_angle_weight,
        },
    },
];

/// The targets: the teacher's penultimate embeddings and the labels.
#[derive(Clone, Debug, PartialEq)]
pub struct RkdTargets {
    /// The teacher's embeddings, `[rows, width]`.
    pub embeddings: Vec<f32>,
    /// Their width.
    pub width: usize,
    /// Real examples' labels, synthetic ones' teacher arg-max, one per row.
    pub labels: Vec<u8>,
    /// The student's last hidden layer, whose output is its embedding.
    pub student_layer: usize,
    /// Weight of the distance-wise loss.
    pub distance_weight: f64,
    /// Weight of the angle-wise loss.
    pub angle_weight: f64,
}

impl Targets for RkdTargets {
    fn feature_layer(&self) -> Option<usize> {
        Some(self.student_layer)
    }

    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        _: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        let ce = cross_entropy(student.logits, &gather(&self.labels, 1, rows), classes)?;
        let width = student.features.len() / rows.len().max(1);
        let teacher = gather(&self.embeddings, self.width, rows);
        let relational = rkd(
            student.features,
            width,
            &teacher,
            self.width,
            self.distance_weight,
            self.angle_weight,
        )?;
        Ok(LossParts {
            total: ce.total + relational.total,
            soft: relational.total,
            hard: ce.total,
            grad: ce.grad,
            feature_grad: relational.grad,
        })
    }
}

impl DistillMethod for Rkd {
    fn method(&self) -> Method {
        Method::Rkd
    }

    fn name(&self) -> &'static str {
        "RKD"
    }

    fn label(&self) -> &'static str {
        "Relational KD (Park 2019)"
    }

    fn tooltip(&self) -> &'static str {
        "Match the distances and angles between the batch's penultimate embeddings, not the \
         outputs, plus the labels."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, d: &DistillConfig) -> String {
        format!(
            "distance {} + angle {}",
            d.rkd_distance_weight, d.rkd_angle_weight
        )
    }

    fn title(&self, _d: &DistillConfig) -> String {
        "relational KD".to_owned()
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        LossLegend {
            soft_name: format!(
                "student RKD w_d·dist + w_a·angle (w_d={}, w_a={})",
                d.rkd_distance_weight, d.rkd_angle_weight
            ),
            soft_weight: 1.0,
            hard_name: "student hard part CE".to_owned(),
            hard_weight: 1.0,
        }
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        let d = &config.distill;
        Box::new(RkdTargets {
            embeddings: teacher.mean_features(),
            width: teacher.feature_width(),
            labels: teacher.mixed_labels(),
            student_layer: config.student.hidden.len(),
            distance_weight: d.rkd_distance_weight,
            angle_weight: d.rkd_angle_weight,
        })
    }

    fn teacher_layer(&self, _config: &RunConfig, hidden_layers: usize) -> Option<usize> {
        Some(hidden_layers)
    }
}
