//! Axis ranges for a plot: the data's extent, padded so that nothing sits on the frame and a
//! single point or a flat line still gets a non-empty range.

use std::ops::Range;

use super::plot::{PlotSpec, Series, SeriesKind};

/// Half the width of a bar on a linear x axis.
const BAR_HALF_WIDTH: f64 = 0.4;
/// On a log x axis a bar spans `x / BAR_LOG_FACTOR ..= x * BAR_LOG_FACTOR`.
const BAR_LOG_FACTOR: f64 = 1.2;
/// Fraction of the data's span added on each side.
const MARGIN: f64 = 0.04;

/// The x and y ranges a plot is drawn over (x in data units, also on a log axis).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AxisRanges {
    /// x range; both ends > 0 on a log axis.
    pub x: Range<f64>,
    /// y range.
    pub y: Range<f64>,
}

/// The x interval a bar at `x` covers.
pub(crate) fn bar_span(x: f64, log_x: bool) -> (f64, f64) {
    if log_x {
        (x / BAR_LOG_FACTOR, x * BAR_LOG_FACTOR)
    } else {
        (x - BAR_HALF_WIDTH, x + BAR_HALF_WIDTH)
    }
}

/// The padded ranges of a plot's finite data; an error (plain text) when the data cannot be
/// drawn: x ≤ 0 on a log axis, or values so large that the range overflows.
pub(crate) fn axis_ranges(spec: &PlotSpec) -> Result<AxisRanges, String> {
    if spec.log_x {
        check_positive_x(spec)?;
    }
    let x = match x_extent(spec) {
        None if spec.log_x => 1.0..10.0,
        None => 0.0..1.0,
        Some((lo, hi)) if spec.log_x => {
            let r = padded(lo.log10(), hi.log10(), 0.5);
            10f64.powf(r.start)..10f64.powf(r.end)
        }
        Some((lo, hi)) => padded(lo, hi, degenerate_pad(lo)),
    };
    let y = match y_extent(spec) {
        None => 0.0..1.0,
        Some((lo, hi)) => {
            let hi = spec.y_max.filter(|m| *m > lo).map_or(hi, |m| hi.min(m));
            padded(lo, hi, degenerate_pad(lo))
        }
    };
    for r in [&x, &y] {
        if !(r.end - r.start).is_finite() || r.start >= r.end {
            return Err(format!(
                "values too large to plot (range {}..{})",
                r.start, r.end
            ));
        }
    }
    Ok(AxisRanges { x, y })
}

/// Rejects a log x axis with a finite x ≤ 0, naming the series and the value.
fn check_positive_x(spec: &PlotSpec) -> Result<(), String> {
    for series in &spec.series {
        if let Some([x, _]) = finite_points(series).find(|[x, _]| *x <= 0.0) {
            return Err(format!(
                "log x axis needs x > 0, but series \"{}\" has x = {x}",
                series.name
            ));
        }
    }
    Ok(())
}

/// The points of a series with both coordinates finite.
pub(crate) fn finite_points(series: &Series) -> impl Iterator<Item = [f64; 2]> + '_ {
    series
        .points
        .iter()
        .copied()
        .filter(|[x, y]| x.is_finite() && y.is_finite())
}

/// Smallest and largest x covered by the series (bars by their whole width).
fn x_extent(spec: &PlotSpec) -> Option<(f64, f64)> {
    let xs = spec.series.iter().flat_map(|s| {
        finite_points(s).flat_map(move |[x, _]| match s.kind {
            SeriesKind::Bars => {
                let (a, b) = bar_span(x, spec.log_x);
                [a, b]
            }
            SeriesKind::Line | SeriesKind::Points => [x, x],
        })
    });
    extent(xs)
}

/// Smallest and largest y of the series and reference lines (bars also reach 0).
fn y_extent(spec: &PlotSpec) -> Option<(f64, f64)> {
    let series_ys = spec.series.iter().flat_map(|s| {
        let base = if s.kind == SeriesKind::Bars {
            0.0
        } else {
            f64::NAN
        };
        finite_points(s).flat_map(move |[_, y]| [y, base])
    });
    let line_ys = spec.hlines.iter().map(|h| h.y);
    extent(series_ys.chain(line_ys))
}

