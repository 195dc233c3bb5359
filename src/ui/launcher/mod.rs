//! The run launcher (left panel): method, parameters, presets, Start/Cancel and progress.
//! Invalid values are flagged at their field and the run cannot be started.
//!
//! Files: `view.rs` (the panel: what it keeps and the order of its sections), `text.rs` (the
//! list fields as typed), `sections.rs` (preset, teacher, student, transfer set, probes),
//! `controls.rs` (Start / Cancel, progress, the memory estimate), `form.rs` (field errors).
//! The method picker and the method's own fields are in `ui/methods.rs`.

mod controls;
mod form;
mod sections;
mod text;
mod view;

pub use view::Launcher;
