//! Distillery: explore knowledge distillation (Hinton, Vinyals & Dean 2015) on real MNIST.
//!
//! The engine (data, models, losses, trainer, runs, export) knows nothing of egui; the GUI
//! (`ui`) and the command line (`cli`) both drive the same [`train::pipeline`] code path, the GUI
//! through the background [`worker`].

// `unsafe` is refused everywhere but in the matrix products' kernels (`model::gemm`'s
// `blocked`, `pack`, `avx2`, `avx512`, `int8` and `peak`): SIMD intrinsics and raw-pointer
// packing, each pinned to candle's products (or exact integer sums) by tests.
#![deny(unsafe_code)]

pub mod assets;
pub mod bench;
pub mod cli;
pub mod config;
pub mod data;
pub mod deploy;
pub mod distill;
pub mod eval;
pub mod events;
pub mod export;
pub mod files;
pub mod model;
pub mod plane;
pub mod presets;
pub mod reproduce;
pub mod rng;
pub mod runs;
pub mod sweep;
pub mod train;
#[cfg(feature = "gui")]
pub mod ui;

pub mod worker;
