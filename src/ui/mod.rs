//! The desktop window (eframe/egui). The only module that imports egui.
//!
//! Each panel is a component: a struct in [`state::Views`] that owns its view state and draws
//! from a read-only [`ctx::ViewCtx`], returning the [`actions::Action`]s it wants; the app
//! applies them after drawing. Slow work (run listing, deleting, the bias search, file
//! dialogs and exports) runs in the background and comes back as events.

pub mod actions;
pub mod app;
mod chrome;
pub mod ctx;
mod fold;
mod heatmap_plot;
mod jobs;
mod launcher;
mod live;
pub mod live_run;
mod per_class;
mod persist;
pub mod plane;
mod playground;
mod plot;
pub mod probe_history;
mod runs_view;
pub mod soft_targets;
pub mod state;
mod sweep;
pub mod tasks;

use std::sync::Arc;

use app::{AppOptions, DistilleryApp};
pub use playground::soft_target_spec;
pub use plot::plot_ui;
pub use sweep::{sweep_spec, SweepTable};

/// Opens the window (blocks until it is closed).
pub fn run_app() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Distillery — knowledge distillation explorer")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "Distillery",
        options,
        Box::new(|cc| {
            let state = cc
                .storage
                .and_then(|s| eframe::get_value::<state::State>(s, eframe::APP_KEY));
            let app = DistilleryApp::new(
                &cc.egui_ctx,
                AppOptions {
                    state,
                    runs_dir: None,
                    data_dir: None,
                    dialogs: Arc::new(tasks::SystemDialogs),
                },
            )?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

/// Parses a list typed as "1, 2 3" (commas and/or spaces); the error names the bad item as
/// "`x` is not {what}".
pub(crate) fn parse_list<T: std::str::FromStr>(text: &str, what: &str) -> Result<Vec<T>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| format!("`{s}` is not {what}")))
        .collect()
}
