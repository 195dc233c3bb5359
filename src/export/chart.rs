//! Draws a [`PlotSpec`] on any plotters backend: caption, mesh with axis labels, series,
//! dashed reference lines and a legend.

use std::ops::Range;

use plotters::chart::SeriesAnno;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::heatmap::draw_heatmap;
use super::plot::{HLine, PlotSpec, Series, SeriesKind};
use super::range::{axis_ranges, bar_span, finite_points, AxisRanges};
use super::style::{
    AXIS_DESC_SIZE, FONT_FAMILY, LABEL_SIZE, LEGEND_SAMPLE, LEGEND_SIZE, LINE_WIDTH, MARGIN,
    POINT_RADIUS, TITLE_SIZE, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Plotters reports errors as its own generic types; export only needs their text.
type DrawResult = Result<(), String>;

/// Draws the whole plot on `root` (cleared to white first) and presents it.
pub(crate) fn draw_plot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
) -> DrawResult {
    if let Some(map) = &spec.heatmap {
        root.fill(&WHITE).map_err(text)?;
        draw_heatmap(root, &spec.title, &spec.x_label, &spec.y_label, map)?;
        return root.present().map_err(text);
    }
    let ranges = axis_ranges(spec)?;
    root.fill(&WHITE).map_err(text)?;
    if spec.log_x {
        let ticks = log_ticks_125(&ranges.x);
        let x = ranges.x.clone().log_scale().with_key_points(ticks);
        draw_chart(root, spec, x, &ranges)?;
    } else {
        draw_chart(root, spec, ranges.x.clone(), &ranges)?;
    }
    root.present().map_err(text)
}

/// Builds the chart with the given x coordinate (linear or log) and draws everything on it.
fn draw_chart<DB, X>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
    x_coord: X,
    ranges: &AxisRanges,
) -> DrawResult
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA);
    if !spec.title.is_empty() {
        builder.caption(&spec.title, (FONT_FAMILY, TITLE_SIZE));
    }
    let mut chart = builder
        .build_cartesian_2d(x_coord, ranges.y.clone())
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style((FONT_FAMILY, LABEL_SIZE))
        .axis_desc_style((FONT_FAMILY, AXIS_DESC_SIZE))
        .x_label_formatter(&format_tick)
        .y_label_formatter(&format_tick)
        .draw()
        .map_err(text)?;
    for series in &spec.series {
        draw_series(&mut chart, series, spec.log_x)?;
    }
    for line in &spec.hlines {
        draw_hline(&mut chart, line, &ranges.x)?;
    }
    draw_legend(&mut chart, spec)
}

/// Draws one series as its kind says, with a legend entry when it has a name.
fn draw_series<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    series: &Series,
    log_x: bool,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let color = rgb(series.color);
    let anno = match series.kind {
        SeriesKind::Line => {
            let style = color.stroke_width(LINE_WIDTH);
            let lines = segments(&series.points)
                .into_iter()
                .map(move |s| PathElement::new(s, style));
            chart.draw_series(lines).map_err(text)?
        }
        SeriesKind::Points => {
            let style = color.filled();
            let dots =
                finite_points(series).map(move |[x, y]| Circle::new((x, y), POINT_RADIUS, style));
            chart.draw_series(dots).map_err(text)?
        }
        SeriesKind::Bars => {
            let style = color.filled();
            let bars = finite_points(series).map(move |[x, y]| {
                let (left, right) = bar_span(x, log_x);
                Rectangle::new([(left, 0.0), (right, y)], style)
            });
            chart.draw_series(bars).map_err(text)?
        }
    };
    if !series.name.is_empty() {
        add_legend(anno.label(series.name.as_str()), series.kind, color);
    }
    Ok(())
}

