//! The teacher stage: load the teacher's weights, or train it (every member of an ensemble,
//! each from its own initialisation), save what was trained and evaluate the combination.

use std::time::Instant;

use crate::distill::soft::ensemble_soft_targets;
use crate::distill::targets::HardLabels;
use crate::eval::evaluate_logits;
use crate::events::{Phase, PhaseResult};
use crate::model::mlp::{Dropout, Mlp};
use crate::model::weights;
use crate::train::epoch::{phase_result, PhaseSpec};
use crate::train::error::TrainError;
use crate::train::probes::TeacherTestLogits;
use crate::train::session::Session;

/// The trained teacher: one network or an ensemble.
pub struct Teacher {
    /// The members (one for a single teacher).
    pub members: Vec<Mlp>,
    /// Test result of the combined teacher.
    pub result: PhaseResult,
}

/// The file a trained ensemble member is saved as.
fn member_file(member: usize) -> String {
    if member == 0 {
        "teacher.safetensors".to_owned()
    } else {
        format!("teacher-{}.safetensors", member + 1)
    }
}

impl Session<'_> {
    /// Loads or trains the teacher (every ensemble member), saves it and evaluates it.
    pub fn teacher(&mut self) -> Result<Teacher, TrainError> {
        let started = Instant::now();
        let loaded = self.config.teacher.weights.is_some();
        let members = if loaded {
            vec![self.load_teacher()?]
        } else {
            self.train_teacher_members()?
        };
        let t = &self.config.teacher;
        let (combine, epochs) = (t.combine, t.epochs);
        let member_logits: Vec<Vec<f32>> = members
            .iter()
            .map(|m| self.test_logits(m))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&[f32]> = member_logits.iter().map(Vec::as_slice).collect();
        let combined = ensemble_soft_targets(&refs, self.classes, 1.0, combine);
        let eval = evaluate_logits(&combined, &self.data.test.labels, self.classes);
        self.teacher_test = Some(TeacherTestLogits::new(
            member_logits.clone(),
            combine,
            self.classes,
        ));
        let result = phase_result(
            &eval,
            epochs,
            started.elapsed().as_secs_f64(),
            &members[0].layers,
        );
        // A teacher loaded from a file was referenced; only trained ones are saved.
        if !loaded {
            for (m, member) in members.iter().enumerate() {
                let labels = &self.data.test.labels;
                let errors = evaluate_logits(&member_logits[m], labels, self.classes).errors;
                let extra = [
                    ("role", "teacher".into()),
                    ("test_errors", errors.to_string()),
                ];
                self.save_model(&member_file(m), member, &extra)?;
            }
        }
        Ok(Teacher { members, result })
    }

    /// Loads `teacher.weights` and references it from the run folder.
    fn load_teacher(&mut self) -> Result<Mlp, TrainError> {
        let Some(path) = self.config.teacher.weights.clone() else {
            return Err(TrainError::Other("teacher.weights is not set".into()));
        };
        // `@assets/teacher.safetensors` is the shipped teacher wherever the bundle is.
        let path = crate::assets::resolve(&path, None);
        let dim = self.data.train.dim();
        let teacher = weights::load_fitting(&path, &self.device, dim, self.classes)?.mlp;
        // Referenced (hard-linked where possible), never copied into the run folder.
        self.recorder.reference_teacher(&path)?;
        // Its probes, as loaded: the soft targets the students are compared with.
        self.report_probes(&teacher, (Phase::Teacher, 0), 0, 0, true)?;
        Ok(teacher)
    }

    /// Trains every member of the teacher on the hard labels of the whole training set.
    fn train_teacher_members(&mut self) -> Result<Vec<Mlp>, TrainError> {
        let t = self.config.teacher.clone();
        let layers = self.layers(&t.hidden);
        let train = self.data.train.clone();
        let targets = HardLabels {
            labels: train.labels.clone(),
        };
        let mut members = Vec::new();
        for m in 0..t.ensemble {
            let seed = self.config.seed.wrapping_add(1000 + m as u64);
            let mut model = Mlp::new(&layers, seed, &self.device)?;
            let spec = PhaseSpec {
                phase: Phase::Teacher,
                member: m,
                epochs: t.epochs,
                optim: &t.optim,
                lr_field: "teacher.optim.lr",
                dropout: Dropout {
                    input: t.dropout_input,
                    hidden: t.dropout_hidden,
                },
                max_norm: t.max_norm,
                jitter_px: t.jitter_px,
                targets_per_view: false,
                detail: if t.ensemble > 1 {
                    format!("member {} of {}", m + 1, t.ensemble)
                } else {
                    String::new()
                },
                gap_temperature: None,
                judged: true,
            };
            self.train_phase(&mut model, &train, &targets, &spec)?;
            members.push(model);
        }
        Ok(members)
    }
}
