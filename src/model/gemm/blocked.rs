//! The blocked matrix product behind our kernels: `C = A · B` in f32, packed and blocked the
//! way BLIS does it (Goto & van de Geijn 2008; Van Zee & van de Geijn 2015), around a
//! micro-kernel that computes one `MR × NR` tile of `C` from two packed panels ([`Kernel`]:
//! [`super::avx2`]'s 6 × 16, [`super::avx512`]'s 8 × 32). The loops keep each operand in the
//! cache level it is reused from:
//!
//! - a `KC × NR` micro-panel of `B` stays in L1 (or streams from L2) while the kernel walks
//!   down every `MR`-row micro-panel of `A`;
//! - an `MC × KC` block of `A` stays in L2 while the kernel walks across `B`;
//! - `B`'s `KC × NC` block comes from L3.
//!
//! Both operands are first copied ("packed") into those panels, contiguous in the order the
//! kernel reads them and padded with zeros to whole panels, so the kernel needs no strides and
//! no edge cases; `A` and `B` may have any row and column strides (a transposed weight matrix
//! is just a view). Only partial tiles of `C` at the edges go through a small buffer.
//!
//! The split along `k` is the `gemm` crate's ([`depth_block`]), so every kernel here gives the
//! bits candle's matmul gives.
//!
//! Where the product is large enough, its columns (or rows, whichever duplicates less packing)
//! are split into one part per thread of rayon's pool. Inside the training step, whose batch
//! slices already run side by side, the parts of a slice's product are simply picked up by
//! whichever thread is free.
//!
//! [`product`] is the safe entry: it checks the operands' extents once, and everything behind
//! it works on raw pointers.

use std::cell::RefCell;

use rayon::prelude::*;

use super::pack::{pack_a, pack_b, AlignedBuf, MatRef};

/// The code of one tile: `tile(kc, a, b, c, ldc, mr, nr, accumulate)` gives the `mr × nr` tile
/// of `C` at `c` (row stride `ldc`) `A_panel · B_panel` over `kc` steps, added to it when
/// `accumulate`, else written over it; `a` is an `MR`-row panel (`MR` values per step) and `b`
/// an `NR`-column panel (`NR` values per step, 64-byte aligned), both packed.
pub type TileFn = unsafe fn(usize, *const f32, *const f32, *mut f32, usize, usize, usize, bool);

/// A micro-kernel and the CPU features it needs.
#[derive(Clone, Copy)]
pub struct Kernel {
    mr: usize,
    nr: usize,
    tile: TileFn,
    supported: fn() -> bool,
    features: &'static str,
}

impl Kernel {
    /// A kernel of `mr × nr` tiles (`nr` a multiple of 8).
    ///
    /// # Safety
    /// `tile` must need no CPU feature beyond those `supported` detects (which must include
    /// AVX2, for the packing), and compute what [`TileFn`] says.
    pub const unsafe fn new(
        mr: usize,
        nr: usize,
        tile: TileFn,
        supported: fn() -> bool,
        features: &'static str,
    ) -> Self {
        Self {
            mr,
            nr,
            tile,
            supported,
            features,
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn supported(&self) -> bool {
        (self.supported)()
    }
}

/// Most depth of a packed block: `k` is cut into equal blocks of at most this many steps
/// ([`depth_block`]).
const KC: usize = 512;
/// Most rows of a packed block of `A`: `MC × KC` is at most 240 KB, under half of a 512 KB L2.
const MC_MAX: usize = 120;
/// Columns of a packed block of `B`: `KC × NC` is at most 8 MB, within a shared L3.
const NC: usize = 4096;
/// Products below this many multiply-adds run on the calling thread alone: splitting them
/// costs more in packing and hand-over than the second core gains.
const PARALLEL_MIN_MACS: usize = 1 << 20;

/// A matrix inside a slice: element `(i, j)` is `values[start + i·rs + j·cs]` (a transposed
/// or narrowed candle tensor is such a view of its storage).
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    pub values: &'a [f32],
    pub start: usize,
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl View<'_> {
    /// The raw matrix, once every element is known to lie inside `values`.
    fn checked(&self) -> Result<MatRef, String> {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1)
                .checked_mul(self.rs)
                .and_then(|r| (self.cols - 1).checked_mul(self.cs)?.checked_add(r))
                .and_then(|o| o.checked_add(self.start));
            if last.is_none_or(|last| last >= self.values.len()) {
                return Err(format!(
                    "a {}×{} operand with strides ({}, {}) from offset {} reaches past its {} values",
                    self.rows, self.cols, self.rs, self.cs, self.start, self.values.len()
                ));
            }
        }
        Ok(MatRef {
            ptr: self.values.as_ptr().wrapping_add(self.start),
            rs: self.rs as isize,
            cs: self.cs as isize,
        })
    }
}

