//! Every plot is first described as plain data ([`PlotSpec`]); [`plot_ui`] draws that spec
//! with egui_plot and offers to export the very same spec (PNG of the screen, SVG, CSV), so
//! what is exported is what is shown.

use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot, Points};

use crate::export::{PlotSpec, SeriesKind};

use super::action::Action;
use super::pending::PendingFile;
use super::widgets::screen_text;

fn color(rgb: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2])
}

/// Draws `spec` with egui_plot, with an "Export…" button that exports the same spec.
#[must_use]
pub fn plot_ui(ui: &mut egui::Ui, id: &str, spec: &PlotSpec, height: f32) -> Option<Action> {
    let action = title_ui(ui, id, spec);
    if let Some(map) = &spec.heatmap {
        let rect =
            super::heatmap_plot::heatmap_plot_ui(ui, id, &spec.x_label, &spec.y_label, map, height);
        remember_rect(ui, id, rect);
        return action;
    }
    let response = framed_plot(id, spec, height).show(ui, |plot_ui| draw_spec(plot_ui, spec));
    remember_rect(ui, id, response.response.rect);
    action
}

/// The plot's title and its Export… button; returns the export asked for.
fn title_ui(ui: &mut egui::Ui, id: &str, spec: &PlotSpec) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.strong(screen_text(&spec.title));
        if ui
            .small_button("Export…")
            .on_hover_text("Save this plot as PNG (what you see), SVG and CSV (its data)")
            .clicked()
        {
            let rect = ui.ctx().memory(|m| {
                m.data
                    .get_temp::<egui::Rect>(egui::Id::unique(("plot-rect", id)))
            });
            let rect = rect.map_or([0.0; 4], |r| [r.min.x, r.min.y, r.width(), r.height()]);
            action = Some(Action::File(PendingFile::ExportPlot {
                spec: Box::new(spec.clone()),
                rect,
                name: id.to_owned(),
            }));
        }
    });
    action
}

/// The x coordinate a value is drawn at: its log10 on a log axis.
fn to_x(log_x: bool, x: f64) -> f64 {
    if log_x {
        x.max(1e-9).log10()
    } else {
        x
    }
}

/// The egui_plot frame of `spec`: its id, labels, the data's x range, a clipped y axis, and
/// the grid of bars and log axes.
fn framed_plot<'a>(id: &str, spec: &PlotSpec, height: f32) -> Plot<'a> {
    let log_x = spec.log_x;
    // A clipped y axis is fixed bounds, which egui_plot keeps in memory per plot id: a new
    // clip height gets a new id so the view follows it.
    let plot_id = spec
        .y_max
        .map_or_else(|| id.to_owned(), |m| format!("{id}-y{}", m.round()));
    let mut plot = Plot::new(plot_id)
        .height(height)
        .legend(Legend::default())
        .x_axis_label(spec.x_label.clone())
        .y_axis_label(spec.y_label.clone())
        .allow_scroll(false);
    // Frame the data (reference lines have no x extent, so a single point would otherwise
    // sit in an arbitrary range).
    let xs = spec
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| to_x(log_x, p[0])));
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if lo.is_finite() && hi.is_finite() {
        let pad = if hi > lo { 0.02 * (hi - lo) } else { 1.0 };
        plot = plot.include_x(lo - pad).include_x(hi + pad);
    } else {
        // Nothing yet: a sensible empty frame (T from 1 to 100 on a log axis, else 0 to 10).
        let (a, b) = if log_x { (0.0, 2.0) } else { (0.0, 10.0) };
        plot = plot.include_x(a).include_x(b).include_y(0.0).include_y(1.0);
    }
    let has_bars = spec.series.iter().any(|s| s.kind == SeriesKind::Bars);
    if has_bars || !spec.hlines.is_empty() {
        plot = plot.include_y(0.0);
    }
    if let Some(y_max) = spec.y_max {
        let y_min = spec
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p[1]))
            .filter(|y| y.is_finite())
            .fold(0.0, f64::min);
        if y_max > y_min {
            plot = plot
                .auto_bounds([true, false])
                .default_y_bounds(y_min, y_max);
        }
    }
    if has_bars {
        // Bars stand at whole numbers (classes): mark every one, even on a narrow plot.
        plot = plot.x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 5.0, 10.0]));
    }
    if log_x {
        plot = plot
            .x_grid_spacer(log_125_marks)
            .x_axis_formatter(|mark, _| plain_number(10f64.powf(mark.value)));
    }
    plot
}

