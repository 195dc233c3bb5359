//! Models: the MLP with its hand-written backward pass, and its safetensors format.

pub mod gemm;
pub mod int8;
pub mod kernels;
pub mod mlp;
pub mod onnx;
pub mod served;
pub mod weights;
