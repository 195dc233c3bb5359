//! The stages of a run, one file each: the teacher (trained, loaded or an ensemble), the
//! transfer set with the teacher's cached logits, the students (baseline and distilled) and
//! the bias adjustment. Each is a method of [`Session`](super::session::Session);
//! [`super::pipeline`] runs them in order.

pub mod bias;
pub mod students;
pub mod teacher;
pub mod transfer;
