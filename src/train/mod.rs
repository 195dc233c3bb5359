//! Training: one pipeline for every method and dataset, in small files.
//!
//! - [`pipeline`] runs the stages in order; [`stages`] has one file per stage (teacher,
//!   transfer set, students, bias), each a method of the [`session::Session`] they share;
//! - [`epoch`] is the loop every phase trains with (an epoch's batches, then its end:
//!   evaluate, emit, check [`divergence`]), [`step`] one optimisation step, [`views`] the
//!   shifted views of a jittered transfer set;
//! - the trainer emits [`crate::events::Event`]s and hands files to a [`store::RunRecorder`];
//!   it never writes the run folder itself (that is `crate::runs`);
//! - [`optim`], [`update`], [`ema`] and [`probes`] are the optimisers, their kernels, the
//!   weight average and the probe images.

pub mod cancel;
pub mod divergence;
pub mod ema;
pub mod epoch;
pub mod error;
pub mod optim;
pub mod pipeline;
pub mod probes;
pub mod session;
pub mod stages;
pub mod step;
pub mod store;
pub mod update;
pub mod views;

pub use cancel::CancelToken;
pub use error::TrainError;
