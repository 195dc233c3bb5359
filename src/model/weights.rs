//! Saving and loading MLP weights as PyTorch-compatible safetensors.
//!
//! Tensors `fc1.weight` `[out, in]`, `fc1.bias` `[out]`, …, `fcL.*`, all f32 little-endian.
//! Metadata (strings): `architecture` = `{"layers":[784,800,800,10],"activation":"relu"}`,
//! `input` = `"pixels/255"`, plus whatever the caller adds (`method`, `temperature`, `alpha`,
//! `test_errors`, …).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::tensor::{Dtype, TensorView};

use super::mlp::Mlp;
use crate::files::FileError;

/// A weights file that cannot be written or read.
pub type WeightsError = FileError;

fn invalid(path: &Path, problem: impl ToString) -> WeightsError {
    FileError::invalid(path, problem)
}

/// The `architecture` metadata value for these layer widths.
pub fn architecture_json(layers: &[usize]) -> String {
    let widths: Vec<String> = layers.iter().map(usize::to_string).collect();
    format!(r#"{{"layers":[{}],"activation":"relu"}}"#, widths.join(","))
}

/// Serialises the model to safetensors bytes with the standard metadata plus `extra`.
pub fn to_bytes(mlp: &Mlp, extra: &HashMap<String, String>) -> candle_core::Result<Vec<u8>> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (l, (w, b)) in mlp.weights.iter().zip(&mlp.biases).enumerate() {
        for (suffix, tensor) in [("weight", w), ("bias", b)] {
            let values: Vec<f32> = tensor.flatten_all()?.to_vec1()?;
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            buffers.push((
                format!("fc{}.{suffix}", l + 1),
                tensor.dims().to_vec(),
                bytes,
            ));
        }
    }
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| candle_core::Error::Msg(e.to_string()))
        })
        .collect::<candle_core::Result<_>>()?;
    let mut metadata: BTreeMap<&str, &str> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let architecture = architecture_json(&mlp.layers);
    metadata.insert("architecture", &architecture);
    metadata.insert("input", "pixels/255");
    let bytes =
        safetensors::serialize(views, None).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    with_sorted_metadata(bytes, &metadata)
}

/// Puts `metadata` into the header of safetensors `bytes` written without any, keys sorted.
///
/// `safetensors::serialize` takes the metadata as a `HashMap` and writes it in the map's
/// iteration order, which changes from one map (and one process) to the next: two identical
/// runs wrote byte-different files. The tensors' part of the header is already sorted by name,
/// so the header is rebuilt as safetensors itself lays it out (`__metadata__` first, padded
/// with spaces to 8 bytes), with a `BTreeMap`'s order; the tensor data is not touched.
pub(crate) fn with_sorted_metadata(
    bytes: Vec<u8>,
    metadata: &BTreeMap<&str, &str>,
) -> candle_core::Result<Vec<u8>> {
    let malformed = || candle_core::Error::Msg("safetensors wrote a malformed header".into());
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(malformed)?;
    let header_end = usize::try_from(u64::from_le_bytes(len_bytes))
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(malformed)?;
    let tensors = std::str::from_utf8(&bytes[8..header_end])
        .map_err(|_| malformed())?
        .trim_end_matches(' ');
    let rest = tensors.strip_prefix('{').ok_or_else(malformed)?;
    let metadata_json =
        serde_json::to_string(metadata).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let separator = if rest.starts_with('}') { "" } else { "," };
    let mut header = format!("{{\"__metadata__\":{metadata_json}{separator}{rest}").into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + bytes.len() - header_end);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&bytes[header_end..]);
    Ok(out)
}

/// A model read from a weights file, with the file's metadata.
pub struct LoadedModel {
    /// The network.
    pub mlp: Mlp,
    /// All metadata strings of the file.
    pub metadata: HashMap<String, String>,
}

/// The bytes of a weights file; `@assets/teacher.safetensors` (as configs write the shipped
/// models) is the bundled file.
pub fn read(path: &Path) -> Result<Vec<u8>, WeightsError> {
    let resolved = crate::assets::resolve(path, None);
    std::fs::read(&resolved).map_err(FileError::io(path))
}

/// A safetensors file's metadata strings (empty when it has none or is not one).
pub fn metadata_of(bytes: &[u8]) -> HashMap<String, String> {
    safetensors::SafeTensors::read_metadata(bytes)
        .ok()
        .and_then(|(_, header)| header.metadata().clone())
        .unwrap_or_default()
}

/// Loads a model saved by [`to_bytes`] (or by PyTorch with the same names).
pub fn load(path: &Path, device: &Device) -> Result<LoadedModel, WeightsError> {
    from_bytes(path, &read(path)?, device)
}

