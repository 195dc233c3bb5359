//! Distillation maths: soft targets, the losses of the four methods, bias adjustment.

pub mod bias;
pub mod loss;
pub mod soft;
