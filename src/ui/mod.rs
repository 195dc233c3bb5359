//! The desktop window (eframe/egui). The only module that imports egui.
//!
//! Each panel is a component: a struct in [`state::Views`] that owns its view state and draws
//! from a read-only [`ctx::ViewCtx`], returning the [`action::Action`]s it wants; the app
//! applies them after drawing. Slow work (run listing, deleting, the bias search, file
//! dialogs and exports) runs in the background and comes back as events.
//!
//! Files import each other by their own path, never through this file's re-exports, so that
//! no file imports itself back: leaves (`action`, `tab`, `pending`, `theme`, `widgets`,
//! `list_text`, `summary_text`, `defaults`, `capture`) name no panel, panels name leaves and
//! `ctx`, and only `state` and `app/` name the panels.

pub mod action;
pub mod app;
mod capture;
mod chrome;
pub mod ctx;
mod defaults;
mod heatmap_plot;
mod jobs;
mod launcher;
mod list_text;
mod live;
pub mod live_run;
mod methods;
mod pending;
mod per_class;
mod persist;
pub mod plane;
mod playground;
mod plot;
pub mod probe_history;
mod runs_view;
pub mod soft_targets;
pub mod state;
mod summary_text;
mod sweep;
mod tab;
pub mod tasks;
mod theme;
mod widgets;
mod window;

pub use crate::sweep::progress::SweepTable;
/// The action enum's former module name, kept so that `ui::actions::Action` still names it.
pub use action as actions;
pub use playground::soft_target_spec;
pub use plot::plot_ui;
pub use sweep::sweep_spec;
pub use window::run_app;
