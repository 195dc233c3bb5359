//! The background training worker and its protocol.

pub mod protocol;
