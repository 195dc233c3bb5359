//! Datasets: the data sources (IDX folders, the synthetic 2-D sets), the IDX reader, jitter,
//! transfer sets and MUNGE.

pub mod dataset;
pub mod idx;
pub mod plane;
pub mod source;
pub mod transfer;
