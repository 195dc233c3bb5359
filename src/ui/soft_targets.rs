//! The soft-targets panel of the Live view: for one probe image, the teacher's soft targets
//! `softmax(v/T)` beside the current `softmax(z/T)` of the baseline, TAKD's assistant and the
//! distilled student (each of DML's students),
//! from the probe logits the trainer reports while it trains. The temperature slider and the
//! epoch scrubber re-render from those cached logits within the frame (no worker round trip);
//! the scrubber replays the run's epoch ends, from memory or from a finished run's
//! `probes.csv`. For the logit-matching methods, the logits themselves are shown as well.

use std::time::{Duration, Instant};

use crate::config::{EnsembleCombine, RunConfig};
use crate::distill::loss::center_rows;
use crate::distill::soft::ensemble_soft_targets;
use crate::events::{Phase, RunId};
use crate::export::{PlotSpec, Series, SeriesKind};

use super::action::Action;
use super::ctx::ViewCtx;
use super::live_run::{LiveRun, RunKind};
use super::methods::fits_logits;
use super::plot::plot_ui;
use super::probe_history::{ModelKey, ProbeHistory};
use super::theme::{member_color, ASSISTANT_COLOR, BASELINE_COLOR, STUDENT_COLOR, TEACHER_COLOR};
use super::widgets::{slider_mark, T_MAX, T_MIN};

/// Lighter shade for the members of an ensemble teacher (their mean takes the teacher colour).
const MEMBER_COLOR: [u8; 3] = [245, 195, 130];
/// Time between two epochs of a replay.
const REPLAY_STEP: Duration = Duration::from_millis(600);

/// The panel's own state.
#[derive(Clone, Debug, Default)]
pub struct SoftTargetsPanel {
    /// The probe shown (a test-set index); `None`: the run's first probe.
    pub sample: Option<usize>,
    /// The bars' temperature; `None`: the run's T.
    pub temperature: Option<f64>,
    /// The epoch shown; `None`: follow the newest reports.
    pub epoch: Option<usize>,
    /// Logits view: subtract each model's mean logit (what zero-mean logit matching fits).
    pub zero_mean: bool,
    /// When the replay last stepped, while one plays.
    replaying: Option<Instant>,
    run: Option<RunId>,
}

/// One bar series per model to show at `at` (`None`: newest), each turned into values by
/// `values(rows)` from the rows of its members (several only for an ensemble teacher): the
/// teacher, the baseline, TAKD's assistant and the distilled student, or each of DML's
/// students ("student 1", "student 2").
fn model_series(
    live: &LiveRun,
    sample: usize,
    at: Option<usize>,
    values: &dyn Fn(&[&[f32]]) -> Vec<f32>,
) -> Vec<Series> {
    let history = &live.probes;
    let models = history.models();
    let row = |key: ModelKey| history.logits(key, sample, at);
    let bars = |name: String, v: Vec<f32>, color| Series {
        name,
        kind: SeriesKind::Bars,
        points: v
            .iter()
            .enumerate()
            .map(|(c, p)| [c as f64, f64::from(*p)])
            .collect(),
        color,
    };
    let mut series = Vec::new();
    let members: Vec<&[f32]> = models
        .iter()
        .filter(|k| k.0 == Phase::Teacher)
        .filter_map(|k| row(*k))
        .collect();
    if members.len() > 1 {
        for (m, r) in members.iter().enumerate() {
            series.push(bars(
                format!("teacher {}", m + 1),
                values(&[r]),
                MEMBER_COLOR,
            ));
        }
        let name = match live.config.teacher.combine {
            EnsembleCombine::MeanProbs => "teacher (mean of members)",
            EnsembleCombine::MeanLogits => "teacher (mean logits)",
        };
        series.push(bars(name.into(), values(&members), TEACHER_COLOR));
    } else if let Some(r) = members.first() {
        series.push(bars("teacher".into(), values(&[r]), TEACHER_COLOR));
    }
    for (phase, name, color) in [
        (Phase::Baseline, "baseline", BASELINE_COLOR),
        (Phase::Assistant, "assistant", ASSISTANT_COLOR),
        (Phase::Student, "distilled student", STUDENT_COLOR),
    ] {
        let keys: Vec<ModelKey> = models.iter().copied().filter(|k| k.0 == phase).collect();
        if keys.len() > 1 && live.kind != RunKind::Sweep {
            // Students that learn together (DML): one series each.
            for key in keys {
                if let Some(r) = row(key) {
                    let name = format!("{} {}", phase.key(), key.1 + 1);
                    series.push(bars(name, values(&[r]), member_color(color, key.1)));
                }
            }
        } else if let Some(r) = keys.iter().filter_map(|k| row(*k)).next_back() {
            // (A sweep trains one student per point: show the newest.)
            series.push(bars(name.into(), values(&[r]), color));
        }
    }
    series
}