/// Smallest and largest finite value, if any.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// How far to widen a range whose ends are both `v`.
fn degenerate_pad(v: f64) -> f64 {
    if v == 0.0 {
        0.5
    } else {
        v.abs() * 0.1
    }
}

/// `lo..hi` widened by [`MARGIN`] of its span on each side, or by `flat_pad` if it is empty.
fn padded(lo: f64, hi: f64, flat_pad: f64) -> Range<f64> {
    let span = hi - lo;
    if span > 0.0 {
        (lo - span * MARGIN)..(hi + span * MARGIN)
    } else {
        (lo - flat_pad)..(hi + flat_pad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::HLine;

    fn spec(kind: SeriesKind, points: Vec<[f64; 2]>) -> PlotSpec {
        PlotSpec {
            series: vec![Series::new("s", kind, points, [0, 0, 0])],
            ..PlotSpec::default()
        }
    }

    #[test]
    fn empty_plot_has_unit_ranges() {
        let r = axis_ranges(&PlotSpec::default()).unwrap();
        assert_eq!(
            r,
            AxisRanges {
                x: 0.0..1.0,
                y: 0.0..1.0
            }
        );
        let log = PlotSpec {
            log_x: true,
            ..PlotSpec::default()
        };
        assert_eq!(axis_ranges(&log).unwrap().x, 1.0..10.0);
    }

    #[test]
    fn single_point_is_centred() {
        let r = axis_ranges(&spec(SeriesKind::Points, vec![[3.0, 5.0]])).unwrap();
        assert!(r.x.start < 3.0 && r.x.end > 3.0);
        assert!(r.y.start < 5.0 && r.y.end > 5.0);
        let zero = axis_ranges(&spec(SeriesKind::Line, vec![[0.0, 0.0], [1.0, 0.0]])).unwrap();
        assert_eq!(zero.y, -0.5..0.5);
    }

    #[test]
    fn a_clipped_y_axis_stops_at_y_max() {
        let mut s = spec(
            SeriesKind::Line,
            vec![[1.0, 3400.0], [2.0, 700.0], [3.0, 100.0]],
        );
        let full = axis_ranges(&s).unwrap();
        assert!(full.y.end > 3400.0);
        s.y_max = Some(840.0);
        let clipped = axis_ranges(&s).unwrap();
        assert!(
            clipped.y.end > 840.0 && clipped.y.end < 900.0,
            "{:?}",
            clipped.y
        );
    }

    #[test]
    fn bars_include_zero_and_their_width() {
        let points = (0..10).map(|c| [c as f64, 10.0 + c as f64]).collect();
        let r = axis_ranges(&spec(SeriesKind::Bars, points)).unwrap();
        assert!(r.y.start < 0.0);
        assert!(r.x.start < -0.4 && r.x.end > 9.4);
    }

    #[test]
    fn hlines_widen_y_and_non_finite_points_are_ignored() {
        let mut s = spec(
            SeriesKind::Line,
            vec![[1.0, 80.0], [2.0, f64::NAN], [f64::INFINITY, 1.0]],
        );
        s.hlines.push(HLine::new("paper", 67.0, [0, 0, 0]));
        let r = axis_ranges(&s).unwrap();
        assert!(r.y.start < 67.0 && r.y.end > 80.0);
        assert!(r.x.end < 2.0);
    }

    #[test]
    fn log_x_requires_positive_x() {
        let mut s = spec(SeriesKind::Line, vec![[0.0, 1.0], [10.0, 2.0]]);
        s.log_x = true;
        let err = axis_ranges(&s).unwrap_err();
        assert!(err.contains("x > 0") && err.contains("\"s\""), "{err}");
        s.series[0].points[0][0] = 1.0;
        let r = axis_ranges(&s).unwrap();
        assert!(r.x.start > 0.0 && r.x.start < 1.0 && r.x.end > 10.0);
    }

    #[test]
    fn huge_values_are_an_error() {
        let s = spec(SeriesKind::Line, vec![[0.0, -f64::MAX], [1.0, f64::MAX]]);
        assert!(axis_ranges(&s).is_err());
    }
}
