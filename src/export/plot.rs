//! A plain-data description of a 2-D plot: what the UI draws, and what export renders.

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SeriesKind {
    /// Points joined by straight lines (a non-finite point breaks the line).
    #[default]
    Line,
    /// Unconnected filled circles.
    Points,
    /// Bars from 0 to y, 0.8 wide and centred on x (per-class charts with x = class).
    Bars,
}

/// One named set of points.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Series {
    /// Shown in the legend and used as the CSV `series` column; empty: no legend entry.
    pub name: String,
    /// How the points are drawn.
    pub kind: SeriesKind,
    /// `[x, y]` pairs, in drawing order.
    pub points: Vec<[f64; 2]>,
    /// RGB colour.
    pub color: [u8; 3],
}

impl Series {
    /// A series with the given name, kind, points and colour.
    pub fn new(
        name: impl Into<String>,
        kind: SeriesKind,
        points: Vec<[f64; 2]>,
        color: [u8; 3],
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            points,
            color,
        }
    }
}

/// A horizontal reference line across the whole x range, e.g. the paper's 67/146/74 test errors.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HLine {
    /// Shown in the legend and in the CSV; empty: no legend entry.
    pub name: String,
    /// Height of the line.
    pub y: f64,
    /// RGB colour.
    pub color: [u8; 3],
}

impl HLine {
    /// A reference line with the given name, height and colour.
    pub fn new(name: impl Into<String>, y: f64, color: [u8; 3]) -> Self {
        Self {
            name: name.into(),
            y,
            color,
        }
    }
}

/// Everything needed to draw one plot again outside the UI.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PlotSpec {
    /// Caption above the plot; may be empty.
    pub title: String,
    /// Description of the x axis.
    pub x_label: String,
    /// Description of the y axis.
    pub y_label: String,
    /// Logarithmic x axis (every finite x must then be > 0).
    pub log_x: bool,
    /// The data, drawn in order (later series on top).
    pub series: Vec<Series>,
    /// Reference lines, drawn dashed after the series.
    pub hlines: Vec<HLine>,
    /// A map of values over two labelled axes; when set, it is the whole plot (series and
    /// reference lines are not drawn).
    pub heatmap: Option<super::heatmap::Heatmap>,
    /// Clip the y axis at this value (error curves whose first epoch dwarfs the rest); the
    /// data is kept whole (in the CSV) and drawn cut off at the top.
    pub y_max: Option<f64>,
}

impl PlotSpec {
    /// An empty plot with a title and axis labels, linear axes.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fill_fields() {
        let mut spec = PlotSpec::new("T", "x", "y");
        spec.series.push(Series::new(
            "s",
            SeriesKind::Bars,
            vec![[0.0, 1.0]],
            [1, 2, 3],
        ));
        spec.hlines.push(HLine::new("paper", 74.0, [4, 5, 6]));
        assert_eq!(spec.title, "T");
        assert!(!spec.log_x);
        assert_eq!(spec.series[0].kind, SeriesKind::Bars);
        assert_eq!(spec.hlines[0].y, 74.0);
        assert_eq!(SeriesKind::default(), SeriesKind::Line);
    }
}
