//! Relational knowledge distillation, RKD (Park, Kim, Lu & Cho, CVPR 2019), distance-wise and
//! angle-wise, as mdistiller implements it (`mdistiller/distillers/RKD.py`, `rkd_loss` with
//! `squared = False`, `eps = 1e-12`).
//!
//! Instead of matching outputs example by example, the student matches the *shape* of the
//! batch in the teacher's embedding space: how far apart the examples are and the angles they
//! make. That is why the two embeddings may have different widths (student `s_i ∈ R^ds`,
//! teacher `t_i ∈ R^dt`, `B` examples):
//!
//! - distances `d_ij = √max(‖s_i − s_j‖², 10⁻¹²)` for `i ≠ j`, `d_ii = 0`, divided by their mean
//!   over the `B(B − 1)` pairs `i ≠ j` (mdistiller's `d[d > 0].mean()`: the clamp keeps every
//!   off-diagonal entry positive), the same for the teacher;
//!   `L_d = (1/B²) Σ_ij ℓ(d̃_ij − d̃ᵗ_ij)`;
//! - angles at each anchor `i`: `e_ij = s_j − s_i`, `n_ij = e_ij / max(‖e_ij‖, 10⁻¹²)`,
//!   `a_ijk = ⟨n_ij, n_ik⟩`; `L_a = (1/B³) Σ_ijk ℓ(a_ijk − aᵗ_ijk)`;
//! - `L = w_d · L_d + w_a · L_a` (the paper's and mdistiller's weights are 25 and 50);
//!
//! with `ℓ` the smooth L1 (Huber) loss at β = 1, `ℓ(x) = x²/2` for `|x| < 1`, `|x| − 1/2` beyond.
//! The teacher's side is a constant (`no_grad` in mdistiller); the loss is a function of the
//! student embeddings, and [`rkd`] returns its gradient with respect to them, the gradient the
//! student's penultimate layer receives.
//!
//! # The Gram form
//! Building the `B × B × D` differences costs `O(B³ D)` (2·10⁹ operations at the training size,
//! B = 128 and ds = 800, every batch). Everything here is instead read off the Gram matrix
//! `G = S Sᵀ`: `‖s_i − s_j‖² = G_ii + G_jj − 2G_ij` and `⟨e_ij, e_ik⟩ = G_jk − G_ij − G_ik +
//! G_ii`, so the work is two `O(B² D)` matrix products (candle's, in f64) and `O(B³)` scalar
//! work. The embeddings are centred (the batch mean subtracted) first: the loss does not change,
//! and the Gram's entries shrink to the size of the distances, which keeps the cancellation in
//! those sums small. Pairs whose squared distance is at most `10⁻¹²` of the sum of their
//! squared (centred) norms, or `10⁻²⁴`, count as coinciding: the f64 Gram form cannot resolve
//! them (its rounding is about `10⁻¹⁵` of the squared norms), and they get a zero difference
//! vector, as exact duplicates do in mdistiller.
//!
//! # Gradient
//! The loss is a function of `G`; with `M = ∂L/∂G` (entries taken as independent),
//! `∂L/∂S = (M + Mᵀ) S`. The distance part: with `ℓ'_ij` the Huber slope, `μ` the student's
//! mean distance and `c = Σ_{i≠j} ℓ'_ij d_ij / μ²`, `∂L_d/∂d_ij = (ℓ'_ij/μ − c/(B(B − 1)))/B²`
//! (the mean depends on every distance), `∂d_ij/∂‖s_i − s_j‖² = 1/(2 d_ij)` where the clamp
//! is not active and 0 where it is. The angle part, anchor by anchor, with `A_jk = ⟨e_ij,
//! e_ik⟩`, `r_j = √A_jj` and `a_jk = A_jk / (r_j r_k)`: `∂a_jk = ∂A_jk/(r_j r_k) − a_jk/2 ·
//! (∂A_jj/r_j² + ∂A_kk/r_k²)`, so with `g_jk = ℓ'(a_jk − aᵗ_jk)/B³`,
//! `∂L_a/∂A_jk = g_jk/(r_j r_k)` for `j ≠ k` and `∂L_a/∂A_jj = −(1/r_j²) Σ_k g_jk a_jk`, each
//! then spread onto the four Gram entries of `A_jk`. A coinciding pair (`e_ij = 0`) has a
//! constant zero direction and sends no gradient. mdistiller's autograd differs there, and only
//! there: `F.normalize` divides a zero vector by its clamp 10⁻¹², so PyTorch's gradient on the
//! two rows of an exactly duplicated pair is of order 10¹¹ (the derivative of the clamped
//! quotient, not of the angle, which is undefined).
//!
//! The `O(B³)` angle loop runs over anchors in fixed blocks on rayon's pool, each block
//! summing into its own `M` in anchor order, the blocks then summed in block order: the result
//! does not depend on the number of threads.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

