//! Opening the native window: its size and title, the renderer, and the state eframe
//! restored from its storage.

use std::sync::Arc;

use super::app::{AppOptions, DistilleryApp};
use super::state::State;
use super::tasks::SystemDialogs;

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
                .and_then(|s| eframe::get_value::<State>(s, eframe::APP_KEY));
            let app = DistilleryApp::new(
                &cc.egui_ctx,
                AppOptions {
                    state,
                    runs_dir: None,
                    data_dir: None,
                    dialogs: Arc::new(SystemDialogs),
                },
            )?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}