/// [`load`] of a file's bytes already read; `path` names it in errors.
pub fn from_bytes(path: &Path, bytes: &[u8], device: &Device) -> Result<LoadedModel, WeightsError> {
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(path, format!("not a safetensors file ({e})")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(path, format!("not a safetensors file ({e})")))?;
    let mut weights = Vec::new();
    let mut biases = Vec::new();
    for l in 1.. {
        let Ok(w) = tensors.tensor(&format!("fc{l}.weight")) else {
            break;
        };
        let b = tensors
            .tensor(&format!("fc{l}.bias"))
            .map_err(|_| invalid(path, format!("fc{l}.weight has no fc{l}.bias")))?;
        weights.push(to_tensor(path, &format!("fc{l}.weight"), &w, device)?);
        biases.push(to_tensor(path, &format!("fc{l}.bias"), &b, device)?);
    }
    if weights.is_empty() {
        return Err(invalid(
            path,
            "no fc1.weight tensor: not an MLP saved by Distillery",
        ));
    }
    let mlp = Mlp::from_parameters(weights, biases).map_err(|e| invalid(path, e))?;
    Ok(LoadedModel { mlp, metadata })
}

/// Loads a model and checks it maps `inputs` features to `classes` outputs, so a model made
/// for other data is rejected with a message naming the file instead of failing mid-way.
pub fn load_fitting(
    path: &Path,
    device: &Device,
    inputs: usize,
    classes: usize,
) -> Result<LoadedModel, WeightsError> {
    let model = load(path, device)?;
    check_fits(path, &model.mlp.layers, inputs, classes)?;
    Ok(model)
}

/// Refuses, naming the file, a model of `layers` that does not map `inputs` features to
/// `classes` outputs.
pub fn check_fits(
    path: &Path,
    layers: &[usize],
    inputs: usize,
    classes: usize,
) -> Result<(), WeightsError> {
    if layers.first() != Some(&inputs) || layers.last() != Some(&classes) {
        return Err(invalid(
            path,
            format!(
                "model has layers {layers:?}, the data needs {inputs} inputs and {classes} classes"
            ),
        ));
    }
    Ok(())
}

fn to_tensor(
    path: &Path,
    name: &str,
    view: &TensorView<'_>,
    device: &Device,
) -> Result<Tensor, WeightsError> {
    if view.dtype() != Dtype::F32 {
        return Err(invalid(
            path,
            format!("{name} is {:?}, expected F32", view.dtype()),
        ));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Tensor::from_vec(values, view.shape(), device).map_err(|e| invalid(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_parameters_and_metadata() {
        let device = Device::Cpu;
        let mlp = Mlp::new(&[5, 4, 3], 9, &device).unwrap();
        let extra = HashMap::from([("method".to_owned(), "hinton".to_owned())]);
        let bytes = to_bytes(&mlp, &extra).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        std::fs::write(&path, bytes).unwrap();
        let loaded = load(&path, &device).unwrap();
        assert_eq!(loaded.mlp.layers, vec![5, 4, 3]);
        assert_eq!(loaded.metadata["method"], "hinton");
        assert_eq!(loaded.metadata["input"], "pixels/255");
        assert_eq!(
            loaded.metadata["architecture"],
            r#"{"layers":[5,4,3],"activation":"relu"}"#
        );
        for (a, b) in mlp.weights.iter().zip(&loaded.mlp.weights) {
            let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(a, b);
        }
    }

    /// Two identical runs must write identical files: the metadata's order may not depend on
    /// how (or in which process) its map was built. Each `HashMap` has its own random hash
    /// seed, so maps built in different orders iterate differently; the bytes must not.
    #[test]
    fn the_same_model_and_metadata_give_the_same_bytes_whatever_the_maps_order() {
        let mlp = Mlp::new(&[5, 4, 3], 9, &Device::Cpu).unwrap();
        let pairs: Vec<(String, String)> = [
            ("method", "hinton"),
            ("temperature", "20"),
            ("alpha", "0.9"),
            ("seed", "42"),
            ("test_errors", "71"),
            ("epochs", "60"),
            ("phase", "student"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let first = to_bytes(&mlp, &pairs.iter().cloned().collect()).unwrap();
        for round in 0..20 {
            let mut order = pairs.clone();
            order.rotate_left(round % pairs.len());
            if round % 2 == 1 {
                order.reverse();
            }
            let map: HashMap<String, String> = order.into_iter().collect();
            assert!(
                to_bytes(&mlp, &map).unwrap() == first,
                "round {round}: different bytes for the same model and metadata"
            );
        }
        // Still a valid safetensors file that keeps every entry.
        let (_, header) = safetensors::SafeTensors::read_metadata(&first).unwrap();
        let metadata = header.metadata().clone().unwrap();
        assert_eq!(metadata.len(), pairs.len() + 2);
        assert_eq!(metadata["phase"], "student");
    }

    #[test]
    fn garbage_is_rejected_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.safetensors");
        std::fs::write(&path, b"not weights at all").unwrap();
        let err = load(&path, &Device::Cpu).err().unwrap().to_string();
        assert!(
            err.contains("junk.safetensors") && err.contains("not a safetensors"),
            "{err}"
        );
    }
}