/// The RKD loss of a batch, its two parts, and its gradient with respect to the student
/// embeddings.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationalParts {
    /// The distance-wise loss `L_d` (unweighted), reported on its own so that a run shows
    /// which relation the student matches.
    pub distance: f64,
    /// The angle-wise loss `L_a` (unweighted).
    pub angle: f64,
    /// The value that is minimised: `w_d · distance + w_a · angle`.
    pub total: f64,
    /// `∂total/∂student`, `[B, ds]`, row-major.
    pub grad: Vec<f32>,
}

/// `_pdist`'s clamp on squared distances.
const PDIST_EPS: f64 = 1e-12;
/// A pair closer than this fraction of its squared norms (squared) coincides; see the module doc.
const COINCIDE_RELATIVE: f64 = 1e-12;
/// A pair closer than this (squared) coincides whatever its norms: below `F.normalize`'s
/// `10⁻¹²` on the norm, which is then never active.
const COINCIDE_ABSOLUTE: f64 = 1e-24;
/// Anchors per block of the angle loop: fixed, so the sums do not depend on the thread count.
const ANCHORS_PER_BLOCK: usize = 16;

/// RKD of the `student` embeddings (`[B, student_dim]`, row-major) against the `teacher`'s
/// (`[B, teacher_dim]`) with weights `distance_weight` and `angle_weight`; see the module doc.
/// Fails, with the lengths, when a width is 0, a buffer is not whole rows, the two have
/// different numbers of rows, or there are fewer than 2 rows.
pub fn rkd(
    student: &[f32],
    student_dim: usize,
    teacher: &[f32],
    teacher_dim: usize,
    distance_weight: f64,
    angle_weight: f64,
) -> candle_core::Result<RelationalParts> {
    let b = rows(student, student_dim, teacher, teacher_dim)?;
    let s = centred(student, b, student_dim);
    let t = centred(teacher, b, teacher_dim);
    let student_rel = Relations::new(gram(&s, b, student_dim)?, b);
    let teacher_rel = Relations::new(gram(&t, b, teacher_dim)?, b);
    let mut dg = vec![0f64; b * b];
    let distance = distance_loss(&student_rel, &teacher_rel, distance_weight, &mut dg);
    let angle = angle_loss(&student_rel, &teacher_rel, angle_weight, &mut dg);
    let grad = backward(&dg, s, b, student_dim)?;
    Ok(RelationalParts {
        distance,
        angle,
        total: distance_weight * distance + angle_weight * angle,
        grad,
    })
}

/// The batch size, after checking that both buffers are whole rows of non-zero widths and
/// have the same number of rows, at least 2.
fn rows(
    student: &[f32],
    student_dim: usize,
    teacher: &[f32],
    teacher_dim: usize,
) -> candle_core::Result<usize> {
    for (side, values, dim) in [
        ("student", student, student_dim),
        ("teacher", teacher, teacher_dim),
    ] {
        if dim == 0 {
            candle_core::bail!("rkd: the {side} embeddings have width 0");
        }
        if !values.len().is_multiple_of(dim) {
            candle_core::bail!(
                "rkd: {} {side} values are not whole rows of width {dim}",
                values.len()
            );
        }
    }
    let (b, bt) = (student.len() / student_dim, teacher.len() / teacher_dim);
    if b != bt {
        candle_core::bail!("rkd: {b} student rows but {bt} teacher rows");
    }
    if b < 2 {
        candle_core::bail!(
            "rkd: {b} rows: the distance loss divides by the mean distance between distinct \
             examples, which needs at least 2"
        );
    }
    Ok(b)
}

/// The rows of `x` (`[rows, dim]`) in f64 minus their mean row.
fn centred(x: &[f32], rows: usize, dim: usize) -> Vec<f64> {
    let mut mean = vec![0f64; dim];
    for row in x.chunks_exact(dim) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    for m in &mut mean {
        *m /= rows as f64;
    }
    x.chunks_exact(dim)
        .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| f64::from(*v) - m))
        .collect()
}

