//! A run in progress: its validated config, data, recorder and event sink, and what every
//! stage shares (the model shapes, test evaluation, probe reports, saving a model). The stages
//! themselves are in [`super::stages`]; [`super::pipeline`] runs them in order.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::Device;

use super::cancel::CancelToken;
use super::error::TrainError;
use super::probes::{ProbeSet, TeacherTestLogits};
use super::store::RunRecorder;
use crate::config::memory::{self, DataShape};
use crate::config::RunConfig;
use crate::data::dataset::Mnist;
use crate::data::source;
use crate::eval::{evaluate_logits, Evaluation};
use crate::events::{EpochMetrics, Event, EventSink, Phase, PhaseResult, ProbeSnapshot, RunId};
use crate::files::FileError;
use crate::model::mlp::Mlp;
use crate::model::weights;

/// Called after every epoch of every phase with the epoch's metrics and the model as it
/// stands (the plane playground redraws its panels from it).
pub type EpochHook<'a> = Box<dyn FnMut(&EpochMetrics, &Mlp) -> candle_core::Result<()> + 'a>;

/// Opens the recorder of a run once its config and data have been checked.
pub type OpenRecorder<'a> =
    Box<dyn FnOnce(&RunConfig) -> Result<Box<dyn RunRecorder + 'a>, FileError> + 'a>;

/// A run in progress: its data, recorder and event sink.
pub struct Session<'a> {
    /// The validated configuration.
    pub config: RunConfig,
    /// Training and test data (with the configured limits applied).
    pub data: Mnist,
    pub(super) recorder: Box<dyn RunRecorder + 'a>,
    pub(super) run: RunId,
    pub(super) sink: &'a dyn EventSink,
    pub(super) cancel: CancelToken,
    pub(super) device: Device,
    pub(super) started: Instant,
    pub(super) started_at: String,
    pub(super) classes: usize,
    pub(super) epoch_hook: Option<EpochHook<'a>>,
    pub(super) probes: ProbeSet,
    /// Set once the teacher is trained or loaded.
    pub(super) teacher_test: Option<TeacherTestLogits>,
    /// The teacher assistant's result, when the method trained one.
    pub(super) assistant_result: Option<PhaseResult>,
    /// The other students' results, when the method trained students together.
    pub(super) peer_results: Vec<PhaseResult>,
}

impl<'a> Session<'a> {
    /// Validates the configuration, loads the data, checks that the run fits in memory on
    /// this machine for the data's real shape, opens the recorder (the run folder) and
    /// announces the run.
    pub fn start(
        config: &RunConfig,
        run: RunId,
        sink: &'a dyn EventSink,
        cancel: CancelToken,
        open: OpenRecorder<'a>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let data = source::load(&config.data)?;
        let shape = DataShape {
            train: data.train.len(),
            test: data.test.len(),
            features: data.train.dim(),
            classes: config.data.classes(),
        };
        memory::check_fits(config, &shape, memory::available_bytes())?;
        let probes = ProbeSet::new(&config.probes, &data.test)?;
        let recorder = open(config)?;
        let mut session = Self {
            config: config.clone(),
            data,
            recorder,
            run,
            sink,
            cancel,
            device: Device::Cpu,
            started: Instant::now(),
            started_at: chrono::Local::now().to_rfc3339(),
            classes: config.data.classes(),
            epoch_hook: None,
            probes,
            teacher_test: None,
            assistant_result: None,
            peer_results: Vec::new(),
        };
        let dir = session.recorder.dir().to_owned();
        session.emit(Event::RunStarted { run, dir })?;
        Ok(session)
    }

    /// The run's folder.
    pub fn recorder_dir(&self) -> std::path::PathBuf {
        self.recorder.dir().to_owned()
    }

    /// Number of classes of the run's data.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Calls `hook` after every epoch of every phase from now on.
    pub fn on_epoch(&mut self, hook: EpochHook<'a>) {
        self.epoch_hook = Some(hook);
    }

    /// Sends an event to the run's consumer (the CLI's printer, the worker), after the
    /// recorder has written what it records of it.
    pub fn emit(&mut self, event: Event) -> Result<(), TrainError> {
        self.recorder.record(&event)?;
        self.sink.send(event);
        Ok(())
    }

    /// Sends an event that the recorder does not keep (a plane grid, an error of a phase the
    /// run goes on without).
    pub fn notify(&self, event: Event) {
        self.sink.send(event);
    }

    /// Stores a file of the run (through the recorder).
    pub fn store(&mut self, name: &str, bytes: &[u8]) -> Result<(), TrainError> {
        Ok(self.recorder.store(name, bytes)?)
    }

    /// The layer widths of a model with these hidden layers on the run's data.
    pub(super) fn layers(&self, hidden: &[usize]) -> Vec<usize> {
        let mut layers = vec![self.data.train.dim()];
        layers.extend_from_slice(hidden);
        layers.push(self.classes);
        layers
    }

    /// Test-set logits of a model.
    pub fn test_logits(&self, model: &Mlp) -> Result<Vec<f32>, TrainError> {
        Ok(model.logits(&self.data.test.images, &self.device)?)
    }

    /// A model's errors on the test set.
    pub(super) fn evaluate(&self, model: &Mlp) -> Result<Evaluation, TrainError> {
        Ok(evaluate_logits(
            &self.test_logits(model)?,
            &self.data.test.labels,
            self.classes,
        ))
    }

    /// Stops with [`TrainError::Cancelled`] once the token is set.
    pub(super) fn check_cancel(&self) -> Result<(), TrainError> {
        if self.cancel.is_cancelled() {
            return Err(TrainError::Cancelled);
        }
        Ok(())
    }

    /// Sends the probes' logits under `model` (of `phase`, ensemble member `member`); the
    /// recorder adds epoch-end snapshots to `probes.csv`. Nothing when there are no probes.
    pub(super) fn report_probes(
        &mut self,
        model: &Mlp,
        (phase, member): (Phase, usize),
        epoch: usize,
        batch: usize,
        epoch_end: bool,
    ) -> Result<(), TrainError> {
        if self.probes.is_empty() {
            return Ok(());
        }
        let snapshot = ProbeSnapshot {
            phase,
            member,
            epoch,
            batch,
            epoch_end,
            samples: self.probes.samples().to_vec(),
            logits: self.probes.logits(model, &self.device)?,
        };
        self.emit(Event::Probes {
            run: self.run,
            snapshot,
        })
    }

    /// Stores `model` as `file` with the run's method, T, α and seed and `extra` as metadata.
    pub(super) fn save_model(
        &mut self,
        file: &str,
        model: &Mlp,
        extra: &[(&str, String)],
    ) -> Result<(), TrainError> {
        let d = &self.config.distill;
        let mut metadata: HashMap<String, String> = HashMap::from([
            ("method".to_owned(), d.method.key().to_owned()),
            ("temperature".to_owned(), d.temperature.to_string()),
            ("alpha".to_owned(), d.alpha.to_string()),
            ("seed".to_owned(), self.config.seed.to_string()),
        ]);
        for (k, v) in extra {
            metadata.insert((*k).to_owned(), v.clone());
        }
        let bytes = weights::to_bytes(model, &metadata)?;
        self.store(file, &bytes)
    }
}
