//! Renders a [`PlotSpec`] to SVG text or PNG bytes, in memory.

use std::sync::OnceLock;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use plotters::backend::RGBPixel;
use plotters::prelude::*;

use super::chart::draw_plot;
use super::error::ExportError;
use super::plot::PlotSpec;
use super::style::FONT_FAMILY;

/// Smallest width or height, in pixels, that leaves room for labels and a plotting area.
const MIN_SIDE: u32 = 64;
/// Largest width or height, in pixels (keeps the RGB buffer well inside memory and `u32`).
const MAX_SIDE: u32 = 16_384;

/// The plot as an SVG document of `width` × `height` pixels.
///
/// Errors: a size outside 64..=16384 pixels, x ≤ 0 on a log x axis, or values too large to plot.
pub fn render_svg(spec: &PlotSpec, width: u32, height: u32) -> Result<String, ExportError> {
    prepare(spec, width, height)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw_plot(&root, spec).map_err(|problem| plot_error(spec, problem))?;
    }
    Ok(svg)
}

/// The plot as PNG file bytes (8-bit RGB) of `width` × `height` pixels.
///
/// Errors: as [`render_svg`], and a failure to encode the PNG.
pub fn render_png(spec: &PlotSpec, width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    prepare(spec, width, height)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (width, height))
            .map_err(|e| plot_error(spec, e.to_string()))?;
        draw_plot(&backend.into_drawing_area(), spec)
            .map_err(|problem| plot_error(spec, problem))?;
    }
    encode_png(&rgb, width, height, ExtendedColorType::Rgb8)
        .map_err(|problem| plot_error(spec, problem))
}

/// PNG file bytes of a raw 8-bit image; the error is the encoder's message.
pub(crate) fn encode_png(
    pixels: &[u8],
    width: u32,
    height: u32,
    color: ExtendedColorType,
) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(pixels, width, height, color)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

/// Checks the size and makes sure the font is registered.
fn prepare(spec: &PlotSpec, width: u32, height: u32) -> Result<(), ExportError> {
    let sides = MIN_SIDE..=MAX_SIDE;
    if !sides.contains(&width) || !sides.contains(&height) {
        return Err(plot_error(
            spec,
            format!("size {width}×{height} is outside {MIN_SIDE}..={MAX_SIDE} pixels per side"),
        ));
    }
    register_font().map_err(|problem| plot_error(spec, problem))
}

/// Registers egui's bundled Ubuntu Light as plotters' sans-serif font, once per process: with
/// the `ab_glyph` feature plotters has no fonts of its own and must not touch system fonts.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                FONT_FAMILY,
                FontStyle::Normal,
                epaint_default_fonts::UBUNTU_LIGHT,
            )
            .map_err(|_| "egui's bundled font could not be loaded".to_string())
        })
        .clone()
}

fn plot_error(spec: &PlotSpec, problem: String) -> ExportError {
    ExportError::Plot {
        title: spec.title.clone(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{HLine, Series, SeriesKind};

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn sample() -> PlotSpec {
        let mut spec = PlotSpec::new("Test errors per epoch", "epoch", "test errors");
        spec.series.push(Series::new(
            "teacher",
            SeriesKind::Line,
            vec![[1.0, 150.0], [2.0, 90.0], [3.0, 70.0]],
            [31, 119, 180],
        ));
        spec.series.push(Series::new(
            "student",
            SeriesKind::Points,
            vec![[1.0, 200.0], [3.0, 80.0]],
            [255, 127, 14],
        ));
        spec.hlines
            .push(HLine::new("paper teacher", 67.0, [0, 0, 0]));
        spec
    }

    fn bars() -> PlotSpec {
        let mut spec = PlotSpec::new("Errors per class", "class", "errors");
        let points = (0..10).map(|c| [c as f64, (c * 3) as f64]).collect();
        spec.series.push(Series::new(
            "distilled",
            SeriesKind::Bars,
            points,
            [44, 160, 44],
        ));
        spec
    }

    #[test]
    fn svg_names_title_labels_and_series() {
        let svg = render_svg(&sample(), 800, 500).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in [
            "Test errors per epoch",
            "epoch",
            "test errors",
            "teacher",
            "student",
            "paper teacher",
        ] {
            assert!(svg.contains(text), "SVG lacks {text:?}");
        }
    }

    #[test]
    fn png_has_signature_and_requested_size() {
        let png = render_png(&sample(), 640, 400).unwrap();
        assert!(png.starts_with(PNG_SIGNATURE));
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (640, 400));
    }

    #[test]
    fn png_is_not_blank() {
        let decoded = image::load_from_memory(&render_png(&bars(), 300, 200).unwrap())
            .unwrap()
            .to_rgb8();
        let green = decoded.pixels().filter(|p| p.0 == [44, 160, 44]).count();
        assert!(green > 100, "only {green} bar pixels");
    }

    #[test]
    fn bars_and_log_x_render() {
        render_svg(&bars(), 400, 300).unwrap();
        let mut sweep = PlotSpec::new("T sweep", "temperature", "test errors");
        sweep.log_x = true;
        sweep.series.push(Series::new(
            "student",
            SeriesKind::Line,
            vec![[1.0, 90.0], [2.5, 80.0], [20.0, 74.0]],
            [0, 0, 0],
        ));
        let svg = render_svg(&sweep, 400, 300).unwrap();
        assert!(svg.contains("temperature"));
        render_png(&sweep, 400, 300).unwrap();
    }

    #[test]
    fn log_x_with_non_positive_x_is_an_error() {
        let mut spec = sample();
        spec.log_x = true;
        spec.series[0].points[0][0] = 0.0;
        let Err(err) = render_png(&spec, 400, 300) else {
            panic!("x = 0 rendered on a log axis");
        };
        let err = err.to_string();
        assert!(
            err.contains("Test errors per epoch") && err.contains("x > 0"),
            "{err}"
        );
        spec.series[0].points[0][0] = -1.0;
        assert!(render_svg(&spec, 400, 300).is_err());
    }

    #[test]
    fn degenerate_plots_render() {
        let empty = PlotSpec::default();
        let single = PlotSpec {
            series: vec![Series::new(
                "one",
                SeriesKind::Points,
                vec![[2.0, 5.0]],
                [0, 0, 0],
            )],
            ..PlotSpec::default()
        };
        let flat = PlotSpec {
            log_x: true,
            series: vec![
                Series::new(
                    "flat",
                    SeriesKind::Line,
                    vec![[1.0, 3.0], [1.0, 3.0]],
                    [0, 0, 0],
                ),
                Series::new("", SeriesKind::Line, vec![], [0, 0, 0]),
                Series::new(
                    "nan",
                    SeriesKind::Line,
                    vec![[f64::NAN, f64::NAN]],
                    [0, 0, 0],
                ),
            ],
            hlines: vec![HLine::new("inf", f64::INFINITY, [0, 0, 0])],
            ..PlotSpec::default()
        };
        for spec in [empty, single, flat] {
            render_svg(&spec, 200, 150).unwrap();
            render_png(&spec, 200, 150).unwrap();
        }
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(render_png(&sample(), 0, 100).is_err());
        assert!(render_svg(&sample(), 100, 100_000).is_err());
    }
}
