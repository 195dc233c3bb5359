//! The window's colours: one per model role, shared by every view and export so that the
//! teacher is the same orange everywhere, and the dark / light visuals.

/// Teacher colour, used by every view.
pub const TEACHER_COLOR: [u8; 3] = [230, 140, 40];
/// Student colour.
pub const STUDENT_COLOR: [u8; 3] = [60, 140, 230];
/// Colour of TAKD's teacher assistant.
pub const ASSISTANT_COLOR: [u8; 3] = [200, 90, 160];
/// Colour of FitNets' hint stage.
pub const HINT_COLOR: [u8; 3] = [110, 180, 170];
/// Colour of the hard-label baseline.
pub const BASELINE_COLOR: [u8; 3] = [150, 150, 150];

/// egui's visuals for the dark or the light theme.
pub fn visuals(dark: bool) -> egui::Visuals {
    if dark {
        egui::Visuals::dark()
    } else {
        egui::Visuals::light()
    }
}
