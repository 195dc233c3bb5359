//! Students that learn together (deep mutual learning, Zhang et al. 2018): no teacher's
//! outputs are used; every student trains on the labels plus its peers' current predictions
//! on the same batch. As in the paper's Algorithm 1 the students step one after the other on
//! each batch, each against the peers' predictions as they stand (so the second sees the
//! first's update). Every student is a member of the student phase: its own curves, probes
//! and weights file; the first is the run's distilled student.

use std::time::Instant;

use candle_core::Tensor;

use crate::distill::methods::DistillMethod;
use crate::distill::soft::softmax_rows;
use crate::events::{Event, Phase, PhaseResult};
use crate::model::mlp::Mlp;
use crate::train::epoch::{phase_result, PhaseRun, PhaseSpec};
use crate::train::error::TrainError;
use crate::train::optim::learning_rate;
use crate::train::session::Session;
use crate::train::stages::students::STUDENT_FILE;
use crate::train::stages::transfer::TransferSet;

/// The weights file of peer `k` (from 0); the first peer's is the student's.
pub fn peer_file(k: usize) -> String {
    match k {
        0 => STUDENT_FILE.to_owned(),
        _ => format!("student-peer{}.safetensors", k + 1),
    }
}

impl Session<'_> {
    /// Trains the method's peers together on the transfer set's examples and labels; returns
    /// the first peer and its result (the others' results are kept for the summary).
    pub(super) fn cohort(
        &mut self,
        transfer: &TransferSet,
        method: &dyn DistillMethod,
    ) -> Result<(Mlp, PhaseResult), TrainError> {
        let started = Instant::now();
        let peers = method.peers(&self.config);
        let s = self.config.student.clone();
        let layers = self.layers(&s.hidden);
        // The first peer starts where the baseline and every other student start.
        let mut models = (0..peers)
            .map(|k| {
                let seed = match k {
                    0 => self.config.seed,
                    _ => self.config.seed.wrapping_add(2000 + k as u64),
                };
                Mlp::new(&layers, seed, &self.device)
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let specs: Vec<PhaseSpec> = (0..peers)
            .map(|k| PhaseSpec {
                member: k,
                jitter_px: transfer.jitter_px,
                ..self.student_spec(
                    Phase::Student,
                    format!("peer {} of {peers}", k + 1),
                    &s.optim,
                )
            })
            .collect();
        let set = &transfer.set;
        let mut runs = specs
            .iter()
            .zip(&models)
            .map(|(spec, model)| PhaseRun::new(self.config.seed, model, set, spec))
            .collect::<Result<Vec<_>, _>>()?;
        for (spec, model) in specs.iter().zip(&models) {
            self.notify(Event::PhaseStarted {
                run: self.run,
                phase: spec.phase,
                member: spec.member,
                epochs: spec.epochs,
                batches: runs[0].batches(),
                detail: spec.detail.clone(),
            });
            self.report_probes(model, (spec.phase, spec.member), 0, 0, true)?;
        }
        let mut last = Vec::new();
        for epoch in 1..=s.epochs {
            let lr = learning_rate(&s.optim, epoch - 1, s.epochs);
            let batches = runs[0].shuffled_batches();
            for run in &mut runs[1..] {
                run.shuffled_batches();
            }
            for (b, batch) in batches.iter().enumerate() {
                let (x, _) = runs[0].batch_input(self, batch)?;
                let labels: Vec<u8> = batch.iter().map(|&i| set.labels[i]).collect();
                let rows: Vec<usize> = (0..batch.len()).collect();
                for k in 0..peers {
                    let q = self.peers_probabilities(&models, k, &x)?;
                    let targets = method.peer_targets(&self.config, q, labels.clone());
                    runs[k].step(
                        self,
                        &mut models[k],
                        targets.as_ref(),
                        (&x, &rows),
                        (epoch, lr, b),
                    )?;
                }
            }
            last.clear();
            for (run, model) in runs.iter_mut().zip(&mut models) {
                last.push(run.end_epoch(self, model, (epoch, lr))?);
            }
        }
        let mut results = Vec::new();
        for (k, model) in models.iter().enumerate() {
            let eval = match last.get(k) {
                Some(eval) => eval.clone(),
                None => self.evaluate(model)?,
            };
            let result = phase_result(
                &eval,
                s.epochs,
                started.elapsed().as_secs_f64(),
                &model.layers,
            );
            let extra = [
                ("role", "student".into()),
                ("peer", format!("{} of {peers}", k + 1)),
                ("test_errors", result.test_errors.to_string()),
            ];
            self.save_model(&peer_file(k), model, &extra)?;
            results.push(result);
        }
        let first = results.remove(0);
        self.peer_results = results;
        Ok((models.swap_remove(0), first))
    }

    /// The mean probability (T = 1) of every peer but `k` on the batch `x`.
    fn peers_probabilities(
        &self,
        models: &[Mlp],
        k: usize,
        x: &Tensor,
    ) -> Result<Vec<f32>, TrainError> {
        let classes = self.classes;
        let others = models.len() - 1;
        let mut mean = vec![0f32; x.dim(0)? * classes];
        for (_, peer) in models.iter().enumerate().filter(|(j, _)| *j != k) {
            let logits: Vec<f32> = peer.forward(x)?.flatten_all()?.to_vec1()?;
            for (m, p) in mean.iter_mut().zip(softmax_rows(&logits, classes, 1.0)) {
                *m += p / others as f32;
            }
        }
        Ok(mean)
    }
}
