//! One axis of a sweep: a setting named by its dotted `--set` path and the values it takes.

use serde::{Deserialize, Serialize};

use super::error::SweepError;
use crate::config::RunConfig;

/// A setting and the values a sweep gives it, e.g. `distill.temperature` = 1, 2, 4.
///
/// Values are kept as the TOML text the user typed (`4`, `[30,30]`, `true`) and applied with
/// [`RunConfig::set`], so any setting `--set` accepts can be swept, lists included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted path of the setting, as for `--set` (e.g. `distill.alpha`).
    pub key: String,
    /// The values, as TOML text.
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `key=v1,v2,…` (list values split at commas outside brackets, e.g.
    /// `student.hidden=[30,30],[100,100]`) and checks every value against `base`.
    pub fn parse(spec: &str, base: &RunConfig) -> Result<Self, SweepError> {
        let (key, list) = spec.split_once('=').ok_or_else(|| SweepError::Axis {
            axis: spec.to_owned(),
            problem: "expected KEY=V1,V2,… (e.g. distill.temperature=1,2,4)".into(),
        })?;
        Self::new(key.trim(), split_values(list), base)
    }

    /// An axis of `values` for `key`, each checked by applying it to `base` and validating the
    /// result: unknown keys, values of the wrong type or out of range, and empty or repeated
    /// values are errors naming the key and the value.
    pub fn new(key: &str, values: Vec<String>, base: &RunConfig) -> Result<Self, SweepError> {
        let axis = Self {
            key: key.to_owned(),
            values,
        };
        let fail = |problem: String| SweepError::Axis {
            axis: key.to_owned(),
            problem,
        };
        if key.is_empty() {
            return Err(fail("the setting's name is empty".into()));
        }
        if axis.values.is_empty() {
            return Err(fail("no values: give at least one".into()));
        }
        for (i, value) in axis.values.iter().enumerate() {
            if value.is_empty() {
                return Err(fail(format!("value {} is empty", i + 1)));
            }
            if axis.values[..i].contains(value) {
                return Err(fail(format!("value `{value}` is given twice")));
            }
            let mut config = base.clone();
            axis.apply(i, &mut config)
                .and_then(|()| config.validate())
                .map_err(|e| fail(format!("value `{value}`: {e}")))?;
        }
        Ok(axis)
    }

    /// Sets this axis's `i`-th value in `config` (not validated).
    pub fn apply(
        &self,
        i: usize,
        config: &mut RunConfig,
    ) -> Result<(), crate::config::ConfigError> {
        let value = self.values.get(i).map_or("", String::as_str);
        config.set(&format!("{}={value}", self.key))
    }

    /// The `i`-th value as a number for plotting: the number itself, or a list's first element
    /// (a layer width), or 0/1 for false/true; `None` for anything else.
    pub fn numeric(&self, i: usize) -> Option<f64> {
        let value = self.values.get(i)?;
        let first = value
            .trim_start_matches('[')
            .split([',', ']'])
            .next()
            .unwrap_or_default()
            .trim();
        match first {
            "true" => Some(1.0),
            "false" => Some(0.0),
            other => other.parse::<f64>().ok().filter(|v| v.is_finite()),
        }
    }

    /// Whether every value is a number (or list of numbers), so the axis can be an x axis.
    pub fn is_numeric(&self) -> bool {
        (0..self.values.len()).all(|i| self.numeric(i).is_some())
            && !self.values.iter().any(|v| v == "true" || v == "false")
    }

    /// Whether the axis is best read on a log scale: temperatures, sizes and widths whose
    /// values span a factor of 4 or more.
    pub fn log_scale(&self) -> bool {
        let scale_like = ["temperature", "limit", "hidden", "epochs", "k"]
            .iter()
            .any(|name| self.key.rsplit('.').next() == Some(name));
        let numbers: Vec<f64> = (0..self.values.len())
            .filter_map(|i| self.numeric(i))
            .collect();
        let (lo, hi) = numbers
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        scale_like && self.is_numeric() && lo > 0.0 && hi / lo >= 4.0
    }

    /// A short label for the axis: its last path element (`temperature`, `alpha`, `limit`).
    pub fn short_name(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }

    /// Whether a change of this setting changes the teacher (so points cannot share one).
    pub fn changes_teacher(&self) -> bool {
        self.key == "seed" || self.key.starts_with("teacher.") || self.key.starts_with("data.")
    }

    /// Whether a change of this setting changes the hard-label baseline (so each point needs
    /// its own): the student's architecture and training, and the students' examples.
    pub fn changes_baseline(&self) -> bool {
        self.changes_teacher()
            || (self.key.starts_with("student.") && self.key != "student.baseline")
            || self.key == "transfer.limit"
    }
}

/// The dotted keys of `axes`, in order: the axis columns of `sweep.csv`.
pub fn axis_keys(axes: &[Axis]) -> Vec<String> {
    axes.iter().map(|a| a.key.clone()).collect()
}

/// Splits `a,b,[c,d]` at commas outside brackets and trims each value. An empty text gives
/// no values.
pub fn split_values(list: &str) -> Vec<String> {
    if list.trim().is_empty() {
        return Vec::new();
    }
    let mut values = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                values.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current.trim().to_owned());
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Result<Axis, String> {
        Axis::parse(spec, &RunConfig::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn values_split_at_top_level_commas() {
        assert_eq!(split_values("1, 2,4"), ["1", "2", "4"]);
        assert_eq!(
            split_values("[30,30],[100, 100]"),
            ["[30,30]", "[100, 100]"]
        );
        assert!(split_values(" ").is_empty());
    }

    #[test]
    fn numbers_and_lists_parse() {
        let t = parse("distill.temperature=1,2,20").unwrap();
        assert_eq!(t.values, ["1", "2", "20"]);
        assert_eq!(t.numeric(2), Some(20.0));
        assert!(t.log_scale());
        let w = parse("student.hidden=[30,30],[800,800]").unwrap();
        assert_eq!(w.numeric(1), Some(800.0));
        assert!(w.changes_baseline() && !w.changes_teacher());
        let mut config = RunConfig::default();
        w.apply(0, &mut config).unwrap();
        assert_eq!(config.student.hidden, [30, 30]);
        let a = parse("distill.alpha=0.1,0.5").unwrap();
        assert!(!a.log_scale() && !a.changes_baseline());
        let m = parse("transfer.munge=false,true").unwrap();
        assert!(!m.is_numeric());
    }

    #[test]
    fn bad_axes_name_the_key_and_value() {
        let cases = [
            (
                "distill.temprature=1,2",
                "distill.temprature",
                "unknown key",
            ),
            ("distill.temperature=1,abc", "distill.temperature", "`abc`"),
            (
                "distill.temperature=1,0",
                "distill.temperature",
                "must be > 0",
            ),
            ("student.hidden=[30,x]", "student.hidden", "`[30,x]`"),
            ("distill.alpha=", "distill.alpha", "no values"),
            (
                "distill.alpha=0.1,,0.5",
                "distill.alpha",
                "value 2 is empty",
            ),
            ("distill.alpha=0.1,0.1", "distill.alpha", "twice"),
            ("distill.alpha", "distill.alpha", "KEY=V1,V2"),
        ];
        for (spec, key, needle) in cases {
            let message = parse(spec).expect_err(spec);
            assert!(
                message.starts_with(&format!("--axis {key}")),
                "{spec}: {message}"
            );
            assert!(message.contains(needle), "{spec}: {message}");
        }
    }
}