fn label_text(labels: Option<&[u8]>, sample: usize) -> String {
    labels
        .and_then(|l| l.get(sample))
        .map_or(String::new(), |l| format!(" (label {l})"))
}

fn epoch_text(at: Option<usize>) -> String {
    match at {
        None => "live".into(),
        Some(0) => "before training".into(),
        Some(e) => format!("after epoch {e}"),
    }
}

/// The bars: every model's `softmax(z/T)` for probe `sample` of `live` at `at` (`None`:
/// newest); `labels` name the probe's true class.
pub fn probe_soft_targets_spec(
    live: &LiveRun,
    labels: Option<&[u8]>,
    sample: usize,
    temperature: f64,
    at: Option<usize>,
) -> PlotSpec {
    let combine = live.config.teacher.combine;
    let soft = |rows: &[&[f32]]| ensemble_soft_targets(rows, rows[0].len(), temperature, combine);
    PlotSpec {
        title: format!(
            "softmax(z / T) of probe #{sample}{}, T = {temperature:.2}, {}",
            label_text(labels, sample),
            epoch_text(at)
        ),
        x_label: "class".into(),
        y_label: "probability".into(),
        log_x: false,
        series: model_series(live, sample, at, &soft),
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

/// The logits themselves (optionally zero-meaned), for the logit-matching methods; an
/// ensemble's "mean" is the mean of its members' logits.
pub fn probe_logits_spec(
    live: &LiveRun,
    labels: Option<&[u8]>,
    sample: usize,
    zero_mean: bool,
    at: Option<usize>,
) -> PlotSpec {
    let logits = |rows: &[&[f32]]| {
        let classes = rows[0].len();
        let mut mean = vec![0f32; classes];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r.iter()) {
                *m += v / rows.len() as f32;
            }
        }
        if zero_mean {
            center_rows(&mean, classes)
        } else {
            mean
        }
    };
    PlotSpec {
        title: format!(
            "{} of probe #{sample}{}, {}",
            if zero_mean {
                "zero-mean logits"
            } else {
                "logits"
            },
            label_text(labels, sample),
            epoch_text(at)
        ),
        x_label: "class".into(),
        y_label: "logit".into(),
        log_x: false,
        series: model_series(live, sample, at, &logits),
        hlines: Vec::new(),
        ..PlotSpec::default()
    }
}

impl SoftTargetsPanel {
    /// The probe shown: the chosen one if the run has it, else the run's first.
    pub fn shown_sample(&self, history: &ProbeHistory) -> Option<usize> {
        let samples = history.samples();
        self.sample
            .filter(|s| samples.contains(s))
            .or_else(|| samples.first().copied())
    }

    /// The bars' temperature: the chosen one, else the run's.
    pub fn shown_temperature(&self, config: &RunConfig) -> f64 {
        self.temperature.unwrap_or(config.distill.temperature)
    }

