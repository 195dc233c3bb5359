//! File work off the UI thread: dialogs, plot exports and weight exports.
//!
//! One task runs at a time (a second is refused with a message, like rerun's background
//! tasks); its outcome comes back through a channel and the UI is woken to show it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::data::dataset::{Dataset, Mnist};
use crate::events::Slot;

use crate::export::PlotSpec;
use crate::export::{render_png, render_svg, save_rgba_png, to_csv};
use crate::files::write_atomic;
use crate::sweep::progress::SweepTable;

use super::capture::capture_region;
use super::plane::export::write_plane_files;

/// Where it used to live; kept so that `ui::tasks::PendingFile` still names it.
pub use super::pending::PendingFile;

/// Size of a PNG rendered without a screen capture.
const FALLBACK_PNG_SIZE: (u32, u32) = (1000, 600);

/// File dialogs; tests inject fixed answers.
pub trait Dialogs: Send + Sync {
    /// Asks where to save, suggesting `default_name`; `None` if cancelled.
    fn save_file(&self, default_name: &str) -> Option<PathBuf>;
    /// Asks for a safetensors file to open; `None` if cancelled.
    fn open_weights(&self) -> Option<PathBuf>;
    /// Asks for a folder to open (a sweep folder); `None` if cancelled.
    fn pick_folder(&self) -> Option<PathBuf> {
        None
    }
    /// Whether a dialog can be shown at all; when not, the window asks for a path itself.
    fn available(&self) -> bool {
        true
    }
}

/// The system's dialogs (rfd: XDG portal, falling back to zenity).
pub struct SystemDialogs;

impl Dialogs for SystemDialogs {
    fn save_file(&self, default_name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_file_name(default_name)
            .save_file()
    }

    fn open_weights(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .add_filter("safetensors", &["safetensors"])
            .pick_file()
    }

    fn pick_folder(&self) -> Option<PathBuf> {
        rfd::FileDialog::new().pick_folder()
    }

    /// rfd needs the XDG desktop portal (on the session bus) or zenity; on a plain X11 window
    /// manager or Xvfb there is neither, and it would return "cancelled" at once.
    fn available(&self) -> bool {
        let zenity = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("zenity").is_file()));
        zenity || std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
    }
}

/// A dialog that "returns" faster than this was never shown (a person cannot cancel that
/// fast): the portal failed, and the window asks for the path itself.
const UNSHOWN_DIALOG: Duration = Duration::from_millis(300);

/// What a finished task reports.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A message for the status bar.
    Message {
        /// Whether it is an error.
        is_error: bool,
        /// The text.
        text: String,
    },
    /// A weights file was picked for a playground slot.
    Picked {
        /// The slot.
        slot: Slot,
        /// The file.
        path: PathBuf,
    },
    /// No system dialog could be shown: ask for the path in the window.
    NoDialog(PendingFile),
    /// A sweep folder was read (or why it could not be).
    SweepOpened(Result<Box<SweepTable>, String>),
    /// A data folder's test set was read (or why it could not be).
    DataOpened {
        /// The folder.
        dir: PathBuf,
        /// Its test set.
        test: Result<Arc<Dataset>, String>,
    },
}

/// The background task runner.
pub struct Tasks {
    dialogs: Arc<dyn Dialogs>,
    ctx: egui::Context,
    busy: Arc<AtomicBool>,
    sender: Sender<Outcome>,
    receiver: Receiver<Outcome>,
}

