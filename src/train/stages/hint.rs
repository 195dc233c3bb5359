//! FitNets' hint stage (Romero et al. 2015, stage 1): before the student trains on its
//! targets, its layers up to the guided hidden layer, followed by a learned linear regressor
//! `r`, are fitted to the teacher's hint layer: `L = w/(B·W) Σ_b ‖r(h_s,b) − h_t,b‖²` for a
//! hint layer `W` units wide — an element mean, as mdistiller's `F.mse_loss` is, times its
//! weight `w` (100), so the step size does not grow with the teacher's width: the paper's
//! `½‖·‖²` summed over the units killed the ReLUs of a 32-wide guided layer at SGD's 0.05 in
//! our tests (772 of 1,000 wrong after distillation, against 306 without the hint). For an MLP that is a smaller MLP `[in, …, guided width, W]` whose last
//! (linear) layer is the regressor, so the hint trains through the one loop, and the gradient
//! the hint sends into the guided layer is the ordinary backward pass. The trained layers
//! then start the student; the regressor is dropped.

use rand::RngCore;

use crate::distill::loss::LossParts;
use crate::distill::methods::HintStage;
use crate::distill::targets::{LogitTargets, StudentBatch, Targets, TeacherOutputs};
use crate::events::{Phase, PhaseResult};
use crate::model::mlp::Mlp;
use crate::rng::FastRng;
use crate::train::epoch::PhaseSpec;
use crate::train::error::TrainError;
use crate::train::session::Session;
use crate::train::stages::transfer::TransferSet;

/// The hint loss: the L2 of logit matching (`1/(2B) Σ‖·‖²`, pinned in `distill::loss`) on
/// the teacher's hint-layer outputs, times `2w/W`.
struct HintTargets {
    l2: LogitTargets,
    weight: f64,
}

impl Targets for HintTargets {
    fn loss(
        &self,
        student: &StudentBatch<'_>,
        rows: &[usize],
        width: usize,
        rng: &mut FastRng,
    ) -> candle_core::Result<LossParts> {
        let mut parts = self.l2.loss(student, rows, width, rng)?;
        let per_unit = 2.0 * self.weight / width.max(1) as f64;
        parts.total *= per_unit;
        parts.soft *= per_unit;
        parts.grad.iter_mut().for_each(|g| *g *= per_unit as f32);
        Ok(parts)
    }
}

impl Session<'_> {
    /// Fits `student`'s layers up to `hint.student_layer` (through a regressor) to the
    /// teacher's cached hint-layer outputs on the transfer set, and writes them back into
    /// `student`.
    pub(super) fn hint(
        &mut self,
        student: &mut Mlp,
        transfer: &TransferSet,
        teacher: &TeacherOutputs<'_>,
        hint: HintStage,
    ) -> Result<PhaseResult, TrainError> {
        let guided = hint.student_layer;
        let width = teacher.feature_width();
        if guided == 0 || guided >= student.depth() || width == 0 {
            return Err(TrainError::Other(format!(
                "distill.fitnets_student_layer = {guided}: the student {:?} has hidden layers 1 to {}",
                student.layers,
                student.depth() - 1
            )));
        }
        let seed = FastRng::fork(self.config.seed, "fitnets-regressor").next_u64();
        let regressor = Mlp::new(&[student.layers[guided], width], seed, &self.device)?;
        let copy = |ts: &[candle_core::Tensor]| -> candle_core::Result<Vec<candle_core::Tensor>> {
            ts.iter().map(candle_core::Tensor::copy).collect()
        };
        let mut weights = copy(&student.weights[..guided])?;
        let mut biases = copy(&student.biases[..guided])?;
        weights.extend(regressor.weights);
        biases.extend(regressor.biases);
        let mut model = Mlp::from_parameters(weights, biases)?;
        let targets = HintTargets {
            l2: LogitTargets {
                v: teacher.mean_features(),
                zero_mean: false,
                noise: None,
            },
            weight: hint.weight,
        };
        let optim = self.config.student.optim.clone();
        let detail = format!(
            "hint: student layer {guided} → teacher layer {}",
            hint.teacher_layer
        );
        let spec = PhaseSpec {
            epochs: hint.epochs,
            jitter_px: transfer.jitter_px,
            targets_per_view: true,
            gap_temperature: None,
            judged: false,
            ..self.student_spec(Phase::Hint, detail, &optim)
        };
        let result = self.train_phase(&mut model, &transfer.set, &targets, &spec)?;
        for l in 0..guided {
            student.weights[l] = model.weights[l].copy()?;
            student.biases[l] = model.biases[l].copy()?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values, PyTorch 2.15 (/work/pyref), mdistiller's FitNet feature loss:
    //   r = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], requires_grad=True)
    //   h = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.5, 0.0]])
    //   loss = 100 * F.mse_loss(r, h); loss.backward()   # 83.3333, r.grad:
    //   [-16.6667, -33.3333, 33.3333, 50.0, -16.6667, -16.6667]
    #[test]
    fn the_hint_loss_is_mdistillers_weighted_mean_squared_error() {
        let targets = HintTargets {
            l2: LogitTargets {
                v: vec![1.0, 0.0, 1.0, 0.0, 0.5, 0.0],
                zero_mean: false,
                noise: None,
            },
            weight: 100.0,
        };
        let r = [0.5, -1.0, 2.0, 1.5, 0.0, -0.5];
        let parts = targets
            .loss(&StudentBatch::logits(&r), &[0, 1], 3, &mut FastRng::new(0))
            .unwrap();
        assert!((parts.total - 83.333_333).abs() < 1e-4, "{}", parts.total);
        let expected = [
            -16.666_667,
            -33.333_336,
            33.333_336,
            50.0,
            -16.666_667,
            -16.666_667,
        ];
        for (g, e) in parts.grad.iter().zip(expected) {
            assert!((g - e).abs() < 1e-4, "{:?}", parts.grad);
        }
    }
}