/// `X Xᵀ` of `x` (`[rows, dim]`), made exactly symmetric.
fn gram(x: &[f64], rows: usize, dim: usize) -> candle_core::Result<Vec<f64>> {
    let x = Tensor::from_slice(x, (rows, dim), &Device::Cpu)?;
    let mut g = x.matmul(&x.t()?)?.flatten_all()?.to_vec1::<f64>()?;
    for i in 0..rows {
        for j in i + 1..rows {
            let mean = 0.5 * (g[i * rows + j] + g[j * rows + i]);
            g[i * rows + j] = mean;
            g[j * rows + i] = mean;
        }
    }
    Ok(g)
}

/// One side's Gram matrix and the squared distances read off it (`B × B`, row-major).
struct Relations {
    /// The batch size.
    b: usize,
    /// `G = S Sᵀ` of the centred embeddings.
    gram: Vec<f64>,
    /// `‖s_i − s_j‖²`, exactly 0 on the diagonal and for coinciding pairs, positive elsewhere.
    sq: Vec<f64>,
}

impl Relations {
    /// The squared distances of the Gram matrix `gram` of `b` rows.
    fn new(gram: Vec<f64>, b: usize) -> Self {
        let mut sq = vec![0f64; b * b];
        for i in 0..b {
            for j in 0..b {
                let (gii, gjj) = (gram[i * b + i], gram[j * b + j]);
                let d = gii + gjj - 2.0 * gram[i * b + j];
                let floor = (COINCIDE_RELATIVE * (gii + gjj)).max(COINCIDE_ABSOLUTE);
                if i != j && d > floor {
                    sq[i * b + j] = d;
                }
            }
        }
        Self { b, gram, sq }
    }

    /// The distances `d_ij` (clamped, 0 on the diagonal) and their mean over `i ≠ j`.
    fn distances(&self) -> (Vec<f64>, f64) {
        let b = self.b;
        let d: Vec<f64> = (0..b * b)
            .map(|k| {
                if k / b == k % b {
                    0.0
                } else {
                    self.sq[k].max(PDIST_EPS).sqrt()
                }
            })
            .collect();
        let mean = d.iter().sum::<f64>() / (b * (b - 1)) as f64;
        (d, mean)
    }

    /// `1/‖e_ij‖` for every `j` at anchor `i`, 0 where the pair coincides (and at `j = i`):
    /// a zero direction then gives a zero cosine and a zero gradient with no test of its own.
    fn inverse_norms_from(&self, i: usize) -> Vec<f64> {
        self.sq[i * self.b..(i + 1) * self.b]
            .iter()
            .map(|&sq| if sq > 0.0 { 1.0 / sq.sqrt() } else { 0.0 })
            .collect()
    }
}

/// Smooth L1 at β = 1 and its slope, without a branch (the angle loop calls it B³/2 times):
/// the slope is `x` clamped to [−1, 1], and `slope · (x − slope/2)` is `x²/2` inside and
/// `|x| − 1/2` outside.
fn huber(x: f64) -> (f64, f64) {
    let slope = x.clamp(-1.0, 1.0);
    (slope * (x - 0.5 * slope), slope)
}

/// `L_d`, with `weight · ∂L_d/∂G` added to `dg`.
fn distance_loss(student: &Relations, teacher: &Relations, weight: f64, dg: &mut [f64]) -> f64 {
    let b = student.b;
    let (d, mu) = student.distances();
    let (dt, mu_t) = teacher.distances();
    let slopes: Vec<(f64, f64)> = d
        .iter()
        .zip(&dt)
        .map(|(d, dt)| huber(d / mu - dt / mu_t))
        .collect();
    let loss = slopes.iter().map(|h| h.0).sum::<f64>() / (b * b) as f64;
    // Σ ℓ'_ij d_ij / μ²: the mean's share of each distance's gradient (diagonal terms are 0).
    let c = slopes.iter().zip(&d).map(|(h, d)| h.1 * d).sum::<f64>() / (mu * mu);
    let pairs = (b * (b - 1)) as f64;
    let scale = weight / (b * b) as f64;
    for i in 0..b {
        for j in (0..b).filter(|&j| j != i) {
            let k = i * b + j;
            if student.sq[k] < PDIST_EPS {
                continue; // clamped: no gradient
            }
            let dd = scale * (slopes[k].1 / mu - c / pairs);
            let dsq = dd / (2.0 * d[k]);
            dg[i * b + i] += dsq;
            dg[j * b + j] += dsq;
            dg[k] -= 2.0 * dsq;
        }
    }
    loss
}

