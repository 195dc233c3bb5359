//! Lists typed into one text field ("1, 2 3": hidden widths, classes, probe images) and
//! written back into one.

/// Parses a list typed as "1, 2 3" (commas and/or spaces); the error names the bad item as
/// "`x` is not {what}".
pub fn parse_list<T: std::str::FromStr>(text: &str, what: &str) -> Result<Vec<T>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| format!("`{s}` is not {what}")))
        .collect()
}

/// The values as the list fields show them: "1, 2, 3".
pub fn join_list<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
