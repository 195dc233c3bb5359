//! The IDX file format of MNIST and its siblings (Fashion-MNIST, KMNIST), gzipped or raw.
//!
//! Layout: a big-endian header `0x00 0x00 <type> <ndims>` followed by `ndims` u32 dimension
//! sizes, then the data. Labels are magic 2049 (`u8`, one dimension), images 2051 (`u8`, three
//! dimensions). Unlike readers that trust the header, this one checks the sizes against the
//! file's length *before* allocating, so a corrupt header cannot ask for gigabytes.

use std::io::Read;
use std::path::Path;

use crate::files::FileError;

/// Magic number of an IDX label file (unsigned bytes, one dimension).
pub const LABELS_MAGIC: u32 = 2049;
/// Magic number of an IDX image file (unsigned bytes, three dimensions).
pub const IMAGES_MAGIC: u32 = 2051;

/// Largest decompressed file we accept (a sanity bound against gzip bombs).
const MAX_BYTES: u64 = 1 << 31;

/// A data file that cannot be used, naming the file and the problem.
pub type DataError = FileError;

/// A parsed IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// Dimension sizes from the header.
    pub dims: Vec<usize>,
    /// The data, row-major.
    pub data: Vec<u8>,
}

/// Reads a file's bytes, un-gzipping it if it starts with the gzip magic.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(FileError::io(path))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(MAX_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| FileError::invalid(path, format!("not a valid gzip stream ({e})")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses IDX bytes, checking the magic number and that the header's sizes match the data
/// length exactly. `path` is only used in error messages.
pub fn parse(bytes: &[u8], expected_magic: u32, path: &Path) -> Result<IdxArray, DataError> {
    if bytes.len() < 4 {
        return Err(FileError::invalid(
            path,
            format!("file is {} bytes, too short for an IDX header", bytes.len()),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic != expected_magic {
        let kind = if expected_magic == LABELS_MAGIC {
            "label"
        } else {
            "image"
        };
        return Err(FileError::invalid(
            path,
            format!("bad magic number {magic} (an IDX {kind} file has {expected_magic})"),
        ));
    }
    let ndims = usize::from(bytes[3]);
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(FileError::invalid(
            path,
            format!("truncated header: {} bytes, need {header_len}", bytes.len()),
        ));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(*d as u64))
        .filter(|n| *n <= MAX_BYTES)
        .ok_or_else(|| {
            FileError::invalid(path, format!("header dimensions {dims:?} are too large"))
        })?;
    let actual = (bytes.len() - header_len) as u64;
    if actual < expected {
        return Err(FileError::invalid(
            path,
            format!(
                "truncated: header {dims:?} promises {expected} bytes of data, file holds {actual}"
            ),
        ));
    }
    if actual > expected {
        return Err(FileError::invalid(
            path,
            format!(
                "{} unexpected trailing bytes after the data",
                actual - expected
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header_len..].to_vec(),
    })
}

/// Reads and checks an IDX label file: one dimension, values 0–9 checked by the caller.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let array = parse(&read_bytes(path)?, LABELS_MAGIC, path)?;
    if array.dims.len() != 1 {
        return Err(FileError::invalid(
            path,
            format!("a label file has 1 dimension, found {}", array.dims.len()),
        ));
    }
    Ok(array.data)
}

/// Reads and checks an IDX image file: three dimensions `[n, rows, cols]`, with at least one
/// image of at least one pixel (an empty file cannot be trained or evaluated on, and would
/// otherwise surface later as a model that "needs 0 inputs").
pub fn read_images(path: &Path) -> Result<IdxArray, DataError> {
    let array = parse(&read_bytes(path)?, IMAGES_MAGIC, path)?;
    check_image_dims(&array.dims, path)?;
    Ok(array)
}

/// Checks the header of an image file: `[n, rows, cols]`, none of them 0.
fn check_image_dims(dims: &[usize], path: &Path) -> Result<(), DataError> {
    let &[n, rows, cols] = dims else {
        return Err(FileError::invalid(
            path,
            format!("an image file has 3 dimensions, found {}", dims.len()),
        ));
    };
    if rows == 0 || cols == 0 {
        return Err(FileError::invalid(
            path,
            format!("the header declares {rows}×{cols}-pixel images; rows and columns must be ≥ 1"),
        ));
    }
    if n == 0 {
        return Err(FileError::invalid(
            path,
            "the header declares 0 images; the file holds no data",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn parses_a_good_image_file() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 2, 3]);
        bytes.extend(0..12u8);
        let array = parse(&bytes, IMAGES_MAGIC, Path::new("x")).unwrap();
        assert_eq!(array.dims, vec![2, 2, 3]);
        assert_eq!(array.data, (0..12).collect::<Vec<u8>>());
    }

    #[test]
    fn rejects_bad_magic_truncation_trailing_bytes_and_huge_headers() {
        let path = Path::new("bad.idx");
        let mut wrong_magic = header(LABELS_MAGIC, &[3]);
        wrong_magic.extend([1, 2, 3]);
        let err = parse(&wrong_magic, IMAGES_MAGIC, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.idx") && err.contains("magic"), "{err}");

        let mut truncated = header(IMAGES_MAGIC, &[10, 28, 28]);
        truncated.extend([0; 100]);
        let err = parse(&truncated, IMAGES_MAGIC, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");

        let mut trailing = header(LABELS_MAGIC, &[2]);
        trailing.extend([1, 2, 3]);
        let err = parse(&trailing, LABELS_MAGIC, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trailing"), "{err}");

        // A header claiming 4 billion images must fail before allocating anything.
        let huge = header(IMAGES_MAGIC, &[u32::MAX, 28, 28]);
        let err = parse(&huge, IMAGES_MAGIC, path).unwrap_err().to_string();
        assert!(err.contains("too large"), "{err}");

        let err = parse(&[0, 0], IMAGES_MAGIC, path).unwrap_err().to_string();
        assert!(err.contains("too short"), "{err}");
        let err = parse(&[0, 0, 8, 3, 0], IMAGES_MAGIC, path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated header"), "{err}");
    }

    #[test]
    fn rejects_image_files_without_pixels_or_images() {
        let path = Path::new("empty.idx");
        for (dims, needle) in [
            ([3u32, 0, 0], "0×0-pixel"),
            ([3, 28, 0], "28×0-pixel"),
            ([3, 0, 28], "0×28-pixel"),
            ([0, 28, 28], "0 images"),
        ] {
            // Each header is consistent with the file's length (0 bytes of data), so only
            // the dimension check can reject it.
            let bytes = header(IMAGES_MAGIC, &dims);
            let array = parse(&bytes, IMAGES_MAGIC, path).unwrap();
            let err = check_image_dims(&array.dims, path).unwrap_err().to_string();
            assert!(
                err.starts_with("empty.idx: ") && err.contains(needle),
                "{err}"
            );
        }
        let mut one_pixel = header(IMAGES_MAGIC, &[2, 1, 1]);
        one_pixel.extend([0, 255]);
        let array = parse(&one_pixel, IMAGES_MAGIC, path).unwrap();
        check_image_dims(&array.dims, path).unwrap();
        let err = check_image_dims(&[2, 28], path).unwrap_err().to_string();
        assert!(err.contains("3 dimensions, found 2"), "{err}");
    }
}
