//! The range checks every section's `validate` is made of: each names the field by its `--set`
//! path and says what it must be, so the same mistake reads the same wherever it is made.

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::error::{invalid, ConfigError};

/// A finite number above zero (learning rates, temperatures, MUNGE's `s`).
pub(super) fn check_finite_positive(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() {
        return Err(invalid(
            field,
            format!("must be a finite number, got {value}"),
        ));
    }
    if value <= 0.0 {
        return Err(invalid(field, format!("must be > 0, got {value}")));
    }
    Ok(())
}

/// A finite number ≥ 0 (weight decay, max-norm, noise, warm-up epochs, seconds).
pub(super) fn check_non_negative(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || value < 0.0 {
        return Err(invalid(field, format!("must be ≥ 0, got {value}")));
    }
    Ok(())
}

/// A probability or fraction in [0, 1].
pub(super) fn check_probability(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || !(0.0..=1.0).contains(&value) {
        return Err(invalid(field, format!("must be in [0, 1], got {value}")));
    }
    Ok(())
}

/// A fraction in [0, 1) (dropout, momentum, a decay): 1 would drop or keep everything.
pub(super) fn check_fraction_below_one(field: &str, value: f64) -> Result<(), ConfigError> {
    if !value.is_finite() || !(0.0..1.0).contains(&value) {
        return Err(invalid(field, format!("must be in [0, 1), got {value}")));
    }
    Ok(())
}

/// At least `min` (counts: epochs, batch sizes, members, examples).
pub(super) fn check_at_least<T: PartialOrd + Display>(
    field: &str,
    value: T,
    min: T,
) -> Result<(), ConfigError> {
    if value < min {
        return Err(invalid(field, format!("must be ≥ {min}, got {value}")));
    }
    Ok(())
}

/// At least `min` when set (the optional limits: unset means "all").
pub(super) fn check_at_least_if_set(
    field: &str,
    value: Option<usize>,
    min: usize,
) -> Result<(), ConfigError> {
    value.map_or(Ok(()), |value| check_at_least(field, value, min))
}

/// At most `max`: a typo such as `epochs = 1000000` is refused before it costs weeks.
pub(super) fn check_at_most<T: PartialOrd + Display>(
    field: &str,
    value: T,
    max: T,
) -> Result<(), ConfigError> {
    if value > max {
        return Err(invalid(field, format!("must be ≤ {max}, got {value}")));
    }
    Ok(())
}

/// Within `range`, written `2–1000`.
pub(super) fn check_in_range(
    field: &str,
    value: usize,
    range: RangeInclusive<usize>,
) -> Result<(), ConfigError> {
    if !range.contains(&value) {
        return Err(invalid(
            field,
            format!("must be in {}–{}, got {value}", range.start(), range.end()),
        ));
    }
    Ok(())
}

/// Hidden layer widths, each ≥ 1.
pub(super) fn check_widths(field: &str, widths: &[usize]) -> Result<(), ConfigError> {
    if let Some(w) = widths.iter().find(|w| **w == 0) {
        return Err(invalid(field, format!("layer widths must be ≥ 1, got {w}")));
    }
    Ok(())
}

/// Class labels of a dataset with `count` classes.
pub(super) fn check_classes(field: &str, classes: &[u8], count: usize) -> Result<(), ConfigError> {
    if let Some(c) = classes.iter().find(|c| usize::from(**c) >= count) {
        return Err(invalid(
            field,
            format!("classes are 0–{}, got {c}", count.saturating_sub(1)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_field_and_the_bound() {
        let message = |r: Result<(), ConfigError>| r.unwrap_err().to_string();
        assert_eq!(
            message(check_at_least("a.b", 0, 1)),
            "a.b: must be ≥ 1, got 0"
        );
        assert_eq!(
            message(check_at_least_if_set("a.b", Some(0), 1)),
            "a.b: must be ≥ 1, got 0"
        );
        check_at_least_if_set("a.b", None, 1).unwrap();
        assert_eq!(message(check_at_most("a", 9, 8)), "a: must be ≤ 8, got 9");
        assert_eq!(
            message(check_at_most("a", 1.5, 1.0)),
            "a: must be ≤ 1, got 1.5"
        );
        assert_eq!(
            message(check_in_range("g", 1, 2..=1000)),
            "g: must be in 2–1000, got 1"
        );
        assert_eq!(
            message(check_non_negative("w", f64::NAN)),
            "w: must be ≥ 0, got NaN"
        );
        assert_eq!(
            message(check_fraction_below_one("m", 1.0)),
            "m: must be in [0, 1), got 1"
        );
        check_probability("p", 1.0).unwrap();
        check_fraction_below_one("m", 0.0).unwrap();
    }
}