/// `L_a`, with `weight · ∂L_a/∂G` added to `dg`: anchors in fixed blocks on the pool, each
/// block's sums in anchor order, the blocks' in block order.
fn angle_loss(student: &Relations, teacher: &Relations, weight: f64, dg: &mut [f64]) -> f64 {
    let b = student.b;
    let cube = (b * b * b) as f64;
    let blocks: Vec<(f64, Vec<f64>)> = (0..b.div_ceil(ANCHORS_PER_BLOCK))
        .into_par_iter()
        .map(|block| {
            let mut m = vec![0f64; b * b];
            let start = block * ANCHORS_PER_BLOCK;
            let loss = (start..(start + ANCHORS_PER_BLOCK).min(b))
                .map(|i| anchor(i, student, teacher, weight / cube, &mut m))
                .sum::<f64>();
            (loss, m)
        })
        .collect();
    let mut loss = 0.0;
    for (block_loss, m) in blocks {
        loss += block_loss;
        for (g, v) in dg.iter_mut().zip(m) {
            *g += v;
        }
    }
    loss / cube
}

/// The angles at anchor `i`: returns `Σ_jk ℓ(a_ijk − aᵗ_ijk)` and adds `scale · ∂/∂G` of it to
/// `m`. Only `M + Mᵀ` is used, so an entry's share may go to either `m[j][k]` or `m[k][j]`.
fn anchor(i: usize, student: &Relations, teacher: &Relations, scale: f64, m: &mut [f64]) -> f64 {
    let b = student.b;
    let (inv, inv_t) = (student.inverse_norms_from(i), teacher.inverse_norms_from(i));
    let (g, gt) = (&student.gram, &teacher.gram);
    let (gi, gti) = (&g[i * b..(i + 1) * b], &gt[i * b..(i + 1) * b]);
    // Σ_k g_jk a_jk for ∂/∂A_jj, and ρ_j = Σ_k ∂L/∂A_jk for the anchor's own Gram entries.
    let mut diag = vec![0f64; b];
    let mut rho = vec![0f64; b];
    let mut loss = 0.0;
    for j in 0..b {
        // a_jj is 1 for a pair that does not coincide, 0 for one that does: no gradient.
        loss += huber(unit(inv[j]) - unit(inv_t[j])).0;
        let (row, row_t) = (&g[j * b..(j + 1) * b], &gt[j * b..(j + 1) * b]);
        let (base, base_t) = (gi[i] - gi[j], gti[i] - gti[j]);
        let mut diag_j = 0.0;
        let mut rho_j = 0.0;
        for k in j + 1..b {
            // 0 where either pair coincides (its inverse norm is 0), and so is all below.
            let a = (row[k] - gi[k] + base) * inv[j] * inv[k];
            let at = (row_t[k] - gti[k] + base_t) * inv_t[j] * inv_t[k];
            let (h, slope) = huber(a - at);
            loss += 2.0 * h;
            let gjk = scale * slope;
            let w = gjk * inv[j] * inv[k];
            // The (j, k) and (k, j) entries, both onto m[j][k].
            m[j * b + k] += 2.0 * w;
            rho_j += w;
            rho[k] += w;
            diag_j += gjk * a;
            diag[k] += gjk * a;
        }
        diag[j] += diag_j;
        rho[j] += rho_j;
    }
    for j in 0..b {
        let w = -diag[j] * inv[j] * inv[j];
        m[j * b + j] += w;
        rho[j] += w;
    }
    // A_jk = G_jk − G_ij − G_ik + G_ii: the anchor's row takes −ρ_j twice and Σρ once.
    for (j, rho_j) in rho.iter().enumerate() {
        m[i * b + j] -= 2.0 * rho_j;
    }
    m[i * b + i] += rho.iter().sum::<f64>();
    loss
}

