//! Teacher-assistant KD, Mirzadeh et al. (2020): teacher → assistant → student, each step
//! ordinary soft-target distillation (Hinton's loss, the run's T and α). The assistant has the
//! student's depth and a width between the two: `distill.takd_assistant_width`, or by default
//! the geometric mean of the teacher's and the student's first hidden widths (1200 and 30
//! give 190). The paper's point: when teacher and student differ a lot, a student learns more
//! from an assistant of middle size than from the teacher itself. The assistant trains in
//! `train::stages::assistant` with the students' recipe.

use super::hinton;
use super::method::{DistillMethod, FieldKind, LossLegend, MethodField};
use crate::config::{DistillConfig, Method, RunConfig};
use crate::distill::targets::{Targets, TeacherOutputs};

/// The registry's entry.
pub struct Takd;

const FIELDS: [MethodField; 4] = [
    MethodField {
        key: "distill.takd_assistant_width",
        label: "Assistant width",
        tooltip: "Width of every hidden layer of the teacher assistant (as deep as the \
                  student). 0: the geometric mean of the teacher's and the student's first \
                  hidden widths.",
        kind: FieldKind::Count {
            min: 0,
            max: 100_000,
            value: |d| &mut d.takd_assistant_width,
        },
    },
    hinton::FIELDS[0],
    hinton::FIELDS[1],
    hinton::FIELDS[2],
];

/// The assistant's hidden widths for a teacher and a student of these hidden widths.
pub fn assistant_hidden(width: usize, teacher: &[usize], student: &[usize]) -> Vec<usize> {
    let width = match width {
        0 => {
            let t = teacher.first().copied().unwrap_or(1) as f64;
            let s = student.first().copied().unwrap_or(1) as f64;
            ((t * s).sqrt().round() as usize).max(1)
        }
        w => w,
    };
    vec![width; student.len().max(1)]
}

impl DistillMethod for Takd {
    fn method(&self) -> Method {
        Method::Takd
    }

    fn name(&self) -> &'static str {
        "TAKD"
    }

    fn label(&self) -> &'static str {
        "Teacher assistant (Mirzadeh 2020)"
    }

    fn tooltip(&self) -> &'static str {
        "Distil the teacher into an assistant of middle width first, then the assistant into \
         the student (soft targets at each step)."
    }

    fn fields(&self) -> &'static [MethodField] {
        &FIELDS
    }

    fn detail(&self, d: &DistillConfig) -> String {
        match d.takd_assistant_width {
            0 => format!("via assistant, T = {}", d.temperature),
            w => format!("via assistant {w} wide, T = {}", d.temperature),
        }
    }

    fn title(&self, d: &DistillConfig) -> String {
        format!("TAKD T = {}", d.temperature)
    }

    fn loss_legend(&self, d: &DistillConfig) -> LossLegend {
        hinton::Hinton.loss_legend(d)
    }

    fn targets(&self, config: &RunConfig, teacher: &TeacherOutputs<'_>) -> Box<dyn Targets> {
        Box::new(hinton::targets(config, teacher))
    }

    fn assistant(
        &self,
        config: &RunConfig,
        teacher: &[usize],
        student: &[usize],
    ) -> Option<Vec<usize>> {
        Some(assistant_hidden(
            config.distill.takd_assistant_width,
            teacher,
            student,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_assistant_is_the_geometric_mean_as_deep_as_the_student() {
        assert_eq!(assistant_hidden(0, &[1200, 1200], &[30, 30]), [190, 190]);
        assert_eq!(assistant_hidden(0, &[1200, 1200], &[800, 800]), [980, 980]);
        assert_eq!(assistant_hidden(64, &[1200], &[30, 30, 30]), [64, 64, 64]);
    }
}
