//! The window's frame around the views: the top bar (tabs, theme), the status bar, and the
//! path field shown when no system file dialog is available.

use std::path::{Path, PathBuf};

use super::action::Action;
use super::pending::PendingFile;
use super::persist::FrameStats;
use super::tab::Tab;

/// The name the header gives a data folder: "MNIST (bundled)", or the folder's own name
/// (`fashion-mnist`, `kmnist`).
pub fn dataset_name(data_dir: Option<&Path>) -> String {
    match data_dir {
        None => "MNIST (bundled)".to_owned(),
        Some(dir) => dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    }
}

/// Tabs, the dataset in use (with a folder picker) and the theme switch.
#[must_use]
pub fn top_bar_ui(ui: &mut egui::Ui, tab: Tab, dark: bool, dataset: &str) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.heading("Distillery");
        ui.separator();
        for each in Tab::ALL {
            if ui.selectable_label(tab == each, each.title()).clicked() {
                actions.push(Action::ShowTab(each));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let label = if dark { "Light theme" } else { "Dark theme" };
            if ui
                .button(label)
                .on_hover_text("Switch between light and dark themes")
                .clicked()
            {
                actions.push(Action::SetDark(!dark));
            }
            if ui
                .button("Data folder…")
                .on_hover_text("Use another MNIST-format set (Fashion-MNIST, KMNIST): a folder with the four IDX files, gzipped or not")
                .clicked()
            {
                actions.push(Action::File(PendingFile::OpenDataDir));
            }
            ui.label(format!("Data: {dataset}"));
        });
    });
    actions
}

/// The newest message and the UI thread's cost per frame.
pub fn status_bar_ui(ui: &mut egui::Ui, message: Option<&(bool, String)>, stats: &FrameStats) {
    ui.horizontal(|ui| {
        if let Some((is_error, text)) = message {
            let color = if *is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.colored_label(color, text);
        } else {
            ui.label("Ready.");
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.weak(format!(
                "UI thread {:.2} ms/frame (max {:.2})",
                stats.mean_ms, stats.max_ms
            ))
            .on_hover_text("CPU time of the UI thread per frame: draining events plus drawing");
        });
    });
}

/// The window's own path field for file work, used when no system dialog can be shown.
pub struct PathPrompt {
    /// The work waiting for a path.
    pub pending: PendingFile,
    /// The path as typed.
    pub text: String,
}

impl PathPrompt {
    /// A field suggesting `folder/<suggested name>`.
    pub fn new(pending: PendingFile, folder: &Path) -> Self {
        let text = folder
            .join(pending.suggested_name())
            .to_string_lossy()
            .into_owned();
        Self { pending, text }
    }

    /// Draws the field in a small window.
    #[must_use]
    pub fn ui(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let mut actions = Vec::new();
        let verb = self.pending.verb();
        egui::Window::new(format!("{verb} {}", self.pending.noun()))
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ctx, |ui| {
                ui.label("No system file dialog is available here. Path:");
                let field = ui.add(egui::TextEdit::singleline(&mut self.text).desired_width(520.0));
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    let path = PathBuf::from(self.text.trim());
                    let valid = !self.text.trim().is_empty();
                    if ui.add_enabled(valid, egui::Button::new(verb)).clicked()
                        || (entered && valid)
                    {
                        actions.push(Action::FileAt(self.pending.clone(), path));
                    }
                    if ui.button("Cancel").clicked() {
                        actions.push(Action::DismissPrompt);
                    }
                });
            });
        actions
    }
}
