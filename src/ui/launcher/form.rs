//! The launcher's form errors: the first invalid field and its problem, flagged in red under
//! the section that holds the field.

/// The first invalid field of the form and its problem (`field` empty when the problem is
/// not one field's); `None` when the configuration can be started.
pub type FormError = Option<(String, String)>;

/// The problem with `field`, if it is the invalid one.
fn field_error(errors: &FormError, field: &str) -> Option<String> {
    errors
        .as_ref()
        .filter(|(f, _)| f == field)
        .map(|(_, e)| e.clone())
}

/// Shows the problem of `field` in red, if it is the invalid one.
pub fn flag(ui: &mut egui::Ui, errors: &FormError, field: &str) {
    if let Some(problem) = field_error(errors, field) {
        ui.colored_label(ui.visuals().error_fg_color, format!("! {problem}"));
    }
}

/// [`flag`] for each of `fields`.
pub fn flag_all(ui: &mut egui::Ui, errors: &FormError, fields: &[&str]) {
    for field in fields {
        flag(ui, errors, field);
    }
}
