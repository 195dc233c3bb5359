//! What a distillation method says about itself: the [`DistillMethod`] trait every file of the
//! registry implements, and the fields and loss legend it describes itself with.

use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::targets::{Targets, TeacherOutputs};

/// One `distill.*` field a method reads: what the launcher shows and sweeps may vary.
#[derive(Clone, Copy, Debug)]
pub struct MethodField {
    /// The `--set` key, e.g. `distill.temperature`.
    pub key: &'static str,
    /// The launcher's label.
    pub label: &'static str,
    /// The launcher's tooltip.
    pub tooltip: &'static str,
    /// How it is edited.
    pub kind: FieldKind,
}

/// The widget a method's field is edited with, and where its value lives.
#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    /// A number dragged within `min..=max`.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Change per pixel dragged.
        speed: f64,
        /// The value.
        value: fn(&mut DistillConfig) -> &mut f64,
    },
    /// A whole number dragged within `min..=max`.
    Count {
        /// Smallest value.
        min: usize,
        /// Largest value.
        max: usize,
        /// The value.
        value: fn(&mut DistillConfig) -> &mut usize,
    },
    /// A value in [0, 1] on a slider.
    Fraction(fn(&mut DistillConfig) -> &mut f64),
    /// A checkbox with this text.
    Toggle {
        /// The checkbox's text.
        text: &'static str,
        /// The value.
        value: fn(&mut DistillConfig) -> &mut bool,
    },
    /// One of these options (their TOML names).
    Choice {
        /// The options.
        options: &'static [&'static str],
        /// The index of the current option.
        get: fn(&DistillConfig) -> usize,
        /// Picks option `i`.
        set: fn(&mut DistillConfig, usize),
    },
}

/// How the live loss plot names and weights a method's two loss parts.
#[derive(Clone, Debug, PartialEq)]
pub struct LossLegend {
    /// Name of the distillation (soft) part.
    pub soft_name: String,
    /// Weight the soft part enters the total with.
    pub soft_weight: f64,
    /// Name of the hard-label part.
    pub hard_name: String,
    /// Weight the hard part enters the total with.
    pub hard_weight: f64,
}

/// FitNets' hint stage: the student's layers up to `student_layer`, through a learned linear
/// regressor, are fitted to the teacher's hidden layer `teacher_layer` before the student
/// trains on its targets (hidden layers count from 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HintStage {
    /// The student's guided hidden layer.
    pub student_layer: usize,
    /// The teacher's hint hidden layer (the one [`DistillMethod::teacher_layer`] caches).
    pub teacher_layer: usize,
    /// Epochs of the hint stage.
    pub epochs: usize,
    /// Weight `w` of the hint loss `w · mean((r(h_s) − h_t)²)` over the batch and the units.
    pub weight: f64,
}

/// A way of distilling a teacher into a student.
///
/// Besides its targets, a method may ask the pipeline for stages around the student's: a
/// teacher layer's outputs cached beside the logits ([`DistillMethod::teacher_layer`]), a
/// hint stage first ([`DistillMethod::hint`]), a teacher assistant in between
/// ([`DistillMethod::assistant`]) or students that learn together
/// ([`DistillMethod::peers`]). Each is a stage of `train::stages` any method can use.
pub trait DistillMethod: Sync {
    /// Its config key (`distill.method`).
    fn method(&self) -> Method;
    /// A short name for buttons and legends ("Soft targets").
    fn name(&self) -> &'static str;
    /// The name with the paper it comes from.
    fn label(&self) -> &'static str;
    /// One or two sentences for the launcher's tooltip: what it does.
    fn tooltip(&self) -> &'static str;
    /// The `distill.*` fields it reads besides the method itself.
    fn fields(&self) -> &'static [MethodField];
    /// Whether its students train on the teacher's logits (the playground then shows logits
    /// rather than probabilities as the target).
    fn matches_logits(&self) -> bool {
        false
    }
    /// Whether it always grows the transfer set with MUNGE (the launcher's MUNGE box is then
    /// forced on; [`RunConfig::uses_munge`] says the same for the trainer).
    fn grows_transfer_set(&self) -> bool {
        false
    }
    /// The text beside the student's progress bar and in the plane's legend.
    fn detail(&self, _distill: &DistillConfig) -> String {
        self.method().key().to_owned()
    }
    /// How the plane playground's student panel names the method.
    fn title(&self, distill: &DistillConfig) -> String {
        self.detail(distill)
    }
    /// How the live loss plot names and weights the loss parts.
    fn loss_legend(&self, _distill: &DistillConfig) -> LossLegend {
        LossLegend {
            soft_name: "student soft part".to_owned(),
            soft_weight: 1.0,
            hard_name: "student hard part".to_owned(),
            hard_weight: 1.0,
        }
    }
    /// The distilled student's per-row targets on the transfer set.
    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets>;
    /// The teacher's hidden layer (1 = the first of its `hidden_layers`) whose outputs the
    /// targets read; they are cached on the transfer set beside the logits
    /// ([`TeacherOutputs::member_features`]).
    fn teacher_layer(&self, _config: &RunConfig, _hidden_layers: usize) -> Option<usize> {
        None
    }
    /// A hint stage to train before the student's.
    fn hint(&self, _config: &RunConfig) -> Option<HintStage> {
        None
    }
    /// The hidden widths of a teacher assistant distilled from the teacher (with
    /// [`DistillMethod::targets`]) that then teaches the student in the teacher's place;
    /// `teacher` and `student` are the two models' hidden widths.
    fn assistant(
        &self,
        _config: &RunConfig,
        _teacher: &[usize],
        _student: &[usize],
    ) -> Option<Vec<usize>> {
        None
    }
    /// How many students learn together, each from the others' predictions on the same
    /// batch through [`DistillMethod::peer_targets`]; 1: one student, taught by the teacher.
    fn peers(&self, _config: &RunConfig) -> usize {
        1
    }
    /// A student's targets on one batch of `labels` when it learns from its peers, whose mean
    /// probabilities on the batch are `peers_q` (`[batch, classes]`, at T = 1): by default
    /// the labels' cross-entropy and the KL to the peers, weighted equally.
    fn peer_targets(
        &self,
        _config: &RunConfig,
        peers_q: Vec<f32>,
        labels: Vec<u8>,
    ) -> Box<dyn Targets> {
        Box::new(crate::distill::targets::SoftTargets {
            q: peers_q,
            labels,
            temperature: 1.0,
            alpha: 0.5,
            t_squared: false,
        })
    }
}
