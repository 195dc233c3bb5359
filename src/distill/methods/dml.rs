//! Deep mutual learning, Zhang et al. (2018): no pretrained teacher; K students (2 by
//! default) train together, each on `L_k = CE(y, p_k) + w · KL(p̄_k ‖ p_k)`, where `p̄_k` is
//! the mean of the other students' probabilities on the same batch (the paper's
//! `1/(K−1) Σ_{l≠k} KL(p_l ‖ p_k)` for K = 2; for K > 2 the KL to the mean, as torchdistill's
//! and the paper's "average of the others" variant), all at T = 1, the peers' predictions
//! held fixed in the step. The students step one after the other on each batch
//! (`train::stages::cohort`); the teacher is trained or loaded as usual but its outputs are
//! not used.

use super::method::{DistillMethod, FieldKind, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::loss::{self, LossParts};
use crate::distill::targets::{HardLabels, StudentBatch, Targets, TeacherOutputs};
use crate::rng::FastRng;

/// The registry's entry.
pub struct Dml;

const FIELDS: [MethodField; 2] = [
    MethodField {
        key: "distill.dml_peers",
        label: "Students",
        tooltip: "How many students learn together (the paper: 2). The first is the run's \
                  distilled student; each one's curve is drawn.",
        kind: FieldKind::Count {
            min: 2,
            max: 8,
            value: |d| &mut d.dml_peers,
        },
    },
    MethodField {
        key: "distill.dml_kl_weight",
        label: "KL weight",
        tooltip: "L = CE(y, p) + w·KL(p_peers || p): the weight w of the mimicry term \
                  (the paper: 1).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 100.0,
            speed: 0.05,
            value: |d| &mut d.dml_kl_weight,
        },
    },
];

/// One student's targets on one batch: its labels and its peers' mean probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct MutualTargets {
    /// The peers' mean probabilities, `[batch, classes]`.
    pub q: Vec<f32>,
    /// The batch's labels.
    pub labels: Vec<u8>,
    /// Weight of the KL term.
    pub kl_weight: f64,
}

impl Targets for MutualTargets {
    /// `CE + w·KL` is `(1 + w)` times Hinton's `α·KL + (1 − α)·CE` at T = 1 with
    /// `α = w / (1 + w)`, so the pinned soft-target loss computes it.
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        classes: usize,
        _: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        let q = crate::distill::targets::gather(&self.q, classes, rows);
        let labels = crate::distill::targets::gather(&self.labels, 1, rows);
        let w = self.kl_weight;
        let mut parts = loss::hinton(
            student.logits,
            &q,
            &labels,
            classes,
            1.0,
            w / (1.0 + w),
            false,
        )?;
        parts.total *= 1.0 + w;
        for g in &mut parts.grad {
            *g *= (1.0 + w) as f32;
        }
        Ok(parts)
    }
}

impl DistillMethod for Dml {
    fn method(&self) -> Method {
        Method::Dml
    }

    fn name(&self) -> &'static str {
        "DML"
    }

    fn label(&self) -> &'static str {
        "Mutual learning (Zhang 2018)"
    }

    fn tooltip(&self) -> &'static str {
        "No teacher: two (or more) students train together, each on the labels plus the KL to \
         the others' predictions."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, d: &DistillConfig) -> String {
        format!("{} students, KL weight {}", d.dml_peers, d.dml_kl_weight)
    }

    fn title(&self, d: &DistillConfig) -> String {
        format!("mutual learning ({} students)", d.dml_peers)
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        LossLegend {
            soft_name: format!("student mimicry w·KL(p_peers ‖ p) (w={})", d.dml_kl_weight),
            soft_weight: d.dml_kl_weight,
            hard_name: "student hard part CE".to_owned(),
            hard_weight: 1.0,
        }
    }

    /// Used only where a single student is asked for (never in a DML run, whose students
    /// learn from [`Dml::peer_targets`]): the labels alone.
    fn targets(&self, _config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        Box::new(HardLabels {
            labels: teacher
                .labels
                .repeat(teacher.rows() / teacher.labels.len().max(1)),
        })
    }

    fn peers(&self, config: &RunConfig) -> usize {
        config.distill.dml_peers
    }

    fn peer_targets(
        &self,
        config: &RunConfig,
        peers_q: Vec<f32>,
        labels: Vec<u8>,
    ) -> Box<dyn Targets> {
        Box::new(MutualTargets {
            q: peers_q,
            labels,
            kl_weight: config.distill.dml_kl_weight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values, PyTorch 2.15 (/work/pyref):
    //   import torch, torch.nn.functional as F
    //   z = torch.tensor([[1., 2., .5], [-1., 0., 3.]], requires_grad=True)
    //   q = torch.tensor([[.2, .5, .3], [.1, .1, .8]]); y = torch.tensor([1, 2])
    //   loss = F.cross_entropy(z, y) + 0.7 * F.kl_div(F.log_softmax(z, 1), q, reduction="batchmean")
    //   loss.backward(); print(loss.item(), z.grad)
    //   # 0.33917510509490967
    //   # [0.12654030, -0.14074804, 0.01420772, -0.02042435, 0.00462073, 0.01580360]
    const REF_LOSS: f64 = 0.339_175_105;
    const REF_GRAD: [f32; 6] = [
        0.126_540_3,
        -0.140_748_04,
        0.014_207_72,
        -0.020_424_35,
        0.004_620_73,
        0.015_803_6,
    ];

    #[test]
    fn mutual_loss_is_cross_entropy_plus_weighted_kl_to_the_peers() {
        let targets = MutualTargets {
            q: vec![0.2, 0.5, 0.3, 0.1, 0.1, 0.8],
            labels: vec![1, 2],
            kl_weight: 0.7,
        };
        let z = [1.0, 2.0, 0.5, -1.0, 0.0, 3.0];
        let parts = targets
            .loss(&StudentBatch::logits(&z), &[0, 1], 3, &mut FastRng::new(0))
            .unwrap();
        assert!((parts.total - REF_LOSS).abs() < 1e-5, "{}", parts.total);
        for (g, e) in parts.grad.iter().zip(REF_GRAD) {
            assert!((g - e).abs() < 1e-5, "{:?}", parts.grad);
        }
    }
}