impl Tasks {
    /// A runner using these dialogs, waking `ctx` when a task ends.
    pub fn new(dialogs: Arc<dyn Dialogs>, ctx: egui::Context) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Self {
            dialogs,
            ctx,
            busy: Arc::new(AtomicBool::new(false)),
            sender,
            receiver,
        }
    }

    /// A finished task's outcome, if any.
    pub fn try_recv(&self) -> Option<Outcome> {
        self.receiver.try_recv().ok()
    }

    /// Whether system dialogs can be shown.
    pub fn dialogs_available(&self) -> bool {
        self.dialogs.available()
    }

    fn spawn(
        &self,
        job: impl FnOnce(&dyn Dialogs, &egui::Context) -> Option<Outcome> + Send + 'static,
    ) -> Result<(), String> {
        if self.busy.swap(true, Ordering::SeqCst) {
            return Err("another export or dialog is still running".into());
        }
        let (dialogs, ctx, busy, sender) = (
            self.dialogs.clone(),
            self.ctx.clone(),
            self.busy.clone(),
            self.sender.clone(),
        );
        std::thread::Builder::new()
            .name("distillery-files".into())
            .spawn(move || {
                if let Some(outcome) = job(dialogs.as_ref(), &ctx) {
                    let _ = sender.send(outcome);
                }
                busy.store(false, Ordering::SeqCst);
                ctx.request_repaint();
            })
            .map(|_| ())
            .map_err(|e| {
                self.busy.store(false, Ordering::SeqCst);
                format!("could not start a file task: {e}")
            })
    }

    /// Asks for a path with the system dialog, then does the work; reports
    /// [`Outcome::NoDialog`] when no dialog could be shown.
    pub fn request(&self, pending: PendingFile) -> Result<(), String> {
        self.spawn(move |dialogs, ctx| {
            let asked = Instant::now();
            let chosen = match &pending {
                PendingFile::OpenWeights { .. } => dialogs.open_weights(),
                PendingFile::OpenSweep | PendingFile::OpenDataDir => dialogs.pick_folder(),
                other => dialogs.save_file(&other.suggested_name()),
            };
            match chosen {
                Some(path) => Some(complete(ctx, pending, path)),
                None if asked.elapsed() < UNSHOWN_DIALOG => Some(Outcome::NoDialog(pending)),
                None => None,
            }
        })
    }

    /// Does the work with a path typed into the window.
    pub fn complete_at(&self, pending: PendingFile, path: PathBuf) -> Result<(), String> {
        self.spawn(move |_, ctx| Some(complete(ctx, pending, path)))
    }
}

/// The file work itself, once the path is known.
fn complete(ctx: &egui::Context, pending: PendingFile, path: PathBuf) -> Outcome {
    match pending {
        PendingFile::OpenWeights { slot } => Outcome::Picked { slot, path },
        PendingFile::OpenDataDir => Outcome::DataOpened {
            test: Mnist::load_test(&path)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
            dir: path,
        },
        PendingFile::OpenSweep => Outcome::SweepOpened(
            crate::sweep::table::read_sweep(&path)
                .map(|c| Box::new(SweepTable::from_collected(path.clone(), &c)))
                .map_err(|e| e.to_string()),
        ),
        PendingFile::ExportWeights { source } => {
            let result = std::fs::read(&source)
                .map_err(|e| format!("{}: {e}", source.display()))
                .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()));
            message(result.map(|()| format!("weights saved to {}", path.display())))
        }
        PendingFile::ExportPlot { spec, rect, .. } => {
            message(write_plot_files(ctx, &spec, rect, path))
        }
        PendingFile::ExportPlane(export) => message(write_plane_files(ctx, &export, &path)),
    }
}

fn message(result: Result<String, String>) -> Outcome {
    match result {
        Ok(text) => Outcome::Message {
            is_error: false,
            text,
        },
        Err(text) => Outcome::Message {
            is_error: true,
            text: format!("export failed: {text}"),
        },
    }
}

fn write_plot_files(
    ctx: &egui::Context,
    spec: &PlotSpec,
    rect: [f32; 4],
    chosen: PathBuf,
) -> Result<String, String> {
    let base = chosen.with_extension("");
    let svg_path = base.with_extension("svg");
    let csv_path = base.with_extension("csv");
    let png_path = base.with_extension("png");
    let svg =
        render_svg(spec, FALLBACK_PNG_SIZE.0, FALLBACK_PNG_SIZE.1).map_err(|e| e.to_string())?;
    write_atomic(&svg_path, svg.as_bytes()).map_err(|e| e.to_string())?;
    write_atomic(&csv_path, to_csv(spec).as_bytes()).map_err(|e| e.to_string())?;
    let how = match capture_region(ctx, rect) {
        Some((w, h, rgba)) => {
            save_rgba_png(&png_path, w, h, &rgba).map_err(|e| e.to_string())?;
            "screen capture"
        }
        None => {
            let png = render_png(spec, FALLBACK_PNG_SIZE.0, FALLBACK_PNG_SIZE.1)
                .map_err(|e| e.to_string())?;
            write_atomic(&png_path, &png).map_err(|e| e.to_string())?;
            "rendered"
        }
    };
    Ok(format!(
        "plot saved: {} ({how}), .svg, .csv",
        png_path.display()
    ))
}
