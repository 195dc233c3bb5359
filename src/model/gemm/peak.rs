//! The machine's peak f32 multiply-add rate, measured rather than looked up: a loop of
//! independent fused multiply-adds on every thread at once, for the vector width a backend
//! uses. Clock speed (turbo, a hypervisor's limits) and the number of FMA pipes are whatever
//! this CPU has right now, which a table of CPU models cannot know.
//!
//! Each thread keeps 12 independent accumulator chains, more than the 2 pipes × 4 cycles of FMA
//! latency that saturate the pipes of current x86 cores.

use std::arch::x86_64::{
    __m256, __m512, _mm256_fmadd_ps, _mm256_set1_ps, _mm512_fmadd_ps, _mm512_set1_ps,
};
use std::time::Instant;

/// Chains per thread.
const CHAINS: usize = 12;

/// `iters` rounds of [`CHAINS`] 8-wide FMAs; returns a value that depends on all of them.
#[target_feature(enable = "avx2,fma")]
fn fma_loop_256(iters: u64) -> f32 {
    let mul = _mm256_set1_ps(0.999_999);
    let add = _mm256_set1_ps(1e-7);
    let mut acc: [__m256; CHAINS] = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, mul, add);
        }
    }
    // SAFETY: `__m256` is 8 plain f32 values.
    acc.iter()
        .map(|a| unsafe { std::mem::transmute::<__m256, [f32; 8]>(*a) }[0])
        .sum()
}

/// `iters` rounds of [`CHAINS`] 16-wide FMAs.
#[target_feature(enable = "avx512f")]
fn fma_loop_512(iters: u64) -> f32 {
    let mul = _mm512_set1_ps(0.999_999);
    let add = _mm512_set1_ps(1e-7);
    let mut acc: [__m512; CHAINS] = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = _mm512_fmadd_ps(*a, mul, add);
        }
    }
    // SAFETY: `__m512` is 16 plain f32 values.
    acc.iter()
        .map(|a| unsafe { std::mem::transmute::<__m512, [f32; 16]>(*a) }[0])
        .sum()
}

/// Peak GFLOP/s (an FMA counts 2) of `threads` threads running `width`-lane FMAs (8: AVX2,
/// 16: AVX-512) side by side: the best of 3 runs of about 0.1 s each. `None` when the CPU
/// lacks those instructions.
pub fn measure(width: usize, threads: usize) -> Option<f64> {
    let run: fn(u64) -> f32 = match width {
        8 if super::avx2::supported() => |iters| {
            // SAFETY: AVX2 and FMA were detected just above.
            unsafe { fma_loop_256(iters) }
        },
        16 if std::arch::is_x86_feature_detected!("avx512f") => |iters| {
            // SAFETY: AVX-512F was detected just above.
            unsafe { fma_loop_512(iters) }
        },
        _ => return None,
    };
    let iters: u64 = 4_000_000;
    std::hint::black_box(run(iters / 10));
    let best = (0..3)
        .map(|_| {
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| std::hint::black_box(run(std::hint::black_box(iters))));
                }
            });
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let flops = threads as f64 * iters as f64 * (CHAINS * width * 2) as f64;
    Some(flops / best / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_measured_only_where_the_instructions_exist() {
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        assert_eq!(measure(8, 1).is_some(), avx2);
        assert_eq!(
            measure(16, 1).is_some(),
            std::arch::is_x86_feature_detected!("avx512f")
        );
        assert_eq!(measure(4, 1), None);
        if let Some(gflops) = measure(8, 1) {
            // Any AVX2 core: at least 1 GHz × 16 FLOP per cycle (one 8-wide FMA pipe).
            assert!(gflops > 16.0, "{gflops} GFLOP/s");
        }
    }
}
