//! The desktop window (eframe/egui). The only module that imports egui.
//!
//! Every plot is first described as plain data ([`PlotSpec`]); [`plot_ui`] draws that spec
//! with egui_plot and offers to export the very same spec (PNG of the screen, SVG, CSV), so
//! what is exported is what is shown.

pub mod app;
mod launcher;
mod live;
mod per_class;
mod playground;
pub mod probe_history;
mod runs_view;
pub mod soft_targets;
pub mod state;
mod sweep;
pub mod tasks;

use std::path::PathBuf;
use std::sync::Arc;

use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot, Points};

use crate::export::{PlotSpec, SeriesKind};
use app::{Action, AppOptions, DistilleryApp};
pub use playground::soft_target_spec;
use state::Tab;
pub use sweep::sweep_spec;

/// The folder of shipped assets (MNIST, pretrained teacher and student).
pub fn assets_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

/// Opens the window (blocks until it is closed).
pub fn run_app() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Distillery — knowledge distillation explorer")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "Distillery",
        options,
        Box::new(|cc| {
            let state = cc
                .storage
                .and_then(|s| eframe::get_value::<state::State>(s, eframe::APP_KEY));
            let app = DistilleryApp::new(
                &cc.egui_ctx,
                AppOptions {
                    state,
                    runs_dir: None,
                    data_dir: None,
                    dialogs: Arc::new(tasks::SystemDialogs),
                },
            )?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

/// Parses a list typed as "1, 2 3" (commas and/or spaces); the error names the bad item as
/// "`x` is not {what}".
pub(crate) fn parse_list<T: std::str::FromStr>(text: &str, what: &str) -> Result<Vec<T>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| format!("`{s}` is not {what}")))
        .collect()
}

fn color(rgb: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2])
}

/// Draws `spec` with egui_plot, with an "Export…" button that exports the same spec.
pub(crate) fn plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    spec: &PlotSpec,
    height: f32,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.strong(&spec.title);
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
            actions.push(Action::ExportPlot {
                spec: Box::new(spec.clone()),
                rect,
                name: id.to_owned(),
            });
        }
    });
    let log_x = spec.log_x;
    let to_x = move |x: f64| if log_x { x.max(1e-9).log10() } else { x };
    let mut plot = Plot::new(id)
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
        .flat_map(|s| s.points.iter().map(|p| to_x(p[0])));
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
    if spec.series.iter().any(|s| s.kind == SeriesKind::Bars) || !spec.hlines.is_empty() {
        plot = plot.include_y(0.0);
    }
    if spec.series.iter().any(|s| s.kind == SeriesKind::Bars) {
        // Bars stand at whole numbers (classes): mark every one, even on a narrow plot.
        plot = plot.x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 5.0, 10.0]));
    }
    if log_x {
        plot = plot.x_axis_formatter(|mark, _| {
            format!("{:.3}", 10f64.powf(mark.value))
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        });
    }
    let bar_width = series_bar_width(spec);
    let bar_count = spec
        .series
        .iter()
        .filter(|s| s.kind == SeriesKind::Bars)
        .count();
    let response = plot.show(ui, |plot_ui| {
        let mut bar_index = 0;
        for series in &spec.series {
            let points: Vec<[f64; 2]> = series.points.iter().map(|p| [to_x(p[0]), p[1]]).collect();
            match series.kind {
                SeriesKind::Line => plot_ui.line(
                    Line::new(series.name.clone(), points)
                        .color(color(series.color))
                        .width(2.0),
                ),
                SeriesKind::Points => plot_ui.points(
                    Points::new(series.name.clone(), points)
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
                    plot_ui.bar_chart(BarChart::new(series.name.clone(), bars).color(fill));
                }
            }
        }
        for line in &spec.hlines {
            plot_ui.hline(HLine::new(line.name.clone(), line.y).color(color(line.color)));
        }
    });
    let rect = response.response.rect;
    ui.ctx().memory_mut(|m| {
        m.data
            .insert_temp(egui::Id::unique(("plot-rect", id)), rect)
    });
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

fn top_bar_ui(app: &mut DistilleryApp, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.heading("Distillery");
        ui.separator();
        for tab in Tab::ALL {
            if ui
                .selectable_label(app.state.tab == tab, tab.title())
                .clicked()
            {
                actions.push(Action::ShowTab(tab));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let label = if app.state.dark {
                "Light theme"
            } else {
                "Dark theme"
            };
            if ui
                .button(label)
                .on_hover_text("Switch between light and dark themes")
                .clicked()
            {
                app.state.dark = !app.state.dark;
                ui.ctx().set_visuals(if app.state.dark {
                    egui::Visuals::dark()
                } else {
                    egui::Visuals::light()
                });
            }
        });
    });
}

fn status_bar_ui(app: &mut DistilleryApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        if let Some((is_error, text)) = app.messages.last() {
            let color = if *is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.colored_label(color, text);
        } else {
            ui.label("Ready.");
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.weak(format!(
                "UI thread {:.2} ms/frame (max {:.2})",
                app.frame_stats.mean_ms, app.frame_stats.max_ms
            ))
            .on_hover_text("CPU time of the UI thread per frame: draining events plus drawing");
        });
    });
}
