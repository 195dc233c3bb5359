//! An in-memory image classification dataset (MNIST and any IDX dataset of the same shape).

use std::path::{Path, PathBuf};

use super::idx::{self, DataError};

/// Number of classes of MNIST-format datasets.
pub use crate::config::MNIST_CLASSES as CLASSES;

/// Images as `f32` pixels/255, row-major `[n, rows·cols]`, with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Pixel values in [0, 1], example after example.
    pub images: Vec<f32>,
    /// Class of each example, 0–9.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

/// The training and test halves of a dataset.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// 60,000 training examples for MNIST.
    pub train: Dataset,
    /// 10,000 test examples for MNIST.
    pub test: Dataset,
}

/// The MNIST folder used when none is given: `$DISTILLERY_DATA`, else the bundled copy
/// (found wherever the binary runs; see [`crate::assets`]).
pub fn bundled_mnist_dir() -> PathBuf {
    crate::assets::mnist_dir()
}

/// Finds `stem` or `stem.gz` in `dir`.
fn find_file(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    let candidates = [dir.join(format!("{stem}.gz")), dir.join(stem)];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| DataError::Io {
            path: candidates[0].clone(),
            error: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no {stem}(.gz) in this folder"),
            ),
        })
}

impl Dataset {
    /// Loads a pair of IDX files and checks they agree with each other.
    pub fn load(images_path: &Path, labels_path: &Path) -> Result<Self, DataError> {
        let images = idx::read_images(images_path)?;
        let labels = idx::read_labels(labels_path)?;
        let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
        if labels.len() != n {
            return Err(DataError::Invalid {
                path: labels_path.to_owned(),
                problem: format!(
                    "{} labels but {} has {n} images",
                    labels.len(),
                    images_path.display()
                ),
            });
        }
        if let Some(bad) = labels.iter().find(|l| usize::from(**l) >= CLASSES) {
            return Err(DataError::Invalid {
                path: labels_path.to_owned(),
                problem: format!("label {bad} is outside 0–9"),
            });
        }
        Ok(Self {
            images: images.data.iter().map(|p| f32::from(*p) / 255.0).collect(),
            labels,
            rows,
            cols,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per example (`rows · cols`).
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of example `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let d = self.dim();
        &self.images[i * d..(i + 1) * d]
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let d = self.dim();
        let mut images = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Self {
            images,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// The first `n` examples (all of them if `n` is larger).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            images: self.images[..n * self.dim()].to_vec(),
            labels: self.labels[..n].to_vec(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// Copies example `i` into `out`, shifted by `(dx, dy)` pixels with zero fill ("jitter").
    pub fn write_shifted(&self, i: usize, dx: i32, dy: i32, out: &mut [f32]) {
        let (rows, cols) = (self.rows as i32, self.cols as i32);
        let src = self.image(i);
        if dx == 0 && dy == 0 {
            out.copy_from_slice(src);
            return;
        }
        out.fill(0.0);
        for r in 0..rows {
            let sr = r - dy;
            if sr < 0 || sr >= rows {
                continue;
            }
            let (c0, c1) = ((dx).max(0), (cols + dx).min(cols));
            if c0 >= c1 {
                continue;
            }
            let dst_row = (r * cols) as usize;
            let src_row = (sr * cols) as usize;
            out[dst_row + c0 as usize..dst_row + c1 as usize]
                .copy_from_slice(&src[src_row + (c0 - dx) as usize..src_row + (c1 - dx) as usize]);
        }
    }
}

impl Mnist {
    /// Loads the four standard files (`train-images-idx3-ubyte[.gz]`, …) from `dir`.
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        let train = Dataset::load(
            &find_file(dir, "train-images-idx3-ubyte")?,
            &find_file(dir, "train-labels-idx1-ubyte")?,
        )?;
        let test = Self::load_test(dir)?;
        if (train.rows, train.cols) != (test.rows, test.cols) {
            return Err(DataError::Invalid {
                path: dir.to_owned(),
                problem: format!(
                    "training images are {}×{} but test images are {}×{}",
                    train.rows, train.cols, test.rows, test.cols
                ),
            });
        }
        Ok(Self { train, test })
    }

    /// Loads only the test set (the GUI's playground needs nothing else).
    pub fn load_test(dir: &Path) -> Result<Dataset, DataError> {
        Dataset::load(
            &find_file(dir, "t10k-images-idx3-ubyte")?,
            &find_file(dir, "t10k-labels-idx1-ubyte")?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_moves_pixels_and_fills_zeros() {
        let ds = Dataset {
            images: (1..=9).map(|v| v as f32).collect(),
            labels: vec![0],
            rows: 3,
            cols: 3,
        };
        let mut out = vec![0.0; 9];
        ds.write_shifted(0, 1, 0, &mut out);
        assert_eq!(out, vec![0., 1., 2., 0., 4., 5., 0., 7., 8.]);
        ds.write_shifted(0, -1, 1, &mut out);
        assert_eq!(out, vec![0., 0., 0., 2., 3., 0., 5., 6., 0.]);
        ds.write_shifted(0, 0, 0, &mut out);
        assert_eq!(out, ds.images);
    }
}
