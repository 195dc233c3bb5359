//! Datasets: the IDX reader, MNIST, jitter, transfer sets and MUNGE.

pub mod dataset;
pub mod idx;
pub mod transfer;
