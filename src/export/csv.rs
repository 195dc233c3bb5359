//! The data behind a plot as CSV, in long format: one `series,x,y` row per point.

use std::borrow::Cow;

use super::PlotSpec;

/// The CSV text of a plot's data: a `series,x,y` header, one row per point, then one row per
/// reference line with an empty `x`.
///
/// Numbers use Rust's shortest round-trip formatting (`{}` of `f64`), so parsing a cell gives back
/// the exact value; names are quoted as RFC 4180 requires. Lines end in `\n`.
/// A heatmap's CSV is its cells instead: `x,y,value` (see [`super::Heatmap::to_csv`]).
pub fn to_csv(spec: &PlotSpec) -> String {
    if let Some(map) = &spec.heatmap {
        return map.to_csv(&spec.x_label, &spec.y_label);
    }
    let mut out = String::from("series,x,y\n");
    for series in &spec.series {
        let name = quote(&series.name);
        for [x, y] in &series.points {
            out.push_str(&format!("{name},{x},{y}\n"));
        }
    }
    for line in &spec.hlines {
        out.push_str(&format!("{},,{}\n", quote(&line.name), line.y));
    }
    out
}

/// Quotes a field if it contains a comma, a quote or a line break, doubling inner quotes.
pub fn quote(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{HLine, Series, SeriesKind};

    #[test]
    fn small_spec_csv_is_exact() {
        let mut spec = PlotSpec::new("Test errors", "epoch", "errors");
        spec.series.push(Series::new(
            "teacher",
            SeriesKind::Line,
            vec![[1.0, 120.0], [2.0, 0.1]],
            [0, 0, 0],
        ));
        spec.series.push(Series::new(
            "student, \"T=20\"",
            SeriesKind::Points,
            vec![[3.5, -1e-7]],
            [0, 0, 0],
        ));
        spec.hlines
            .push(HLine::new("paper teacher", 67.0, [0, 0, 0]));
        let expected = "series,x,y\n\
                        teacher,1,120\n\
                        teacher,2,0.1\n\
                        \"student, \"\"T=20\"\"\",3.5,-0.0000001\n\
                        paper teacher,,67\n";
        assert_eq!(to_csv(&spec), expected);
    }

    #[test]
    fn empty_spec_is_header_only() {
        assert_eq!(to_csv(&PlotSpec::default()), "series,x,y\n");
    }

    #[test]
    fn numbers_round_trip() {
        let values = [0.1 + 0.2, 1.0 / 3.0, 1e300, -2.5e-300, 146.0];
        let spec = PlotSpec {
            series: vec![Series::new(
                "s",
                SeriesKind::Line,
                values.iter().map(|&v| [v, v]).collect(),
                [0, 0, 0],
            )],
            ..PlotSpec::default()
        };
        let csv = to_csv(&spec);
        let parsed: Vec<f64> = csv
            .lines()
            .skip(1)
            .map(|row| row.rsplit(',').next().unwrap_or("").parse().unwrap())
            .collect();
        assert_eq!(parsed, values);
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
    }
}
