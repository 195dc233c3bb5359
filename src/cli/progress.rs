//! Turns trainer events into progress bars on stderr.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::{Event, EventSink};

/// An [`EventSink`] that draws one progress bar per phase.
pub struct ProgressSink {
    bar: Mutex<Option<ProgressBar>>,
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressSink {
    /// A sink with no bar yet.
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut bar) = self.bar.lock() {
            f(&mut bar);
        }
    }

    /// Leaves the last bar on screen.
    pub fn finish(&self) {
        self.with_bar(|bar| {
            if let Some(b) = bar.take() {
                b.finish();
            }
        });
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>22} [{bar:30}] {pos}/{len} epochs {msg} ({elapsed}, ~{eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl EventSink for ProgressSink {
    fn send(&self, event: Event) {
        match event {
            Event::RunStarted { dir, .. } => eprintln!("run folder: {}", dir.display()),
            Event::PhaseStarted {
                phase,
                member,
                epochs,
                detail,
                ..
            } => self.with_bar(|bar| {
                if let Some(b) = bar.take() {
                    b.finish();
                }
                let label = if detail.is_empty() {
                    phase.key().to_owned()
                } else {
                    format!("{} {detail}", phase.key())
                };
                if epochs == 0 {
                    eprintln!("{label:>22} ...");
                    return;
                }
                let b = ProgressBar::with_draw_target(
                    Some(epochs as u64),
                    ProgressDrawTarget::stderr(),
                );
                b.set_style(style());
                b.set_prefix(if member > 0 && detail.is_empty() {
                    format!("{label} {member}")
                } else {
                    label
                });
                *bar = Some(b);
            }),
            Event::Progress {
                loss,
                batch,
                batches,
                ..
            } => self.with_bar(|bar| {
                if let Some(b) = bar {
                    b.set_message(format!("batch {batch}/{batches} loss {loss:.4}"));
                }
            }),
            Event::EpochEnded { metrics, .. } => self.with_bar(|bar| {
                if let Some(b) = bar {
                    b.set_position(metrics.epoch as u64);
                    b.set_message(format!(
                        "loss {:.4} test errors {}",
                        metrics.loss, metrics.test_errors
                    ));
                }
            }),
            _ => {}
        }
    }
}
