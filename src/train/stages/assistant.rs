//! The teacher-assistant stage (Mirzadeh et al. 2020): a model of middle size is distilled
//! from the teacher with the method's targets, its logits are cached on the transfer set (for
//! every shift view, as the teacher's are), and the student then learns from the assistant in
//! the teacher's place. When teacher and student differ a lot, the assistant bridges the gap.

use crate::distill::methods::DistillMethod;
use crate::distill::targets::TeacherOutputs;
use crate::events::Phase;
use crate::model::mlp::Mlp;
use crate::train::epoch::PhaseSpec;
use crate::train::error::TrainError;
use crate::train::session::Session;
use crate::train::stages::transfer::TransferSet;

/// The assistant's weights file.
pub const ASSISTANT_FILE: &str = "assistant.safetensors";

impl Session<'_> {
    /// Trains the assistant of hidden widths `hidden` on the teacher's targets, saves it, and
    /// returns its logits on every row of the transfer set (`[views · n, classes]`).
    pub(super) fn assistant(
        &mut self,
        transfer: &TransferSet,
        teacher: &TeacherOutputs<'_>,
        hidden: &[usize],
        method: &dyn DistillMethod,
    ) -> Result<Vec<f32>, TrainError> {
        let seed = self.config.seed.wrapping_add(500);
        let mut model = Mlp::new(&self.layers(hidden), seed, &self.device)?;
        let targets = method.targets(&self.config, teacher);
        let optim = self.config.student.optim.clone();
        let spec = PhaseSpec {
            jitter_px: transfer.jitter_px,
            targets_per_view: true,
            ..self.student_spec(Phase::Assistant, format!("assistant {hidden:?}"), &optim)
        };
        let result = self.train_phase(&mut model, &transfer.set, targets.as_ref(), &spec)?;
        let extra = [
            ("role", "assistant".into()),
            ("test_errors", result.test_errors.to_string()),
        ];
        self.save_model(ASSISTANT_FILE, &model, &extra)?;
        self.assistant_result = Some(result);
        let mut logits = self.cache_outputs(
            std::slice::from_ref(&model),
            &transfer.set,
            transfer.jitter_px,
            None,
        )?;
        Ok(logits.remove(0))
    }
}
