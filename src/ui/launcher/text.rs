//! The launcher's list fields (hidden widths, classes, probe images) as the user types them,
//! parsed into the configuration every frame and refilled from it when it changes elsewhere.

use crate::config::RunConfig;
use crate::ui::list_text::{join_list, parse_list};

/// Text fields that hold lists (widths, classes) while the user types them.
#[derive(Clone, Debug, Default)]
pub struct LauncherText {
    /// The teacher's hidden widths.
    pub teacher_hidden: String,
    /// The student's hidden widths.
    pub student_hidden: String,
    /// The transfer set's classes.
    pub classes: String,
    /// The probe images.
    pub probes: String,
    /// The first malformed field and why.
    pub list_error: Option<(&'static str, String)>,
}

impl LauncherText {
    /// The text fields of a configuration.
    pub fn from_config(config: &RunConfig) -> Self {
        Self {
            teacher_hidden: join_list(&config.teacher.hidden),
            student_hidden: join_list(&config.student.hidden),
            classes: join_list(&config.transfer.classes),
            probes: join_list(&config.probes.samples),
            list_error: None,
        }
    }

    /// Parses the text fields into the configuration; remembers which one is malformed.
    pub fn apply(&mut self, config: &mut RunConfig) {
        self.list_error = None;
        let fields: [(&'static str, &String); 4] = [
            ("teacher.hidden", &self.teacher_hidden),
            ("student.hidden", &self.student_hidden),
            ("transfer.classes", &self.classes),
            ("probes.samples", &self.probes),
        ];
        for (field, text) in fields {
            let result = match field {
                "transfer.classes" => {
                    parse_list::<u8>(text, "a whole number").map(|v| config.transfer.classes = v)
                }
                "teacher.hidden" => {
                    parse_list::<usize>(text, "a whole number").map(|v| config.teacher.hidden = v)
                }
                "probes.samples" => parse_list::<usize>(text, "a test image number")
                    .map(|v| config.probes.samples = v),
                _ => parse_list::<usize>(text, "a whole number").map(|v| config.student.hidden = v),
            };
            if let Err(e) = result {
                self.list_error.get_or_insert((field, e));
            }
        }
    }
}
