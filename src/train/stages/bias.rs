//! The bias stage: shift the student's output biases of the classes its transfer set left
//! out (Hinton et al. §3: "omit 3" and "only 7 and 8"), by a searched or a fixed amount.

use crate::distill::bias::{best_shift, evaluate_with_shift};
use crate::events::BiasResult;
use crate::model::mlp::Mlp;
use crate::train::error::TrainError;
use crate::train::session::Session;

impl Session<'_> {
    /// Applies the configured per-class bias shift (searched or fixed) to the student.
    pub fn adjust_bias(&mut self, student: &Mlp) -> Result<Option<BiasResult>, TrainError> {
        let b = self.config.bias.clone();
        if b.classes.is_empty() {
            return Ok(None);
        }
        let logits = self.test_logits(student)?;
        let labels = &self.data.test.labels;
        // The searched shift is never chosen on the test set it is then measured on: in a
        // validation run (`data.validation`) it is chosen on the held-out images, which is what
        // they are for; otherwise on the training images (the classes the transfer set left
        // out are still there, though the student fits the others it trained on too well, so
        // this overshoots: `reproduce` carries the validation run's shift over instead).
        let shift = if b.search && self.config.data.validation.is_some() {
            best_shift(&logits, labels, self.classes, &b.classes).0
        } else if b.search {
            let train = &self.data.train;
            let train_logits = student.logits(&train.images, &self.device)?;
            best_shift(&train_logits, &train.labels, self.classes, &b.classes).0
        } else {
            b.shift
        };
        let eval = evaluate_with_shift(&logits, labels, self.classes, &b.classes, shift);
        let mut adjusted = student.clone();
        adjusted.shift_output_bias(&b.classes, shift)?;
        let extra = [
            ("role", "student".into()),
            ("bias_shift", format!("{shift}")),
            ("bias_classes", format!("{:?}", b.classes)),
            ("test_errors", eval.errors.to_string()),
        ];
        self.save_model("student-bias-adjusted.safetensors", &adjusted, &extra)?;
        Ok(Some(BiasResult {
            classes: b.classes,
            shift,
            test_errors: eval.errors,
            per_class_errors: eval.per_class_errors,
        }))
    }
}
