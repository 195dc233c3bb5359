//! The run's random numbers: the `rand` crate with a named, portable generator
//! (xoshiro256++ from `rand_xoshiro`, whose output is fixed by its reference implementation on
//! every platform and in every release) and `rand_distr` for normal draws.
//!
//! Every random decision in a run derives from the run's single seed through [`FastRng::fork`]:
//! each purpose (dropout of the teacher's first member, jitter, shuffling, noise, MUNGE, weight
//! initialisation) has its own stream, named, so adding draws to one stream never changes
//! another's numbers.

use rand::distr::Bernoulli;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// One seeded random stream (xoshiro256++). It implements [`RngCore`], so every `rand` and
/// `rand_distr` distribution samples from it; the methods below are the draws the engine uses.
#[derive(Clone, Debug)]
pub struct FastRng(Xoshiro256PlusPlus);

/// FNV-1a of a text: a fixed, portable 64-bit hash (std's `DefaultHasher` may change between
/// Rust releases, which would change every run's numbers and every fingerprinted folder name).
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl FastRng {
    /// A generator from a seed (the 256-bit state is expanded from it with SplitMix64, as
    /// `rand_xoshiro` documents).
    pub fn new(seed: u64) -> Self {
        Self(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// An independent generator for a named purpose, so adding draws to one stream never
    /// changes another's numbers.
    pub fn fork(seed: u64, stream: &str) -> Self {
        Self::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ fingerprint(stream))
    }

    /// Uniform in [0, 1), 53 random bits (`rand`'s standard `f64`).
    pub fn uniform(&mut self) -> f64 {
        self.0.random()
    }

    /// Uniform integer in `0..n`, without modulo bias (`rand`'s `random_range`); 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.0.random_range(0..n)
    }

    /// A standard normal draw (`rand_distr`'s ziggurat sampler).
    pub fn normal(&mut self) -> f64 {
        self.0.sample(StandardNormal)
    }

    /// Shuffles `items` uniformly (`rand`'s Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        items.shuffle(&mut self.0);
    }

    /// Fills `mask` with inverted-dropout factors: 0 with probability `p`, else `1/(1−p)`.
    pub fn dropout_mask(&mut self, p: f64, mask: &mut [f32]) -> Result<(), DropoutError> {
        mask.fill(1.0);
        self.apply_dropout(p, mask)
    }

    /// Inverted dropout in place: each value is zeroed with probability `p`, the others are
    /// scaled by `1/(1 − p)`; the same decisions as [`dropout_mask`] from the same state.
    ///
    /// The decisions are `rand`'s [`Bernoulli`] draws (one 64-bit draw each), applied as a
    /// multiplication by `keep · [kept]` rather than a choice between 0 and `v · keep`: at
    /// p = 0.5 a choice is a coin-flip branch that the CPU mispredicts half the time. Measured
    /// on a teacher batch's 128 × (784 + 1200 + 1200) decisions (`lscpu`: AMD EPYC, 2 cores
    /// shared with other builds, load average 6–8; median of 7 × 300 batches, p = 0.5):
    ///
    /// | dropout decisions | ns each | ms per teacher batch |
    /// |---|---|---|
    /// | before: hand-written SplitMix64, two per draw, choice | 10.2–10.3 | 4.2 |
    /// | xoshiro256++, two per draw, choice | 8.1–8.3 | 3.3–3.4 |
    /// | xoshiro256++ + `Bernoulli`, choice | 8.3–9.0 | 3.4–3.7 |
    /// | xoshiro256++ + `Bernoulli`, multiplication (this) | 1.7–2.1 | 0.7–0.9 |
    ///
    /// so the crate needs no hand-written fast path here; `distillery bench`'s teacher went from
    /// a median 5,150 to 6,011 samples/s (`benches/README.md`). A value that is dropped becomes
    /// `v · 0`, which is 0 for the finite, non-negative values dropout sees (pixels and ReLU
    /// outputs).
    ///
    /// [`dropout_mask`]: Self::dropout_mask
    pub fn apply_dropout(&mut self, p: f64, values: &mut [f32]) -> Result<(), DropoutError> {
        let drop = Bernoulli::new(p)
            .ok()
            .filter(|_| p < 1.0)
            .ok_or(DropoutError(p))?;
        let keep = (1.0 / (1.0 - p)) as f32;
        for v in values {
            *v *= keep * f32::from(u8::from(!self.0.sample(drop)));
        }
        Ok(())
    }
}

/// A dropout probability outside [0, 1).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("dropout probability must be in [0, 1), got {0}")]
pub struct DropoutError(pub f64);

