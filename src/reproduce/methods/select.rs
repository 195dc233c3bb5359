//! Choosing a method's setting: the candidate whose validation run makes the fewest errors.

/// The index of the fewest errors in `validation_errors` (one per candidate, in the grid's
/// order); the first of a tie wins, so a grid lists its default first. `None` when empty.
pub(super) fn fewest_errors(validation_errors: &[usize]) -> Option<usize> {
    validation_errors
        .iter()
        .enumerate()
        .min_by_key(|&(i, &errors)| (errors, i))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fewest_validation_errors_win_and_ties_go_to_the_first_candidate() {
        assert_eq!(fewest_errors(&[120, 95, 130]), Some(1));
        assert_eq!(fewest_errors(&[95, 120, 95]), Some(0));
        assert_eq!(fewest_errors(&[130, 95, 95]), Some(1));
        assert_eq!(fewest_errors(&[7, 7]), Some(0));
        assert_eq!(fewest_errors(&[88]), Some(0));
        assert_eq!(fewest_errors(&[]), None);
    }
}
