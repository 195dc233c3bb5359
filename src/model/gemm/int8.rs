//! The integer kernel of the int8 students ([`crate::model::int8`]): dot products of int8
//! vectors in exact i32 arithmetic, one row or four rows against one weight row at a time. With AVX2, 16
//! values a step: the bytes sign-extended to i16 and multiplied pairwise with `vpmaddwd` (16
//! products summed in pairs into 8 i32 lanes), the weight row's 16 loaded once for the four
//! rows; elsewhere a plain loop. Integer sums are exact, so both give the same result (a test
//! pins them together).

use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_castsi256_si128, _mm256_cvtepi8_epi16,
    _mm256_extracti128_si256, _mm256_madd_epi16, _mm256_setzero_si256, _mm_add_epi32,
    _mm_cvtsi128_si32, _mm_loadu_si128, _mm_shuffle_epi32,
};

/// `Σ a_k · b_k` over the common length (one row: a single image's layer).
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    if super::avx2::supported() {
        // SAFETY: AVX2 was detected just above; both slices have `len` values.
        unsafe { dot_avx2(a, b) }
    } else {
        dot_scalar(a, b)
    }
}

/// Rows of `a` taken against one `b` at a time by [`dot4`].
pub const ROWS: usize = 4;

/// `[Σ a_r,k · b_k for each row r]`: four dot products against the same `b`, which is read
/// once for all four (how a batch's rows share each weight row's loads).
pub fn dot4(a: [&[i8]; ROWS], b: &[i8]) -> [i32; ROWS] {
    let len = a.iter().map(|r| r.len()).fold(b.len(), usize::min);
    let a = a.map(|r| &r[..len]);
    let b = &b[..len];
    if super::avx2::supported() {
        // SAFETY: AVX2 was detected just above; every slice has `len` values.
        unsafe { dot4_avx2(a, b) }
    } else {
        a.map(|r| dot_scalar(r, b))
    }
}

/// The plain loop.
pub fn dot_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum()
}

/// [`dot`] with `ymm` registers, 16 pairs a step, the tail by [`dot_scalar`].
///
/// # Safety
/// The CPU must have AVX2; `a` and `b` must have the same length.
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
    let full = a.len() / 16 * 16;
    let mut acc = _mm256_setzero_si256();
    for k in (0..full).step_by(16) {
        let va = _mm256_cvtepi8_epi16(_mm_loadu_si128(a.as_ptr().add(k).cast()));
        let vb = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().add(k).cast()));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(va, vb));
    }
    horizontal_sum(acc) + dot_scalar(&a[full..], &b[full..])
}

/// Eight lanes summed.
#[target_feature(enable = "avx2")]
fn horizontal_sum(acc: __m256i) -> i32 {
    let sum4 = _mm_add_epi32(
        _mm256_castsi256_si128(acc),
        _mm256_extracti128_si256::<1>(acc),
    );
    let sum2 = _mm_add_epi32(sum4, _mm_shuffle_epi32::<0b0100_1110>(sum4));
    let sum1 = _mm_add_epi32(sum2, _mm_shuffle_epi32::<0b1011_0001>(sum2));
    _mm_cvtsi128_si32(sum1)
}

/// [`dot4`] with `ymm` registers: 16 values of `b` widened once, then multiplied with each
/// row's 16.
///
/// # Safety
/// The CPU must have AVX2; all slices must have the same length.
#[target_feature(enable = "avx2")]
unsafe fn dot4_avx2(a: [&[i8]; ROWS], b: &[i8]) -> [i32; ROWS] {
    let full = b.len() / 16 * 16;
    let mut acc = [_mm256_setzero_si256(); ROWS];
    for k in (0..full).step_by(16) {
        let vb = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().add(k).cast()));
        for (acc, row) in acc.iter_mut().zip(&a) {
            let va = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.as_ptr().add(k).cast()));
            *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(va, vb));
        }
    }
    let mut out = [0; ROWS];
    for r in 0..ROWS {
        out[r] = horizontal_sum(acc[r]) + dot_scalar(&a[r][full..], &b[full..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_avx2_dot_product_is_the_exact_integer_sum() {
        let mut state = 12345u32;
        let mut next = || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as i8
        };
        for len in [0, 1, 31, 32, 33, 64, 784, 800, 1201] {
            let a: Vec<i8> = (0..len).map(|_| next()).collect();
            let b: Vec<i8> = (0..len).map(|_| next()).collect();
            let expected: i64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| i64::from(*x) * i64::from(*y))
                .sum();
            assert_eq!(i64::from(dot_scalar(&a, &b)), expected, "length {len}");
            assert_eq!(i64::from(dot(&a, &b)), expected, "length {len}");
            let rows: Vec<Vec<i8>> = (0..ROWS)
                .map(|_| (0..len).map(|_| next()).collect())
                .collect();
            let four = dot4([&rows[0], &rows[1], &rows[2], &rows[3]], &b);
            for (r, got) in rows.iter().zip(four) {
                assert_eq!(got, dot_scalar(r, &b), "dot4, length {len}");
            }
        }
        // The extremes: 1200 products of −128 · −128 = 19,660,800, well inside i32.
        let extreme = vec![i8::MIN; 1200];
        let four = dot4([&extreme, &extreme, &extreme, &extreme], &extreme);
        assert_eq!(four, [1200 * 16384; ROWS]);
    }
}
