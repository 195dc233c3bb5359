//! Small widgets more than one view draws: the mark of T = 1 under a temperature slider, a
//! labelled grid row that screen readers and UI tests can find by its label, and text made
//! drawable by the window's font.

/// Slider range of the temperature (logarithmic).
pub const T_MIN: f64 = 0.5;
/// Upper end of the slider.
pub const T_MAX: f64 = 100.0;

/// Text as the window's font can draw it: it has neither '‖' (the KL in a method's loss
/// legend) nor '→' (a hint stage's "layer 1 → layer 1"), which become "||" and "->" on
/// screen; files and exports keep the text.
pub fn screen_text(text: &str) -> String {
    text.replace('‖', "||").replace('→', "->")
}

/// Marks temperature `t` under a logarithmic `T_MIN..=T_MAX` slider drawn with the current
/// `slider_width` (the slider maps ln T linearly onto its rail).
pub fn slider_mark(ui: &egui::Ui, slider: &egui::Response, t: f64) {
    let f = ((t / T_MIN).ln() / (T_MAX / T_MIN).ln()).clamp(0.0, 1.0) as f32;
    let rail = slider.rect;
    let x = rail.left() + 8.0 + f * (ui.spacing().slider_width - 16.0);
    let y = rail.bottom();
    ui.painter().line_segment(
        [egui::pos2(x, y - 4.0), egui::pos2(x, y + 2.0)],
        egui::Stroke::new(2.0, ui.visuals().warn_fg_color),
    );
}

/// A grid row: a label (with a tooltip) that names the widgets `add` creates, so screen
/// readers and UI tests can find them.
pub fn grid_row(
    ui: &mut egui::Ui,
    label: &str,
    hover: &str,
    add: impl FnOnce(&mut egui::Ui) -> Vec<egui::Response>,
) {
    let mut name = ui.label(label);
    if !hover.is_empty() {
        name = name.on_hover_text(hover);
    }
    for response in add(ui) {
        let _ = response.labelled_by(name.id);
    }
    ui.end_row();
}
