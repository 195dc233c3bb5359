//! Transfer sets: the examples the distilled student is trained on, and MUNGE.
//!
//! MUNGE (Buciluă, Caruana & Niculescu-Mizil 2006, §3.3) grows a synthetic set that follows the
//! training distribution: for each example `e` find its nearest neighbour `e'` (Euclidean), then
//! for each feature `a` with probability `p` draw
//! `e_a ← N(e'_a, |e_a − e'_a| / s)` and `e'_a ← N(e_a, |e_a − e'_a| / s)`.
//! One pass over a copy of the training set yields `n` new examples; `k` passes yield `k·n`.
//! Features are pixels in [0, 1], so the draws are clamped to that range.

use candle_core::{Device, Tensor};

use super::dataset::Dataset;
use crate::config::{MungeConfig, TransferConfig, TransferKind};
use crate::rng::FastRng;

/// Queries per matrix product in the nearest-neighbour search (bounds memory to
/// `CHUNK × n` distances).
const CHUNK: usize = 512;

/// Applies the class filter of `config` (full, omit, only) to the training set.
pub fn filter_classes(train: &Dataset, config: &TransferConfig) -> Dataset {
    let keep = |label: u8| match config.kind {
        TransferKind::Full => true,
        TransferKind::Omit => !config.classes.contains(&label),
        TransferKind::Only => config.classes.contains(&label),
    };
    let indices: Vec<usize> = (0..train.len())
        .filter(|&i| keep(train.labels[i]))
        .collect();
    if indices.len() == train.len() {
        train.clone()
    } else {
        train.select(&indices)
    }
}

/// Index of each example's nearest other example (squared Euclidean distance), computed with
/// batched matrix products: `‖x − y‖² = ‖x‖² − 2·x·y + ‖y‖²`, where `‖x‖²` is constant per
/// query and can be dropped from the argmin. `stop` is asked between chunks of queries (a
/// 60k search takes tens of seconds): when it says yes the search ends with `None`.
pub fn nearest_neighbours(
    data: &Dataset,
    device: &Device,
    stop: &dyn Fn() -> bool,
) -> candle_core::Result<Option<Vec<usize>>> {
    let (n, d) = (data.len(), data.dim());
    if n < 2 {
        return Ok(Some(vec![0; n]));
    }
    let all = Tensor::from_slice(&data.images, (n, d), device)?;
    let norms: Vec<f32> = all.sqr()?.sum(1)?.to_vec1()?;
    let all_t = all.t()?;
    let mut result = Vec::with_capacity(n);
    for start in (0..n).step_by(CHUNK) {
        if stop() {
            return Ok(None);
        }
        let len = CHUNK.min(n - start);
        let dots: Vec<f32> = all
            .narrow(0, start, len)?
            .matmul(&all_t)?
            .flatten_all()?
            .to_vec1()?;
        for q in 0..len {
            let row = &dots[q * n..(q + 1) * n];
            let mut best = (usize::MAX, f32::INFINITY);
            for (j, (dot, norm)) in row.iter().zip(&norms).enumerate() {
                let dist = norm - 2.0 * dot;
                if j != start + q && dist < best.1 {
                    best = (j, dist);
                }
            }
            result.push(best.0);
        }
    }
    Ok(Some(result))
}

/// Grows `k · n` synthetic examples from `data` by MUNGE. Labels of the synthetic examples are
/// those of the example they grew from; the trainer relabels them with the teacher. `None`
/// when `stop` ended the nearest-neighbour search.
pub fn munge(
    data: &Dataset,
    params: &MungeConfig,
    seed: u64,
    device: &Device,
    stop: &dyn Fn() -> bool,
) -> candle_core::Result<Option<Dataset>> {
    let Some(neighbours) = nearest_neighbours(data, device, stop)? else {
        return Ok(None);
    };
    let mut rng = FastRng::fork(seed, "munge");
    let d = data.dim();
    let mut images = Vec::with_capacity(params.k * data.images.len());
    let mut labels = Vec::with_capacity(params.k * data.len());
    for _ in 0..params.k {
        let mut copy = data.images.clone();
        for (i, &j) in neighbours.iter().enumerate() {
            if i == j {
                continue;
            }
            for a in 0..d {
                if rng.uniform() >= params.p {
                    continue;
                }
                let (ea, eb) = (copy[i * d + a], copy[j * d + a]);
                let sd = (ea - eb).abs() / params.s as f32;
                copy[i * d + a] = draw(&mut rng, eb, sd);
                copy[j * d + a] = draw(&mut rng, ea, sd);
            }
        }
        images.extend_from_slice(&copy);
        labels.extend_from_slice(&data.labels);
    }
    Ok(Some(Dataset {
        images,
        labels,
        rows: data.rows,
        cols: data.cols,
    }))
}

fn draw(rng: &mut FastRng, mean: f32, sd: f32) -> f32 {
    (mean + sd * rng.normal() as f32).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(coords: &[[f32; 2]]) -> Dataset {
        Dataset {
            images: coords.iter().flatten().copied().collect(),
            labels: vec![0; coords.len()],
            rows: 1,
            cols: 2,
        }
    }

    #[test]
    fn nearest_neighbours_match_brute_force() {
        let data = points(&[[0.0, 0.0], [0.9, 0.9], [0.1, 0.0], [1.0, 1.0], [0.5, 0.4]]);
        let nn = nearest_neighbours(&data, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(nn, vec![2, 3, 0, 1, 2]);
    }

    #[test]
    fn munge_grows_k_copies_that_stay_between_neighbours() {
        let data = points(&[[0.0, 0.0], [0.2, 0.2], [1.0, 1.0], [0.8, 0.8]]);
        let params = MungeConfig {
            p: 1.0,
            s: 1e6,
            k: 3,
        };
        let out = munge(&data, &params, 7, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(out.len(), 12);
        // With s huge the draws are (almost) exact swaps: every value stays near one of the
        // pair's original values.
        for (v, orig) in out.images.iter().zip(data.images.iter().cycle()) {
            let near_orig = (v - orig).abs() < 1e-3;
            let near_swap = [0.0f32, 0.2, 1.0, 0.8].iter().any(|x| (v - x).abs() < 1e-3);
            assert!(near_orig || near_swap, "{v}");
        }
        let again = munge(&data, &params, 7, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(out, again, "same seed, same synthetic set");
        let stopped = munge(&data, &params, 7, &Device::Cpu, &|| true).unwrap();
        assert!(stopped.is_none(), "a stop request ends the search");
    }

    #[test]
    fn class_filters_omit_and_keep() {
        let mut data = points(&[[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]]);
        data.labels = vec![3, 7, 8];
        let omit = TransferConfig {
            kind: TransferKind::Omit,
            classes: vec![3],
            ..Default::default()
        };
        assert_eq!(filter_classes(&data, &omit).labels, vec![7, 8]);
        let only = TransferConfig {
            kind: TransferKind::Only,
            classes: vec![7],
            ..Default::default()
        };
        assert_eq!(filter_classes(&data, &only).labels, vec![7]);
    }
}
