//! The frame's layout: top bar, status bar, the launcher on the left, the open view in the
//! middle, each drawing from a read-only [`ViewCtx`] and returning its actions, which are
//! applied once everything is drawn.

use super::DistilleryApp;
use crate::ui::action::Action;
use crate::ui::chrome;
use crate::ui::ctx::ViewCtx;
use crate::ui::state::State;
use crate::ui::tab::Tab;

impl DistilleryApp {
    /// Draws the whole window, then applies the panels' actions.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let mut actions: Vec<Action> = Vec::new();
        let dataset = chrome::dataset_name(self.data_dir.as_deref());
        let Self {
            state,
            test,
            test_error,
            data_version,
            teacher,
            student,
            live,
            runs,
            messages,
            frame_stats,
            prompt,
            ..
        } = self;
        let State {
            tab,
            dark,
            runs_dir,
            config,
            preset,
            sample,
            views,
            ..
        } = state;
        let ctx = ViewCtx {
            config,
            preset,
            runs_dir,
            sample: *sample,
            test: test.as_deref(),
            test_error: test_error.as_deref(),
            data_version: *data_version,
            teacher: teacher.as_deref(),
            student: student.as_deref(),
            live: live.as_ref(),
            runs,
        };
        egui::Panel::top("top").show(ui, |ui| {
            actions.extend(chrome::top_bar_ui(ui, *tab, *dark, &dataset));
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            chrome::status_bar_ui(ui, messages.last(), frame_stats);
        });
        // The plane view has its own settings; the MNIST launcher would only take its room.
        if *tab != Tab::Plane {
            egui::Panel::left("launcher")
                .resizable(true)
                .default_size(330.0)
                .show(ui, |ui| actions.extend(views.launcher.ui(ui, &ctx)));
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            actions.extend(match tab {
                Tab::Playground => views.playground.ui(ui, &ctx),
                Tab::Live => views.live.ui(ui, &ctx),
                Tab::Sweep => views.sweep.ui(ui, &ctx),
                Tab::PerClass => views.per_class.ui(ui, &ctx),
                Tab::Runs => views.runs.ui(ui, &ctx),
                Tab::Plane => views.plane.ui(ui, &ctx),
            });
        });
        if let Some(prompt) = prompt {
            actions.extend(prompt.ui(ui.ctx()));
        }
        let egui_ctx = ui.ctx().clone();
        for action in actions {
            self.apply(action, &egui_ctx);
        }
    }
}

impl eframe::App for DistilleryApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.frame_stats.start();
        self.drain(ctx);
        self.persist_if_changed(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
        self.frame_stats.finish();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
