//! Screenshots: crop an RGBA frame to a plot's rectangle and save it as PNG, so the file shows
//! exactly what was on screen.

use std::path::Path;

use image::ExtendedColorType;

use super::error::ExportError;
use super::render::encode_png;
use super::save::write_file;
use crate::files::FileError;

/// Bytes per RGBA pixel.
const RGBA: usize = 4;

/// Writes an 8-bit RGBA image (rows top to bottom, no padding) as a PNG file, atomically.
///
/// Errors: `rgba` not exactly `width × height × 4` bytes, an empty image, or a failed write; each
/// names `path`.
pub fn save_rgba_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<(), ExportError> {
    let invalid = |problem: String| ExportError::from(FileError::invalid(path, problem));
    let expected = width as usize * height as usize * RGBA;
    if width == 0 || height == 0 {
        return Err(invalid(format!("empty image ({width}×{height} pixels)")));
    }
    if rgba.len() != expected {
        return Err(invalid(format!(
            "{} bytes given for a {width}×{height} RGBA image, which needs {expected}",
            rgba.len()
        )));
    }
    let png = encode_png(rgba, width, height, ExtendedColorType::Rgba8).map_err(invalid)?;
    write_file(path, &png)
}

/// The part of the rectangle `x, y, w, h` that lies inside a `width × height` image, as
/// `(x, y, w, h)`; `w` or `h` is 0 when they do not overlap.
pub fn clamp_rect(width: u32, height: u32, x: u32, y: u32, w: u32, h: u32) -> (u32, u32, u32, u32) {
    let x0 = x.min(width);
    let y0 = y.min(height);
    let x1 = x.saturating_add(w).min(width);
    let y1 = y.saturating_add(h).min(height);
    (x0, y0, x1 - x0, y1 - y0)
}

/// The pixels of the rectangle `x, y, w, h` of a `width × height` RGBA image, clamped to the
/// image (see [`clamp_rect`] for the resulting size); never panics.
///
/// If `rgba` is shorter than `width × height × 4` bytes, only its complete rows count.
pub fn crop_rgba(width: u32, height: u32, rgba: &[u8], x: u32, y: u32, w: u32, h: u32) -> Vec<u8> {
    let row_bytes = width as usize * RGBA;
    let rows_present = rgba.len().checked_div(row_bytes).unwrap_or(0);
    let height = height.min(u32::try_from(rows_present).unwrap_or(u32::MAX));
    let (x, y, w, h) = clamp_rect(width, height, x, y, w, h);
    let (start, len) = (x as usize * RGBA, w as usize * RGBA);
    rgba.chunks_exact(row_bytes.max(1))
        .skip(y as usize)
        .take(h as usize)
        .flat_map(|row| &row[start..start + len])
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4×3 image whose pixel (x, y) is `[x, y, 7, 255]`.
    fn image() -> Vec<u8> {
        (0..3u8)
            .flat_map(|y| (0..4u8).flat_map(move |x| [x, y, 7, 255]))
            .collect()
    }

    #[test]
    fn crop_inside() {
        let crop = crop_rgba(4, 3, &image(), 1, 1, 2, 2);
        assert_eq!(
            crop,
            [1, 1, 7, 255, 2, 1, 7, 255, 1, 2, 7, 255, 2, 2, 7, 255]
        );
    }

    #[test]
    fn crop_out_of_range_is_clamped() {
        assert_eq!(crop_rgba(4, 3, &image(), 3, 2, 10, 10), [3, 2, 7, 255]);
        assert!(crop_rgba(4, 3, &image(), 9, 9, 2, 2).is_empty());
        assert!(crop_rgba(4, 3, &image(), u32::MAX, u32::MAX, u32::MAX, u32::MAX).is_empty());
        assert_eq!(crop_rgba(4, 3, &image(), 0, 0, u32::MAX, u32::MAX), image());
        assert_eq!(clamp_rect(4, 3, 3, 2, 10, 10), (3, 2, 1, 1));
    }

    #[test]
    fn crop_of_short_or_empty_buffer_does_not_panic() {
        let short = &image()[..4 * 4 + 5];
        assert_eq!(crop_rgba(4, 3, short, 0, 0, 1, 3), [0, 0, 7, 255]);
        assert!(crop_rgba(0, 0, &[], 0, 0, 5, 5).is_empty());
        assert!(crop_rgba(0, 3, &image(), 0, 0, 5, 5).is_empty());
    }

    #[test]
    fn save_rgba_png_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shot.png");
        save_rgba_png(&path, 4, 3, &image()).unwrap();
        let back = image::open(&path).unwrap().to_rgba8();
        assert_eq!((back.width(), back.height()), (4, 3));
        assert_eq!(back.into_raw(), image());
    }

    #[test]
    fn save_rgba_png_rejects_wrong_length_and_bad_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shot.png");
        let err = save_rgba_png(&path, 5, 3, &image())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let under_file = file.join("shot.png");
        let err = save_rgba_png(&under_file, 4, 3, &image())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: ", under_file.display())),
            "{err}"
        );
    }
}