    /// Draws the panel for the live run; returns its exports.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(live) = ctx.live else {
            return actions;
        };
        if self.run != Some(live.id) {
            *self = Self {
                run: Some(live.id),
                ..Self::default()
            };
        }
        let labels = ctx.test.map(|t| t.labels.as_slice());
        let Some(shown) = self.shown_sample(&live.probes) else {
            ui.weak("Soft targets appear here as soon as the first model reports its probe images (probes.samples).");
            return actions;
        };
        self.probe_selector_ui(ui, &live.probes, labels, shown);
        // A probe clicked this frame is drawn this frame.
        let sample = self.shown_sample(&live.probes).unwrap_or(shown);
        self.temperature_ui(ui, &live.config);
        self.scrubber_ui(ui, &live.probes);
        let t = self.shown_temperature(&live.config);
        let logit_method = fits_logits(live.config.distill.method);
        let height = if logit_method {
            (ui.available_height() / 2.0 - 40.0).max(140.0)
        } else {
            (ui.available_height() - 40.0).max(200.0)
        };
        let spec = probe_soft_targets_spec(live, labels, sample, t, self.epoch);
        actions.extend(plot_ui(ui, "live-soft-targets", &spec, height));
        if logit_method {
            ui.checkbox(&mut self.zero_mean, "zero-mean logits")
                .on_hover_text("Subtract each model's mean logit: what zero-mean logit matching fits (the high-T limit of soft targets)");
            let spec = probe_logits_spec(live, labels, sample, self.zero_mean, self.epoch);
            actions.extend(plot_ui(ui, "live-probe-logits", &spec, height));
        }
        actions
    }

    fn probe_selector_ui(
        &mut self,
        ui: &mut egui::Ui,
        history: &ProbeHistory,
        labels: Option<&[u8]>,
        shown: usize,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Probe").on_hover_text(
                "Test images whose logits the trainer reports while it trains (launcher: Probe images)",
            );
            for s in history.samples() {
                let text = format!("#{s}{}", label_text(labels, s));
                if ui.selectable_label(s == shown, text).clicked() {
                    self.sample = Some(s);
                }
            }
        });
    }

    fn temperature_ui(&mut self, ui: &mut egui::Ui, config: &RunConfig) {
        let run_t = config.distill.temperature;
        let mut t = self.shown_temperature(config);
        ui.horizontal(|ui| {
            ui.spacing_mut().slider_width = 260.0;
            let response = ui
                .add(
                    egui::Slider::new(&mut t, T_MIN..=T_MAX)
                        .logarithmic(true)
                        .text("Probe temperature T"),
                )
                .on_hover_text(
                    "Re-renders the bars from the cached probe logits; the mark is the run's T",
                );
            if response.changed() {
                self.temperature = Some(t);
            }
            slider_mark(ui, &response, run_t);
            if ui
                .button(format!("run's T = {run_t}"))
                .on_hover_text("The temperature the student was distilled at")
                .clicked()
            {
                self.temperature = None;
            }
        });
    }

    fn scrubber_ui(&mut self, ui: &mut egui::Ui, history: &ProbeHistory) {
        let last = history.last_epoch();
        if let Some(stepped) = self.replaying {
            let epoch = self.epoch.unwrap_or(0);
            if epoch >= last {
                self.replaying = None;
            } else if stepped.elapsed() >= REPLAY_STEP {
                self.epoch = Some(epoch + 1);
                self.replaying = Some(Instant::now());
            }
            ui.ctx().request_repaint_after(REPLAY_STEP);
        }
        ui.horizontal(|ui| {
            let mut live = self.epoch.is_none();
            if ui
                .checkbox(&mut live, "live")
                .on_hover_text("Follow the newest reports (during an epoch too)")
                .changed()
            {
                self.epoch = (!live).then_some(last);
                self.replaying = None;
            }
            let mut epoch = self.epoch.unwrap_or(last);
            let response = ui
                .add(egui::Slider::new(&mut epoch, 0..=last.max(1)).text("Epoch"))
                .on_hover_text("The state of every model after this epoch (0: before training); a model that trained fewer epochs shows as finished");
            if response.changed() {
                self.epoch = Some(epoch.min(last));
                self.replaying = None;
            }
            if ui
                .add_enabled(last > 0, egui::Button::new("Replay"))
                .on_hover_text("Play the run's epochs from the start")
                .clicked()
            {
                self.epoch = Some(0);
                self.replaying = Some(Instant::now());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ProbeSnapshot;

    fn snapshot(phase: Phase, member: usize, epoch: usize, logits: [f32; 3]) -> ProbeSnapshot {
        ProbeSnapshot {
            phase,
            member,
            epoch,
            batch: 0,
            epoch_end: true,
            samples: vec![11],
            logits: logits.to_vec(),
        }
    }

    #[test]
    fn bars_show_each_member_their_mean_and_the_students_at_the_chosen_epoch() {
        let mut live = LiveRun::new(
            1,
            super::super::live_run::RunKind::Run,
            RunConfig::default(),
        );
        live.probes = ProbeHistory::from_snapshots(vec![
            // Teachers reported once, at epoch 0 (as a loaded teacher is): every epoch shows them.
            snapshot(Phase::Teacher, 0, 0, [4.0, 0.0, 0.0]),
            snapshot(Phase::Teacher, 1, 0, [0.0, 0.0, 0.0]),
            snapshot(Phase::Student, 0, 0, [0.0, 0.0, 0.0]),
            snapshot(Phase::Student, 0, 1, [2.0, 0.0, 0.0]),
        ]);
        let spec = probe_soft_targets_spec(&live, None, 11, 1.0, Some(0));
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "teacher 1",
                "teacher 2",
                "teacher (mean of members)",
                "distilled student"
            ]
        );
        // (softmax([4,0,0]) + [1/3,1/3,1/3]) / 2 -> [0.64900, 0.17550, 0.17550] (numpy)
        assert!(
            (spec.series[2].points[0][1] - 0.649_00).abs() < 1e-4,
            "{spec:?}"
        );
        // Before training the student is uniform; after epoch 1, softmax([2,0,0]) at T = 2:
        // e / e.sum() with e = exp([1,0,0]) -> [0.57612, 0.21194, 0.21194].
        assert!((spec.series[3].points[0][1] - 1.0 / 3.0).abs() < 1e-6);
        let spec = probe_soft_targets_spec(&live, None, 11, 2.0, Some(1));
        assert!(
            (spec.series[3].points[0][1] - 0.576_12).abs() < 1e-4,
            "{spec:?}"
        );
        assert!(spec.title.contains("after epoch 1"), "{}", spec.title);
        let logits = probe_logits_spec(&live, None, 11, true, None);
        // Zero-mean logits of the student [2,0,0]: [4/3, -2/3, -2/3].
        assert!((logits.series[3].points[0][1] - 4.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn the_assistant_and_each_mutual_learner_get_their_own_bars() {
        let mut live = LiveRun::new(
            2,
            super::super::live_run::RunKind::Run,
            RunConfig::default(),
        );
        live.probes = ProbeHistory::from_snapshots(vec![
            snapshot(Phase::Teacher, 0, 0, [4.0, 0.0, 0.0]),
            snapshot(Phase::Assistant, 0, 1, [0.0, 2.0, 0.0]),
            snapshot(Phase::Student, 0, 1, [0.0, 0.0, 1.0]),
            snapshot(Phase::Student, 1, 1, [1.0, 0.0, 0.0]),
        ]);
        let spec = probe_soft_targets_spec(&live, None, 11, 1.0, None);
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["teacher", "assistant", "student 1", "student 2"]);
        // softmax([0, 2, 0]) -> [0.10650, 0.78699, 0.10650]; softmax([1, 0, 0])[0] = 0.57612
        // (numpy).
        assert!(
            (spec.series[1].points[1][1] - 0.786_99).abs() < 1e-4,
            "{spec:?}"
        );
        assert!(
            (spec.series[3].points[0][1] - 0.576_12).abs() < 1e-4,
            "{spec:?}"
        );
        assert_ne!(spec.series[2].color, spec.series[3].color);
        // A sweep's points are one student each: only the newest is shown.
        live.kind = super::super::live_run::RunKind::Sweep;
        let spec = probe_soft_targets_spec(&live, None, 11, 1.0, None);
        let names: Vec<&str> = spec.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["teacher", "assistant", "distilled student"]);
    }
}
