//! A map of values over two labelled axes (a sweep's T × α test errors): cells coloured from
//! best (lowest) to worst, the number in each cell, the best cell outlined. Drawn by the UI
//! with egui_plot and exported with plotters from the same data.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    AXIS_DESC_SIZE, CELL_TEXT_SIZE, FONT_FAMILY, LABEL_SIZE, MARGIN, TITLE_SIZE, X_LABEL_AREA,
    Y_LABEL_AREA,
};

/// Values on a grid: `values[y][x]`, `None` for a cell not known yet.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Heatmap {
    /// Labels of the columns (x), left to right.
    pub x_labels: Vec<String>,
    /// Labels of the rows (y), bottom to top.
    pub y_labels: Vec<String>,
    /// One row per y label, one value per x label.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Heatmap {
    /// The cell `(x, y)` with the lowest value (the first of equals, row by row).
    pub fn best(&self) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize, f64)> = None;
        for (y, row) in self.values.iter().enumerate() {
            for (x, v) in row.iter().enumerate() {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    if best.is_none_or(|(_, _, b)| v < b) {
                        best = Some((x, y, v));
                    }
                }
            }
        }
        best.map(|(x, y, _)| (x, y))
    }

    /// The smallest and largest known values.
    pub fn range(&self) -> Option<(f64, f64)> {
        let values = self
            .values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| v.is_finite());
        values.fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
    }

    /// The fill colour of a value: green (lowest) through yellow to red (highest).
    pub fn color(&self, value: f64) -> [u8; 3] {
        let t = match self.range() {
            Some((lo, hi)) if hi > lo => ((value - lo) / (hi - lo)).clamp(0.0, 1.0),
            _ => 0.0,
        };
        let lerp = |a: f64, b: f64, f: f64| (a + (b - a) * f).round() as u8;
        if t < 0.5 {
            let f = t * 2.0;
            [
                lerp(60.0, 250.0, f),
                lerp(170.0, 210.0, f),
                lerp(90.0, 80.0, f),
            ]
        } else {
            let f = (t - 0.5) * 2.0;
            [
                lerp(250.0, 215.0, f),
                lerp(210.0, 70.0, f),
                lerp(80.0, 60.0, f),
            ]
        }
    }

    /// The CSV text: a `x,y,value` header and one row per cell (empty value when unknown).
    pub fn to_csv(&self, x_name: &str, y_name: &str) -> String {
        let header = [x_name.to_owned(), y_name.to_owned(), "value".to_owned()];
        let cells = self.values.iter().enumerate().flat_map(|(y, row)| {
            row.iter().enumerate().map(move |(x, v)| {
                [
                    self.x_labels.get(x).cloned().unwrap_or_default(),
                    self.y_labels.get(y).cloned().unwrap_or_default(),
                    v.map_or(String::new(), |v| v.to_string()),
                ]
            })
        });
        crate::files::csv_text(std::iter::once(header).chain(cells))
    }
}

/// Draws `map` on `root` with the spec's title and axis names.
pub(crate) fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_name: &str,
    y_name: &str,
    map: &Heatmap,
) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let nx = map.x_labels.len().max(1);
    let ny = map.y_labels.len().max(1);
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA);
    if !title.is_empty() {
        builder.caption(title, (FONT_FAMILY, TITLE_SIZE));
    }
    let mut chart = builder
        .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
        .map_err(|e| text(&e))?;
    let label = |labels: &[String], v: f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(nx * 2 + 1)
        .y_labels(ny * 2 + 1)
        .x_desc(x_name)
        .y_desc(y_name)
        .label_style((FONT_FAMILY, LABEL_SIZE))
        .axis_desc_style((FONT_FAMILY, AXIS_DESC_SIZE))
        .x_label_formatter(&|v| label(&map.x_labels, *v))
        .y_label_formatter(&|v| label(&map.y_labels, *v))
        .draw()
        .map_err(|e| text(&e))?;
    let best = map.best();
    for (y, row) in map.values.iter().enumerate() {
        for (x, value) in row.iter().enumerate() {
            let (cx, cy) = (x as f64, y as f64);
            let corners = [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)];
            let fill = value.map_or(RGBColor(235, 235, 235), |v| {
                let [r, g, b] = map.color(v);
                RGBColor(r, g, b)
            });
            chart
                .draw_series(std::iter::once(Rectangle::new(corners, fill.filled())))
                .map_err(|e| text(&e))?;
            if let Some(v) = value {
                let style = TextStyle::from((FONT_FAMILY, CELL_TEXT_SIZE).into_font()).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                chart
                    .draw_series(std::iter::once(Text::new(format!("{v}"), (cx, cy), style)))
                    .map_err(|e| text(&e))?;
            }
            if best == Some((x, y)) {
                let inset = [(cx - 0.46, cy - 0.46), (cx + 0.46, cy + 0.46)];
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        inset,
                        BLACK.stroke_width(4),
                    )))
                    .map_err(|e| text(&e))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Heatmap {
        Heatmap {
            x_labels: vec!["1".into(), "4".into()],
            y_labels: vec!["0.1".into(), "0.9".into()],
            values: vec![vec![Some(120.0), None], vec![Some(90.0), Some(90.0)]],
        }
    }

    #[test]
    fn best_is_the_lowest_known_cell_first_of_equals() {
        assert_eq!(map().best(), Some((0, 1)));
        assert_eq!(Heatmap::default().best(), None);
    }

    #[test]
    fn colours_run_from_green_to_red_and_csv_has_every_cell() {
        let m = map();
        assert_eq!(m.color(90.0), [60, 170, 90]);
        assert_eq!(m.color(120.0), [215, 70, 60]);
        let csv = m.to_csv("distill.temperature", "distill.alpha");
        assert_eq!(
            csv,
            "distill.temperature,distill.alpha,value\n1,0.1,120\n4,0.1,\n1,0.9,90\n4,0.9,90\n"
        );
    }
}
