//! FitNets, Romero et al. (2015): a hint first, then soft targets. Stage 1 fits the student's
//! layers up to a guided hidden layer, through a learned linear regressor `r`, to a hidden
//! layer of the teacher, `L_hint = w · mean_{b,u} (r(h_s,b) − h_t,b)²_u` (the paper's
//! `½‖·‖²` as mdistiller weights it: an element mean times w = 100); stage 2 trains the whole student, started from those layers, with Hinton's
//! loss. The paper guides the student's middle layer with the teacher's middle layer; for
//! the 2-hidden-layer MLPs here the defaults are both first hidden layers (the last hidden
//! layer is the classifier's input, left to stage 2). The hint stage runs in
//! `train::stages::hint`; an ensemble's members' hint outputs are averaged.

use super::hinton;
use super::method::{DistillMethod, FieldKind, HintStage, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::targets::{Targets, TeacherOutputs};

/// The registry's entry.
pub struct Fitnets;

const FIELDS: [MethodField; 7] = [
    MethodField {
        key: "distill.fitnets_hint_epochs",
        label: "Hint epochs",
        tooltip: "Epochs of stage 1: the student's layers up to the guided one, through a \
                  linear regressor, fitted to the teacher's hint layer (L2). 0 skips the hint.",
        kind: FieldKind::Count {
            min: 0,
            max: 1000,
            value: |d| &mut d.fitnets_hint_epochs,
        },
    },
    MethodField {
        key: "distill.fitnets_student_layer",
        label: "Guided layer (student)",
        tooltip: "The student's hidden layer the hint guides (1 = the first).",
        kind: FieldKind::Count {
            min: 1,
            max: 16,
            value: |d| &mut d.fitnets_student_layer,
        },
    },
    MethodField {
        key: "distill.fitnets_teacher_layer",
        label: "Hint layer (teacher)",
        tooltip: "The teacher's hidden layer whose outputs are the hint (1 = the first).",
        kind: FieldKind::Count {
            min: 1,
            max: 16,
            value: |d| &mut d.fitnets_teacher_layer,
        },
    },
    MethodField {
        key: "distill.fitnets_hint_weight",
        label: "Hint weight",
        tooltip: "w in L_hint = w · mean((r(h_s) − h_t)²) over the hint layer's units \
                  (mdistiller: 100).",
        kind: FieldKind::Number {
            min: 0.0,
            max: 10_000.0,
            speed: 1.0,
            value: |d| &mut d.fitnets_hint_weight,
        },
    },
    hinton::FIELDS[0],
    hinton::FIELDS[1],
    hinton::FIELDS[2],
];

impl DistillMethod for Fitnets {
    fn method(&self) -> Method {
        Method::Fitnets
    }

    fn name(&self) -> &'static str {
        "FitNets"
    }

    fn label(&self) -> &'static str {
        "FitNets hints (Romero 2015)"
    }

    fn tooltip(&self) -> &'static str {
        "Stage 1 fits a student hidden layer (through a learned regressor) to a teacher hidden \
         layer; stage 2 distils with soft targets from there."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, d: &DistillConfig) -> String {
        format!(
            "hint {} → {} ({} epochs), T = {}",
            d.fitnets_student_layer, d.fitnets_teacher_layer, d.fitnets_hint_epochs, d.temperature
        )
    }

    fn title(&self, d: &DistillConfig) -> String {
        format!("FitNets hint + T = {}", d.temperature)
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        hinton::Hinton.loss_legend(d)
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        Box::new(hinton::targets(config, teacher))
    }

    fn teacher_layer(&self, config: &RunConfig, _hidden_layers: usize) -> Option<usize> {
        Some(config.distill.fitnets_teacher_layer)
    }

    fn hint(&self, config: &RunConfig) -> Option<HintStage> {
        let d = &config.distill;
        Some(HintStage {
            student_layer: d.fitnets_student_layer,
            teacher_layer: d.fitnets_teacher_layer,
            epochs: d.fitnets_hint_epochs,
            weight: d.fitnets_hint_weight,
        })
    }
}
