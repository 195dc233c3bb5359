//! Datasets: the IDX reader, MNIST, the synthetic 2-D sets, jitter, transfer sets and MUNGE.

pub mod dataset;
pub mod idx;
pub mod plane;
pub mod transfer;
