//! Shift views of a jittered transfer set: a student sees each image shifted by up to
//! `±jitter_px` pixels, and the teacher's logits are cached for every such shift, numbered
//! as views so that a batch row's target is looked up for exactly the image the model sees.

use candle_core::{Device, Tensor};

use crate::data::dataset::Dataset;
use crate::rng::FastRng;

/// Copies the examples `batch` of `set` into `pixels`, each shifted by a random
/// `±jitter_px` pixels (none when 0), and returns them as a `[batch, dim]` tensor.
/// `pixels` must hold at least `batch.len() · dim` values; it is reused across batches.
/// `views` receives each row's shift as a view number (see [`shift_view`]), so that targets
/// cached per shift can be looked up for exactly the image the model sees.
pub fn batch_input(
    set: &Dataset,
    batch: &[usize],
    jitter_px: usize,
    rng: &mut FastRng,
    pixels: &mut [f32],
    views: &mut Vec<usize>,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let dim = set.dim();
    let Some(buffer) = pixels.get_mut(..batch.len() * dim) else {
        candle_core::bail!(
            "pixel buffer holds {} values, the batch needs {}",
            pixels.len(),
            batch.len() * dim
        );
    };
    views.clear();
    let k = jitter_px as i32;
    for (row, &i) in buffer.chunks_exact_mut(dim).zip(batch) {
        let (dx, dy) = if k > 0 {
            let span = (2 * k + 1) as usize;
            (rng.below(span) as i32 - k, rng.below(span) as i32 - k)
        } else {
            (0, 0)
        };
        views.push(shift_view(dx, dy, jitter_px));
        set.write_shifted(i, dx, dy, row);
    }
    Tensor::from_slice(buffer, (batch.len(), dim), device)
}

/// Number of integer shifts within `±jitter_px` pixels in x and y: `(2k + 1)²`.
pub fn shift_views(jitter_px: usize) -> usize {
    (2 * jitter_px + 1).pow(2)
}

/// The view number of shift `(dx, dy)` within `±jitter_px`: row-major over `dy`, then `dx`,
/// from `(−k, −k)` = 0 to `(k, k)` = `(2k + 1)² − 1`; the unshifted image is the middle view.
pub fn shift_view(dx: i32, dy: i32, jitter_px: usize) -> usize {
    let k = jitter_px as i32;
    let span = 2 * k + 1;
    ((dy + k) * span + (dx + k)) as usize
}

/// The shift `(dx, dy)` of view `view` within `±jitter_px` (inverse of [`shift_view`]).
pub fn view_shift(view: usize, jitter_px: usize) -> (i32, i32) {
    let k = jitter_px as i32;
    let span = 2 * jitter_px + 1;
    ((view % span) as i32 - k, (view / span) as i32 - k)
}
