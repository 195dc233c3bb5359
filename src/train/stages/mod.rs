//! The stages of a run, one file each: the teacher (trained, loaded or an ensemble), the
//! transfer set with the teacher's cached logits, the students (baseline and distilled) and
//! the bias adjustment; and the stages a method may ask for around the distilled student's:
//! FitNets' hint, TAKD's assistant, DML's students that learn together. Each is a method of [`Session`](super::session::Session);
//! [`super::pipeline`] runs them in order.

pub mod assistant;
pub mod bias;
pub mod cohort;
pub mod hint;
pub mod students;
pub mod teacher;
pub mod transfer;
