//! The flag that stops a run: set by the UI's Cancel (or a test), checked by the trainer after
//! every batch and between the stages' expensive steps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared flag that stops a run at the next batch.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
