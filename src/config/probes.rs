//! The probe section: the few test images whose logits are reported while a model trains.

use serde::{Deserialize, Serialize};

use super::check::{check_at_most, check_non_negative};
use super::error::{invalid, ConfigError};

/// The probe set: a few test images whose logits the trainer reports while it trains, so the
/// soft targets of every model can be watched converging (and replayed from `probes.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// Test-set indices, at most [`MAX_PROBES`]; empty turns probes off.
    pub samples: Vec<usize>,
    /// Minimum seconds between two reports within an epoch (every epoch end is reported too).
    pub interval_secs: f64,
}

/// Most probe images per run: one forward pass of this many images costs far less than a
/// training batch, so probing never slows training measurably.
pub const MAX_PROBES: usize = 16;

/// The default probes, indices into the MNIST test set chosen among the first 100 images, so
/// that small `data.test_limit` subsets keep them: #32, a clear digit, then three uncertain
/// ones. Under the shipped teacher (`assets/teacher.safetensors`, 2026-11-30) #32 (a 3) has an
/// entropy of 5.5e-7 nats at T = 1, and #18 (a 3, 0.44 nats) and #65 (a 4, 0.23) are its two
/// most uncertain of the hundred, #62 (a 9, 0.10) its seventh; they were picked as the three
/// most uncertain under the first shipped teacher.
pub const DEFAULT_PROBES: [usize; 4] = [32, 18, 62, 65];

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            samples: DEFAULT_PROBES.to_vec(),
            interval_secs: 0.25,
        }
    }
}

/// The longest interval between two probe reports within an epoch: one day, 86,400 s. Every
/// epoch end is reported anyway, so a longer interval means nothing more than "only at epoch
/// ends"; a bound keeps `1e20` (which no clock can count to) from reaching the trainer.
pub const MAX_PROBE_INTERVAL_SECS: f64 = 86_400.0;

impl ProbeConfig {
    /// Checks the probes; whether they lie inside a limited test set is a check of the run.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.samples.len() > MAX_PROBES {
            return Err(invalid(
                "probes.samples",
                format!(
                    "at most {MAX_PROBES} test images, got {}",
                    self.samples.len()
                ),
            ));
        }
        check_non_negative("probes.interval_secs", self.interval_secs)?;
        check_at_most(
            "probes.interval_secs",
            self.interval_secs,
            MAX_PROBE_INTERVAL_SECS,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_intervals_are_refused_unless_finite_and_at_most_a_day() {
        for (seconds, problem) in [
            (1e20, "must be ≤ 86400, got 100000000000000000000"),
            (86_400.5, "must be ≤ 86400, got 86400.5"),
            (f64::INFINITY, "must be ≥ 0, got inf"),
            (f64::NAN, "must be ≥ 0, got NaN"),
            (-1.0, "must be ≥ 0, got -1"),
        ] {
            let probes = ProbeConfig {
                interval_secs: seconds,
                ..ProbeConfig::default()
            };
            assert_eq!(
                probes.validate(),
                Err(invalid("probes.interval_secs", problem)),
                "{seconds}"
            );
        }
        for seconds in [0.0, 0.25, MAX_PROBE_INTERVAL_SECS] {
            let probes = ProbeConfig {
                interval_secs: seconds,
                ..ProbeConfig::default()
            };
            probes.validate().unwrap();
        }
    }
}
