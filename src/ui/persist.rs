//! Saving the state soon after it changes, and the UI thread's cost per frame.

use std::time::{Duration, Instant};

use super::state::State;

/// Minimum time between two saves of the state.
const PERSIST_INTERVAL: Duration = Duration::from_secs(2);

/// When the state was last saved, and as what.
pub struct Persistence {
    last: Instant,
    saved: String,
}

impl Default for Persistence {
    fn default() -> Self {
        Self {
            last: Instant::now(),
            saved: String::new(),
        }
    }
}

/// Per-frame CPU time of the UI thread, measured around `logic` + `ui`.
#[derive(Clone, Debug, Default)]
pub struct FrameStats {
    /// Exponential moving average, ms.
    pub mean_ms: f64,
    /// Largest frame in the last window, ms.
    pub max_ms: f64,
    /// Frames measured.
    pub frames: u64,
    started: Option<Instant>,
}

impl FrameStats {
    /// Marks the start of a frame.
    pub fn start(&mut self) {
        self.started = Some(Instant::now());
    }

    /// Records the frame started by [`start`](Self::start).
    pub fn finish(&mut self) {
        if let Some(started) = self.started.take() {
            self.record(started.elapsed().as_secs_f64() * 1000.0);
        }
    }

    fn record(&mut self, ms: f64) {
        self.frames += 1;
        self.mean_ms = if self.frames == 1 {
            ms
        } else {
            0.95 * self.mean_ms + 0.05 * ms
        };
        self.max_ms = if self.frames % 300 == 1 {
            ms
        } else {
            self.max_ms.max(ms)
        };
    }
}

impl Persistence {
    /// Saves `state` soon after it changes (at most every two seconds), so that a window
    /// killed rather than closed still remembers it; eframe itself only saves on exit and on a
    /// timer that needs a repaint to fire.
    pub fn save_if_changed(
        &mut self,
        state: &State,
        ctx: &egui::Context,
        frame: &mut eframe::Frame,
    ) {
        let Ok(text) = serde_json::to_string(state) else {
            return;
        };
        if text == self.saved {
            return;
        }
        let wait = PERSIST_INTERVAL.saturating_sub(self.last.elapsed());
        if !wait.is_zero() {
            // Changed too recently (e.g. mid-drag): come back when the interval is over.
            ctx.request_repaint_after(wait);
            return;
        }
        if let Some(storage) = frame.storage_mut() {
            eframe::set_value(storage, eframe::APP_KEY, state);
            storage.flush();
            self.saved = text;
            self.last = Instant::now();
        }
    }
}
