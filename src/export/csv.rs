//! The data behind a plot as CSV, in long format: one `series,x,y` row per point.

use super::plot::PlotSpec;
use crate::files::csv_text;

/// The CSV text of a plot's data: a `series,x,y` header, one row per point, then one row per
/// reference line with an empty `x`.
///
/// Numbers use Rust's shortest round-trip formatting (`{}` of `f64`), so parsing a cell gives back
/// the exact value; names are quoted as RFC 4180 requires (by the `csv` crate, through
/// [`csv_text`]). Lines end in `\n`. A heatmap's CSV is its cells instead: `x,y,value` (see
/// [`super::Heatmap::to_csv`]).
pub fn to_csv(spec: &PlotSpec) -> String {
    if let Some(map) = &spec.heatmap {
        return map.to_csv(&spec.x_label, &spec.y_label);
    }
    let header = ["series", "x", "y"].map(str::to_owned);
    let points = spec.series.iter().flat_map(|series| {
        series
            .points
            .iter()
            .map(|[x, y]| [series.name.clone(), x.to_string(), y.to_string()])
    });
    let lines = spec
        .hlines
        .iter()
        .map(|line| [line.name.clone(), String::new(), line.y.to_string()]);
    csv_text(std::iter::once(header).chain(points).chain(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{HLine, Series, SeriesKind};

    /// One row of the file as a CSV reader sees it.
    #[derive(serde::Deserialize)]
    struct Row {
        series: String,
        x: Option<f64>,
        y: f64,
    }

    fn read(text: &str) -> Vec<Row> {
        crate::files::read_csv(std::path::Path::new("plot.csv"), text).unwrap()
    }

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
        let parsed: Vec<(f64, f64)> = read(&to_csv(&spec))
            .iter()
            .map(|row| (row.x.unwrap_or(f64::NAN), row.y))
            .collect();
        assert_eq!(parsed, values.map(|v| (v, v)));
    }

    /// Names with commas, quotes and line breaks, and every number, come back unchanged
    /// when the file is read as CSV.
    #[test]
    fn names_and_numbers_round_trip_through_a_csv_reader() {
        let names = ["a,b", "say \"hi\"", "two\nlines", "plain"];
        let mut spec = PlotSpec::default();
        for (i, name) in names.iter().enumerate() {
            let v = 1.0 / (i as f64 + 3.0);
            spec.series.push(Series::new(
                *name,
                SeriesKind::Line,
                vec![[v, -v]],
                [0, 0, 0],
            ));
        }
        spec.hlines
            .push(HLine::new("limit, \"paper\"", 67.5, [0, 0, 0]));
        let rows = read(&to_csv(&spec));
        assert_eq!(rows.len(), 5);
        for (row, (i, name)) in rows.iter().zip(names.iter().enumerate()) {
            let v = 1.0 / (i as f64 + 3.0);
            assert_eq!((row.series.as_str(), row.x, row.y), (*name, Some(v), -v));
        }
        assert_eq!(
            (rows[4].series.as_str(), rows[4].x, rows[4].y),
            ("limit, \"paper\"", None, 67.5)
        );
    }
}
