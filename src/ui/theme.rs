//! The window's colours: one per model role, shared by every view and export so that the
//! teacher is the same orange everywhere, and the dark / light visuals.

/// Teacher colour, used by every view.
pub const TEACHER_COLOR: [u8; 3] = [230, 140, 40];
/// Student colour.
pub const STUDENT_COLOR: [u8; 3] = [60, 140, 230];
/// Colour of TAKD's teacher assistant (gold: apart from the loss plot's purple soft part).
pub const ASSISTANT_COLOR: [u8; 3] = [215, 185, 50];
/// Colour of FitNets' hint stage.
pub const HINT_COLOR: [u8; 3] = [110, 180, 170];
/// Colour of the hard-label baseline.
pub const BASELINE_COLOR: [u8; 3] = [150, 150, 150];

/// The colour of member `member` of a phase drawn in `base` (DML's students, an ensemble's
/// teachers): the first keeps `base`, the others alternate lighter and darker shades of it, so
/// that curves and bars of one phase stay one hue yet tell their members apart.
pub fn member_color(base: [u8; 3], member: usize) -> [u8; 3] {
    if member == 0 {
        return base;
    }
    let step = member.div_ceil(2) as i32;
    let (toward, amount) = if member % 2 == 1 {
        (255.0, 1.0 - 0.55f32.powi(step))
    } else {
        (0.0, 1.0 - 0.6f32.powi(step))
    };
    base.map(|c| (f32::from(c) + (toward - f32::from(c)) * amount).round() as u8)
}

/// egui's visuals for the dark or the light theme.
pub fn visuals(dark: bool) -> egui::Visuals {
    if dark {
        egui::Visuals::dark()
    } else {
        egui::Visuals::light()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_get_distinct_shades_of_their_phase_colour() {
        assert_eq!(member_color(STUDENT_COLOR, 0), STUDENT_COLOR);
        // 45 % toward white, then 40 % toward black: [148, 192, 241] and [36, 84, 138].
        assert_eq!(member_color(STUDENT_COLOR, 1), [148, 192, 241]);
        assert_eq!(member_color(STUDENT_COLOR, 2), [36, 84, 138]);
        let shades: std::collections::BTreeSet<[u8; 3]> =
            (0..8).map(|k| member_color(TEACHER_COLOR, k)).collect();
        assert_eq!(shades.len(), 8);
    }
}
