//! Where a run's examples come from, behind one interface: an IDX folder (MNIST and any
//! dataset in its format) or one of the plane's synthetic 2-D sets today; a table or an image
//! folder is one more [`Source`] beside them. [`load`] applies what every source shares: the
//! validation split and the size limits.

use std::path::PathBuf;

use super::dataset::{bundled_mnist_dir, Dataset, Mnist};
use super::idx::DataError;
use super::plane;
use crate::config::{DataConfig, DataSource, PlaneDataConfig};

/// What one sample is, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleShape {
    /// An image of `height × width` pixels with `channels` channels.
    Image {
        /// Rows of pixels.
        height: usize,
        /// Pixels per row.
        width: usize,
        /// 1 for grayscale.
        channels: usize,
    },
    /// A point in the unit square.
    Point,
}

/// A dataset a run can train on: its training and test halves and what a sample is.
pub trait Source {
    /// A short name for headers and messages ("MNIST-format folder data/mnist", "spirals").
    fn name(&self) -> String;
    /// Where it comes from: named by errors about the data.
    fn origin(&self) -> PathBuf;
    /// Number of classes.
    fn classes(&self) -> usize;
    /// Loads (or draws) the training and test halves.
    fn load(&self) -> Result<Mnist, DataError>;
    /// What one sample of `set` is.
    fn sample_shape(&self, set: &Dataset) -> SampleShape {
        SampleShape::Image {
            height: set.rows,
            width: set.cols,
            channels: 1,
        }
    }
}

/// A folder of MNIST-format IDX files (`train-images-idx3-ubyte[.gz]`, …).
pub struct IdxFolder {
    /// The folder.
    pub dir: PathBuf,
}

impl Source for IdxFolder {
    fn name(&self) -> String {
        format!("MNIST-format folder {}", self.dir.display())
    }

    fn origin(&self) -> PathBuf {
        self.dir.clone()
    }

    fn classes(&self) -> usize {
        crate::config::MNIST_CLASSES
    }

    fn load(&self) -> Result<Mnist, DataError> {
        Mnist::load(&self.dir)
    }
}

/// One of the plane playground's synthetic 2-D datasets.
pub struct PlaneSet {
    /// Its shape, size, noise and seed.
    pub config: PlaneDataConfig,
}

impl Source for PlaneSet {
    fn name(&self) -> String {
        self.config.kind.key().to_owned()
    }

    fn origin(&self) -> PathBuf {
        PathBuf::from(format!("plane:{}", self.config.kind.key()))
    }

    fn classes(&self) -> usize {
        self.config.class_count()
    }

    fn load(&self) -> Result<Mnist, DataError> {
        Ok(plane::generate(&self.config))
    }

    fn sample_shape(&self, _: &Dataset) -> SampleShape {
        SampleShape::Point
    }
}

/// The source `config` names.
pub fn open(config: &DataConfig) -> Box<dyn Source> {
    match config.source {
        DataSource::Mnist => Box::new(IdxFolder {
            dir: config.dir.clone().unwrap_or_else(bundled_mnist_dir),
        }),
        DataSource::Plane => Box::new(PlaneSet {
            config: config.plane.clone(),
        }),
    }
}

/// Loads the dataset `config` asks for, with its validation split and limits applied.
pub fn load(config: &DataConfig) -> Result<Mnist, DataError> {
    let source = open(config);
    let mut data = source.load()?;
    if let Some(n) = config.validation {
        if n >= data.train.len() {
            return Err(DataError::invalid(
                &source.origin(),
                format!(
                    "data.validation = {n} leaves no training examples (the training set has {})",
                    data.train.len()
                ),
            ));
        }
        let keep = data.train.len() - n;
        data.test = data
            .train
            .select(&(keep..data.train.len()).collect::<Vec<_>>());
        data.train = data.train.take(keep);
    }
    if let Some(n) = config.train_limit {
        data.train = data.train.take(n);
    }
    if let Some(n) = config.test_limit {
        data.test = data.test.take(n);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validation_split_holds_out_the_last_training_examples_then_limits_apply() {
        let mut config = DataConfig {
            source: DataSource::Plane,
            validation: Some(100),
            train_limit: Some(50),
            ..DataConfig::default()
        };
        let all = plane::generate(&config.plane);
        let data = load(&config).unwrap();
        let n = all.train.len();
        assert_eq!(
            data.test,
            all.train.select(&(n - 100..n).collect::<Vec<_>>())
        );
        assert_eq!(data.train, all.train.take(50));
        config.validation = Some(n);
        let err = load(&config).unwrap_err().to_string();
        assert!(
            err.contains("data.validation") && err.contains("plane:"),
            "{err}"
        );
    }

    #[test]
    fn each_source_names_itself_and_its_samples() {
        let plane = open(&DataConfig {
            source: DataSource::Plane,
            ..DataConfig::default()
        });
        let data = plane.load().unwrap();
        assert_eq!(plane.sample_shape(&data.train), SampleShape::Point);
        assert_eq!(
            plane.classes(),
            data.train
                .labels
                .iter()
                .max()
                .map_or(0, |m| *m as usize + 1)
        );
        let idx = IdxFolder {
            dir: "mnist".into(),
        };
        let set = Dataset {
            images: vec![0.0; 784],
            labels: vec![0],
            rows: 28,
            cols: 28,
        };
        assert_eq!(
            idx.sample_shape(&set),
            SampleShape::Image {
                height: 28,
                width: 28,
                channels: 1
            }
        );
        assert!(idx.name().contains("mnist"));
    }
}
