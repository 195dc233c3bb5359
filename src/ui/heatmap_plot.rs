//! Draws a [`Heatmap`] with egui_plot: one filled cell per value (grey while unknown), the
//! number in each cell, the best (lowest) cell outlined, the axes labelled with the values.

use egui_plot::{GridInput, GridMark, Plot, PlotPoint, Polygon, Text};

use crate::export::Heatmap;

fn color(rgb: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2])
}

/// One grid mark per cell index inside the visible range.
fn index_marks(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let first = lo.ceil().max(0.0) as i64;
    let last = hi.floor() as i64;
    (first..=last)
        .map(|i| GridMark {
            value: i as f64,
            step_size: 1.0,
        })
        .collect()
}

/// The label of cell index `value` (empty between cells).
fn index_label(labels: &[String], value: f64) -> String {
    let i = value.round();
    if (value - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Draws the map filling `height` points; returns the plot's screen rectangle.
pub fn heatmap_plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    x_name: &str,
    y_name: &str,
    map: &Heatmap,
    height: f32,
) -> egui::Rect {
    let nx = map.x_labels.len().max(1) as f64;
    let ny = map.y_labels.len().max(1) as f64;
    let x_labels = map.x_labels.clone();
    let y_labels = map.y_labels.clone();
    let best = map.best();
    let text_color = egui::Color32::BLACK;
    let response = Plot::new(id)
        .height(height)
        .x_axis_label(x_name.to_owned())
        .y_axis_label(y_name.to_owned())
        .include_x(-0.5)
        .include_x(nx - 0.5)
        .include_y(-0.5)
        .include_y(ny - 0.5)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show_grid(false)
        .x_grid_spacer(index_marks)
        .y_grid_spacer(index_marks)
        .x_axis_formatter(move |mark, _| index_label(&x_labels, mark.value))
        .y_axis_formatter(move |mark, _| index_label(&y_labels, mark.value))
        .show(ui, |plot_ui| {
            for (y, row) in map.values.iter().enumerate() {
                for (x, value) in row.iter().enumerate() {
                    let (cx, cy) = (x as f64, y as f64);
                    let fill = value.map_or(egui::Color32::from_gray(90), |v| color(map.color(v)));
                    let is_best = best == Some((x, y));
                    let stroke = if is_best {
                        egui::Stroke::new(4.0, egui::Color32::BLACK)
                    } else {
                        egui::Stroke::new(1.0, egui::Color32::from_gray(40))
                    };
                    let inset = if is_best { 0.47 } else { 0.5 };
                    plot_ui.polygon(
                        Polygon::new(
                            "",
                            vec![
                                [cx - inset, cy - inset],
                                [cx + inset, cy - inset],
                                [cx + inset, cy + inset],
                                [cx - inset, cy + inset],
                            ],
                        )
                        .fill_color(fill)
                        .stroke(stroke)
                        .allow_hover(false),
                    );
                    let label = value.map_or("…".to_owned(), |v| format!("{v}"));
                    let label = if is_best {
                        format!("{label}\nbest")
                    } else {
                        label
                    };
                    plot_ui.text(
                        Text::new(
                            "",
                            PlotPoint::new(cx, cy),
                            egui::RichText::new(label).size(18.0).strong(),
                        )
                        .color(text_color)
                        .allow_hover(false),
                    );
                }
            }
        });
    response.response.rect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_labels_only_at_whole_indices() {
        let labels = vec!["1".to_owned(), "20".to_owned()];
        assert_eq!(index_label(&labels, 1.0), "20");
        assert_eq!(index_label(&labels, 0.5), "");
        assert_eq!(index_label(&labels, 2.0), "");
        assert_eq!(index_label(&labels, -1.0), "");
    }
}
