//! The one pipeline every run goes through, MNIST and plane alike: teacher → transfer set →
//! baseline → distilled student → bias adjustment → summary. A caller that shows more than
//! the summary (the plane playground's grids and points) adds it through [`StageHooks`],
//! called after each stage with what it produced.

use super::error::TrainError;
use super::session::Session;
use super::stages::teacher::Teacher;
use super::stages::transfer::TransferSet;
use crate::events::{BiasResult, Event, PhaseResult, RunSummary};
use crate::model::mlp::Mlp;

/// What a caller adds after each stage. Every method does nothing by default.
pub trait StageHooks {
    /// Whether a baseline whose training diverges is reported and left out (the run goes on
    /// to the distilled student) rather than ending the run. The plane playground says yes: a
    /// baseline whose ReLUs die on a checkerboard is part of the picture, not the end of it.
    fn baseline_may_diverge(&self) -> bool {
        false
    }
    /// After the teacher is trained or loaded.
    fn teacher_done(&mut self, _session: &mut Session<'_>, _teacher: &Teacher) -> HookResult {
        Ok(())
    }
    /// After the transfer set and its cached logits exist.
    fn transfer_done(&mut self, _session: &mut Session<'_>, _set: &TransferSet) -> HookResult {
        Ok(())
    }
    /// After the baseline trained.
    fn baseline_done(&mut self, _session: &mut Session<'_>, _model: &Mlp) -> HookResult {
        Ok(())
    }
    /// After the distilled student trained.
    fn student_done(&mut self, _session: &mut Session<'_>, _model: &Mlp) -> HookResult {
        Ok(())
    }
}

/// What a hook returns.
pub type HookResult = Result<(), TrainError>;

/// A run with nothing added: the MNIST runs of the CLI, the window and the sweeps.
pub struct NoHooks;

impl StageHooks for NoHooks {}

/// Everything the stages produced.
pub struct Stages {
    /// The teacher's test result.
    pub teacher: PhaseResult,
    /// The transfer set's size (real and synthetic examples).
    pub transfer_size: usize,
    /// How many of them are real.
    pub transfer_real: usize,
    /// The baseline's result, when it trained.
    pub baseline: Option<PhaseResult>,
    /// Why the baseline was left out, when its training diverged and the hooks allow that.
    pub baseline_failure: Option<String>,
    /// The distilled student's result.
    pub student: PhaseResult,
    /// The bias adjustment's result, when configured.
    pub bias: Option<BiasResult>,
    /// The run's summary (also recorded).
    pub summary: RunSummary,
}

/// Runs every stage of `session`'s config in order, calling `hooks` after each, and records
/// the summary.
pub fn run_stages(
    session: &mut Session<'_>,
    hooks: &mut dyn StageHooks,
) -> Result<Stages, TrainError> {
    let teacher = session.teacher()?;
    hooks.teacher_done(session, &teacher)?;
    let transfer = session.transfer(&teacher)?;
    hooks.transfer_done(session, &transfer)?;
    let (baseline, baseline_failure) = baseline_stage(session, hooks)?;
    let (student, student_result) = session.student(&transfer)?;
    hooks.student_done(session, &student)?;
    let bias = session.adjust_bias(&student)?;
    let summary = session.summary(
        &teacher,
        baseline.clone(),
        student_result.clone(),
        bias.clone(),
        transfer.set.len(),
    );
    session.recorder.summary(&summary)?;
    Ok(Stages {
        teacher: teacher.result,
        transfer_size: transfer.set.len(),
        transfer_real: transfer.real,
        baseline,
        baseline_failure,
        student: student_result,
        bias,
        summary,
    })
}

/// The baseline, when configured, under the hooks' divergence policy.
fn baseline_stage(
    session: &mut Session<'_>,
    hooks: &mut dyn StageHooks,
) -> Result<(Option<PhaseResult>, Option<String>), TrainError> {
    if !session.config.student.baseline {
        return Ok((None, None));
    }
    match session.baseline() {
        Ok((model, result)) => {
            hooks.baseline_done(session, &model)?;
            Ok((Some(result), None))
        }
        Err(e @ TrainError::Diverged { .. }) if hooks.baseline_may_diverge() => {
            session.notify(Event::Error {
                message: format!("baseline: {e}"),
            });
            Ok((None, Some(e.to_string())))
        }
        Err(e) => Err(e),
    }
}

impl Session<'_> {
    /// The run's summary.
    fn summary(
        &self,
        teacher: &Teacher,
        baseline: Option<PhaseResult>,
        student: PhaseResult,
        bias: Option<BiasResult>,
        transfer_size: usize,
    ) -> RunSummary {
        RunSummary {
            name: self.config.name.clone(),
            dir: self.recorder.dir().to_owned(),
            method: self.config.distill.method.key().to_owned(),
            temperature: self.config.distill.temperature,
            alpha: self.config.distill.alpha,
            seed: self.config.seed,
            teacher: teacher.result.clone(),
            baseline,
            student,
            bias,
            assistant: self.assistant_result.clone(),
            peers: self.peer_results.clone(),
            transfer_size,
            duration_secs: self.started.elapsed().as_secs_f64(),
            started: self.started_at.clone(),
        }
    }
}
