//! What the worker says about a caught panic, shared by the run and logits threads.

/// How the message of a run that panicked begins.
pub(super) const PANIC_PREFIX: &str = "internal error (panic): ";

/// The message of a caught panic.
pub(super) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