impl RngCore for FastRng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_mask_drops_about_p_and_keeps_expectation() {
        let mut rng = FastRng::new(1);
        let mut mask = vec![0.0f32; 100_001];
        rng.dropout_mask(0.3, &mut mask).unwrap();
        let dropped = mask.iter().filter(|m| **m == 0.0).count() as f64 / mask.len() as f64;
        assert!((dropped - 0.3).abs() < 0.01, "{dropped}");
        assert!(mask.iter().all(|m| *m == 0.0 || *m == 1.0 / 0.7));
        let mean = mask.iter().map(|m| f64::from(*m)).sum::<f64>() / mask.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
    }

    #[test]
    fn apply_dropout_multiplies_by_the_mask_of_the_same_stream() {
        let values: Vec<f32> = (0..1001).map(|i| i as f32 * 0.01).collect();
        let mut mask = vec![0.0f32; values.len()];
        FastRng::new(3).dropout_mask(0.3, &mut mask).unwrap();
        let mut applied = values.clone();
        FastRng::new(3).apply_dropout(0.3, &mut applied).unwrap();
        for ((v, m), a) in values.iter().zip(&mask).zip(&applied) {
            assert_eq!(v * m, *a);
        }
    }

    #[test]
    fn dropout_outside_zero_to_one_is_refused() {
        for p in [1.0, -0.1, f64::NAN] {
            let mut values = [1.0f32; 4];
            assert!(
                FastRng::new(1).apply_dropout(p, &mut values).is_err(),
                "{p}"
            );
            assert_eq!(values, [1.0; 4], "{p}: nothing is touched");
        }
    }

    /// Named streams are reproducible, differ from each other and from another seed's, and
    /// drawing from one leaves the others' numbers unchanged.
    #[test]
    fn streams_are_reproducible_independent_and_distinct() {
        let draws = |seed: u64, stream: &str| -> Vec<u64> {
            let mut r = FastRng::fork(seed, stream);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let shuffle = draws(7, "shuffle-teacher-0");
        assert_eq!(shuffle, draws(7, "shuffle-teacher-0"));
        assert_ne!(shuffle, draws(7, "dropout-teacher-0"));
        assert_ne!(shuffle, draws(8, "shuffle-teacher-0"));
        let mut dropout = FastRng::fork(7, "dropout-teacher-0");
        let mut values = [1.0f32; 1000];
        dropout.apply_dropout(0.5, &mut values).unwrap();
        assert_eq!(shuffle, draws(7, "shuffle-teacher-0"));
    }

    /// The stream is xoshiro256++ whose state is four SplitMix64 outputs of the seed, on every
    /// platform (a change of generator or seeding would change every run's numbers). The
    /// values come from a Python transcription of the two reference algorithms:
    ///
    /// ```python
    /// M = (1 << 64) - 1
    /// def splitmix(x):
    ///     out = []
    ///     for _ in range(4):
    ///         x = (x + 0x9e3779b97f4a7c15) & M
    ///         z = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
    ///         z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    ///         out.append(z ^ (z >> 31))
    ///     return out
    /// rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
    /// s = splitmix(0)
    /// def nxt():
    ///     r = (rotl((s[0] + s[3]) & M, 23) + s[0]) & M
    ///     t = (s[1] << 17) & M
    ///     s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
    ///     return r
    /// print([hex(nxt()) for _ in range(3)])
    /// # ['0x53175d61490b23df', '0x61da6f3dc380d507', '0x5c0fdf91ec9a7bfc']
    /// ```
    #[test]
    fn the_generator_is_pinned() {
        let mut rng = FastRng::new(0);
        let draws: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            draws,
            [
                0x5317_5d61_490b_23df,
                0x61da_6f3d_c380_d507,
                0x5c0f_df91_ec9a_7bfc
            ]
        );
    }

    /// Uniform draws cover [0, 1), integers below `n` are uniform, normal draws have mean 0
    /// and standard deviation 1, and shuffles are permutations.
    #[test]
    fn draws_have_their_distributions() {
        let mut rng = FastRng::new(2);
        let n = 100_000;
        let u: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = u.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let mut counts = [0usize; 5];
        (0..n).for_each(|_| counts[rng.below(5)] += 1);
        assert!(
            counts
                .iter()
                .all(|c| (*c as f64 / n as f64 - 0.2).abs() < 0.01),
            "{counts:?}"
        );
        assert_eq!(rng.below(0), 0);
        let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let sd = (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(mean.abs() < 0.02 && (sd - 1.0).abs() < 0.02, "{mean} {sd}");
        let mut items: Vec<usize> = (0..50).collect();
        rng.shuffle(&mut items);
        assert_ne!(items, (0..50).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
    }
}
