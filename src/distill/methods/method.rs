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

/// A way of distilling a teacher into a student.
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
}