/// Draws the spec's series (bars of several series side by side) and reference lines.
fn draw_spec(plot_ui: &mut egui_plot::PlotUi<'_>, spec: &PlotSpec) {
    let bar_width = series_bar_width(spec);
    let bar_count = spec
        .series
        .iter()
        .filter(|s| s.kind == SeriesKind::Bars)
        .count();
    let mut bar_index = 0;
    for series in &spec.series {
        let points: Vec<[f64; 2]> = series
            .points
            .iter()
            .map(|p| [to_x(spec.log_x, p[0]), p[1]])
            .collect();
        match series.kind {
            SeriesKind::Line => plot_ui.line(
                Line::new(screen_text(&series.name), points)
                    .color(color(series.color))
                    .width(2.0),
            ),
            SeriesKind::Points => plot_ui.points(
                Points::new(screen_text(&series.name), points)
                    .color(color(series.color))
                    .radius(4.0),
            ),
            SeriesKind::Bars => {
                // Bars of several series sit side by side around each x.
                let offset = (bar_index as f64 - (bar_count as f64 - 1.0) / 2.0) * bar_width;
                bar_index += 1;
                let fill = color(series.color);
                let bars = points
                    .iter()
                    .map(|p| Bar::new(p[0] + offset, p[1]).width(bar_width).fill(fill))
                    .collect();
                plot_ui.bar_chart(BarChart::new(screen_text(&series.name), bars).color(fill));
            }
        }
    }
    for line in &spec.hlines {
        plot_ui.hline(HLine::new(screen_text(&line.name), line.y).color(color(line.color)));
    }
}

/// Keeps where plot `id` is on screen, for the PNG export's screen capture.
fn remember_rect(ui: &egui::Ui, id: &str, rect: egui::Rect) {
    ui.ctx().memory_mut(|m| {
        m.data
            .insert_temp(egui::Id::unique(("plot-rect", id)), rect)
    });
}

/// Grid marks of a log10 axis at 1, 2 and 5 times each power of ten in view (decades drawn
/// heavier), so tick labels read 1, 2, 5, 10, 20 instead of 1.259, 1.585, ….
pub(crate) fn log_125_marks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    crate::export::log_ticks_125(&(10f64.powf(lo)..10f64.powf(hi)))
        .into_iter()
        .map(|tick| {
            let value = tick.log10();
            let decade = (value - value.round()).abs() < 1e-9;
            egui_plot::GridMark {
                value,
                step_size: if decade { 1.0 } else { 0.3 },
            }
        })
        .collect()
}

/// A tick label without float noise: `5`, `20`, `60000`, `0.5`, `0.05`.
pub(crate) fn plain_number(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let digits = if value.abs() >= 1.0 {
        0
    } else {
        (-value.abs().log10().floor()) as usize + 2
    };
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Bars of several series share each x: narrow them so they sit side by side.
fn series_bar_width(spec: &PlotSpec) -> f64 {
    let bar_series = spec
        .series
        .iter()
        .filter(|s| s.kind == SeriesKind::Bars)
        .count()
        .max(1);
    0.8 / bar_series as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_1_2_5_with_plain_labels() {
        let input = egui_plot::GridInput {
            bounds: (0.0, 20f64.log10()),
            base_step_size: 0.01,
        };
        let labels: Vec<String> = log_125_marks(input)
            .iter()
            .map(|m| plain_number(10f64.powf(m.value)))
            .collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20"]);
        assert_eq!(plain_number(0.05), "0.05");
        assert_eq!(plain_number(60000.000001), "60000");
        let wide = egui_plot::GridInput {
            bounds: (2.0, 4.8),
            base_step_size: 0.01,
        };
        let labels: Vec<String> = log_125_marks(wide)
            .iter()
            .map(|m| plain_number(10f64.powf(m.value)))
            .collect();
        assert_eq!(
            labels,
            ["100", "200", "500", "1000", "2000", "5000", "10000", "20000", "50000"]
        );
    }
}
