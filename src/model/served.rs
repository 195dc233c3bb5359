//! A model as it is served: the f32 MLP, or its int8 form ([`super::int8`]), read from
//! whichever file it is. `eval`, `deploy` and `soft-targets` take either.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use super::int8::Int8Mlp;
use super::mlp::Mlp;
use super::weights::{self, WeightsError};
use crate::files::FileError;

/// An f32 or an int8 model.
#[derive(Clone, Debug)]
pub enum Served {
    F32(Mlp),
    Int8(Int8Mlp),
}

impl Served {
    /// Reads a weights file of either kind (an int8 file says so in its metadata), checking it
    /// maps `inputs` features to `classes` outputs. Returns the file's metadata too.
    pub fn load_fitting(
        path: &Path,
        inputs: usize,
        classes: usize,
    ) -> Result<(Self, HashMap<String, String>), WeightsError> {
        let bytes = weights::read(path)?;
        let (model, metadata) = if Int8Mlp::is_int8(&bytes) {
            let model = Int8Mlp::from_bytes(&bytes).map_err(|e| FileError::invalid(path, e))?;
            (Served::Int8(model), weights::metadata_of(&bytes))
        } else {
            let model = weights::from_bytes(path, &bytes, &Device::Cpu)?;
            (Served::F32(model.mlp), model.metadata)
        };
        weights::check_fits(path, model.layers(), inputs, classes)?;
        Ok((model, metadata))
    }

    /// Widths, input first.
    pub fn layers(&self) -> &[usize] {
        match self {
            Served::F32(m) => &m.layers,
            Served::Int8(m) => &m.layers,
        }
    }

    /// `f32` or `int8`.
    pub fn precision(&self) -> &'static str {
        match self {
            Served::F32(_) => "f32",
            Served::Int8(_) => "int8",
        }
    }

    /// Logits `[n, classes]` of a flat `[n, inputs]` buffer.
    pub fn logits(&self, images: &[f32]) -> candle_core::Result<Vec<f32>> {
        match self {
            Served::F32(m) => m.logits(images, &Device::Cpu),
            Served::Int8(m) => Ok(m.logits(images)),
        }
    }

    /// One forward pass over `rows` rows, as a server runs it (the f32 model through a
    /// tensor of the batch); the logits are returned.
    pub fn serve(&self, images: &[f32]) -> candle_core::Result<Vec<f32>> {
        match self {
            Served::F32(m) => {
                let dim = m.layers[0];
                let x = Tensor::from_slice(images, (images.len() / dim, dim), &Device::Cpu)?;
                m.forward(&x)?.flatten_all()?.to_vec1()
            }
            Served::Int8(m) => Ok(m.logits(images)),
        }
    }
}
