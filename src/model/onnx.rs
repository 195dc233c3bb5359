//! ONNX export of the MLP, so that a student can leave the app for any runtime that serves
//! ONNX (onnxruntime, tract, TensorRT, a browser through onnxruntime-web).
//!
//! The graph is the forward pass as written in [`Mlp::forward`]: for each layer a `Gemm`
//! (`h · Wᵀ + b`, `transB = 1`, with the weights in their `[out, in]` layout), then a `Relu`
//! for every hidden layer; opset 13. The input `pixels` is `[batch, in]` f32 with the scaling
//! the model was trained on (recorded in the metadata, key [`INPUT_SCALING_KEY`]), the output
//! `logits` is `[batch, classes]`. The model's own metadata (architecture, how it was trained)
//! is copied into the ONNX metadata.
//!
//! The messages are `onnx-protobuf`'s types (generated from the ONNX schema) serialised by the
//! `protobuf` crate: nothing here encodes protobuf by hand. Tests run the file in tract;
//! `.ci/run` runs it in onnxruntime.

use std::collections::HashMap;

use candle_core::Result;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Value};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::mlp::Mlp;

/// The operator set the graph is written for (`Gemm` and `Relu` as of opset 13).
pub const OPSET: i64 = 13;
/// The ONNX IR version of opset 13.
const IR_VERSION: i64 = 7;
/// The graph's input.
pub const INPUT: &str = "pixels";
/// The graph's output.
pub const OUTPUT: &str = "logits";
/// The metadata key that says how inputs are scaled.
pub const INPUT_SCALING_KEY: &str = "input_scaling";
/// How the bundled MNIST (and any IDX folder) is scaled for the models.
pub const MNIST_SCALING: &str =
    "pixel bytes / 255, row-major 28×28 flattened to 784 values in [0, 1]";

/// A `[rows, cols]` (or `[rows]`) f32 initializer.
fn initializer(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.to_owned(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::FLOAT as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..TensorProto::default()
    }
}

/// An f32 `[batch, width]` graph input or output.
fn value_info(name: &str, width: usize) -> ValueInfoProto {
    let dim = |value| Dimension {
        value: Some(value),
        ..Dimension::default()
    };
    let tensor = type_proto::Tensor {
        elem_type: DataType::FLOAT as i32,
        shape: Some(TensorShapeProto {
            dim: vec![
                dim(dimension::Value::DimParam("batch".to_owned())),
                dim(dimension::Value::DimValue(width as i64)),
            ],
            ..TensorShapeProto::default()
        })
        .into(),
        ..type_proto::Tensor::default()
    };
    ValueInfoProto {
        name: name.to_owned(),
        type_: Some(TypeProto {
            value: Some(Value::TensorType(tensor)),
            ..TypeProto::default()
        })
        .into(),
        ..ValueInfoProto::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: op.to_owned(),
        name: name.to_owned(),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.to_owned()],
        ..NodeProto::default()
    }
}

/// The model as ONNX bytes, with `metadata` (and the input scaling) in its metadata.
pub fn to_onnx(
    mlp: &Mlp,
    input_scaling: &str,
    metadata: &HashMap<String, String>,
) -> Result<Vec<u8>> {
    let depth = mlp.depth();
    let mut graph = GraphProto {
        name: "distillery-mlp".to_owned(),
        input: vec![value_info(INPUT, mlp.layers[0])],
        output: vec![value_info(OUTPUT, mlp.classes())],
        ..GraphProto::default()
    };
    let mut h = INPUT.to_owned();
    for l in 0..depth {
        let (w, b) = (&mlp.weights[l], &mlp.biases[l]);
        let (out, inp) = w.dims2()?;
        let (wn, bn) = (format!("fc{}.weight", l + 1), format!("fc{}.bias", l + 1));
        graph.initializer.push(initializer(
            &wn,
            &[out, inp],
            &w.flatten_all()?.to_vec1::<f32>()?,
        ));
        graph
            .initializer
            .push(initializer(&bn, &[out], &b.to_vec1::<f32>()?));
        let last = l + 1 == depth;
        let z = if last {
            OUTPUT.to_owned()
        } else {
            format!("fc{}", l + 1)
        };
        let mut gemm = node("Gemm", &format!("fc{}", l + 1), &[&h, &wn, &bn], &z);
        gemm.attribute.push(AttributeProto {
            name: "transB".to_owned(),
            type_: AttributeType::INT.into(),
            i: 1,
            ..AttributeProto::default()
        });
        graph.node.push(gemm);
        h = z;
        if !last {
            let a = format!("relu{}", l + 1);
            graph.node.push(node("Relu", &a, &[&h], &a));
            h = a;
        }
    }
    let mut props: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    props.push((INPUT_SCALING_KEY.to_owned(), input_scaling.to_owned()));
    props.sort();
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
            ..OperatorSetIdProto::default()
        }],
        producer_name: "distillery".to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        graph: Some(graph).into(),
        metadata_props: props
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key,
                value,
                ..StringStringEntryProto::default()
            })
            .collect(),
        ..ModelProto::default()
    };
    model
        .write_to_bytes()
        .map_err(|e| candle_core::Error::Msg(format!("encoding the ONNX model: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{bundled_mnist_dir, Mnist, CLASSES};
    use crate::eval::evaluate_logits;
    use tract_onnx::prelude::{
        tvec, Datum, Framework, InferenceFact, InferenceModelExt, IntoTensor,
    };

    /// The shipped student exported and run in tract on the whole test set: the same 67 errors
    /// as `distillery eval`, logits within 1e-4 of ours, and the metadata kept.
    #[test]
    fn the_shipped_student_runs_in_tract_with_our_errors_and_logits() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/student.safetensors");
        let model = crate::model::weights::load(&path, &candle_core::Device::Cpu).unwrap();
        let bytes = to_onnx(&model.mlp, MNIST_SCALING, &model.metadata).unwrap();

        let parsed = ModelProto::parse_from_bytes(&bytes).unwrap();
        assert_eq!(parsed.opset_import[0].version, OPSET);
        let meta: HashMap<&str, &str> = parsed
            .metadata_props
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(meta[INPUT_SCALING_KEY], MNIST_SCALING);
        for (k, v) in &model.metadata {
            assert_eq!(meta[k.as_str()], v, "metadata {k}");
        }
        let ops: Vec<&str> = parsed
            .graph
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect();
        assert_eq!(ops, ["Gemm", "Relu", "Gemm", "Relu", "Gemm"]);

        let test = Mnist::load_test(&bundled_mnist_dir()).unwrap();
        let n = test.len();
        let runnable = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .unwrap()
            .with_input_fact(
                0,
                InferenceFact::dt_shape(f32::datum_type(), tvec!(n, test.dim())),
            )
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let input = tract_onnx::prelude::tract_ndarray::Array2::from_shape_vec(
            (n, test.dim()),
            test.images.clone(),
        )
        .unwrap()
        .into_tensor();
        let out = runnable.run(tvec!(input.into())).unwrap();
        let theirs: Vec<f32> = out[0]
            .to_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect();
        let ours = model
            .mlp
            .logits(&test.images, &candle_core::Device::Cpu)
            .unwrap();
        assert_eq!(theirs.len(), n * CLASSES);
        let worst = theirs
            .iter()
            .zip(&ours)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-4, "logits differ by up to {worst}");
        let errors = evaluate_logits(&theirs, &test.labels, CLASSES).errors;
        assert_eq!(errors, evaluate_logits(&ours, &test.labels, CLASSES).errors);
        assert_eq!(errors, 67, "the README's 67");
    }
}
