//! Training: the trainer (one code path for every method), optimisers, targets.

pub mod divergence;
pub mod ema;
pub mod optim;
pub mod probes;
pub mod targets;
pub mod trainer;
pub mod update;