/// 1 for a difference vector that is not zero, 0 for one that is (`⟨n, n⟩`), from its
/// inverse norm.
fn unit(inverse_norm: f64) -> f64 {
    if inverse_norm > 0.0 {
        1.0
    } else {
        0.0
    }
}

/// `∂L/∂S = (M + Mᵀ) S` for the centred embeddings `s` (`[b, dim]`), in f32. (The centring
/// needs no term of its own: the loss does not move with a translation, so the rows of
/// `M + Mᵀ` sum to 0.)
fn backward(dg: &[f64], s: Vec<f64>, b: usize, dim: usize) -> candle_core::Result<Vec<f32>> {
    let mut sym = vec![0f64; b * b];
    for i in 0..b {
        for j in 0..b {
            sym[i * b + j] = dg[i * b + j] + dg[j * b + i];
        }
    }
    let sym = Tensor::from_vec(sym, (b, b), &Device::Cpu)?;
    let s = Tensor::from_vec(s, (b, dim), &Device::Cpu)?;
    let grad = sym.matmul(&s)?.flatten_all()?.to_vec1::<f64>()?;
    Ok(grad.into_iter().map(|g| g as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from PyTorch 2.15 (float64), mdistiller's `_pdist` and `rkd_loss`
    // verbatim, with the two parts returned as well:
    //
    //   import torch, torch.nn.functional as F
    //   def _pdist(e, squared, eps):
    //       e_square = e.pow(2).sum(dim=1)
    //       prod = e @ e.t()
    //       res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps)
    //       if not squared:
    //           res = res.sqrt()
    //       res = res.clone()
    //       res[range(len(e)), range(len(e))] = 0
    //       return res
    //   def rkd_loss(f_s, f_t, squared=False, eps=1e-12, distance_weight=25, angle_weight=50):
    //       stu = f_s.view(f_s.shape[0], -1)
    //       tea = f_t.view(f_t.shape[0], -1)
    //       with torch.no_grad():
    //           t_d = _pdist(tea, squared, eps)
    //           mean_td = t_d[t_d > 0].mean()
    //           t_d = t_d / mean_td
    //       d = _pdist(stu, squared, eps)
    //       mean_d = d[d > 0].mean()
    //       d = d / mean_d
    //       loss_d = F.smooth_l1_loss(d, t_d)
    //       with torch.no_grad():
    //           td = tea.unsqueeze(0) - tea.unsqueeze(1)
    //           norm_td = F.normalize(td, p=2, dim=2)
    //           t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    //       sd = stu.unsqueeze(0) - stu.unsqueeze(1)
    //       norm_sd = F.normalize(sd, p=2, dim=2)
    //       s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    //       loss_a = F.smooth_l1_loss(s_angle, t_angle)
    //       loss = distance_weight * loss_d + angle_weight * loss_a
    //       return loss, loss_d, loss_a
    //   def case(s, t):
    //       s = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    //       t = torch.tensor(t, dtype=torch.float64)
    //       tot, ld, la = rkd_loss(s, t)
    //       tot.backward()
    //       print(ld.item(), la.item(), tot.item(), s.grad.flatten().tolist())
    //   case(S, T); case(S_FAR, T); case(S_SAME, T)
    //
    // S_FAR has an outlier: 6 distance and 4 angle differences past the Huber knee at 1.
    // S_SAME repeats row 1 as row 3; PyTorch's gradient on those two rows is of order 10¹¹
    // (F.normalize's clamp, see the module doc), on the other rows the values below.
    const T: [f32; 30] = [
        1.0, 0.0, 2.0, -1.0, 0.5, 0.0, //
        0.0, 1.0, 1.0, 0.0, -0.5, 2.0, //
        1.5, -1.0, 0.0, 1.0, 0.0, 1.0, //
        0.5, 1.0, 0.0, 0.0, 1.0, 1.0, //
        -1.0, 0.0, 1.0, 2.0, 0.0, 0.5,
    ];
    const S: [f32; 15] = [
        1.0, 0.5, -1.0, 0.0, 2.0, 1.0, 0.5, -1.0, 0.0, -1.0, 1.0, 0.5, 2.0, 1.0, 1.5,
    ];
    const S_FAR: [f32; 15] = [
        1.0, 0.5, -1.0, 0.0, 2.0, 1.0, 0.5, -1.0, 0.0, -1.0, 1.0, 0.5, 20.0, 16.0, 12.0,
    ];
    const S_SAME: [f32; 15] = [
        1.0, 0.5, -1.0, 0.0, 2.0, 1.0, 0.5, -1.0, 0.0, 0.0, 2.0, 1.0, 2.0, 1.0, 1.5,
    ];
    /// distance, angle, total (weights 25 and 50), gradient.
    type Reference = (f64, f64, f64, [f64; 15]);
    const REF_S: Reference = (
        0.012_553_217_174_500_832,
        0.016_586_486_278_064_427,
        1.143_154_743_265_742_3,
        [
            0.104_260_569,
            -0.485_194_894,
            1.009_798_053,
            -0.007_094_932,
            -0.079_860_315,
            0.115_034_611,
            0.148_063_154,
            -0.186_911_881,
            -0.748_135_67,
            -0.406_777_534,
            0.426_878_29,
            -0.015_080_873,
            0.161_548_744,
            0.325_088_8,
            -0.361_616_122,
        ],
    );
    const REF_FAR: Reference = (
        0.340_765_548_581_939_4,
        0.054_232_378_654_452_37,
        11.230_757_647_271_21,
        [
            -0.125_368_003,
            -0.009_400_17,
            1.262_326_666,
            0.161_875_057,
            -0.362_670_583,
            -0.254_774_83,
            -0.600_723_985,
            0.363_101_223,
            -0.795_513_3,
            0.483_373_689,
            -0.108_910_219,
            -0.232_154_738,
            0.080_843_241,
            0.117_879_749,
            0.020_116_202,
        ],
    );
    /// Rows 1 and 3 (the duplicated pair) hold NaN: PyTorch's values there are not pinned.
    const REF_SAME: Reference = (
        0.040_479_865_233_799_296,
        0.030_247_824_514_803_49,
        2.524_387_856_585_157,
        [
            -0.013_950_111,
            -0.570_651_337,
            1.112_057_886,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            0.372_223_597,
            -0.619_415_649,
            -0.962_461_057,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            -0.567_099_346,
            0.175_856_442,
            -0.629_350_203,
        ],
    );

    fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
        assert_eq!(actual.len(), expected.len());
        for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
            if e.is_nan() {
                continue;
            }
            assert!(
                (a - e).abs() < tol * e.abs().max(1.0),
                "entry {k}: {a} vs {e}\n{actual:?}\nvs {expected:?}"
            );
        }
    }

    /// Central finite differences of `f` at `x`, over the entries `which` (0 elsewhere).
    fn numeric_grad(x: &[f32], which: &[usize], f: impl Fn(&[f32]) -> f64) -> Vec<f32> {
        let h = 1e-3f32;
        let mut out = vec![0f32; x.len()];
        for &k in which {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[k] += h;
            down[k] -= h;
            out[k] = ((f(&up) - f(&down)) / f64::from(up[k] - down[k])) as f32;
        }
        out
    }

    fn assert_matches(s: &[f32], expected: &Reference) {
        let out = rkd(s, 3, &T, 6, 25.0, 50.0).unwrap();
        let (distance, angle, total, grad) = expected;
        assert!((out.distance - distance).abs() < 1e-12, "{}", out.distance);
        assert!((out.angle - angle).abs() < 1e-12, "{}", out.angle);
        assert!((out.total - total).abs() < 1e-10, "{}", out.total);
        let grad: Vec<f32> = grad.iter().map(|&g| g as f32).collect();
        assert_close(&out.grad, &grad, 1e-6);
    }

    #[test]
    fn rkd_matches_mdistiller_in_pytorch() {
        assert_matches(&S, &REF_S);
        assert_matches(&S_FAR, &REF_FAR);
    }

    /// A duplicated student row: the zero difference gives a zero direction, the clamped
    /// distance 10⁻⁶ (in the mean, as in mdistiller); the values are PyTorch's, and so is the
    /// gradient on every other row. The pair's own rows get a finite gradient, from their
    /// relations with the other rows only.
    #[test]
    fn a_coinciding_pair_matches_pytorch_and_stays_finite() {
        assert_matches(&S_SAME, &REF_SAME);
        let out = rkd(&S_SAME, 3, &T, 6, 25.0, 50.0).unwrap();
        assert!(out.grad.iter().all(|g| g.is_finite() && g.abs() < 10.0));
        // Moving any row but the pair's keeps the pair coinciding: finite differences hold.
        let others = [0, 1, 2, 6, 7, 8, 12, 13, 14];
        let numeric = numeric_grad(&S_SAME, &others, |s| {
            rkd(s, 3, &T, 6, 25.0, 50.0).unwrap().total
        });
        for k in others {
            assert!((out.grad[k] - numeric[k]).abs() < 1e-3, "{k}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let all: Vec<usize> = (0..15).collect();
        for s in [S, S_FAR] {
            for (wd, wa) in [(25.0, 50.0), (1.0, 0.0), (0.0, 1.0)] {
                let out = rkd(&s, 3, &T, 6, wd, wa).unwrap();
                let numeric = numeric_grad(&s, &all, |s| rkd(s, 3, &T, 6, wd, wa).unwrap().total);
                assert_close(&out.grad, &numeric, 1e-3);
            }
        }
    }

    /// A small xorshift stream for the random case.
    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    /// `_pdist` of rows of width `dim`, from the differences: `[b, b]`.
    fn naive_distances(x: &[f32], dim: usize) -> Vec<f64> {
        let b = x.len() / dim;
        let mut d = vec![0f64; b * b];
        for i in 0..b {
            for j in (0..b).filter(|&j| j != i) {
                let sq: f64 = (0..dim)
                    .map(|c| f64::from(x[i * dim + c] - x[j * dim + c]).powi(2))
                    .sum();
                d[i * b + j] = sq.max(1e-12).sqrt();
            }
        }
        d
    }

    /// `n_ij = normalize(x_j − x_i)`: `[b, b, dim]`, and the norms `[b, b]`.
    fn naive_directions(x: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
        let b = x.len() / dim;
        let mut n = vec![0f64; b * b * dim];
        let mut norms = vec![0f64; b * b];
        for i in 0..b {
            for j in 0..b {
                let e: Vec<f64> = (0..dim)
                    .map(|c| f64::from(x[j * dim + c]) - f64::from(x[i * dim + c]))
                    .collect();
                let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
                norms[i * b + j] = norm;
                for c in 0..dim {
                    n[(i * b + j) * dim + c] = e[c] / norm.max(1e-12);
                }
            }
        }
        (n, norms)
    }

    /// mdistiller's RKD written out over the `B × B × D` differences, `O(B³ D)`, with its
    /// gradient by the chain rule through each difference vector (not through the Gram
    /// matrix): (distance, angle, ∂(distance + angle)/∂s).
    fn naive(s: &[f32], ds: usize, t: &[f32], dt: usize) -> (f64, f64, Vec<f64>) {
        let b = s.len() / ds;
        let mean = |d: &[f64]| d.iter().sum::<f64>() / (b * (b - 1)) as f64;
        let (d, d_t) = (naive_distances(s, ds), naive_distances(t, dt));
        let (mu, mu_t) = (mean(&d), mean(&d_t));
        let mut grad = vec![0f64; s.len()];
        let mut distance = 0.0;
        let mut slopes = vec![0f64; b * b];
        for k in 0..b * b {
            let (h, slope) = huber(d[k] / mu - d_t[k] / mu_t);
            distance += h / (b * b) as f64;
            slopes[k] = slope;
        }
        let c: f64 = (0..b * b).map(|k| slopes[k] * d[k]).sum::<f64>() / (mu * mu);
        for i in 0..b {
            for j in (0..b).filter(|&j| j != i) {
                let dd = (slopes[i * b + j] / mu - c / (b * (b - 1)) as f64) / (b * b) as f64;
                for x in 0..ds {
                    let diff = f64::from(s[i * ds + x] - s[j * ds + x]) / d[i * b + j];
                    grad[i * ds + x] += dd * diff;
                    grad[j * ds + x] -= dd * diff;
                }
            }
        }
        let ((n, norms), (n_t, _)) = (naive_directions(s, ds), naive_directions(t, dt));
        let cube = (b * b * b) as f64;
        let mut angle = 0.0;
        for i in 0..b {
            for j in 0..b {
                // ∂L/∂n_ij = 2 Σ_k g_ijk n_ik (g is symmetric in j, k).
                let mut dn = vec![0f64; ds];
                for k in 0..b {
                    let dot = |v: &[f64], w: usize| {
                        (0..w)
                            .map(|x| v[(i * b + j) * w + x] * v[(i * b + k) * w + x])
                            .sum::<f64>()
                    };
                    let (h, slope) = huber(dot(&n, ds) - dot(&n_t, dt));
                    angle += h / cube;
                    for (x, v) in dn.iter_mut().enumerate() {
                        *v += 2.0 * slope / cube * n[(i * b + k) * ds + x];
                    }
                }
                if norms[i * b + j] == 0.0 {
                    continue;
                }
                // ∂n/∂e = (I − n nᵀ)/‖e‖, e_ij = s_j − s_i.
                let nij = &n[(i * b + j) * ds..(i * b + j + 1) * ds];
                let along: f64 = dn.iter().zip(nij).map(|(a, b)| a * b).sum();
                for x in 0..ds {
                    let de = (dn[x] - along * nij[x]) / norms[i * b + j];
                    grad[j * ds + x] += de;
                    grad[i * ds + x] -= de;
                }
            }
        }
        (distance, angle, grad)
    }

    /// B = 32 random embeddings of widths 10 and 20: the Gram form gives the values and the
    /// gradient of the loss written out over the difference vectors.
    #[test]
    fn gram_form_matches_the_naive_cubic_loss() {
        let (b, ds, dt) = (32, 10, 20);
        let (s, t) = (random(b * ds, 7), random(b * dt, 11));
        let out = rkd(&s, ds, &t, dt, 1.0, 1.0).unwrap();
        let (distance, angle, grad) = naive(&s, ds, &t, dt);
        assert!(
            (out.distance - distance).abs() < 1e-12,
            "{} vs {distance}",
            out.distance
        );
        assert!(
            (out.angle - angle).abs() < 1e-12,
            "{} vs {angle}",
            out.angle
        );
        let scale = grad.iter().fold(0f64, |m, g| m.max(g.abs()));
        for (k, (a, e)) in out.grad.iter().zip(&grad).enumerate() {
            assert!((f64::from(*a) - e).abs() < 1e-5 * scale, "{k}: {a} vs {e}");
        }
        // The same on the threads of any pool: the angle loop sums in a fixed order.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let alone = pool.install(|| rkd(&s, ds, &t, dt, 1.0, 1.0).unwrap());
        assert_eq!(alone, out);
    }

    /// Both relations are normalised (distances by their mean, angles by construction), so
    /// scaling or shifting the student changes nothing but the gradient's scale.
    #[test]
    fn scale_and_translation_do_not_change_the_loss() {
        let base = rkd(&S_FAR, 3, &T, 6, 25.0, 50.0).unwrap();
        let moved: Vec<f32> = S_FAR
            .iter()
            .enumerate()
            .map(|(k, v)| 4.0 * v + [3.0, -2.0, 7.0][k % 3])
            .collect();
        let out = rkd(&moved, 3, &T, 6, 25.0, 50.0).unwrap();
        assert!(
            (out.total - base.total).abs() < 1e-9,
            "{} vs {}",
            out.total,
            base.total
        );
        let quarter: Vec<f32> = base.grad.iter().map(|g| g / 4.0).collect();
        assert_close(&out.grad, &quarter, 1e-5);
    }

    #[test]
    fn bad_inputs_are_errors_naming_what_is_wrong() {
        let message = |r: candle_core::Result<RelationalParts>| match r {
            Ok(parts) => panic!("accepted: {parts:?}"),
            Err(e) => e.to_string(),
        };
        let cases = [
            (
                message(rkd(&S, 0, &T, 6, 25.0, 50.0)),
                ["student", "width 0"],
            ),
            (
                message(rkd(&S, 3, &T, 0, 25.0, 50.0)),
                ["teacher", "width 0"],
            ),
            (
                message(rkd(&S[..14], 3, &T, 6, 25.0, 50.0)),
                ["14 student", "width 3"],
            ),
            (
                message(rkd(&S, 3, &T[..29], 6, 25.0, 50.0)),
                ["29 teacher", "width 6"],
            ),
            (
                message(rkd(&S, 3, &T[..24], 6, 25.0, 50.0)),
                ["5 student rows", "4 teacher"],
            ),
            (
                message(rkd(&S[..3], 3, &T[..6], 6, 25.0, 50.0)),
                ["1 rows", "at least 2"],
            ),
        ];
        for (text, needles) in cases {
            for needle in needles {
                assert!(text.contains(needle), "`{text}` does not say `{needle}`");
            }
        }
    }
}
