//! The student stages: the baseline on hard labels, and the distilled student on the targets
//! its method (from the registry) builds from the transfer set. Both have the same shape, seed,
//! optimiser and epochs, so the difference between them is the teacher's.

use crate::config::{EnsembleCombine, OptimConfig};
use crate::distill::methods;
use crate::distill::targets::{HardLabels, TeacherOutputs};
use crate::events::{Phase, PhaseResult};
use crate::model::mlp::{Dropout, Mlp};
use crate::train::epoch::PhaseSpec;
use crate::train::error::TrainError;
use crate::train::session::Session;
use crate::train::stages::transfer::TransferSet;

/// The distilled student's weights file.
pub const STUDENT_FILE: &str = "student.safetensors";

impl Session<'_> {
    /// Trains the baseline student on hard labels of the students' training examples (the
    /// full training set unless `transfer.limit` is set; class filters do not apply); returns
    /// the model and its result.
    pub fn baseline(&mut self) -> Result<(Mlp, PhaseResult), TrainError> {
        let s = self.config.student.clone();
        let mut model = Mlp::new(&self.layers(&s.hidden), self.config.seed, &self.device)?;
        let train = self.student_examples();
        let targets = HardLabels {
            labels: train.labels.clone(),
        };
        let spec = self.student_spec(Phase::Baseline, String::new(), &s.optim);
        let result = self.train_phase(&mut model, &train, &targets, &spec)?;
        let extra = [
            ("role", "baseline".into()),
            ("method", "hard-labels".into()),
            ("test_errors", result.test_errors.to_string()),
        ];
        self.save_model("baseline.safetensors", &model, &extra)?;
        Ok((model, result))
    }

    pub(super) fn student_spec<'o>(
        &self,
        phase: Phase,
        detail: String,
        optim: &'o OptimConfig,
    ) -> PhaseSpec<'o> {
        PhaseSpec {
            phase,
            member: 0,
            epochs: self.config.student.epochs,
            optim,
            lr_field: "student.optim.lr",
            dropout: Dropout::default(),
            max_norm: 0.0,
            jitter_px: 0,
            targets_per_view: false,
            detail,
            gap_temperature: Some(self.config.distill.temperature),
            judged: true,
        }
    }

    /// Trains the distilled student with the configured method, through the stages it asks
    /// for (students that learn together; a hint stage first; a teacher assistant in the
    /// teacher's place); returns the model and its result.
    pub fn student(&mut self, transfer: &TransferSet) -> Result<(Mlp, PhaseResult), TrainError> {
        let method = methods::get(self.config.distill.method);
        if method.peers(&self.config) > 1 {
            return self.cohort(transfer, method);
        }
        let s = self.config.student.clone();
        let mut model = Mlp::new(&self.layers(&s.hidden), self.config.seed, &self.device)?;
        let teacher = transfer.teacher_outputs(self.config.teacher.combine);
        if let Some(hint) = method.hint(&self.config).filter(|h| h.epochs > 0) {
            self.hint(&mut model, transfer, &teacher, hint)?;
        }
        let assistant_logits;
        let teacher = match method.assistant(&self.config, &transfer.teacher_hidden, &s.hidden) {
            Some(hidden) => {
                assistant_logits = [self.assistant(transfer, &teacher, &hidden, method)?];
                TeacherOutputs {
                    member_logits: &assistant_logits,
                    combine: EnsembleCombine::default(),
                    member_features: &[],
                    ..teacher
                }
            }
            None => teacher,
        };
        let targets = method.targets(&self.config, &teacher);
        let detail = method.detail(&self.config.distill);
        let spec = PhaseSpec {
            jitter_px: transfer.jitter_px,
            targets_per_view: true,
            ..self.student_spec(Phase::Student, detail, &s.optim)
        };
        let result = self.train_phase(&mut model, &transfer.set, targets.as_ref(), &spec)?;
        let extra = [
            ("role", "student".into()),
            ("test_errors", result.test_errors.to_string()),
        ];
        self.save_model(STUDENT_FILE, &model, &extra)?;
        Ok((model, result))
    }
}