/// Gives a series' legend entry a small picture of how the series is drawn.
fn add_legend<'a, DB: DrawingBackend + 'a>(
    anno: &mut SeriesAnno<'a, DB>,
    kind: SeriesKind,
    color: RGBColor,
) {
    let half = LEGEND_SAMPLE / 2;
    match kind {
        SeriesKind::Line => anno.legend(move |(x, y)| {
            PathElement::new(
                vec![(x, y), (x + LEGEND_SAMPLE, y)],
                color.stroke_width(LINE_WIDTH),
            )
        }),
        SeriesKind::Points => {
            anno.legend(move |(x, y)| Circle::new((x + half, y), POINT_RADIUS, color.filled()))
        }
        SeriesKind::Bars => anno.legend(move |(x, y)| {
            Rectangle::new(
                [(x + half - 5, y - 5), (x + half + 5, y + 5)],
                color.filled(),
            )
        }),
    };
}

/// Draws a dashed horizontal line across the x range, with a legend entry when it has a name.
fn draw_hline<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    line: &HLine,
    x: &Range<f64>,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    if !line.y.is_finite() {
        return Ok(());
    }
    let style = rgb(line.color).stroke_width(1);
    let dashed = DashedPathElement::new(vec![(x.start, line.y), (x.end, line.y)], 6, 4, style);
    let anno = chart.draw_series(std::iter::once(dashed)).map_err(text)?;
    if !line.name.is_empty() {
        anno.label(line.name.as_str()).legend(move |(x, y)| {
            DashedPathElement::new(vec![(x, y), (x + LEGEND_SAMPLE, y)], 4, 3, style)
        });
    }
    Ok(())
}

/// Draws the legend box when at least one series or reference line has a name.
fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, spec: &PlotSpec) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    let named_series = spec.series.iter().any(|s| !s.name.is_empty());
    let named_lines = spec
        .hlines
        .iter()
        .any(|h| h.y.is_finite() && !h.name.is_empty());
    if !named_series && !named_lines {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .label_font((FONT_FAMILY, LEGEND_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(text)
}

/// Ticks of a log axis at 1, 2 and 5 times each power of ten inside `range` (decades only
/// when it spans more than four, else the labels run into each other), so labels read 1, 2,
/// 5, 10, 20: the exported plots and the window's plots (`ui::plot`) both tick here.
pub fn log_ticks_125(range: &Range<f64>) -> Vec<f64> {
    let (lo, hi) = (range.start.log10(), range.end.log10());
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let mantissas: &[f64] = if hi - lo > 4.0 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut ticks = Vec::new();
    for decade in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for &m in mantissas {
            let v = m * 10f64.powi(decade);
            if v >= range.start && v <= range.end {
                ticks.push(v);
            }
        }
    }
    ticks
}

/// Runs of consecutive finite points: a NaN or infinite point breaks a line.
fn segments(points: &[[f64; 2]]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(|[x, y]| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
        .map(|run| run.iter().map(|[x, y]| (*x, *y)).collect())
        .collect()
}

/// A tick label with at most six significant digits and no trailing zeros: `1` rather than
/// plotters' `1.0`, and on log axes `3` rather than `f64` debug output `3.0000000000000004`.
fn format_tick(value: &f64) -> String {
    let v = *value;
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).clamp(0, 15) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_at_non_finite_points() {
        let points = [
            [0.0, 1.0],
            [1.0, f64::NAN],
            [2.0, 3.0],
            [3.0, 4.0],
            [f64::INFINITY, 0.0],
        ];
        assert_eq!(
            segments(&points),
            vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]
        );
        assert!(segments(&[]).is_empty());
    }

    #[test]
    fn log_ticks_are_1_2_5() {
        assert_eq!(log_ticks_125(&(0.8..25.0)), [1.0, 2.0, 5.0, 10.0, 20.0]);
        assert_eq!(
            log_ticks_125(&(300.0..12_000.0)),
            [500.0, 1000.0, 2000.0, 5000.0, 10_000.0]
        );
        assert_eq!(
            log_ticks_125(&(1.0..1e6)),
            [1.0, 10.0, 100.0, 1000.0, 1e4, 1e5, 1e6]
        );
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(format_tick(&3.0000000000000004), "3");
        assert_eq!(format_tick(&0.0001), "0.0001");
        assert_eq!(format_tick(&20.0), "20");
        assert_eq!(format_tick(&2.5), "2.5");
        assert_eq!(format_tick(&1_000_000.0), "1000000");
        assert_eq!(format_tick(&0.0), "0");
    }
}
