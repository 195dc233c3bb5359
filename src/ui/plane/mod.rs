//! The plane playground: teacher, baseline student and distilled student on a 2-D dataset,
//! side by side, each the plane coloured by its class probabilities at temperature T
//! (`Σ_c p_c · colour_c`), with the decision boundary and the points on top.
//!
//! Training goes through the worker like any run ([`Action::StartPlane`](crate::ui::action::Action::StartPlane)); its grids arrive as
//! events every few epochs and the panels redraw as they do. The grids' logits stay cached,
//! so the temperature slider only re-runs a softmax and re-colours three 200×200 textures
//! (a few milliseconds), inside the frame that moved it.
//!
//! Files: `view.rs` (the view's state, textures and frame), `controls.rs` (its settings),
//! `panels.rs` (the row of panels and the curves), `panel.rs` (one panel), `specs.rs` (the
//! curves' and the hover bars' plot specs), `export.rs` (a panel's files).

mod controls;
pub mod export;
mod panel;
mod panels;
mod specs;
mod view;

pub use export::{write_plane_files, PlaneExport};
pub use specs::{curve_specs, hover_spec, PANELS};
pub use view::{PlaneView, DISPLAY_T};
