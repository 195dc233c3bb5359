//! Distillation maths: soft targets, the losses, the targets a phase trains towards, the
//! registry of methods, bias adjustment.

pub mod bias;
pub mod dkd;
pub mod loss;
pub mod methods;
pub mod relational;
pub mod soft;
pub mod targets;
