//! Exports of a plane panel: the coloured grid with the points on top as SVG (the grid as an
//! embedded PNG, one pixel per cell, the points as vector circles), and the grid alone as PNG
//! when no screen capture is available.

use std::fmt::Write as _;

use image::ExtendedColorType;

use super::error::ExportError;
use super::render::encode_png;

/// A point drawn on a plane panel, in the unit square (`y` up).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanePoint {
    /// Horizontal position in [0, 1].
    pub x: f32,
    /// Vertical position in [0, 1], 1 at the top.
    pub y: f32,
    /// Fill (or, hollow, outline) colour.
    pub colour: [u8; 3],
    /// Drawn as a ring (MUNGE's synthetic points).
    pub hollow: bool,
}

/// What a plane panel shows, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanePicture {
    /// The panel's title.
    pub title: String,
    /// Cells per side.
    pub cells: usize,
    /// `cells × cells` RGBA pixels, rows from the top.
    pub pixels: Vec<u8>,
    /// The points on top.
    pub points: Vec<PlanePoint>,
}

/// Side of an exported SVG's plane, in pixels.
pub const PLANE_SVG_SIDE: u32 = 600;

/// Height of the SVG's title line, in pixels.
const TITLE_HEIGHT: u32 = 28;

impl PlanePicture {
    fn error(&self, problem: impl Into<String>) -> ExportError {
        ExportError::Plot {
            title: self.title.clone(),
            problem: problem.into(),
        }
    }

    /// PNG bytes of the grid alone, one pixel per cell.
    pub fn grid_png(&self) -> Result<Vec<u8>, ExportError> {
        let side = self.cells as u32;
        if self.cells == 0 || self.pixels.len() != self.cells * self.cells * 4 {
            return Err(self.error(format!(
                "{} bytes of pixels for a {side}×{side} grid",
                self.pixels.len()
            )));
        }
        encode_png(&self.pixels, side, side, ExtendedColorType::Rgba8)
            .map_err(|problem| self.error(problem))
    }

    /// The panel as SVG: title, the grid (scaled without smoothing) and the points.
    pub fn to_svg(&self) -> Result<String, ExportError> {
        let png = self.grid_png()?;
        let side = PLANE_SVG_SIDE;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{side}\" height=\"{}\" \
             viewBox=\"0 0 {side} {}\">\n",
            side + TITLE_HEIGHT,
            side + TITLE_HEIGHT
        );
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"20\" font-family=\"sans-serif\" font-size=\"16\">{}</text>",
            escape(&self.title)
        );
        let _ = writeln!(
            svg,
            "<image x=\"0\" y=\"{TITLE_HEIGHT}\" width=\"{side}\" height=\"{side}\" \
             preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" \
             href=\"data:image/png;base64,{}\"/>",
            base64(&png)
        );
        for p in &self.points {
            let cx = f64::from(p.x) * f64::from(side);
            let cy = f64::from(TITLE_HEIGHT) + (1.0 - f64::from(p.y)) * f64::from(side);
            let [r, g, b] = p.colour;
            let style = if p.hollow {
                format!("fill=\"none\" stroke=\"rgb({r},{g},{b})\" stroke-width=\"1.5\"")
            } else {
                format!("fill=\"rgb({r},{g},{b})\" stroke=\"black\" stroke-width=\"0.6\"")
            };
            let _ = writeln!(
                svg,
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3.5\" {style}/>"
            );
        }
        svg.push_str("</svg>\n");
        Ok(svg)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Standard base64 with padding (RFC 4648), for the SVG's embedded PNG.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        // RFC 4648 §10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn svg_holds_the_grid_and_a_circle_per_point() {
        let picture = PlanePicture {
            title: "teacher <T = 2>".into(),
            cells: 2,
            pixels: vec![200; 16],
            points: vec![
                PlanePoint {
                    x: 0.0,
                    y: 1.0,
                    colour: [1, 2, 3],
                    hollow: false,
                },
                PlanePoint {
                    x: 0.5,
                    y: 0.5,
                    colour: [4, 5, 6],
                    hollow: true,
                },
            ],
        };
        let svg = picture.to_svg().unwrap();
        assert!(svg.contains("teacher &lt;T = 2&gt;"));
        assert!(svg.contains("data:image/png;base64,iVBORw0KGgo"), "a PNG");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("cx=\"0.0\" cy=\"28.0\""), "top left");
        assert!(
            svg.contains("fill=\"none\" stroke=\"rgb(4,5,6)\""),
            "hollow"
        );
        let bad = PlanePicture {
            pixels: vec![0; 3],
            ..picture
        };
        assert!(bad.to_svg().unwrap_err().to_string().contains("3 bytes"));
    }
}