/// `A · B` as a row-major `Vec` by `kernel`, or why not (the CPU lacks the kernel's
/// instructions, the shapes do not chain, a view reaches past its slice).
pub fn product(kernel: Kernel, a: View<'_>, b: View<'_>) -> Result<Vec<f32>, String> {
    if !kernel.supported() {
        return Err(format!("this CPU has no {}", kernel.features));
    }
    if a.cols != b.rows {
        return Err(format!(
            "shapes {}×{} and {}×{} do not chain",
            a.rows, a.cols, b.rows, b.cols
        ));
    }
    let (ra, rb) = (a.checked()?, b.checked()?);
    let len = a.rows * b.cols;
    // Not zeroed first: the first block along k writes every value of `c` without reading it
    // (a memset of every product's output cost 1.5 % of a training epoch).
    let mut c: Vec<f32> = Vec::with_capacity(len);
    // SAFETY: both views were checked to lie inside their slices, which are borrowed (alive and
    // unchanged) for the call; `c` has room for `len` values, all of which `gemm` writes before
    // `set_len` exposes them; the CPU has the kernel's features (`Kernel::new`'s contract).
    unsafe {
        gemm(kernel, a.rows, b.cols, a.cols, ra, rb, c.as_mut_ptr());
        c.set_len(len);
    }
    Ok(c)
}

/// The output: a row-major block with row stride `ld` (a part of a larger `C`).
#[derive(Clone, Copy)]
struct MatMut {
    ptr: *mut f32,
    ld: usize,
}

impl MatMut {
    /// The block starting at `(i, j)`.
    fn at(self, i: usize, j: usize) -> Self {
        Self {
            ptr: self.ptr.wrapping_add(i * self.ld + j),
            ..self
        }
    }
}

// SAFETY: the parts handed to different threads cover disjoint rows or columns of `C`.
unsafe impl Send for MatMut {}
unsafe impl Sync for MatMut {}

/// `c ← A · B` for an `m × k` matrix `A`, a `k × n` matrix `B`, and `c` the `m × n` row-major
/// result (written, never read: it may be uninitialised).
///
/// # Safety
/// Every element `(i, p)`, `i < m`, `p < k` of `a` and `(p, j)`, `p < k`, `j < n` of `b` must be
/// readable for the duration of the call, `c` writable for `m · n` values, not overlapping
/// them. The CPU must have `kernel`'s instructions.
unsafe fn gemm(kernel: Kernel, m: usize, n: usize, k: usize, a: MatRef, b: MatRef, c: *mut f32) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        std::ptr::write_bytes(c, 0, m * n);
        return;
    }
    let out = MatMut { ptr: c, ld: n };
    // Fixed by the whole product's shape, not by a part's: every part sums in the same order.
    let depth = depth_block(m, n, k);
    let parts = if m * n * k >= PARALLEL_MIN_MACS {
        rayon::current_num_threads()
    } else {
        1
    };
    // Splitting the columns makes every part pack all of A; splitting the rows, all of B.
    // Duplicate the smaller one.
    let split_columns = m <= n;
    let (len, unit) = if split_columns {
        (n, kernel.nr)
    } else {
        (m, kernel.mr)
    };
    let per_part = len.div_ceil(unit).div_ceil(parts) * unit;
    let parts = len.div_ceil(per_part);
    if parts <= 1 {
        serial(kernel, m, n, k, depth, a, b, out);
        return;
    }
    (0..parts).into_par_iter().for_each(|part| {
        let start = part * per_part;
        let size = per_part.min(len - start);
        // SAFETY: the parts cover disjoint column (or row) ranges of `c`.
        unsafe {
            if split_columns {
                serial(
                    kernel,
                    m,
                    size,
                    k,
                    depth,
                    a,
                    b.at(0, start),
                    out.at(0, start),
                );
            } else {
                serial(
                    kernel,
                    size,
                    n,
                    k,
                    depth,
                    a.at(start, 0),
                    b,
                    out.at(start, 0),
                );
            }
        }
    });
}

