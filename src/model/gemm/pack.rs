//! Packing for [`super::blocked`]: copying blocks of `A` and `B` into the contiguous,
//! zero-padded micro-panels the micro-kernels read, from operands of any strides. The common
//! layouts get fast paths: rows or columns that are contiguous are copied as runs, and a
//! transposed `B` (the forward pass's `Wᵀ`) is packed with 8 × 8 register transposes.

use std::arch::x86_64::{__m256, _mm256_loadu_ps, _mm256_storeu_ps};

/// A read-only strided matrix: element `(i, j)` is at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy, Debug)]
pub(super) struct MatRef {
    pub(super) ptr: *const f32,
    pub(super) rs: isize,
    pub(super) cs: isize,
}

// SAFETY: a `MatRef` is only read, and `blocked::product` keeps the matrix alive and
// unchanged for the whole product.
unsafe impl Send for MatRef {}
unsafe impl Sync for MatRef {}

impl MatRef {
    /// The view starting at `(i, j)`.
    pub(super) fn at(self, i: usize, j: usize) -> Self {
        Self {
            ptr: self
                .ptr
                .wrapping_offset(i as isize * self.rs + j as isize * self.cs),
            ..self
        }
    }

    /// Element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` must lie inside the matrix.
    #[inline(always)]
    unsafe fn get(self, i: usize, j: usize) -> f32 {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
}

/// Packs the `mc × kc` block `a` into `mr`-row micro-panels, each stored column after column
/// (`mr` values per step along `k`), the last one padded with zeros.
pub(super) unsafe fn pack_a(mr: usize, mc: usize, kc: usize, a: MatRef, out: &mut [f32]) {
    for (panel, chunk) in (0..mc).step_by(mr).zip(out.chunks_exact_mut(mr * kc)) {
        let rows = mr.min(mc - panel);
        if a.cs == 1 && rows == mr {
            // Rows contiguous along k: read each row once, write it strided.
            for i in 0..mr {
                let row = a.ptr.offset((panel + i) as isize * a.rs);
                for p in 0..kc {
                    *chunk.get_unchecked_mut(p * mr + i) = *row.add(p);
                }
            }
            continue;
        }
        if a.rs == 1 && rows == mr {
            // Columns contiguous (A is a transposed matrix, e.g. dZᵀ): each step along k is
            // one copy of mr values.
            for p in 0..kc {
                let src = a.ptr.offset(p as isize * a.cs + panel as isize);
                for i in 0..mr {
                    *chunk.get_unchecked_mut(p * mr + i) = *src.add(i);
                }
            }
            continue;
        }
        for p in 0..kc {
            for i in 0..mr {
                chunk[p * mr + i] = if i < rows { a.get(panel + i, p) } else { 0.0 };
            }
        }
    }
}

/// Packs the `kc × nc` block `b` into `nr`-column micro-panels, each stored row after row
/// (`nr` values per step along `k`), the last one padded with zeros.
pub(super) unsafe fn pack_b(nr: usize, kc: usize, nc: usize, b: MatRef, out: &mut [f32]) {
    for (panel, chunk) in (0..nc).step_by(nr).zip(out.chunks_exact_mut(nr * kc)) {
        let cols = nr.min(nc - panel);
        if b.cs == 1 && cols == nr {
            // Rows of B contiguous: each step along k is a copy of nr / 8 registers (inline:
            // a `copy_nonoverlapping` of a run-time length is a call to memmove per step,
            // 4 % of an AVX-512 training epoch).
            for p in 0..kc {
                let src = b.ptr.offset(p as isize * b.rs + panel as isize);
                copy_registers(src, chunk.as_mut_ptr().add(p * nr), nr / 8);
            }
            continue;
        }
        if b.rs == 1 && cols == nr {
            // Columns of B contiguous (B is a transposed matrix, e.g. Wᵀ): transpose 8 × 8
            // blocks in registers instead of gathering one value at a time.
            transpose_pack(nr, kc, b.at(0, panel), chunk);
            continue;
        }
        for p in 0..kc {
            for j in 0..nr {
                chunk[p * nr + j] = if j < cols { b.get(p, panel + j) } else { 0.0 };
            }
        }
    }
}

/// Copies `registers` × 8 floats from `src` to `dst`.
#[target_feature(enable = "avx2,fma")]
unsafe fn copy_registers(src: *const f32, dst: *mut f32, registers: usize) {
    for r in 0..registers {
        _mm256_storeu_ps(dst.add(8 * r), _mm256_loadu_ps(src.add(8 * r)));
    }
}

/// `out[p·nr + j] = b(p, j)` for `p < kc`, `j < nr` (a multiple of 8), where `b`'s columns are
/// contiguous (`rs == 1`): 8 × 8 blocks transposed in `ymm` registers, the tail of `kc` one by
/// one.
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose_pack(nr: usize, kc: usize, b: MatRef, out: &mut [f32]) {
    use std::arch::x86_64::{
        _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };
    let full = kc / 8 * 8;
    for half in 0..nr / 8 {
        let col = |j: usize| b.ptr.offset((half * 8 + j) as isize * b.cs);
        for p in (0..full).step_by(8) {
            // r[j] = column j's values at steps p .. p + 8.
            let r: [__m256; 8] = std::array::from_fn(|j| _mm256_loadu_ps(col(j).add(p)));
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            // rows[q] = the 8 columns' values at step p + q.
            let rows = [
                _mm256_permute2f128_ps::<0x20>(s0, s4),
                _mm256_permute2f128_ps::<0x20>(s1, s5),
                _mm256_permute2f128_ps::<0x20>(s2, s6),
                _mm256_permute2f128_ps::<0x20>(s3, s7),
                _mm256_permute2f128_ps::<0x31>(s0, s4),
                _mm256_permute2f128_ps::<0x31>(s1, s5),
                _mm256_permute2f128_ps::<0x31>(s2, s6),
                _mm256_permute2f128_ps::<0x31>(s3, s7),
            ];
            for (q, row) in rows.into_iter().enumerate() {
                _mm256_storeu_ps(out.as_mut_ptr().add((p + q) * nr + half * 8), row);
            }
        }
        for p in full..kc {
            for j in 0..8 {
                out[p * nr + half * 8 + j] = *col(j).add(p);
            }
        }
    }
}

/// A growable f32 buffer whose start is 64-byte aligned (a cache line, and the alignment the
/// kernel's aligned loads of packed `B` need).
pub(super) struct AlignedBuf {
    raw: Vec<f32>,
}

impl AlignedBuf {
    pub(super) const fn new() -> Self {
        Self { raw: Vec::new() }
    }

    /// A 64-byte-aligned slice of at least `len` values (contents unspecified).
    pub(super) fn reserve(&mut self, len: usize) -> &mut [f32] {
        const ALIGN: usize = 64 / std::mem::size_of::<f32>();
        if self.raw.len() < len + ALIGN {
            self.raw = vec![0.0; len + ALIGN];
        }
        let skip = self.raw.as_ptr().align_offset(64);
        &mut self.raw[skip..skip + len]
    }
}
