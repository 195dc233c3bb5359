//! Fonts and sizes shared by every exported chart (line plots and heatmaps), so that the two
//! kinds of picture look alike and neither file reaches into the other for them.

/// Font family every text uses; [`super::render`] registers egui's bundled font under it.
pub(crate) const FONT_FAMILY: &str = "sans-serif";
/// Size of a chart's title.
pub(crate) const TITLE_SIZE: u32 = 22;
/// Size of the legend's text.
pub(crate) const LEGEND_SIZE: u32 = 14;
/// Size of the tick labels.
pub(crate) const LABEL_SIZE: u32 = 13;
/// Size of the axis names.
pub(crate) const AXIS_DESC_SIZE: u32 = 15;
/// Size of the number written in each heatmap cell.
pub(crate) const CELL_TEXT_SIZE: u32 = 18;
/// Width of a drawn line, in pixels.
pub(crate) const LINE_WIDTH: u32 = 2;
/// Radius of a drawn point, in pixels.
pub(crate) const POINT_RADIUS: u32 = 3;
/// Length of a legend sample line, in pixels.
pub(crate) const LEGEND_SAMPLE: i32 = 18;
/// Space around the chart, in pixels.
pub(crate) const MARGIN: u32 = 14;
/// Height of the area under the x axis for its ticks and name, in pixels.
pub(crate) const X_LABEL_AREA: u32 = 48;
/// Width of the area left of the y axis for its ticks and name, in pixels.
pub(crate) const Y_LABEL_AREA: u32 = 72;