thread_local! {
    /// Each thread's packing buffers, kept between products (no allocation per call).
    static PACKED: RefCell<(AlignedBuf, AlignedBuf)> =
        const { RefCell::new((AlignedBuf::new(), AlignedBuf::new())) };
}

/// The depth of the blocks `k` is cut into for an `m × n` output: equal blocks of at most
/// [`KC`] steps, e.g. 784 as 2 × 392 and 1200 as 3 × 400; for an output of at most 64 × 64,
/// blocks of [`KC`] and the remainder (1200 as 512 + 512 + 176).
///
/// This is the split the `gemm` crate makes on x86 CPUs with 32–48 KB of L1d (its
/// `cache::kernel_params` rounds its depth up to 512, then evens the blocks out; for small
/// outputs `gemm_basic_generic` skips that and takes `min(k, 512)`), and both sum
/// each value of `C` in the same order: one FMA per step from zero within a block, then the
/// blocks added to `C` one after the other. So the two backends give the same bits, and a
/// training run gives the same numbers whichever computed its products (a test pins this on
/// the MLP's shapes).
fn depth_block(m: usize, n: usize, k: usize) -> usize {
    if m <= 64 && n <= 64 {
        k.min(KC)
    } else {
        k.div_ceil(k.div_ceil(KC))
    }
}

/// The blocked loops of one part, on the calling thread, in blocks of `depth` along `k`.
///
/// # Safety
/// As [`gemm`], with `c` an `m × n` block of row stride `c.ld`.
#[allow(clippy::too_many_arguments)]
unsafe fn serial(
    kernel: Kernel,
    m: usize,
    n: usize,
    k: usize,
    depth: usize,
    a: MatRef,
    b: MatRef,
    c: MatMut,
) {
    let Kernel { mr, nr, tile, .. } = kernel;
    // Whole `MR`-row panels, at most `MC_MAX` rows.
    let mc_max = MC_MAX / mr * mr;
    PACKED.with_borrow_mut(|(packed_a, packed_b)| {
        let pa = packed_a.reserve(mc_max.min(m.next_multiple_of(mr)) * depth);
        let pb = packed_b.reserve(NC.min(n.next_multiple_of(nr)) * depth);
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(depth) {
                let kc = depth.min(k - pc);
                pack_b(nr, kc, nc, b.at(pc, jc), pb);
                for ic in (0..m).step_by(mc_max) {
                    let mc = mc_max.min(m - ic);
                    pack_a(mr, mc, kc, a.at(ic, pc), pa);
                    for jr in (0..nc).step_by(nr) {
                        let b_panel = pb.as_ptr().add(jr * kc);
                        for ir in (0..mc).step_by(mr) {
                            tile(
                                kc,
                                pa.as_ptr().add(ir * kc),
                                b_panel,
                                c.ptr.add((ic + ir) * c.ld + jc + jr),
                                c.ld,
                                mr.min(mc - ir),
                                nr.min(nc - jr),
                                pc > 0,
                            );
                        }
                    }
                }
            }
        }
    });
}

/// Writes the top-left `mr × nr` of a tile stored row after row (`stride` values a row) into
/// `c` (row stride `ldc`), added to what is there when `accumulate`: the edge tiles' path of
/// every kernel.
///
/// # Safety
/// `c` must be writable (and, when `accumulate`, readable) for the `mr × nr` block.
pub unsafe fn store_partial(
    tile: &[f32],
    stride: usize,
    c: *mut f32,
    ldc: usize,
    (mr, nr): (usize, usize),
    accumulate: bool,
) {
    for i in 0..mr {
        for j in 0..nr {
            let dst = c.add(i * ldc + j);
            let v = tile[i * stride + j];
            *dst = if accumulate { *dst + v } else { v };
        }
    }
}
