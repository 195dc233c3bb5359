//! The playground's logits, computed on a thread of their own (`distillery-logits`): an MNIST
//! load and a forward pass take a second or more, and on the dispatcher they held back every
//! command behind them, a `Cancel` included. Requests are answered one at a time, in order.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::Receiver;

use super::panic::{panic_text, PANIC_PREFIX};
use crate::data::dataset::{bundled_mnist_dir, Mnist, CLASSES};
use crate::events::{Event, EventSink, Slot};
use crate::model::weights;

/// Computes a model's logits on the test set for the playground (`ComputeLogits`), answering
/// with [`Event::LogitsReady`] or an [`Event::Error`] naming the slot. Injected like the
/// [`Trainer`](super::Trainer), so tests can hold it back and see what the worker answers meanwhile.
pub type Logits = Arc<dyn Fn(Slot, &Path, Option<&Path>) -> Event + Send + Sync>;

/// The engine's logits: the weights file's model on the data folder's test images.
pub fn engine_logits() -> Logits {
    Arc::new(compute_logits)
}

/// One `ComputeLogits` request, relayed by the dispatcher to the logits thread.
pub(super) struct LogitsRequest {
    pub(super) slot: Slot,
    pub(super) weights: PathBuf,
    pub(super) data_dir: Option<PathBuf>,
}

/// The logits thread: answers each request with its event, until the dispatcher stops.
pub(super) fn answer_logits(
    requests: &Receiver<LogitsRequest>,
    sink: &dyn EventSink,
    logits: &Logits,
) {
    while let Ok(LogitsRequest {
        slot,
        weights,
        data_dir,
    }) = requests.recv()
    {
        // A panic here must not end the thread: every later request would go unanswered.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            logits(slot, &weights, data_dir.as_deref())
        }));
        sink.send(outcome.unwrap_or_else(|panic| Event::Error {
            message: format!("{}: {PANIC_PREFIX}{}", slot.key(), panic_text(&*panic)),
        }));
    }
}

/// The model of the weights file at `path` on the test images of `data_dir` (bundled MNIST
/// when `None`); a failure is an `Error` event naming the slot.
fn compute_logits(slot: Slot, path: &Path, data_dir: Option<&Path>) -> Event {
    let result = (|| -> Result<Event, String> {
        let dir = data_dir.map_or_else(bundled_mnist_dir, Path::to_owned);
        let test = Mnist::load_test(&dir).map_err(|e| e.to_string())?;
        let device = candle_core::Device::Cpu;
        let model =
            weights::load_fitting(path, &device, test.dim(), CLASSES).map_err(|e| e.to_string())?;
        let logits = model
            .mlp
            .logits(&test.images, &device)
            .map_err(|e| e.to_string())?;
        Ok(Event::LogitsReady {
            slot,
            weights: path.to_owned(),
            layers: model.mlp.layers.clone(),
            classes: model.mlp.classes(),
            logits,
        })
    })();
    result.unwrap_or_else(|message| Event::Error {
        message: format!("{}: {message}", slot.key()),
    })
}
