//! A small, fast, seedable random number generator for the hot loops (dropout masks, jitter,
//! shuffling, noise). SplitMix64: one multiply-xorshift per draw, reproducible across platforms.
//! Every random decision in a run derives from the run's single seed through [`FastRng::fork`].

/// SplitMix64 (Steele, Lea & Flood 2014).
#[derive(Clone, Debug)]
pub struct FastRng {
    state: u64,
}

impl FastRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// An independent generator for a named purpose, so adding draws to one stream never
    /// changes another's numbers.
    pub fn fork(seed: u64, stream: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Fills `mask` with inverted-dropout factors: 0 with probability `p`, else `1/(1−p)`.
    /// Two decisions per 64-bit draw.
    pub fn dropout_mask(&mut self, p: f64, mask: &mut [f32]) {
        let threshold = (p * f64::from(u32::MAX)) as u32;
        let keep = (1.0 / (1.0 - p)) as f32;
        let mut chunks = mask.chunks_exact_mut(2);
        for pair in &mut chunks {
            let bits = self.next_u64();
            pair[0] = if (bits as u32) < threshold { 0.0 } else { keep };
            pair[1] = if ((bits >> 32) as u32) < threshold {
                0.0
            } else {
                keep
            };
        }
        for last in chunks.into_remainder() {
            *last = if (self.next_u64() as u32) < threshold {
                0.0
            } else {
                keep
            };
        }
    }

    /// Inverted dropout in place: multiplies `values` by the mask [`dropout_mask`] would draw
    /// from this generator's state (the same decisions, without storing the mask).
    ///
    /// [`dropout_mask`]: Self::dropout_mask
    pub fn apply_dropout(&mut self, p: f64, values: &mut [f32]) {
        let threshold = (p * f64::from(u32::MAX)) as u32;
        let keep = (1.0 / (1.0 - p)) as f32;
        let scale = |v: f32, bits: u32| if bits < threshold { 0.0 } else { v * keep };
        let mut chunks = values.chunks_exact_mut(2);
        for pair in &mut chunks {
            let bits = self.next_u64();
            pair[0] = scale(pair[0], bits as u32);
            pair[1] = scale(pair[1], (bits >> 32) as u32);
        }
        for last in chunks.into_remainder() {
            *last = scale(*last, self.next_u64() as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_mask_drops_about_p_and_keeps_expectation() {
        let mut rng = FastRng::new(1);
        let mut mask = vec![0.0f32; 100_001];
        rng.dropout_mask(0.5, &mut mask);
        let dropped = mask.iter().filter(|m| **m == 0.0).count() as f64 / mask.len() as f64;
        assert!((dropped - 0.5).abs() < 0.01, "{dropped}");
        let mean = mask.iter().map(|m| f64::from(*m)).sum::<f64>() / mask.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
    }

    #[test]
    fn apply_dropout_multiplies_by_the_mask_of_the_same_stream() {
        let values: Vec<f32> = (0..1001).map(|i| i as f32 * 0.01 - 3.0).collect();
        let mut mask = vec![0.0f32; values.len()];
        FastRng::new(3).dropout_mask(0.3, &mut mask);
        let mut applied = values.clone();
        FastRng::new(3).apply_dropout(0.3, &mut applied);
        for ((v, m), a) in values.iter().zip(&mask).zip(&applied) {
            assert_eq!(v * m, *a);
        }
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = FastRng::fork(7, "shuffle");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = FastRng::fork(7, "shuffle");
                move |_| r.next_u64()
            })
            .collect();
        let c = FastRng::fork(7, "dropout").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }
}
