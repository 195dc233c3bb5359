//! The one error type of the configuration, and how its parse errors read.

use thiserror::Error;

/// A configuration value that cannot be used, naming the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    /// A field holds a value outside its allowed range.
    #[error("{field}: {problem}")]
    Invalid {
        /// Dotted path of the field, as used by `--set` (e.g. `distill.temperature`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `--set` named a key the configuration does not have.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// A `--set` argument is not of the form `key=value`.
    #[error("`{0}` is not of the form key=value")]
    BadAssignment(String),
    /// The TOML text could not be parsed into a configuration.
    #[error("{}", describe_parse_error(.field.as_deref(), *.position, .problem))]
    Parse {
        /// Dotted path of the field the error is in, when known (e.g. `student.epochs`).
        field: Option<String>,
        /// 1-based line and column in the text, when known.
        position: Option<(usize, usize)>,
        /// What is wrong, e.g. `expected a whole number ≥ 0, found string "ten"`.
        problem: String,
    },
}

/// `line 3, column 10: student.epochs: problem`, leaving out what is unknown.
fn describe_parse_error(
    field: Option<&str>,
    position: Option<(usize, usize)>,
    problem: &str,
) -> String {
    let mut out = String::new();
    if let Some((line, column)) = position {
        out.push_str(&format!("line {line}, column {column}: "));
    }
    if let Some(field) = field.filter(|f| !f.is_empty()) {
        out.push_str(&format!("{field}: "));
    }
    out.push_str(problem);
    out
}

/// A [`ConfigError::Invalid`] for `field`: the shape of every validation error.
pub(super) fn invalid(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        problem: problem.into(),
    }
}
