//! The launcher panel itself: what it keeps between frames and the order of its sections.
//! It edits a copy of the shared configuration and asks for the change as an action.

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, RunConfig};
use crate::ui::action::Action;
use crate::ui::ctx::ViewCtx;
use crate::ui::methods::{launcher_fields, launcher_method_ui};

use super::controls::{controls_ui, memory_ui};
use super::form::{flag_all, FormError};
use super::sections::{preset_ui, probes_ui, student_ui, teacher_ui, transfer_ui};
use super::text::LauncherText;

/// The launcher panel: edits a copy of the shared configuration and asks for the change.
#[derive(Default, Serialize, Deserialize)]
pub struct Launcher {
    /// The list fields as typed.
    #[serde(skip)]
    text: LauncherText,
    /// The configuration the text fields were last in step with; when the shared one differs
    /// (a preset, a reopened run), the fields are refilled from it.
    #[serde(skip)]
    seen: Option<RunConfig>,
    /// The memory this machine had available when the launcher was first drawn: read once,
    /// not every frame, to put the run's estimate in proportion.
    #[serde(skip)]
    available_bytes: Option<u64>,
}

/// The form's first problem: a malformed list field, else what validation says.
fn form_error(text: &LauncherText, config: &RunConfig) -> FormError {
    match (&text.list_error, config.validate()) {
        (Some((field, e)), _) => Some(((*field).to_owned(), e.clone())),
        (None, Err(ConfigError::Invalid { field, problem })) => Some((field, problem)),
        (None, Err(other)) => Some((String::new(), other.to_string())),
        (None, Ok(())) => None,
    }
}

impl Launcher {
    /// Draws the launcher.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        if self.seen.as_ref() != Some(ctx.config) {
            self.text = LauncherText::from_config(ctx.config);
        }
        let available = *self
            .available_bytes
            .get_or_insert_with(crate::config::memory::available_bytes);
        let mut config = ctx.config.clone();
        let mut actions = Vec::new();
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading("Run launcher");
            if let Some(preset) = preset_ui(ui, ctx.preset) {
                actions.push(Action::LoadPreset(preset));
            }
            self.text.apply(&mut config);
            let errors = form_error(&self.text, &config);
            launcher_method_ui(&mut config.distill, ui);
            flag_all(ui, &errors, &launcher_fields(&config.distill));
            teacher_ui(&mut config, &mut self.text, ui, &errors);
            student_ui(&mut config, &mut self.text, ui, &errors);
            transfer_ui(&mut config, &mut self.text, ui, &errors);
            probes_ui(&mut self.text, ui, &errors);
            ui.separator();
            memory_ui(ui, &config, available);
            controls_ui(ctx, ui, &mut actions, &errors);
        });
        if config != *ctx.config {
            actions.push(Action::SetConfig(Box::new(config.clone())));
        }
        self.seen = Some(config);
        actions
    }
}
